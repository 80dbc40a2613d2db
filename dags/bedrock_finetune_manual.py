"""Fine-tune a model by hand from the Airflow UI: fill in the form, press Trigger.

customize -> export_metrics -> wants_evaluation -> deploy -> evaluate

With "Deploy and evaluate" ticked, the model is deployed on demand (billed per token, nothing while
idle) and a Bedrock evaluation job scores it on the evaluation prompts; the run fails when a score
misses its bound. Unticked, the run ends after export_metrics.

Every field of the form is a Param with a JSON schema: the base model and the customization type
are picked from lists, the hyperparameters and tags are JSON objects, names and S3 URIs are checked
against Bedrock's patterns. Airflow validates the whole form before it creates the run, so the UI
shows what is wrong and the REST API answers 400 to a bad ``conf``, and no run (and no job) exists.
The operator then checks what a form cannot (hyperparameters against the model's documented
ranges, the model against the customization type) before any AWS call.

The form's defaults point at the demo bucket of the local emulator; the connection and the bucket
the metrics go to come from the Variables of _bedrock_demo_config.py. Leave the job name empty to
name the job after the run. With the local emulator, job tags such as
``{"emulator:duration": "30", "emulator:outcome": "Failed"}`` choose the job's fate.
"""

from __future__ import annotations

from _bedrock_demo_config import (
    DEMO_BASE_MODEL,
    DEMO_BUCKET,
    DEMO_ROLE_ARN,
    EVALUATION_DATASET_KEY,
    FIRST_PARTITION,
    POLL_INTERVAL,
    RAW_OBJECT_NAME,
    RAW_PREFIX,
    TAGS,
    UNSCHEDULED,
    default_args,
    s3_uri,
    service_role_task,
)
from airflow.sdk import DAG, Param, task

from bedrock_provider.core.evaluation import TASK_TYPES
from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.operators.deployment import BedrockDeployCustomModelOperator
from bedrock_provider.operators.evaluation import BedrockModelEvaluationOperator
from bedrock_provider.operators.metrics import BedrockExportMetricsOperator

BASE_MODELS = {
    "amazon.titan-text-express-v1": "Amazon Titan Text G1 - Express",
    "amazon.titan-text-lite-v1": "Amazon Titan Text G1 - Lite",
    "amazon.nova-micro-v1:0:128k": "Amazon Nova Micro (128k)",
    "amazon.nova-lite-v1:0:300k": "Amazon Nova Lite (300k)",
    "meta.llama3-1-8b-instruct-v1:0:128k": "Meta Llama 3.1 8B Instruct (128k)",
    "anthropic.claude-3-haiku-20240307-v1:0:200k": "Anthropic Claude 3 Haiku (200k)",
}
CUSTOMIZATION_TYPES = {
    "FINE_TUNING": "Fine-tuning (labelled prompt/completion pairs)",
    "CONTINUED_PRE_TRAINING": "Continued pre-training (unlabelled text; Titan Text only)",
}
# Bedrock's own patterns, except that a name must start with a letter: the DAG renders native
# objects (so the JSON fields reach the operator as dicts), and an all-digit name would become a number.
JOB_NAME_PATTERN = r"^$|^[a-zA-Z](-*[a-zA-Z0-9+.-])*$"
MODEL_NAME_PATTERN = r"^$|^[a-zA-Z]([_-]?[0-9a-zA-Z])*$"
S3_OBJECT_PATTERN = r"^s3://[a-z0-9][-.a-z0-9]{1,61}/[-!_*'().a-zA-Z0-9/]*[^/]$"
S3_PREFIX_PATTERN = r"^s3://[a-z0-9][-.a-z0-9]{1,61}(/[-!_*'().a-zA-Z0-9/]*)?$"
DEMO_TRAINING_DATA = f"s3://{DEMO_BUCKET}/{RAW_PREFIX}/{FIRST_PARTITION:%Y%m%d}/{RAW_OBJECT_NAME}"
DEMO_EVALUATION_DATA = f"s3://{DEMO_BUCKET}/{EVALUATION_DATASET_KEY}"
# A score's bounds: built-in metric names to numbers (Bedrock's scores lie between 0 and 1).
SCORE_BOUNDS = {
    "type": "object",
    "propertyNames": {"enum": ["Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity"]},
    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
}
MODEL_NAME = "{{ params.custom_model_name or ((params.job_name or run_id) | bedrock_name) }}"

with DAG(
    dag_id="bedrock_finetune_manual",
    description="A fine-tuning job from a form: model, type, data, hyperparameters",
    **UNSCHEDULED,
    render_template_as_native_obj=True,
    # A failed job is not retried by itself: whoever filled in the form decides.
    default_args=default_args(retries=0),
    params={
        "base_model_id": Param(
            DEMO_BASE_MODEL,
            type="string",
            enum=list(BASE_MODELS),
            values_display=BASE_MODELS,
            title="Base model",
            description="The foundation model to customize.",
            section="Model",
        ),
        "customization_type": Param(
            "FINE_TUNING",
            type="string",
            enum=list(CUSTOMIZATION_TYPES),
            values_display=CUSTOMIZATION_TYPES,
            title="Customization type",
            section="Model",
        ),
        "hyperparameters": Param(
            {"epochCount": 2, "learningRate": 0.00001},
            type="object",
            minProperties=1,
            additionalProperties={"type": ["integer", "number", "string"]},
            title="Hyperparameters",
            description="Names and values as Bedrock documents them for the base model "
            "(Titan: epochCount, batchSize, learningRate, learningRateWarmupSteps).",
            section="Model",
        ),
        # Optional fields are typed ["null", "string"] with a None default: Airflow's form marks a
        # plain "string" Param as required and keeps Trigger disabled while it is empty.
        "job_name": Param(
            None,
            type=["null", "string"],
            maxLength=63,
            pattern=JOB_NAME_PATTERN,
            title="Job name",
            description="Letters, digits, '-', '+', '.'; starts with a letter. Empty: named after the run.",
            section="Names",
        ),
        "custom_model_name": Param(
            None,
            type=["null", "string"],
            maxLength=63,
            pattern=MODEL_NAME_PATTERN,
            title="Custom model name",
            description="Letters, digits, single '-' or '_'; starts with a letter. Empty: from the job name.",
            section="Names",
        ),
        "training_data_uri": Param(
            DEMO_TRAINING_DATA,
            type="string",
            pattern=S3_OBJECT_PATTERN,
            title="Training data",
            description="S3 URI of a JSONL file.",
            section="Data",
        ),
        "validation_data_uri": Param(
            None,
            type=["null", "string"],
            pattern=S3_OBJECT_PATTERN,
            title="Validation data",
            description="S3 URI of a JSONL file, or empty for none.",
            section="Data",
        ),
        "output_data_uri": Param(
            f"s3://{DEMO_BUCKET}/customization-output/manual/",
            type="string",
            pattern=S3_PREFIX_PATTERN,
            title="Output location",
            description="S3 prefix where Bedrock writes the metrics and artifacts.",
            section="Data",
        ),
        "role_arn": Param(
            DEMO_ROLE_ARN,
            type="string",
            pattern=r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$",
            title="Service role",
            description="IAM role Bedrock assumes to read the data and write the output.",
            section="Access",
        ),
        "job_tags": Param(
            {},
            type="object",
            maxProperties=200,
            additionalProperties={"type": "string", "maxLength": 256},
            title="Job tags",
            description="Tag names to values, e.g. cost allocation.",
            section="Access",
        ),
        "max_validation_loss": Param(
            None,
            type=["null", "number"],
            exclusiveMinimum=0,
            title="Highest acceptable validation loss",
            description="The run fails when the model's final validation loss is above it. Empty: no limit.",
            section="Quality",
        ),
        "evaluate": Param(
            False,
            type="boolean",
            title="Deploy and evaluate",
            description="Deploy the model on demand and score it with a Bedrock evaluation job.",
            section="Evaluation",
        ),
        "evaluation_task_type": Param(
            "QuestionAndAnswer",
            type="string",
            enum=list(TASK_TYPES),
            title="Evaluation task type",
            description="What the model is asked to do with the prompts; it picks the built-in metrics.",
            section="Evaluation",
        ),
        "evaluation_dataset_uri": Param(
            DEMO_EVALUATION_DATA,
            type="string",
            pattern=S3_OBJECT_PATTERN,
            title="Evaluation prompts",
            description="S3 URI of a JSONL file: prompt, referenceResponse, category (at most 1,000 lines).",
            section="Evaluation",
        ),
        "min_scores": Param(
            {"Builtin.Accuracy": 0.6},
            **SCORE_BOUNDS,
            title="Lowest scores",
            description="The run fails when a score is below its minimum.",
            section="Evaluation",
        ),
        "max_scores": Param(
            {"Builtin.Toxicity": 0.1},
            **SCORE_BOUNDS,
            title="Highest scores",
            description="The run fails when a score is above its maximum.",
            section="Evaluation",
        ),
    },
    doc_md=__doc__,
    tags=TAGS,
) as dag:
    customize = BedrockModelCustomizationOperator(
        task_id="customize",
        job_name="{{ params.job_name or (run_id | bedrock_name) }}",
        custom_model_name=MODEL_NAME,
        role_arn="{{ params.role_arn }}",
        base_model_id="{{ params.base_model_id }}",
        customization_type="{{ params.customization_type }}",
        training_data_uri="{{ params.training_data_uri }}",
        validation_data_uri="{{ params.validation_data_uri }}",
        output_data_uri="{{ params.output_data_uri }}",
        hyperparameters="{{ params.hyperparameters }}",
        job_tags="{{ params.job_tags }}",
        poll_interval=POLL_INTERVAL,
    )
    export_metrics = BedrockExportMetricsOperator(
        task_id="export_metrics",
        job_identifier="{{ ti.xcom_pull(task_ids='customize')['job_arn'] }}",
        destination_uri=s3_uri("metrics/manual") + "/",
        max_validation_loss="{{ params.max_validation_loss }}",
        plot=True,
    )

    @task.short_circuit
    def wants_evaluation(params: dict[str, object] | None = None) -> bool:
        return bool((params or {}).get("evaluate"))

    deploy = BedrockDeployCustomModelOperator(
        task_id="deploy",
        model_identifier="{{ ti.xcom_pull(task_ids='customize')['custom_model_arn'] }}",
        deployment_name=MODEL_NAME,
        poll_interval=POLL_INTERVAL,
    )
    evaluate = BedrockModelEvaluationOperator(
        task_id="evaluate",
        # Evaluation job names are lowercase.
        job_name="{{ ((params.job_name or run_id) | bedrock_name(58) | lower) }}-eval",
        role_arn="{{ params.role_arn }}",
        model_identifier="{{ ti.xcom_pull(task_ids='deploy')['deployment_arn'] }}",
        task_type="{{ params.evaluation_task_type }}",
        dataset_uri="{{ params.evaluation_dataset_uri }}",
        output_uri=s3_uri("evaluations/manual") + "/",
        min_scores="{{ params.min_scores }}",
        max_scores="{{ params.max_scores }}",
        poll_interval=POLL_INTERVAL,
    )
    (
        service_role_task("{{ params.role_arn }}")
        >> customize
        >> export_metrics
        >> wants_evaluation()
        >> deploy
        >> evaluate
    )
