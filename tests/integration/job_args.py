"""The parameters every customization DAG of the integration tests shares: the job's names come from
the run's conf, the data from the bucket the emulator fixture fills."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

BUCKET = "bedrock-it"
JOB_ARGS = {
    "job_name": "{{ dag_run.conf['job_name'] }}",
    "custom_model_name": "{{ dag_run.conf['job_name'] }}-model",
    "role_arn": "arn:aws:iam::123456789012:role/BedrockCustomization",
    "base_model_id": "amazon.titan-text-express-v1",
    "training_data_uri": f"s3://{BUCKET}/data/train.jsonl",
    "output_data_uri": "s3://" + BUCKET + "/output/{{ dag_run.conf['job_name'] }}/",
}


def manual_dag(dag_id: str, retries: int = 0) -> DAG:
    """A DAG started only by the tests, whose retries follow at once."""
    return DAG(
        dag_id,
        schedule=None,
        start_date=datetime(2024, 1, 1),
        catchup=False,
        default_args={"retries": retries, "retry_delay": timedelta(seconds=0)},
    )
