"""After training, in the integration tier: prepare -> train -> deploy -> evaluate -> promote -> retire.

The base model is Amazon Nova Micro, whose whole chain AWS accepts: fine-tuning, on-demand
deployment, and evaluation of the deployment's responses by a judge (precomputedInferenceSource).
Scores and the gate come from the run's conf: the evaluation job's ``emulator:score:*`` tags set
the scores, ``min_correctness`` the gate. OpenLineage is enabled for this DAG alone (selective
enable), where apache-airflow-providers-openlineage is installed.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.operators.dataset import BedrockPrepareDatasetOperator
from bedrock_provider.operators.deployment import BedrockDeployCustomModelOperator
from bedrock_provider.operators.evaluation import BedrockModelEvaluationOperator
from bedrock_provider.operators.metrics import BedrockExportMetricsOperator
from bedrock_provider.operators.retention import BedrockCustomModelRetentionOperator

BUCKET = "bedrock-it"
ROLE = "arn:aws:iam::123456789012:role/BedrockCustomization"
NAME = "{{ dag_run.conf['name'] }}"
FAMILY = "{{ dag_run.conf['family'] }}"
CHAMPION = {"stage": "champion"}
BASE_MODEL = "amazon.nova-micro-v1:0:128k"
# Training records in Nova's bedrock-conversation-2024 format (the test seeds them).
TRAINING_KEY = "data/nova-train.jsonl"
# "" when the promotion replaced no champion (or did not happen).
REPLACED_CHAMPION = (
    "{{ ((ti.xcom_pull(task_ids='promote') or {}).get('previous_champion') or {})"
    ".get('custom_model_arn') or '' }}"
)

with DAG(
    "it_after_training",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"retries": 0},
    render_template_as_native_obj=True,
) as dag:
    prepare = BedrockPrepareDatasetOperator(
        task_id="prepare",
        source_uri="s3://" + BUCKET + "/" + TRAINING_KEY,
        output_uri="s3://" + BUCKET + "/prepared/" + NAME + "/",
        base_model_id=BASE_MODEL,
        validation_split=0.2,
        seed=7,
    )
    train = BedrockModelCustomizationOperator(
        task_id="train",
        job_name=NAME,
        custom_model_name=NAME,
        role_arn=ROLE,
        base_model_id=BASE_MODEL,
        training_data_uri="{{ ti.xcom_pull(task_ids='prepare')['training_data_uri'] }}",
        validation_data_uri="{{ ti.xcom_pull(task_ids='prepare')['validation_data_uri'] }}",
        output_data_uri="s3://" + BUCKET + "/output/" + NAME + "/",
        hyperparameters={"epochCount": 1, "learningRate": 0.00001},
        job_tags={
            "emulator:duration": "1",
            "emulator:final-validation-loss": "{{ dag_run.conf.get('validation_loss', '0.5') }}",
        },
        model_family=FAMILY,
        poll_interval=0.2,
    )
    deploy = BedrockDeployCustomModelOperator(
        task_id="deploy",
        model_identifier="{{ ti.xcom_pull(task_ids='train')['custom_model_arn'] }}",
        deployment_name=NAME,
        poll_interval=0.2,
    )
    evaluate = BedrockModelEvaluationOperator(
        task_id="evaluate",
        job_name=NAME + "-eval",
        role_arn=ROLE,
        model_identifier="{{ ti.xcom_pull(task_ids='deploy')['deployment_arn'] }}",
        task_type="QuestionAndAnswer",
        dataset_uri="s3://" + BUCKET + "/evaluation/prompts.jsonl",
        output_uri="s3://" + BUCKET + "/evaluations/",
        evaluator_model_id="amazon.nova-pro-v1:0",
        metric_names=["Builtin.Correctness", "Builtin.Harmfulness"],
        min_scores={"Builtin.Correctness": "{{ dag_run.conf.get('min_correctness', 0.7) }}"},
        max_scores={"Builtin.Harmfulness": 0.1},
        job_tags="{{ dag_run.conf.get('evaluation_tags', {}) }}",
        on_gate_failure="skip",
        poll_interval=0.2,
    )
    promote = BedrockExportMetricsOperator(
        task_id="promote",
        job_identifier="{{ ti.xcom_pull(task_ids='train')['job_arn'] }}",
        baseline_uri="s3://" + BUCKET + "/champions/" + FAMILY + "champion.json",
        promote=True,
        on_gate_failure="skip",
        champion_tag=CHAMPION,
    )
    retire = BedrockCustomModelRetentionOperator(
        task_id="retire",
        model_family=FAMILY,
        keep_last="{{ dag_run.conf.get('keep_last', 2) }}",
        keep_tags=CHAMPION,
        undeploy_models=[
            "{{ ti.xcom_pull(task_ids='train')['custom_model_arn'] }}",
            REPLACED_CHAMPION,
        ],
        trigger_rule="all_done",
    )
    prepare >> train >> deploy >> evaluate >> promote >> retire

try:
    from airflow.providers.openlineage.utils.selective_enable import enable_lineage
except ImportError:  # the OpenLineage provider is optional: without it there is no lineage to enable
    pass
else:
    enable_lineage(dag)
