"""Weekly retraining: each week's support conversations fine-tune a new model that must beat the champion.

prepare_dataset -> customize -> export_metrics -> promote

- ``prepare_dataset`` validates the partition of the run's logical date (raw/support/<YYYYMMDD>/),
  drops invalid records and duplicates, and splits off a validation set.
- ``customize`` submits the Bedrock job and defers: the triggerer waits for it, not a worker slot.
- ``export_metrics`` writes the job's metrics, a summary and a loss chart under metrics/, and records
  how the model compares with the champion (it never fails on the numbers).
- ``promote`` is the gate: it checks the model again against the champion and the loss limit, and
  when it wins tags the custom model and makes it the champion; otherwise it is skipped.

The job and model names come from the logical date (``bedrock-retraining-20250105``), and each
task instance's client token from its run, so a date trains once: a retry, a cleared task or a
re-run backfill adopts the job it already has. Catchup is on, so a backfill of past weeks (the UI's
"Backfill", ``airflow backfill create`` or ``POST /api/v2/backfills``) trains one model per week.
"""

from __future__ import annotations

from _bedrock_demo_config import (
    BASE_MODEL,
    CHAMPION_KEY,
    FIRST_PARTITION,
    POLL_INTERVAL,
    RAW_PREFIX,
    ROLE_ARN,
    TAGS,
    default_args,
    s3_uri,
    service_role_task,
)
from airflow.sdk import DAG, Param

from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.operators.dataset import BedrockPrepareDatasetOperator
from bedrock_provider.operators.metrics import BedrockExportMetricsOperator

TRAINING_DATA = "{{ ti.xcom_pull(task_ids='prepare_dataset')['training_data_uri'] }}"
VALIDATION_DATA = "{{ ti.xcom_pull(task_ids='prepare_dataset')['validation_data_uri'] }}"
JOB_ARN = "{{ ti.xcom_pull(task_ids='customize')['job_arn'] }}"
CHAMPION = s3_uri(CHAMPION_KEY)

with DAG(
    dag_id="bedrock_retraining",
    description="Weekly fine-tuning on the week's support conversations, promoted when it beats the champion",
    schedule="@weekly",
    start_date=FIRST_PARTITION,
    catchup=True,
    # One week at a time, so each run is compared with the champion the week before it crowned.
    max_active_runs=1,
    default_args=default_args(retries=2),
    params={
        "epochs": Param(2, type="integer", minimum=1, maximum=10, title="Epochs", description="epochCount"),
        "learning_rate": Param(
            0.00001,
            type="number",
            exclusiveMinimum=0,
            maximum=1,
            title="Learning rate",
            description="learningRate",
        ),
        "max_validation_loss": Param(
            1.5,
            type="number",
            exclusiveMinimum=0,
            title="Highest validation loss to promote",
            description="A model above it is not promoted, whatever the champion's loss.",
        ),
    },
    doc_md=__doc__,
    tags=TAGS,
) as dag:
    prepare = BedrockPrepareDatasetOperator(
        task_id="prepare_dataset",
        source_uri=s3_uri(RAW_PREFIX, "{{ ds_nodash }}") + "/",
        output_uri=s3_uri("prepared/bedrock-retraining", "{{ ds_nodash }}") + "/",
        customization_type="FINE_TUNING",
        base_model_id=BASE_MODEL,
        validation_split=0.2,
        seed=42,
        max_invalid_fraction=0.05,
        remove_duplicates=True,
    )
    customize = BedrockModelCustomizationOperator(
        task_id="customize",
        job_name="{{ dag.dag_id | bedrock_name }}-{{ ds_nodash }}",
        custom_model_name="support-bot-{{ ds_nodash }}",
        role_arn=ROLE_ARN,
        base_model_id=BASE_MODEL,
        training_data_uri=TRAINING_DATA,
        validation_data_uri=VALIDATION_DATA,
        training_tokens="{{ ti.xcom_pull(task_ids='prepare_dataset')['training_tokens'] }}",
        output_data_uri=s3_uri("customization-output/bedrock-retraining", "{{ ds_nodash }}") + "/",
        hyperparameters={
            "epochCount": "{{ params.epochs }}",
            "batchSize": 1,
            "learningRate": "{{ params.learning_rate }}",
        },
        job_tags={"pipeline": "bedrock-retraining", "partition": "{{ ds }}"},
        poll_interval=POLL_INTERVAL,
    )
    export_metrics = BedrockExportMetricsOperator(
        task_id="export_metrics",
        job_identifier=JOB_ARN,
        destination_uri=s3_uri("metrics/bedrock-retraining") + "/",
        baseline_uri=CHAMPION,
        max_validation_loss="{{ params.max_validation_loss }}",
        plot=True,
        on_gate_failure="record",
    )
    promote = BedrockExportMetricsOperator(
        task_id="promote",
        job_identifier=JOB_ARN,
        baseline_uri=CHAMPION,
        max_validation_loss="{{ params.max_validation_loss }}",
        # Checked again rather than trusting export_metrics: a backfill running several weeks at once
        # may have crowned another champion in between.
        on_gate_failure="skip",
        promote=True,
    )
    service_role_task() >> prepare >> customize >> export_metrics >> promote
