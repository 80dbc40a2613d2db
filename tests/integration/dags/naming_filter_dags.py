"""Airflow DAGs whose job names come from the bedrock_job_name and bedrock_name filters wherever a
template is rendered: mapped tasks (.partial().expand() and .expand_kwargs()), a task group, and a
mapped task group. Each mapped instance must get a job of its own under a valid, unique name. (The
word Airflow above is what lets the DagBag's safe mode read this file.)"""

from __future__ import annotations

from typing import Any

from airflow.sdk import TaskGroup, task_group

from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from tests.integration.job_args import BUCKET, manual_dag

SHARED = {
    "role_arn": "arn:aws:iam::123456789012:role/BedrockCustomization",
    "base_model_id": "amazon.titan-text-express-v1",
    "training_data_uri": f"s3://{BUCKET}/data/train.jsonl",
    "output_data_uri": "s3://" + BUCKET + "/output/{{ run_id | bedrock_name }}/",
    "job_tags": {"emulator:duration": "1"},
    "poll_interval": 0.2,
}
BY_RUN = {
    "job_name": "{{ ti | bedrock_job_name }}",
    "custom_model_name": "{{ ti | bedrock_job_name('model') }}",
}
LEARNING_RATES = [0.00001, 0.00002, 0.00003]


def hyperparameters(learning_rate: Any) -> dict[str, Any]:
    return {"epochCount": 1, "batchSize": 1, "learningRate": learning_rate}


with manual_dag("it_names_mapped_expand"):
    BedrockModelCustomizationOperator.partial(task_id="train", **SHARED, **BY_RUN).expand(
        hyperparameters=[hyperparameters(rate) for rate in LEARNING_RATES]
    )

with manual_dag("it_names_mapped_expand_kwargs"):
    # The names come from the mapped arguments themselves, one template per point.
    BedrockModelCustomizationOperator.partial(task_id="train", **SHARED).expand_kwargs(
        [
            {
                "job_name": "{{ ti | bedrock_job_name('point') }}",
                "custom_model_name": "{{ dag.dag_id | bedrock_name(40) }}-" + str(index),
                "hyperparameters": hyperparameters(rate),
            }
            for index, rate in enumerate(LEARNING_RATES)
        ]
    )

with manual_dag("it_names_task_group"):
    with TaskGroup("weekly"):
        BedrockModelCustomizationOperator(
            task_id="train", hyperparameters=hyperparameters(0.00001), **SHARED, **BY_RUN
        )


@task_group(group_id="point")
def train_point(learning_rate: float) -> None:
    BedrockModelCustomizationOperator(
        task_id="train", hyperparameters=hyperparameters(learning_rate), **SHARED, **BY_RUN
    )


with manual_dag("it_names_mapped_task_group"):
    train_point.expand(learning_rate=LEARNING_RATES)

with manual_dag("it_names_mapped_per_try", retries=1):
    # A name that changes per try is refused in a mapped task too, before any Create call.
    BedrockModelCustomizationOperator.partial(
        task_id="train",
        job_name="it-mapped-per-try-{{ ti.map_index }}-{{ ti.try_number }}",
        custom_model_name="{{ ti | bedrock_job_name('model') }}",
        **SHARED,
    ).expand(hyperparameters=[hyperparameters(rate) for rate in LEARNING_RATES[:2]])

with manual_dag("it_names_mapped_evaluation"):
    # Evaluation job names take no uppercase (EvaluationJobName): the run id's 'T' must be lowered.
    from bedrock_provider.operators.evaluation import BedrockModelEvaluationOperator

    BedrockModelEvaluationOperator.partial(
        task_id="evaluate",
        job_name="{{ ti | bedrock_job_name(kind='evaluation_job') }}",
        role_arn=SHARED["role_arn"],
        model_identifier="amazon.titan-text-express-v1",
        dataset_uri=f"s3://{BUCKET}/evaluation/naming-prompts.jsonl",
        output_uri="s3://" + BUCKET + "/evaluations/{{ run_id | bedrock_name | lower }}/",
        metric_names=["Builtin.Accuracy"],
        poll_interval=0.2,
    ).expand(task_type=["QuestionAndAnswer", "Generation"])
