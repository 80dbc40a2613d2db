"""A pipeline of every operator and the sensor on the connection ``aws_canary``, whose secret the
secrets test plants and then looks for everywhere Airflow writes.

prepare -> train -> wait -> export; the conf picks the job's fate and may spoil the input or set a
gate the model fails. ``reliability_secrets_sensor`` waits for a job given in the conf.
``reliability_secrets_control`` leaks its connection's password into XCom on purpose: it proves the
test's scan finds a secret that is there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, BaseHook, task

from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.operators.dataset import BedrockPrepareDatasetOperator
from bedrock_provider.operators.metrics import BedrockExportMetricsOperator
from bedrock_provider.sensors.customization import BedrockModelCustomizationSensor

CONN_ID = "aws_canary"
CONTROL_CONN_ID = "aws_canary_control"
BUCKET = "bedrock-it"
PREFIX = "{{ dag_run.conf['prefix'] }}"
TRAINED_JOB = "{{ ti.xcom_pull(task_ids='train')['job_arn'] }}"
SENSOR: dict[str, Any] = {"poke_interval": 0.2, "timeout": 60, "aws_conn_id": CONN_ID}


def _pipeline(deferrable: bool) -> None:
    prepare = BedrockPrepareDatasetOperator(
        task_id="prepare",
        source_uri=f"s3://{BUCKET}/data/train.jsonl",
        output_uri=f"s3://{BUCKET}/prepared/{PREFIX}/",
        base_model_id="amazon.titan-text-express-v1",
        validation_split="{{ dag_run.conf.get('validation_split', 0.2) }}",
        aws_conn_id=CONN_ID,
    )
    train = BedrockModelCustomizationOperator(
        task_id="train",
        job_name=PREFIX,
        custom_model_name=f"{PREFIX}-model",
        role_arn="arn:aws:iam::123456789012:role/BedrockCustomization",
        base_model_id="amazon.titan-text-express-v1",
        training_data_uri=prepare.output["training_data_uri"],
        validation_data_uri=prepare.output["validation_data_uri"],
        output_data_uri=f"s3://{BUCKET}/output/{PREFIX}/",
        hyperparameters="{{ dag_run.conf.get('hyperparameters', {'epochCount': 1}) }}",
        job_tags={
            "emulator:duration": "0.5",
            "emulator:outcome": "{{ dag_run.conf.get('outcome', 'Completed') }}",
        },
        deferrable=deferrable,
        poll_interval=0.2,
        aws_conn_id=CONN_ID,
    )
    wait = BedrockModelCustomizationSensor(
        task_id="wait", job_identifier=TRAINED_JOB, deferrable=deferrable, **SENSOR
    )
    export = BedrockExportMetricsOperator(
        task_id="export",
        job_identifier=TRAINED_JOB,
        destination_uri=f"s3://{BUCKET}/exports/{PREFIX}/",
        max_training_loss="{{ dag_run.conf.get('max_training_loss') }}",
        aws_conn_id=CONN_ID,
    )
    prepare >> train >> wait >> export


for _mode, _deferrable in (("deferred", True), ("blocking", False)):
    with DAG(
        f"reliability_secrets_{_mode}",
        schedule=None,
        start_date=datetime(2024, 1, 1),
        catchup=False,
        default_args={"retries": 0},
        # The conf's hyperparameters reach the operator as a dict, or as whatever bad value it holds.
        render_template_as_native_obj=True,
    ):
        _pipeline(_deferrable)


with DAG("reliability_secrets_sensor", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    BedrockModelCustomizationSensor(
        task_id="wait", job_identifier="{{ dag_run.conf['job_identifier'] }}", deferrable=True, **SENSOR
    )


@task
def leak(**context: Any) -> str:
    return str(BaseHook.get_connection(CONTROL_CONN_ID).password)


with DAG("reliability_secrets_control", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    leak()
