"""DAGs that train on the emulator, then export the job's metrics and gate on them.

Each run's conf carries its job name, the final losses the emulator should report, where to export
and the gate's settings, so the tests drive passing, failing, skipping and promotion with one file.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Asset, task

from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.operators.dataset import BedrockPrepareDatasetOperator
from bedrock_provider.operators.metrics import BedrockExportMetricsOperator

BUCKET = "bedrock-it"
CHAMPION_MODEL = Asset(name="metrics_champion_model", uri=f"s3://{BUCKET}/models/champion")

TRAIN = {
    "job_name": "{{ dag_run.conf['job_name'] }}",
    "custom_model_name": "{{ dag_run.conf['job_name'] }}-model",
    "role_arn": "arn:aws:iam::123456789012:role/BedrockCustomization",
    "base_model_id": "amazon.titan-text-express-v1",
    "training_data_uri": f"s3://{BUCKET}/data/train.jsonl",
    "validation_data_uri": f"s3://{BUCKET}/data/validation.jsonl",
    "output_data_uri": "s3://" + BUCKET + "/output/{{ dag_run.conf['job_name'] }}/",
    "hyperparameters": {"epochCount": 2, "batchSize": 1, "learningRate": 0.00001},
    "job_tags": {
        "emulator:duration": "1",
        "emulator:final-loss": "{{ dag_run.conf.get('final_loss', 0.6) }}",
        "emulator:final-validation-loss": "{{ dag_run.conf.get('final_validation_loss', 0.65) }}",
    },
    "poll_interval": 0.2,
}
EXPORT = {
    "job_identifier": "{{ ti.xcom_pull('train')['job_arn'] }}",
    "destination_uri": "{{ dag_run.conf.get('destination_uri', '') }}",
    "max_training_loss": "{{ dag_run.conf.get('max_training_loss', '') }}",
    "max_validation_loss": "{{ dag_run.conf.get('max_validation_loss', '') }}",
    "baseline_uri": "{{ dag_run.conf.get('baseline_uri', '') }}",
    "on_gate_failure": "{{ dag_run.conf.get('on_gate_failure', 'fail') }}",
    "plot": True,
    "outlets": [CHAMPION_MODEL],
}


@task
def deploy(summary: dict) -> str:
    """Stands for what only a model that passed the gate may reach."""
    return str(summary["custom_model_arn"])


def _dag(dag_id: str) -> DAG:
    return DAG(
        dag_id, schedule=None, start_date=datetime(2024, 1, 1), catchup=False, default_args={"retries": 0}
    )


with _dag("metrics_gate"):
    train = BedrockModelCustomizationOperator(task_id="train", **TRAIN)
    export = BedrockExportMetricsOperator(task_id="export", **EXPORT)
    train >> export
    deploy(export.output)

with _dag("metrics_promote"):
    train = BedrockModelCustomizationOperator(task_id="train", **TRAIN)
    export = BedrockExportMetricsOperator(task_id="export", promote=True, **EXPORT)
    train >> export
    deploy(export.output)

with _dag("metrics_pipeline"):
    prep = BedrockPrepareDatasetOperator(
        task_id="prep",
        source_uri=f"s3://{BUCKET}/data/train.jsonl",
        output_uri="s3://" + BUCKET + "/prepared/{{ dag_run.conf['job_name'] }}/",
        validation_split=0.2,
        seed=7,
    )
    train = BedrockModelCustomizationOperator(
        task_id="train",
        **{
            **TRAIN,
            "training_data_uri": "{{ ti.xcom_pull('prep')['training_data_uri'] }}",
            "validation_data_uri": "{{ ti.xcom_pull('prep')['validation_data_uri'] }}",
        },
    )
    export = BedrockExportMetricsOperator(task_id="export", **EXPORT)
    prep >> train >> export
    deploy(export.output)
