"""Fine-tune a model by hand from the Airflow UI: fill in the form, press Trigger.

check_request -> service_role -> customize -> export_metrics -> wants_evaluation -> deploy -> evaluate

With "Deploy and evaluate" ticked, the model is deployed on demand (billed per token, nothing while
idle; AWS deploys Nova Lite, Micro and Pro custom models that way), asked each evaluation prompt, and a
Bedrock evaluation job judges its answers (docs/evaluation.md); the run fails when a score misses its
bound. Unticked, the run ends after export_metrics.

Every field of the form is a Param with a JSON schema: the base model and the customization type
are picked from lists, the hyperparameters and tags are JSON objects, names and S3 URIs are checked
against Bedrock's patterns. Airflow validates each field before it creates the run, so the form
refuses a bad value and the REST API answers 400 to a bad ``conf``: no run (and no job) exists.

What one field cannot know is checked by ``check_request``, in seconds, before anything is
submitted: the hyperparameters against the chosen model's own ranges, the model against the
customization type, and a validation-loss limit without validation data (the job would train for
hours, then fail the gate). ``service_role`` then makes sure the role exists and trusts Bedrock.

The form's defaults point at the demo bucket of the local emulator (weekly partitions from
2025-01-05 to 2025-02-09); the connection and the bucket the metrics go to come from the Variables of
_bedrock_demo_config.py. Leave the job name empty to name the job after the run. With the local
emulator, job tags such as ``{"emulator:duration": "30", "emulator:outcome": "Failed"}`` choose the
job's fate.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from _bedrock_demo_config import (
    AWS_CONN_ID,
    DEMO_BASE_MODEL,
    DEMO_BUCKET,
    DEMO_CONN_ID,
    DEMO_DATES,
    DEMO_PARTITIONS,
    DEMO_REGION,
    DEMO_ROLE_ARN,
    EVALUATION_DATASET_KEY,
    EVALUATOR_MODEL,
    FIRST_PARTITION,
    POLL_INTERVAL,
    TAGS,
    UNSCHEDULED,
    default_args,
    demo_object_uri,
    s3_uri,
    service_role_task,
)
from airflow.sdk import DAG, Param, task

from bedrock_provider.core.lifecycle.evaluation import TASK_TYPES
from bedrock_provider.core.lifecycle.precomputed_inference import JUDGE_METRICS
from bedrock_provider.core.request.forms import (
    explained_pattern,
    hyperparameter_ranges_markdown,
    hyperparameters_schema,
    models_offered_in,
    parse_time_region,
)
from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.operators.deployment import BedrockDeployCustomModelOperator
from bedrock_provider.operators.evaluation import BedrockModelEvaluationOperator
from bedrock_provider.operators.metrics import BedrockExportMetricsOperator

# The models this form can offer; it offers those Bedrock customizes in the connection's Region (below).
KNOWN_BASE_MODELS = {
    "amazon.titan-text-express-v1": "Amazon Titan Text G1 - Express",
    "amazon.nova-2-lite-v1:0:256k": "Amazon Nova 2 Lite (256k)",
    "amazon.nova-micro-v1:0:128k": "Amazon Nova Micro (128k)",
    "amazon.nova-lite-v1:0:300k": "Amazon Nova Lite (300k)",
    "meta.llama3-1-8b-instruct-v1:0:128k": "Meta Llama 3.1 8B Instruct (128k)",
    "anthropic.claude-3-haiku-20240307-v1:0:200k": "Anthropic Claude 3 Haiku (200k)",
}
CUSTOMIZATION_TYPES = {
    "FINE_TUNING": "Fine-tuning (labelled prompt/completion pairs)",
    "CONTINUED_PRE_TRAINING": "Continued pre-training (unlabelled text; Titan Text only)",
}
# The connection's Region as the DAG processor can read it (no database call while parsing), e.g.
# us-east-1 in the demo: Claude 3 Haiku and Llama 3.1 8B are customized in us-west-2 only, so a form
# for us-east-1 does not offer them. check_request checks the model in the Region of the connection
# the run uses, exactly as the customize task does.
FORM_REGION = parse_time_region(os.environ, DEMO_CONN_ID, DEMO_REGION)
BASE_MODELS = models_offered_in(KNOWN_BASE_MODELS, FORM_REGION, CUSTOMIZATION_TYPES)
DEFAULT_BASE_MODEL = DEMO_BASE_MODEL if DEMO_BASE_MODEL in BASE_MODELS else next(iter(BASE_MODELS))
# Bedrock's own patterns, except that a name must start with a letter: the DAG renders native
# objects (so the JSON fields reach the operator as dicts), and an all-digit name would become a number.
# "^$|" keeps an empty text (an API caller's "") meaning "no name given", as null does.
# Each pattern leads with a sentence (explained_pattern): a refused value's message reads it first.
JOB_NAME_PATTERN = explained_pattern(
    "a job name is letters, digits, -, + and ., starting with a letter, e.g. support-bot-v2",
    r"^$|^[a-zA-Z](-*[a-zA-Z0-9+.-])*$",
)
MODEL_NAME_PATTERN = explained_pattern(
    "a model name is letters and digits with single - or _ between them, starting with a letter",
    r"^$|^[a-zA-Z]([_-]?[0-9a-zA-Z])*$",
)
S3_OBJECT_PATTERN = explained_pattern(
    "an S3 file is s3://, a lowercase bucket name, /, then a key that does not end in /",
    r"^s3://[a-z0-9][-.a-z0-9]{1,61}/[-!_*'().a-zA-Z0-9/]*[^/]$",
)
S3_PREFIX_PATTERN = explained_pattern(
    "an S3 folder is s3://, a lowercase bucket name, then a path",
    r"^s3://[a-z0-9][-.a-z0-9]{1,61}(/[-!_*'().a-zA-Z0-9/]*)?$",
)
ROLE_ARN_PATTERN = explained_pattern(
    "a role ARN is arn:aws:iam::, a 12-digit account, :role/, then the name of the role",
    r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$",
)
DEMO_EVALUATION_DATA = f"s3://{DEMO_BUCKET}/{EVALUATION_DATASET_KEY}"
# A score's bounds: the judge's built-in metric names to numbers (Bedrock's scores lie between 0 and 1).
SCORE_BOUNDS = {
    # Optional, as the whole Evaluation section is (Airflow's form stars a type without "null").
    "type": ["null", "object"],
    "propertyNames": {"enum": list(JUDGE_METRICS)},
    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
}
# The names check_request settled on (the form's, or the run's when the form leaves them empty).
CHECKED = "{{ ti.xcom_pull(task_ids='check_request')"
DEMO_OBJECTS = [demo_object_uri(partition) for partition in DEMO_PARTITIONS]
# A hyperparameters object of the offered models' names and widest ranges; "type" is the Param's own,
# which also takes null (the model's own defaults).
HYPERPARAMETER_RULES = {
    key: value for key, value in hyperparameters_schema(BASE_MODELS).items() if key != "type"
}

log = logging.getLogger(__name__)


def rules(**keywords: Any) -> list[dict[str, Any]]:
    """Schema rules the form does not read, nested under allOf: a refused value's message then quotes
    these few keywords rather than the whole Param schema with its examples and help."""
    return [keywords]


@task(retries=0)
def check_request(params: dict[str, Any], run_id: str, aws_conn_id: str) -> dict[str, Any]:
    """The whole form, checked as the customize task will send it, in seconds and before any job."""
    from airflow.sdk.exceptions import AirflowFailException

    from bedrock_provider.core.errors import InvalidInputError
    from bedrock_provider.core.request.preflight import check_customization_conf, form_request
    from bedrock_provider.hooks.customization import BedrockCustomizationHook
    from bedrock_provider.operators.customization import configured_model_checks

    # The Region the customize task sends the job to: its connection's (read, no AWS call); and
    # [bedrock] model_checks, as the customize task reads it.
    region_name = BedrockCustomizationHook(aws_conn_id=aws_conn_id).region_name
    request = form_request(params, run_id, region_name, configured_model_checks())
    try:
        checked = check_customization_conf(request, params["max_validation_loss"], params)
    except InvalidInputError as error:
        raise AirflowFailException(str(error)) from None
    for warning in checked.warnings:
        log.warning("%s", warning)
    log.info("The form is valid: job %s, custom model %s", checked.job_name, checked.custom_model_name)
    return {"job_name": checked.job_name, "custom_model_name": checked.custom_model_name}


with DAG(
    dag_id="bedrock_finetune_manual",
    description="A fine-tuning job from a form: model, type, data, hyperparameters",
    **UNSCHEDULED,
    render_template_as_native_obj=True,
    # A failed job is not retried by itself: whoever filled in the form decides.
    default_args=default_args(retries=0),
    params={
        "base_model_id": Param(
            DEFAULT_BASE_MODEL,
            type="string",
            enum=list(BASE_MODELS),
            values_display=BASE_MODELS,
            title="Base model",
            description=f"The foundation models Bedrock customizes in {FORM_REGION}, the connection's "
            "Region. Each one's hyperparameter ranges and defaults are in the list under Hyperparameters.",
            section="Model",
        ),
        "customization_type": Param(
            "FINE_TUNING",
            type="string",
            enum=list(CUSTOMIZATION_TYPES),
            values_display=CUSTOMIZATION_TYPES,
            title="Customization type",
            description="Fine-tuning learns from prompt/completion pairs; continued pre-training from plain "
            "text (Titan Text models only).",
            section="Model",
        ),
        # Described in markdown (description_md, shown when a Param has no plain description): the
        # per-model ranges are a table. The schema allows each name's widest documented range over the
        # models above; check_request holds the chosen model to its own.
        "hyperparameters": Param(
            # Empty by default: each model trains with its own defaults (Claude, for one, takes
            # learningRateMultiplier where the others take learningRate).
            None,
            title="Hyperparameters",
            description_md='A JSON object of numbers, e.g. `{"epochCount": 2}`; a name left out, or the '
            "whole field empty, takes the chosen model's own default. Ranges and defaults per model "
            "(checked before the job is submitted):\n\n" + hyperparameter_ranges_markdown(BASE_MODELS),
            section="Model",
            type=["null", "object"],
            allOf=rules(**HYPERPARAMETER_RULES),
        ),
        "job_name": Param(
            # Optional fields are typed ["null", "string"] with a None default: Airflow's form marks a
            # plain "string" Param as required and keeps Trigger disabled while it is empty.
            None,
            type=["null", "string"],
            minLength=1,
            maxLength=63,
            allOf=rules(pattern=JOB_NAME_PATTERN),
            title="Job name",
            description="Up to 63 letters, digits, '-', '+' and '.', starting with a letter, e.g. "
            "support-bot-v2. Empty: named after the run.",
            section="Names",
        ),
        "custom_model_name": Param(
            None,
            type=["null", "string"],
            minLength=1,
            maxLength=63,
            allOf=rules(pattern=MODEL_NAME_PATTERN),
            title="Custom model name",
            description="Up to 63 letters and digits, single '-' or '_' between them, starting with a "
            "letter, e.g. support_bot-v2. Empty: the job's name.",
            section="Names",
        ),
        "training_data_uri": Param(
            demo_object_uri(FIRST_PARTITION),
            type="string",
            allOf=rules(pattern=S3_OBJECT_PATTERN),
            examples=DEMO_OBJECTS,
            title="Training data",
            description="S3 URI of one JSONL file (not a folder), e.g. "
            f"s3://{DEMO_BUCKET}/raw/support/20250105/tickets.jsonl. The demo bucket holds one per week, "
            f"{DEMO_DATES}.",
            section="Data",
        ),
        "validation_data_uri": Param(
            None,
            type=["null", "string"],
            allOf=rules(pattern=S3_OBJECT_PATTERN),
            examples=DEMO_OBJECTS,
            title="Validation data",
            description="S3 URI of one JSONL file held out for validation, e.g. another week: "
            f"s3://{DEMO_BUCKET}/raw/support/20250119/tickets.jsonl (the raw weeks 20250112 and 20250209 "
            "hold an invalid record on purpose, which Bedrock's validation rejects). Empty: none.",
            section="Data",
        ),
        "output_data_uri": Param(
            f"s3://{DEMO_BUCKET}/customization-output/manual/",
            type="string",
            allOf=rules(pattern=S3_PREFIX_PATTERN),
            title="Output location",
            description="S3 folder where Bedrock writes the metrics and artifacts: s3://, a lowercase "
            "bucket name, then a path.",
            section="Data",
        ),
        "role_arn": Param(
            DEMO_ROLE_ARN,
            type="string",
            allOf=rules(pattern=ROLE_ARN_PATTERN),
            title="Service role",
            description="ARN of the IAM role Bedrock assumes to read the data and write the output: "
            "arn:aws:iam::<12-digit account>:role/<name>.",
            section="Access",
        ),
        "job_tags": Param(
            None,
            type=["null", "object"],
            allOf=rules(maxProperties=200, additionalProperties={"type": "string", "maxLength": 256}),
            title="Job tags",
            description='Tag names to text values, e.g. {"team": "support"}; quote numbers ("5"). '
            "Empty: none.",
            section="Access",
        ),
        "max_validation_loss": Param(
            None,
            type=["null", "number"],
            exclusiveMinimum=0,
            title="Highest acceptable validation loss",
            description="A number above 0: the run fails when the model's final validation loss is "
            "above it. Needs Validation data. Empty: no limit.",
            section="Quality",
        ),
        "evaluate": Param(
            False,
            type=["null", "boolean"],
            title="Deploy and evaluate",
            description="Deploy the model on demand and score it with a Bedrock evaluation job.",
            section="Evaluation",
        ),
        "evaluation_task_type": Param(
            "QuestionAndAnswer",
            type=["null", "string"],
            enum=[*TASK_TYPES, None],
            title="Evaluation task type",
            description="What the model is asked to do with the prompts; it picks the built-in metrics. "
            "Needed with Deploy and evaluate.",
            section="Evaluation",
        ),
        "evaluation_dataset_uri": Param(
            DEMO_EVALUATION_DATA,
            type=["null", "string"],
            allOf=rules(pattern=S3_OBJECT_PATTERN),
            title="Evaluation prompts",
            description="S3 URI of a JSONL file: prompt, referenceResponse, category (at most 1,000 lines). "
            "Needed with Deploy and evaluate.",
            section="Evaluation",
        ),
        "min_scores": Param(
            {"Builtin.Correctness": 0.6},
            **SCORE_BOUNDS,
            title="Lowest scores",
            description="The run fails when a score is below its minimum. Empty: no minimum.",
            section="Evaluation",
        ),
        "max_scores": Param(
            {"Builtin.Harmfulness": 0.1},
            **SCORE_BOUNDS,
            title="Highest scores",
            description="The run fails when a score is above its maximum. Empty: no maximum.",
            section="Evaluation",
        ),
    },
    doc_md=__doc__,
    tags=TAGS,
) as dag:
    checked = check_request(aws_conn_id=AWS_CONN_ID)
    customize = BedrockModelCustomizationOperator(
        task_id="customize",
        job_name=CHECKED + "['job_name'] }}",
        custom_model_name=CHECKED + "['custom_model_name'] }}",
        role_arn="{{ params.role_arn }}",
        base_model_id="{{ params.base_model_id }}",
        customization_type="{{ params.customization_type }}",
        training_data_uri="{{ params.training_data_uri }}",
        validation_data_uri="{{ params.validation_data_uri or None }}",
        output_data_uri="{{ params.output_data_uri }}",
        hyperparameters="{{ params.hyperparameters or None }}",
        job_tags="{{ params.job_tags or None }}",
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
        deployment_name=CHECKED + "['custom_model_name'] }}",
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
        # The deployment's answers are judged: the scored metrics are the ones the form bounds.
        evaluator_model_id=EVALUATOR_MODEL,
        metric_names="{{ ((params.min_scores or {}).keys() | list)"
        " + ((params.max_scores or {}).keys() | reject('in', params.min_scores or {}) | list) or none }}",
        min_scores="{{ params.min_scores }}",
        max_scores="{{ params.max_scores }}",
        poll_interval=POLL_INTERVAL,
    )
    (
        checked
        >> service_role_task("{{ params.role_arn }}")
        >> customize
        >> export_metrics
        >> wants_evaluation()
        >> deploy
        >> evaluate
    )
