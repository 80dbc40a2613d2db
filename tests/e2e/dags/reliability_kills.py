"""DAGs only the end-to-end kill tests run: a worker that dies right after submitting, and jobs waited
for deferred or blocking while a user marks the task failed or successful; and a deployment and an
evaluation job waited for deferred while a user clears the task (tests/e2e/test_task_actions.py).

Each run's conf carries the job name and how long the emulator runs the job (the task-action DAGs:
the resource's name, its duration, and the custom model to deploy).
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from bedrock_provider.operators.base import task_identity
from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.operators.deployment import BedrockDeployCustomModelOperator
from bedrock_provider.operators.evaluation import BedrockModelEvaluationOperator

# The stack seeds the demo bucket with weekly partitions of sample data.
BUCKET = "bedrock-demo"
ROLE_ARN = "arn:aws:iam::123456789012:role/BedrockModelCustomization"
JOB = "{{ dag_run.conf['job_name'] }}"
COMMON: dict[str, Any] = {
    "job_name": JOB,
    "custom_model_name": f"{JOB}-model",
    "role_arn": ROLE_ARN,
    "base_model_id": "amazon.nova-micro-v1:0:128k",  # the demo data is Nova conversations
    "training_data_uri": f"s3://{BUCKET}/raw/support/20250105/tickets.jsonl",
    "output_data_uri": f"s3://{BUCKET}/e2e-kills/{JOB}/",
    "hyperparameters": {"epochCount": 1},
    "job_tags": {"emulator:duration": "{{ dag_run.conf.get('duration', 60) }}"},
    "poll_interval": 1,
}


class KillSelfAfterSubmitOperator(BedrockModelCustomizationOperator):
    """On its first try, submits the job and then SIGKILLs its own process before it can defer: the
    worker dies the way an OOM kill or a lost node kills it, with no chance to clean up."""

    def execute(self, context: Any) -> dict[str, Any]:
        if context["ti"].try_number == 1:
            request = self.build_request().validate()
            self.hook.submit_job(request, task_identity(context), self.if_job_exists)
            os.kill(os.getpid(), signal.SIGKILL)
        return super().execute(context)


class HoldAfterSubmitOperator(BedrockModelCustomizationOperator):
    """On its first try, submits the job and then holds its worker slot: the test SIGKILLs the Celery
    worker running it right after the Create call, the way a lost machine ends it."""

    def execute(self, context: Any) -> dict[str, Any]:
        if context["ti"].try_number == 1:
            request = self.build_request().validate()
            self.hook.submit_job(request, task_identity(context), self.if_job_exists)
            # Bounded: if nothing kills the worker, the try ends and the test fails on try_number.
            time.sleep(300)
        return super().execute(context)


def _dag(dag_id: str, **default_args: Any) -> DAG:
    return DAG(
        dag_id,
        schedule=None,
        start_date=datetime(2025, 1, 1),
        catchup=False,
        default_args={"retries": 0, **default_args},
        tags=["e2e"],
    )


with _dag("reliability_e2e_sigkill_after_submit", retries=1, retry_delay=timedelta(seconds=1)):
    KillSelfAfterSubmitOperator(task_id="customize", **COMMON)

with _dag("reliability_e2e_worker_lost_after_submit", retries=1, retry_delay=timedelta(seconds=1)):
    HoldAfterSubmitOperator(task_id="customize", **COMMON)

with _dag("reliability_e2e_deferred"):
    BedrockModelCustomizationOperator(task_id="customize", **COMMON)

with _dag("reliability_e2e_deferred_keep_job"):
    BedrockModelCustomizationOperator(task_id="customize", stop_job_on_kill=False, **COMMON)

with _dag("reliability_e2e_blocking"):
    BedrockModelCustomizationOperator(task_id="customize", deferrable=False, **COMMON)

# The triggerer's shared list runs once per poll interval: a job that completes in between stays
# "running" for the trigger until the next list, long enough for a user to mark the task first.
with _dag("reliability_e2e_slow_poll"):
    BedrockModelCustomizationOperator(task_id="customize", **{**COMMON, "poll_interval": 60})

# A user's action on a deferred deployment or evaluation job. The stack seeds the evaluation prompts.
NAME = "{{ dag_run.conf['name'] }}"
DURATION = {"emulator:duration": "{{ dag_run.conf.get('duration', 60) }}"}

with _dag("task_actions_e2e_deploy"):
    BedrockDeployCustomModelOperator(
        task_id="deploy",
        model_identifier="{{ dag_run.conf['model_arn'] }}",
        deployment_name=NAME,
        tags=DURATION,
        poll_interval=1,
    )

with _dag("task_actions_e2e_evaluate"):
    BedrockModelEvaluationOperator(
        task_id="evaluate",
        job_name=NAME,
        role_arn=ROLE_ARN,
        # A foundation model: the job's own wait is what the test acts on, not a deployment's.
        model_identifier="amazon.titan-text-express-v1",
        task_type="QuestionAndAnswer",
        dataset_uri=f"s3://{BUCKET}/evaluation/support-qa.jsonl",
        output_uri=f"s3://{BUCKET}/e2e-task-actions/{NAME}/",
        metric_names=["Builtin.Accuracy"],
        job_tags=DURATION,
        poll_interval=1,
    )
