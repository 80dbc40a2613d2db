"""The dataset-prep DAG the integration tests run: prepare the data, then train on what it wrote.

The customization operator takes the prepared URIs straight from the prep task's XCom: through
XComArg subscripts (native values, so a None validation URI stays None) and, for the output
location, a Jinja xcom_pull, the two ways DAG authors write it.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.operators.dataset import BedrockPrepareDatasetOperator

BUCKET = "bedrock-it"

with DAG(
    "it_dataset_prep",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"retries": 0},
):
    prepare = BedrockPrepareDatasetOperator(
        task_id="prepare",
        source_uri="{{ dag_run.conf.get('source_uri', 's3://" + BUCKET + "/data/train.jsonl') }}",
        output_uri="s3://" + BUCKET + "/prepared/{{ dag_run.conf['job_name'] }}/",
        base_model_id="amazon.titan-text-express-v1",
        validation_split="{{ dag_run.conf.get('validation_split', 0.2) }}",
        seed=7,
    )
    BedrockModelCustomizationOperator(
        task_id="train",
        job_name="{{ dag_run.conf['job_name'] }}",
        custom_model_name="{{ dag_run.conf['job_name'] }}-model",
        role_arn="arn:aws:iam::123456789012:role/BedrockCustomization",
        base_model_id="amazon.titan-text-express-v1",
        training_data_uri=prepare.output["training_data_uri"],
        validation_data_uri=prepare.output["validation_data_uri"],
        # The estimate takes the prepared tokens; a run's conf may set a budget.
        training_tokens=prepare.output["training_tokens"],
        max_estimated_cost="{{ dag_run.conf.get('max_estimated_cost') }}",
        output_data_uri=(
            "{{ ti.xcom_pull(task_ids='prepare')['report_uri'] | replace('report.json', 'model/') }}"
        ),
        hyperparameters={"epochCount": 1, "batchSize": 1, "learningRate": 0.00001},
        job_tags={"emulator:outcome": "Completed", "emulator:duration": "1"},
        poll_interval=0.2,
    )
