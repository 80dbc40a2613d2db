"""Evaluating an on-demand custom model deployment: the prompt dataset with our own inference responses.

CreateEvaluationJob cannot invoke a custom model deployment: botocore's
``EvaluationBedrockModelIdentifier`` pattern admits foundation models, inference profiles, provisioned,
imported and prompt-router models and SageMaker endpoints, but no ``custom-model-deployment`` ARN.
AWS's documented way to evaluate what Bedrock does not invoke for you is to bring your own inference
responses: "Prepare a dataset for an evaluation job using your own inference response data"
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html#model-evaluation-prompt-datasets-judge-byoir).
Each line of the prompt dataset carries the response under ``modelResponses`` as
``[{"response": ..., "modelIdentifier": ...}]`` (one response per prompt, one identifier in the whole
file), and the job names that identifier as ``inferenceConfig.models[].precomputedInferenceSource
.inferenceSourceIdentifier`` (botocore shape EvaluationPrecomputedInferenceSource). That path is the
model-as-a-judge evaluation ("Evaluate model performance using another LLM as a judge",
https://docs.aws.amazon.com/bedrock/latest/userguide/evaluation-judge.html): the job takes an evaluator
model (``evaluationConfig.automated.evaluatorModelConfig.bedrockEvaluatorModels``) and the judge's
built-in metrics, which botocore's EvaluationDatasetMetricConfig.metricNames documentation lists.

The responses come from bedrock-runtime's Converse on the deployment ARN ("Use a deployment for
on-demand inference", https://docs.aws.amazon.com/bedrock/latest/userguide/use-custom-model-on-demand.html:
the deployment ARN is the modelId).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# A custom model deployment's ARN (botocore's CustomModelDeploymentArn pattern).
DEPLOYMENT_ARN_PATTERN = re.compile(
    r"arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model-deployment/[a-z0-9]{12}"
)
# EvaluationPrecomputedInferenceSourceIdentifier (botocore).
SOURCE_IDENTIFIER_PATTERN = re.compile(r"[a-zA-Z0-9]([a-zA-Z0-9._-]){0,255}")
# EvaluatorModelIdentifier (botocore), as written there.
EVALUATOR_MODEL_PATTERN = re.compile(
    r"(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:((:foundation-model/[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}"
    r"([.:]?[a-z0-9-]{1,63}))|([0-9]{12}:inference-profile/(([a-z-]{2,8}.)[a-z0-9-]{1,63}[.]{1}"
    r"[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63})))))$|(^[a-z0-9-]+[.][a-z0-9-]+([.][a-z0-9-]+)*(:[a-z0-9-]+)?$)"
    r"|^[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([a-z0-9-]{1,63}[.]){0,2}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63})"
    r"{0,2}(/[a-z0-9]{12}|)"
)
# The built-in metrics of a model-as-a-judge job (botocore, EvaluationDatasetMetricConfig.metricNames):
# quality metrics, then the responsible-AI ones "only for model evaluation job that use a LLM as judge".
JUDGE_METRICS = (
    "Builtin.Correctness",
    "Builtin.Completeness",
    "Builtin.Faithfulness",
    "Builtin.Helpfulness",
    "Builtin.Coherence",
    "Builtin.Relevance",
    "Builtin.FollowingInstructions",
    "Builtin.ProfessionalStyleAndTone",
    "Builtin.Harmfulness",
    "Builtin.Stereotyping",
    "Builtin.Refusal",
)
DEFAULT_JUDGE_METRICS = ("Builtin.Correctness", "Builtin.Completeness", "Builtin.Helpfulness")
# The keys a record of the prompt dataset keeps (the BYOI page's key-value pairs).
RECORD_KEYS = ("prompt", "referenceResponse", "category")
# Where the prompt dataset with the responses goes, under the job's output_uri.
RESPONSES_FOLDER = "inference-responses"


# bedrock-runtime's InferenceConfiguration (botocore): each member's type and bounds.
INFERENCE_CONFIG_FIELDS: dict[str, tuple[type, float | None, float | None]] = {
    "maxTokens": (int, 1, None),
    "temperature": (float, 0, 1),
    "topP": (float, 0, 1),
}
INFERENCE_CONFIG_RULE = (
    'a dict of Converse\'s inferenceConfig: {"maxTokens": int >= 1, "temperature": 0-1, "topP": 0-1, '
    '"stopSequences": [str, ...]}'
)


def inference_config_problems(value: object) -> list[str]:
    """What is wrong with an ``inference_config`` (botocore's InferenceConfiguration), checked before
    any call; [] when it is None or valid."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [f"must be {INFERENCE_CONFIG_RULE}"]
    problems = []
    for key, item in value.items():
        if key == "stopSequences":
            if not isinstance(item, list) or not all(isinstance(s, str) and s for s in item):
                problems.append("stopSequences must be a list of non-empty strings")
            continue
        if key not in INFERENCE_CONFIG_FIELDS:
            problems.append(f"{key!r} is not a member of {INFERENCE_CONFIG_RULE}")
            continue
        kind, low, high = INFERENCE_CONFIG_FIELDS[key]
        number_ok = isinstance(item, int | float) and not isinstance(item, bool)
        if not number_ok or (kind is int and not isinstance(item, int)):
            problems.append(f"{key} must be {'an integer' if kind is int else 'a number'}, not {item!r}")
        elif (low is not None and item < low) or (high is not None and item > high):
            problems.append(f"{key}={item!r} is outside [{low}, {high if high is not None else '...'}]")
    return problems


def is_deployment_arn(identifier: object) -> bool:
    return isinstance(identifier, str) and DEPLOYMENT_ARN_PATTERN.fullmatch(identifier) is not None


def inference_source_identifier(deployment_arn: str) -> str:
    """The label of the deployment's responses: ``custom-model-deployment-<deployment id>``."""
    return "custom-model-deployment-" + deployment_arn.rsplit("/", 1)[-1]


def responses_uri(output_uri: str, token: str) -> str:
    """The prompt dataset with this task instance's responses: one file per task instance and request
    (``token`` derives from both), so a retry finds the file an earlier try wrote and invokes nothing."""
    return f"{output_uri.rstrip('/')}/{RESPONSES_FOLDER}/{token}.jsonl"


def converse_request(
    deployment_arn: str, prompt: str, inference_config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """bedrock-runtime Converse's arguments for one prompt (botocore shapes ConverseRequest, Message)."""
    request: dict[str, Any] = {
        "modelId": deployment_arn,
        "messages": [{"role": "user", "content": [{"text": prompt}]}],
    }
    if inference_config:
        request["inferenceConfig"] = dict(inference_config)
    return request


def response_text(response: Mapping[str, Any]) -> str:
    """The text of Converse's answer (ConverseOutput.message.content[].text, joined)."""
    message = (response.get("output") or {}).get("message") or {}
    parts = [block["text"] for block in message.get("content") or [] if isinstance(block.get("text"), str)]
    if not parts:
        raise ValueError(
            f"Converse answered without text (stopReason={response.get('stopReason')!r}): "
            "the response cannot be evaluated"
        )
    return "".join(parts)


def prompt_records(lines: Any) -> list[dict[str, Any]]:
    """The records of a prompt dataset (JSON lines, already checked), blank lines skipped."""
    records = []
    for line in lines:
        if line.strip():
            record = json.loads(line)
            records.append({key: record[key] for key in RECORD_KEYS if key in record})
    return records


def record_with_response(record: Mapping[str, Any], response: str, source_identifier: str) -> dict[str, Any]:
    """One line of the dataset: the prompt's record and the one response of the one inference source."""
    return {**record, "modelResponses": [{"response": response, "modelIdentifier": source_identifier}]}


def responses_file(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode("utf-8")
