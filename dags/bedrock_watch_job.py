"""Wait for a customization job started elsewhere (the console, a notebook, another DAG); export its metrics.

wait_for_job -> export_metrics

``wait_for_job`` is the sensor in deferrable mode: it checks the job once, and while the job runs
the triggerer polls it, holding no worker slot for the hours a job takes. It fails with Bedrock's
failureMessage when the job fails or is stopped. It never stops the job it watches, even when the
task is marked failed: the job is not this DAG's.

Trigger it with the job's name or ARN, e.g. ``{"job_identifier": "bedrock-retraining-20250105"}``.
"""

from __future__ import annotations

from datetime import timedelta

from _bedrock_demo_config import POLL_INTERVAL, TAGS, UNSCHEDULED, default_args, s3_uri
from airflow.sdk import DAG, Param

from bedrock_provider.operators.metrics import BedrockExportMetricsOperator
from bedrock_provider.sensors.customization import BedrockModelCustomizationSensor

with DAG(
    dag_id="bedrock_watch_job",
    description="Wait (deferred) for a Bedrock customization job by name or ARN, then export its metrics",
    **UNSCHEDULED,
    default_args=default_args(),
    params={
        "job_identifier": Param(
            type="string",
            minLength=1,
            maxLength=2048,
            pattern=r"^(arn:aws(-[a-z]+)*:bedrock:[a-z0-9-]+:[0-9]{12}:model-customization-job/.+"
            r"|[a-zA-Z0-9](-*[a-zA-Z0-9+.-])*)$",
            title="Job name or ARN",
            description="The model customization job to wait for.",
        ),
    },
    doc_md=__doc__,
    tags=TAGS,
) as dag:
    wait_for_job = BedrockModelCustomizationSensor(
        task_id="wait_for_job",
        job_identifier="{{ params.job_identifier }}",
        deferrable=True,
        poke_interval=POLL_INTERVAL,
        # Stop waiting (and fail) after a week; the job itself is left alone.
        timeout=timedelta(days=7),
    )
    export_metrics = BedrockExportMetricsOperator(
        task_id="export_metrics",
        job_identifier="{{ ti.xcom_pull(task_ids='wait_for_job')['jobArn'] }}",
        destination_uri=s3_uri("metrics/watched") + "/",
        plot=True,
        on_gate_failure="record",
    )
    wait_for_job >> export_metrics
