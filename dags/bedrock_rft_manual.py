"""Reinforcement fine-tuning (RFT) from the Airflow UI: pick the grader Lambda and the data, press Trigger.

check_request -> service_role -> customize

RFT trains Amazon Nova 2 Lite (us-east-1) on prompts alone: Bedrock generates several responses per
prompt and your grader Lambda function scores each one; the model learns to earn higher scores. The
form asks for what an RFT job needs that other jobs do not:

- the grader's Lambda ARN (the service role must be allowed lambda:InvokeFunction on it);
- the prompts: an S3 JSONL file in the OpenAI chat format (``messages``, optional
  ``reference_answer``; at most 20,000 prompts; BedrockPrepareDatasetOperator with
  ``customization_type="REINFORCEMENT_FINE_TUNING"`` checks and counts them), or, instead, the S3
  location your model invocation logs are delivered to (the task checks that logging is on there
  before submitting);
- the RFT hyperparameters, typed, within botocore's RFTHyperParameters bounds.

``check_request`` checks the whole form in seconds, with no AWS call. RFT writes no metrics files
(AWS shows its reward graphs in the console), so this DAG has no metrics export. See docs/rft.md.
On the local emulator, create the grader first (a Lambda function in its Lambda API) or the job is
refused, as on AWS.
"""

from __future__ import annotations

import logging
from typing import Any

from _bedrock_demo_config import DEMO_BUCKET, DEMO_ROLE_ARN, POLL_INTERVAL, TAGS, UNSCHEDULED, default_args
from _bedrock_demo_config import service_role_task as _service_role_task
from airflow.sdk import DAG, Param, task

from bedrock_provider.core.catalog import RFT_HYPERPARAMETERS
from bedrock_provider.core.request.rft import LAMBDA_ARN_PATTERN, lower_bound
from bedrock_provider.operators.customization import BedrockModelCustomizationOperator

RFT_MODEL = "amazon.nova-2-lite-v1:0:256k"
DEMO_GRADER = "arn:aws:lambda:us-east-1:123456789012:function:bedrock-rft-grader"
S3_OBJECT_PATTERN = r"^s3://[a-z0-9][-.a-z0-9]{1,61}/[-!_*'().a-zA-Z0-9/]*[^/]$"
S3_PREFIX_PATTERN = r"^s3://[a-z0-9][-.a-z0-9]{1,61}(/[-!_*'().a-zA-Z0-9/]*)?$"
CHECKED = "{{ ti.xcom_pull(task_ids='check_request')"


def _hyperparameter_schema() -> dict[str, Any]:
    """Each RFT hyperparameter's JSON-schema type and bounds, from the catalog's one table."""
    properties: dict[str, Any] = {}
    for name, spec in RFT_HYPERPARAMETERS.items():
        if spec.choices:
            properties[name] = {"enum": list(spec.choices)}
            continue
        rule: dict[str, Any] = {"type": "integer" if spec.kind is int else "number"}
        minimum = lower_bound(spec)
        if minimum is not None:
            rule["minimum"] = minimum
        if spec.maximum is not None:
            rule["maximum"] = spec.maximum
        properties[name] = rule
    return {"properties": properties, "additionalProperties": False}


log = logging.getLogger(__name__)


@task(retries=0)
def check_request(params: dict[str, Any], run_id: str) -> dict[str, Any]:
    """The whole form, checked as the customize task will send it, before any AWS call."""
    from airflow.sdk.exceptions import AirflowFailException

    from bedrock_provider.core.errors import InvalidInputError
    from bedrock_provider.core.names import sanitize_name
    from bedrock_provider.core.request.customization import CustomizationRequest

    job_name = params["job_name"] or sanitize_name(run_id)
    logs = params["invocation_logs_uri"]
    try:
        checked = CustomizationRequest(
            job_name=job_name,
            custom_model_name=sanitize_name(job_name),
            role_arn=params["role_arn"],
            base_model_id=RFT_MODEL,
            customization_type="REINFORCEMENT_FINE_TUNING",
            training_data_uri=None if logs else params["training_data_uri"],
            invocation_logs={"s3_uri": logs} if logs else None,
            output_data_uri=params["output_data_uri"],
            hyperparameters=params["hyperparameters"],
            grader_lambda_arn=params["grader_lambda_arn"],
            region_name="us-east-1",
        ).validate()
    except InvalidInputError as error:
        raise AirflowFailException(str(error)) from None
    log.info("The form is valid: RFT job %s with grader %s", checked.job_name, params["grader_lambda_arn"])
    return {"job_name": checked.job_name, "custom_model_name": checked.custom_model_name}


with DAG(
    dag_id="bedrock_rft_manual",
    description="A reinforcement fine-tuning job of Nova 2 Lite from a form: grader Lambda, prompts",
    **UNSCHEDULED,
    render_template_as_native_obj=True,
    default_args=default_args(retries=0),
    params={
        "grader_lambda_arn": Param(
            DEMO_GRADER,
            type="string",
            pattern=f"^(?:{LAMBDA_ARN_PATTERN.pattern})$",
            title="Grader Lambda",
            description="ARN of the Lambda function that scores each response (0 to 1); the service role "
            "needs lambda:InvokeFunction on it.",
            section="Grader",
        ),
        "training_data_uri": Param(
            f"s3://{DEMO_BUCKET}/rft/prompts.jsonl",
            type="string",
            pattern=S3_OBJECT_PATTERN,
            title="Prompts",
            description='S3 URI of a JSONL file: one {"messages": [...], "reference_answer": ...} per line, '
            "at most 20,000.",
            section="Data",
        ),
        "invocation_logs_uri": Param(
            None,
            type=["null", "string"],
            pattern=S3_PREFIX_PATTERN,
            title="Or: invocation logs",
            description="Train on your model invocation logs instead of the prompts file: the S3 location "
            "logging delivers to. Empty: use the prompts file.",
            section="Data",
        ),
        "hyperparameters": Param(
            {"epochCount": 1, "batchSize": 64, "learningRate": 0.00001},
            type="object",
            title="RFT hyperparameters",
            description="Typed values within botocore's RFTHyperParameters bounds; leave a name out for "
            "Bedrock's default.",
            section="Training",
            **_hyperparameter_schema(),
        ),
        "job_name": Param(
            None,
            type=["null", "string"],
            minLength=1,
            maxLength=63,
            title="Job name",
            description="Empty: named after the run.",
            section="Training",
        ),
        "output_data_uri": Param(
            f"s3://{DEMO_BUCKET}/customization-output/rft/",
            type="string",
            pattern=S3_PREFIX_PATTERN,
            title="Output location",
            description="S3 folder where Bedrock writes the job's output.",
            section="Training",
        ),
        "role_arn": Param(
            DEMO_ROLE_ARN,
            type="string",
            title="Service role",
            description="IAM role Bedrock assumes: reads the data, writes the output, invokes the grader.",
            section="Access",
        ),
    },
    doc_md=__doc__,
    tags=TAGS,
) as dag:
    customize = BedrockModelCustomizationOperator(
        task_id="customize",
        job_name=CHECKED + "['job_name'] }}",
        custom_model_name=CHECKED + "['custom_model_name'] }}",
        role_arn="{{ params.role_arn }}",
        base_model_id=RFT_MODEL,
        customization_type="REINFORCEMENT_FINE_TUNING",
        grader_lambda_arn="{{ params.grader_lambda_arn }}",
        training_data_uri="{{ None if params.invocation_logs_uri else params.training_data_uri }}",
        invocation_logs="{{ {'s3_uri': params.invocation_logs_uri} "
        "if params.invocation_logs_uri else None }}",
        output_data_uri="{{ params.output_data_uri }}",
        hyperparameters="{{ params.hyperparameters }}",
        poll_interval=POLL_INTERVAL,
    )
    check_request() >> _service_role_task("{{ params.role_arn }}") >> customize
