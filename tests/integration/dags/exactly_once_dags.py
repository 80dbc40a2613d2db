"""Airflow DAGs for the exactly-once cases: edited requests, other deployments, names that render
None or change per try, and names from bedrock_job_name. Each test passes its values through the
run's conf. (The word Airflow above is what lets the DagBag's safe mode read this file.)"""

from __future__ import annotations

from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.sensors.customization import BedrockModelCustomizationSensor
from tests.integration.job_args import manual_dag

BUCKET = "bedrock-it"
FROM_CONF = {
    "job_name": "{{ dag_run.conf['job_name'] }}",
    "custom_model_name": "{{ dag_run.conf['job_name'] }}-model",
    "role_arn": "arn:aws:iam::123456789012:role/BedrockCustomization",
    "base_model_id": "amazon.titan-text-express-v1",
    "training_data_uri": "s3://" + BUCKET + "/{{ dag_run.conf.get('training_key', 'data/train.jsonl') }}",
    "output_data_uri": "s3://" + BUCKET + "/output/{{ dag_run.conf['job_name'] }}/",
    "hyperparameters": {
        "epochCount": 2,
        "batchSize": 1,
        "learningRate": "{{ dag_run.conf.get('learning_rate', '0.00001') }}",
    },
    "if_job_exists": "{{ dag_run.conf.get('if_job_exists', 'reattach') }}",
    "job_tags": {"emulator:duration": "1"},
    "poll_interval": 0.2,
}


with manual_dag("it_once_from_conf"):
    BedrockModelCustomizationOperator(task_id="train", **FROM_CONF)

with manual_dag("it_once_name_from_param"):
    BedrockModelCustomizationOperator(
        task_id="train",
        **{
            **FROM_CONF,
            "job_name": "{{ dag_run.conf.get('job_name') }}",
            "custom_model_name": "model-from-param",
            "output_data_uri": f"s3://{BUCKET}/output/from-param/",
        },
    )

with manual_dag("it_once_name_per_try", retries=2):
    BedrockModelCustomizationOperator(
        task_id="train", **{**FROM_CONF, "job_name": "{{ dag_run.conf['job_name'] }}-{{ ti.try_number }}"}
    )

with manual_dag("it_once_job_name_macro_from_a_dag_id_well_over_forty_seven_characters_long"):
    BedrockModelCustomizationOperator(
        task_id="train",
        **{
            **FROM_CONF,
            "job_name": "{{ ti | bedrock_job_name }}",
            "custom_model_name": "{{ ti | bedrock_job_name }}-m",
            "output_data_uri": f"s3://{BUCKET}/output/macro/",
        },
    )

with manual_dag("it_once_sensor_none"):
    BedrockModelCustomizationSensor(
        task_id="wait",
        job_identifier="{{ dag_run.conf.get('job_identifier') }}",
        poke_interval=0.2,
        timeout=30,
    )
