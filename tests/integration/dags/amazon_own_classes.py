"""The Amazon provider's own Bedrock classes (airflow.providers.amazon), unchanged, on the emulator:
the system test's request (one prompt/completion record, learningRate ".0005") submitted by its
operator and awaited by its sensor, blocking and deferrable."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.operators.bedrock import BedrockCustomizeModelOperator
from airflow.providers.amazon.aws.sensors.bedrock import BedrockCustomizeModelCompletedSensor
from airflow.sdk import DAG

from tests.integration.job_args import BUCKET

HYPERPARAMETERS = {
    "epochCount": "1",
    "batchSize": "1",
    "learningRate": ".0005",
    "learningRateWarmupSteps": "0",
}

for mode in ("blocking", "deferrable"):
    with DAG(f"it_amazon_own_{mode}", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
        customize = BedrockCustomizeModelOperator(
            task_id="customize_model",
            job_name="{{ dag_run.conf['job_name'] }}",
            custom_model_name="{{ dag_run.conf['job_name'] }}-model",
            role_arn="arn:aws:iam::123456789012:role/BedrockCustomization",
            base_model_id="arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1",
            hyperparameters=HYPERPARAMETERS,
            training_data_uri=f"s3://{BUCKET}/data/one-record.jsonl",
            # Not a templated field of the Amazon operator.
            output_data_uri=f"s3://{BUCKET}/output/amazon-own-classes/",
            wait_for_completion=False,
        )
        await_job = BedrockCustomizeModelCompletedSensor(
            task_id="await_custom_model_job",
            job_name="{{ dag_run.conf['job_name'] }}",
            deferrable=mode == "deferrable",
            poke_interval=1,
            max_retries=120,
        )
        customize >> await_job
