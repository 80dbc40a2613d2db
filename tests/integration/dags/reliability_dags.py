"""DAGs of the reliability tests: many jobs at once under injected faults, crashes, job failures.

Every run's conf carries a ``prefix`` that makes its job names unique in the session's emulator.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task

from bedrock_provider.operators.base import task_identity
from bedrock_provider.operators.customization import BedrockModelCustomizationOperator

BUCKET = "bedrock-it"
ROLE_ARN = "arn:aws:iam::123456789012:role/BedrockCustomization"
BASE_MODEL = "amazon.titan-text-express-v1"
JOBS = 20
NO_RETRY_DELAY = {"retry_delay": timedelta(seconds=0)}

# Fixed for every mapped task; what differs per task comes from the ``jobs`` task below.
PARTIAL: dict[str, Any] = {
    "role_arn": ROLE_ARN,
    "base_model_id": BASE_MODEL,
    "training_data_uri": f"s3://{BUCKET}/data/train.jsonl",
    "hyperparameters": {"epochCount": 1, "batchSize": 1, "learningRate": 0.00001},
    "poll_interval": 0.2,
}


@task
def jobs(**context: Any) -> list[dict[str, Any]]:
    """One kwargs dict per job; the run's conf says how many, how long they run and how they end."""
    conf = context["dag_run"].conf
    prefix = conf["prefix"]
    # Short jobs: dag.test runs the mapped tasks one after another.
    duration = str(conf.get("duration", 0.5))
    return [
        {
            "job_name": f"{prefix}-{index}",
            "custom_model_name": f"{prefix}-{index}-model",
            "output_data_uri": f"s3://{BUCKET}/output/{prefix}/{index}/",
            "job_tags": {
                "emulator:duration": duration,
                "emulator:outcome": conf.get("outcome", "Completed"),
            },
        }
        for index in range(int(conf.get("count", JOBS)))
    ]


class CrashOnFirstTryOperator(BedrockModelCustomizationOperator):
    """Submits, then dies before deferring on its first try, like a worker killed right after the Create.

    Nothing the first try learnt survives: the retry has only the task instance to find the job by.
    """

    def execute(self, context: Any) -> dict[str, Any]:
        if context["ti"].try_number == 1:
            request = self.build_request().validate()
            self.hook.submit_job(request, task_identity(context), self.if_job_exists)
            raise RuntimeError("simulated worker crash right after CreateModelCustomizationJob")
        return super().execute(context)


def _dag(dag_id: str, **default_args: Any) -> DAG:
    return DAG(
        dag_id,
        schedule=None,
        start_date=datetime(2024, 1, 1),
        catchup=False,
        default_args={"retries": 0, **NO_RETRY_DELAY, **default_args},
        # The default of 16 would leave 4 of the 20 mapped tasks waiting for the first ones.
        max_active_tasks=JOBS,
    )


# A task's retries are the last line of defence when one call fails every botocore attempt; the test
# reports how many it used.
with _dag("reliability_many_jobs", retries=3):
    BedrockModelCustomizationOperator.partial(task_id="train", **PARTIAL).expand_kwargs(jobs())

with _dag("reliability_many_crashes", retries=1):
    CrashOnFirstTryOperator.partial(task_id="train", **PARTIAL).expand_kwargs(jobs())

# One job, whose outcome may depend on the try: the retry of a failed job is what if_job_exists decides.
SINGLE: dict[str, Any] = {
    **PARTIAL,
    "job_name": "{{ dag_run.conf['prefix'] }}",
    "custom_model_name": "{{ dag_run.conf['prefix'] }}-model",
    "output_data_uri": "s3://" + BUCKET + "/output/{{ dag_run.conf['prefix'] }}/",
    "if_job_exists": "{{ dag_run.conf.get('if_job_exists', 'reattach') }}",
    "job_tags": {
        "emulator:duration": "{{ dag_run.conf.get('duration', 0.5) }}",
        # conf "outcomes": the outcome of the job each try submits; the last one repeats.
        "emulator:outcome": (
            "{% set o = dag_run.conf.get('outcomes', ['Completed']) %}"
            "{{ o[ti.try_number - 1] if ti.try_number <= o | length else o[-1] }}"
        ),
        "emulator:failure-message": "{{ dag_run.conf.get('failure_message', 'Training data is invalid') }}",
    },
}

with _dag("reliability_job_outcome", retries=0):
    BedrockModelCustomizationOperator(task_id="train", **SINGLE)

with _dag("reliability_job_outcome_blocking", retries=0):
    BedrockModelCustomizationOperator(task_id="train", deferrable=False, **SINGLE)

with _dag("reliability_job_outcome_retried", retries=1):
    BedrockModelCustomizationOperator(task_id="train", **SINGLE)
