"""Reinforcement fine-tuning and invocation-log training through real Airflow, against the emulator.

The grader, the hyperparameters and the log location come from the run's conf, so one DAG serves
many tests.
"""

from __future__ import annotations

from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from tests.integration.job_args import BUCKET, JOB_ARGS, manual_dag

RFT_DATA_KEY = "rft/prompts.jsonl"
COMMON = {
    "job_name": JOB_ARGS["job_name"],
    "custom_model_name": JOB_ARGS["custom_model_name"],
    "role_arn": JOB_ARGS["role_arn"],
    "output_data_uri": JOB_ARGS["output_data_uri"],
    "job_tags": {"emulator:duration": "1"},
    "poll_interval": 0.2,
}

with manual_dag("it_rft_nova2"):
    BedrockModelCustomizationOperator(
        task_id="train",
        base_model_id="amazon.nova-2-lite-v1:0:256k",
        customization_type="REINFORCEMENT_FINE_TUNING",
        training_data_uri=f"s3://{BUCKET}/{RFT_DATA_KEY}",
        grader_lambda_arn="{{ dag_run.conf['grader_lambda_arn'] }}",
        hyperparameters="{{ dag_run.conf.get('hyperparameters', {}) }}",
        **COMMON,
    )

with manual_dag("it_distill_from_logs"):
    BedrockModelCustomizationOperator(
        task_id="train",
        base_model_id="amazon.nova-lite-v1:0:300k",
        customization_type="DISTILLATION",
        invocation_logs={"s3_uri": "{{ dag_run.conf['logs_uri'] }}", "use_prompt_response": True},
        customization_job_kwargs={
            "customizationConfig": {
                "distillationConfig": {
                    "teacherModelConfig": {"teacherModelIdentifier": "amazon.nova-pro-v1:0"}
                }
            }
        },
        **COMMON,
    )
