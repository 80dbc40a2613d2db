"""A job waited for in push mode: the trigger wakes on Bedrock's job state change event from SQS.

Polling is set to two minutes, so a run that finishes in seconds was woken by the event.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from bedrock_provider.operators.customization import BedrockModelCustomizationOperator

JOB = "{{ dag_run.conf['job_name'] }}"

with DAG("e2e_push_mode", schedule=None, start_date=datetime(2025, 1, 1), catchup=False, tags=["e2e"]):
    BedrockModelCustomizationOperator(
        task_id="customize",
        job_name=JOB,
        custom_model_name=f"{JOB}-model",
        role_arn="arn:aws:iam::123456789012:role/BedrockModelCustomization",
        base_model_id="amazon.nova-micro-v1:0:128k",  # the demo data is Nova conversations
        training_data_uri="s3://bedrock-demo/raw/support/20250105/tickets.jsonl",
        output_data_uri=f"s3://bedrock-demo/e2e-push/{JOB}/",
        hyperparameters={"epochCount": 1},
        job_tags={"emulator:duration": "{{ dag_run.conf.get('duration', 6) }}"},
        events_queue_url="{{ dag_run.conf['events_queue_url'] }}",
        poll_interval=120,
        safety_poll_interval=120,
    )
