"""Airflow DAGs for the waiting cases: deadlines in blocking mode while Bedrock fails, and sensor
timeouts. (The word Airflow above is what lets the DagBag's safe mode read this file.)"""

from __future__ import annotations

from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.sensors.customization import BedrockModelCustomizationSensor
from tests.integration.job_args import manual_dag

BUCKET = "bedrock-it"
JOB = "{{ dag_run.conf['job_name'] }}"
REQUEST = {
    "job_name": JOB,
    "custom_model_name": f"{JOB}-model",
    "role_arn": "arn:aws:iam::123456789012:role/BedrockCustomization",
    "base_model_id": "amazon.titan-text-express-v1",
    "training_data_uri": f"s3://{BUCKET}/data/train.jsonl",
    "output_data_uri": f"s3://{BUCKET}/output/{JOB}/",
    "hyperparameters": {"epochCount": 1},
    "job_tags": {"emulator:duration": "{{ dag_run.conf.get('duration', 60) }}"},
}


with manual_dag("it_wait_blocking_deadline"):
    BedrockModelCustomizationOperator(
        task_id="train", deferrable=False, poll_interval=30, max_wait=3, **REQUEST
    )

with manual_dag("it_wait_blocking_deadline_fast_poll"):
    BedrockModelCustomizationOperator(
        task_id="train", deferrable=False, poll_interval=1, max_wait=5, **REQUEST
    )

with manual_dag("it_wait_sensor_timeout_deferrable", retries=2):
    BedrockModelCustomizationSensor(
        task_id="wait",
        job_identifier="{{ dag_run.conf['job_identifier'] }}",
        poke_interval=0.5,
        timeout=3,
        deferrable=True,
    )
