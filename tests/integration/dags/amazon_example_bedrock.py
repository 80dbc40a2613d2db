"""The shape of the Amazon provider's Bedrock system test (example_bedrock.py in apache/airflow),
on this provider's drop-in classes: only the import lines of the two Bedrock classes and of the
system-test helpers differ from a DAG written for ``airflow.providers.amazon``.

Everything else is as there: the context task, a bucket with one prompt/completion record, the
operator and the sensor with nothing but the required arguments (every waiting, naming and deferral
setting at the Amazon defaults), the custom model deleted through the Amazon provider's own
BedrockHook, and the bucket torn down whatever happened. The inference and provisioned-throughput
groups of the original are left out: they call bedrock-runtime and provisioned throughput, which are
not part of model customization.
"""

from __future__ import annotations

import json
from datetime import datetime
from os import environ

from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook
from airflow.providers.amazon.aws.operators.s3 import (
    S3CreateBucketOperator,
    S3CreateObjectOperator,
    S3DeleteBucketOperator,
)
from airflow.sdk import DAG, TriggerRule, chain, task, task_group

from bedrock_provider.operators.customization import BedrockCustomizeModelOperator
from bedrock_provider.sensors.customization import BedrockCustomizeModelCompletedSensor
from tests.integration.amazon_system_tests import SystemTestContextBuilder, watcher

ROLE_ARN_KEY = "ROLE_ARN"
sys_test_context_task = SystemTestContextBuilder().add_variable(ROLE_ARN_KEY).build()

DAG_ID = "example_bedrock"

# A real job takes hours: the Amazon system test skips it unless this is set to an empty string.
SKIP_LONG_TASKS = environ.get("SKIP_LONG_SYSTEM_TEST_TASKS", str(True))

TITAN_MODEL_ID = "amazon.titan-text-express-v1"
TRAIN_DATA = {"prompt": "what is AWS", "completion": "it's Amazon Web Services"}
HYPERPARAMETERS = {
    "epochCount": "1",
    "batchSize": "1",
    "learningRate": ".0005",
    "learningRateWarmupSteps": "0",
}


@task_group
def customize_model_workflow():  # type: ignore[no-untyped-def]
    customize_model = BedrockCustomizeModelOperator(
        task_id="customize_model",
        job_name=custom_model_job_name,
        custom_model_name=custom_model_name,
        role_arn=test_context[ROLE_ARN_KEY],
        base_model_id=f"{model_arn_prefix}{TITAN_MODEL_ID}",
        hyperparameters=HYPERPARAMETERS,
        training_data_uri=training_data_uri,
        output_data_uri=f"s3://{bucket_name}/myOutputData",
    )

    await_custom_model_job = BedrockCustomizeModelCompletedSensor(
        task_id="await_custom_model_job",
        job_name=custom_model_job_name,
    )

    @task
    def delete_custom_model():  # type: ignore[no-untyped-def]
        BedrockHook().conn.delete_custom_model(modelIdentifier=custom_model_name)

    @task.short_circuit()
    def should_run_long_tasks():  # type: ignore[no-untyped-def]
        return not SKIP_LONG_TASKS

    chain(should_run_long_tasks(), customize_model, await_custom_model_job, delete_custom_model())


with DAG(dag_id=DAG_ID, schedule="@once", start_date=datetime(2021, 1, 1), catchup=False) as dag:
    test_context = sys_test_context_task()
    env_id = test_context["ENV_ID"]
    bucket_name = f"{env_id}-bedrock"
    input_data_s3_key = f"{env_id}/train.jsonl"
    training_data_uri = f"s3://{bucket_name}/{input_data_s3_key}"
    custom_model_name = f"CustomModel{env_id}"
    custom_model_job_name = f"CustomizeModelJob{env_id}"
    model_arn_prefix = "arn:aws:bedrock:us-east-1::foundation-model/"

    create_bucket = S3CreateBucketOperator(task_id="create_bucket", bucket_name=bucket_name)

    upload_training_data = S3CreateObjectOperator(
        task_id="upload_data",
        s3_bucket=bucket_name,
        s3_key=input_data_s3_key,
        data=json.dumps(TRAIN_DATA),
    )

    delete_bucket = S3DeleteBucketOperator(
        task_id="delete_bucket",
        trigger_rule=TriggerRule.ALL_DONE,
        bucket_name=bucket_name,
        force_delete=True,
    )

    chain(test_context, create_bucket, upload_training_data, customize_model_workflow(), delete_bucket)

    list(dag.tasks) >> watcher()
