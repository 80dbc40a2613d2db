"""DAGs only the end-to-end task-action tests run: a deployment and an evaluation job waited for
deferred, while a user acts on the task (tests/e2e/test_task_actions.py).

Each run's conf carries the resource's name and how long the emulator takes with it; the deploy
run's conf also carries the custom model to deploy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from bedrock_provider.operators.deployment import BedrockDeployCustomModelOperator
from bedrock_provider.operators.evaluation import BedrockModelEvaluationOperator

# The stack seeds the demo bucket with the evaluation prompts, and its IAM with the demo's role.
BUCKET = "bedrock-demo"
ROLE_ARN = "arn:aws:iam::123456789012:role/BedrockModelCustomization"
NAME = "{{ dag_run.conf['name'] }}"
DURATION = {"emulator:duration": "{{ dag_run.conf.get('duration', 60) }}"}


def _dag(dag_id: str, **default_args: Any) -> DAG:
    return DAG(
        dag_id,
        schedule=None,
        start_date=datetime(2025, 1, 1),
        catchup=False,
        default_args={"retries": 0, **default_args},
        tags=["e2e"],
    )


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
        # A foundation model: the job's own wait is what the test acts on, not the model's deployment.
        model_identifier="amazon.titan-text-express-v1",
        task_type="QuestionAndAnswer",
        dataset_uri=f"s3://{BUCKET}/evaluation/support-qa.jsonl",
        output_uri=f"s3://{BUCKET}/e2e-task-actions/{NAME}/",
        metric_names=["Builtin.Accuracy"],
        job_tags=DURATION,
        poll_interval=1,
    )
