"""Settings the example DAGs share: where the data lives, the role, the base model, the connection.

Each setting is an Airflow Variable read when a task renders its templates, so parsing a DAG file
makes no metadata-database call. Without the Variables the examples run against the local Bedrock
emulator of ``make demo`` (demo/stack.py), whose bucket is seeded from demo/data. To point them at
your account, set the Variables ``bedrock_bucket``, ``bedrock_role_arn``, ``bedrock_base_model``,
``bedrock_evaluator_model`` and ``bedrock_aws_conn_id``.

The base model is one whose whole chain AWS accepts: Amazon Nova Micro is fine-tuned in us-east-1
("Supported models and Regions for fine-tuning",
https://docs.aws.amazon.com/bedrock/latest/userguide/custom-model-supported.html), deployed on demand
(Nova Lite, Micro and Pro customized on or after 2025-07-16, in us-east-1 or us-west-2:
bedrock_provider/core/lifecycle/on_demand.py), and the deployment's responses are judged by an evaluator model
(docs/evaluation.md). Its training records are in the bedrock-conversation-2024 format of
https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html, as
demo/data/support holds them.

This module defines no DAG: .airflowignore keeps the dag-processor from parsing it on its own, and
the DAG files import it (the dags folder is on sys.path).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

DEMO_BUCKET = "bedrock-demo"
DEMO_REGION = "us-east-1"
# The demo's role, in the emulator's default account: demo.seed creates it through IAM with the trust
# policy Bedrock needs, as on AWS, where set the Variable bedrock_role_arn to your own role.
DEMO_ROLE_ARN = "arn:aws:iam::123456789012:role/BedrockModelCustomization"
DEMO_BASE_MODEL = "amazon.nova-micro-v1:0:128k"
# The judge of the evaluation: a model AWS lists as an evaluator ("Supported models" of
# https://docs.aws.amazon.com/bedrock/latest/userguide/evaluation-judge.html), in the same Region.
DEMO_EVALUATOR_MODEL = "amazon.nova-pro-v1:0"
DEMO_CONN_ID = "aws_default"

# Weekly partitions of raw support conversations: s3://<bucket>/raw/support/<YYYYMMDD>/tickets.jsonl.
RAW_PREFIX = "raw/support"
RAW_OBJECT_NAME = "tickets.jsonl"
# The weeks the demo data holds (demo/data/support/2025-01-05.jsonl ... 2025-02-09.jsonl); Sundays, as
# @weekly fires. A demo run needs a logical date among them.
FIRST_PARTITION = datetime(2025, 1, 5, tzinfo=UTC)
LAST_PARTITION = datetime(2025, 2, 9, tzinfo=UTC)
DEMO_PARTITIONS = tuple(
    FIRST_PARTITION + timedelta(weeks=week)
    for week in range((LAST_PARTITION - FIRST_PARTITION).days // 7 + 1)
)
DEMO_DATES = f"{FIRST_PARTITION:%Y-%m-%d} to {LAST_PARTITION:%Y-%m-%d}"
CHAMPION_KEY = "champions/support-bot.json"
# The prompt dataset each candidate is evaluated on (demo/data/evaluation/support-qa.jsonl).
EVALUATION_DATASET_KEY = "evaluation/support-qa.jsonl"
# The stable on-demand deployment applications call: promotions swap the model behind its ARN.
STABLE_DEPLOYMENT = "support-bot-prod"
# The custom models of the weekly DAG: support-bot-<YYYYMMDD>; retention works on this family.
MODEL_FAMILY = "support-bot-"

# Poll intervals are parse-time numbers (not templated). Bedrock jobs run for hours, so a minute
# is plenty; the local stack sets BEDROCK_POLL_INTERVAL to a second or two for its short jobs.
POLL_INTERVAL = float(os.environ.get("BEDROCK_POLL_INTERVAL", "60"))


def variable(name: str, default: str) -> str:
    """A template that reads an Airflow Variable at run time, with a default."""
    return "{{ var.value.get('" + name + "', '" + default + "') }}"


BUCKET = variable("bedrock_bucket", DEMO_BUCKET)
ROLE_ARN = variable("bedrock_role_arn", DEMO_ROLE_ARN)
BASE_MODEL = variable("bedrock_base_model", DEMO_BASE_MODEL)
EVALUATOR_MODEL = variable("bedrock_evaluator_model", DEMO_EVALUATOR_MODEL)
AWS_CONN_ID = variable("bedrock_aws_conn_id", DEMO_CONN_ID)


def partition_key(partition: datetime) -> str:
    """The key of one week's raw object, e.g. raw/support/20250105/tickets.jsonl."""
    return f"{RAW_PREFIX}/{partition:%Y%m%d}/{RAW_OBJECT_NAME}"


def demo_object_uri(partition: datetime) -> str:
    """The demo bucket's object of one week, e.g. s3://bedrock-demo/raw/support/20250105/tickets.jsonl."""
    return f"s3://{DEMO_BUCKET}/{partition_key(partition)}"


def scheduled_weeks(now: datetime) -> tuple[datetime, datetime]:
    """The two weeks @weekly reaches from ``now``: the latest Sunday (00:00 UTC) and the next.

    With catchup off, a scheduler started at ``now`` runs the latest Sunday's week at once, and the UI's
    "Next Run" is the next Sunday. The demo stack seeds both (demo.seed), so that each run its scheduler
    starts finds its week.
    """
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # weekday(): Monday is 0, Sunday 6.
    latest = today - timedelta(days=(today.weekday() + 1) % 7)
    return latest, latest + timedelta(weeks=1)


def s3_uri(*parts: str) -> str:
    """``s3://{bucket}/part/part``, the bucket resolved from the Variable when the task runs."""
    return "s3://" + BUCKET + "/" + "/".join(part.strip("/") for part in parts)


TAGS = ["bedrock", "example"]
# The DAGs started by hand or through the API only: no schedule, nothing to catch up.
UNSCHEDULED: dict[str, Any] = {"schedule": None, "start_date": datetime(2025, 1, 1), "catchup": False}


def default_args(retries: int = 1) -> dict[str, Any]:
    """Retries a minute apart (a retried customization task adopts its job), on the shared connection."""
    return {"retries": retries, "retry_delay": timedelta(minutes=1), "aws_conn_id": AWS_CONN_ID}


def service_role_task(role_arn: str = ROLE_ARN) -> Any:
    """A task that makes sure the job's service role exists and trusts Bedrock, before any job is sent.

    A role that exists is left as it is (on AWS, your own role with its permissions). A missing one is
    created through IAM with the trust policy Bedrock needs, as the demo's is on the emulator; its
    permissions (S3, KMS) stay yours to attach. Airflow is imported here, not at the top: demo.seed
    reads this module where Airflow is not installed.
    """
    from airflow.sdk import task

    @task(task_id="service_role", retries=0)
    def service_role(role_arn: str, connection: str) -> str:
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

        from bedrock_provider.core.request.roles import ensure_service_role

        iam = AwsBaseHook(aws_conn_id=connection, client_type="iam").conn
        return ensure_service_role(iam, role_arn.rsplit("/", 1)[1])

    return service_role(role_arn, AWS_CONN_ID)
