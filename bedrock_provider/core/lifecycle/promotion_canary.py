"""A promotion's canary: the evaluation operator's settings, checked before any call, and its job's name.

The canary is the evaluation of the stable deployment right after a swap, by the path AWS documents for
an on-demand deployment (its responses through bedrock-runtime, judged: core/lifecycle/evaluation.py,
core/lifecycle/precomputed_inference.py). Its settings are checked by the evaluation request itself, so a
canary takes exactly what BedrockModelEvaluationOperator takes. Pure Python: no Airflow, no botocore.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.lifecycle.evaluation import EvaluationRequest

# The evaluation settings a canary takes: BedrockModelEvaluationOperator's, run on the deployment.
CANARY_SETTINGS = (
    "job_name",
    "role_arn",
    "task_type",
    "output_uri",
    "dataset_uri",
    "dataset_name",
    "metric_names",
    "min_scores",
    "max_scores",
    "evaluator_model_id",
    "inference_config",
    "job_tags",
    "min_valid_fraction",
)
CANARY_REQUIRED = ("role_arn", "task_type", "output_uri", "dataset_uri")
# Only a syntactically valid deployment ARN, to check the canary settings as they will be used (on an
# on-demand deployment, by its responses and a judge) before the real ARN is known.
_ANY_DEPLOYMENT_ARN = "arn:aws:bedrock:us-east-1:000000000000:custom-model-deployment/000000000000"
_PLACEHOLDER_JOB_NAME = "canary"


def check_canary(canary: Any, problems: list[Problem]) -> dict[str, Any] | None:
    """The canary settings, checked as the evaluation operator checks them (on a deployment); None: no
    canary. Problems are named ``canary[<setting>]``."""
    if canary is None or canary == {}:
        return None
    if not isinstance(canary, Mapping):
        problems.append(
            Problem(
                "canary",
                canary,
                "must be a dict of evaluation settings, e.g. {'task_type': 'Generation', 'dataset_uri': "
                "'s3://.../canary.jsonl', 'role_arn': ..., 'output_uri': ..., 'evaluator_model_id': ..., "
                "'min_scores': {...}}",
            )
        )
        return None
    settings = dict(canary)
    unknown = sorted(set(settings) - set(CANARY_SETTINGS))
    if unknown:
        problems.append(
            Problem("canary", unknown, f"unknown settings; the canary takes {', '.join(CANARY_SETTINGS)}")
        )
    missing = [key for key in CANARY_REQUIRED if settings.get(key) in (None, "")]
    for key in missing:
        problems.append(Problem(_canary_field(key), None, "is required"))
    if unknown or missing:
        return None
    try:
        canary_request(settings, _ANY_DEPLOYMENT_ARN, _PLACEHOLDER_JOB_NAME).validate()
    except InvalidInputError as error:
        problems.extend(
            Problem(_canary_field(problem.field), problem.value, problem.message)
            for problem in error.problems
        )
        return None
    return settings


def _canary_field(field_name: str) -> str:
    """``min_scores['Builtin.Accuracy']`` of the canary is ``canary['min_scores']['Builtin.Accuracy']``."""
    head, bracket, rest = field_name.partition("[")
    return f"canary[{head!r}]{bracket}{rest}"


def canary_request(
    canary: Mapping[str, Any], deployment_arn: str, default_job_name: str
) -> EvaluationRequest:
    """The evaluation of the stable deployment that a canary is."""
    kwargs = {key: value for key, value in canary.items() if key not in ("inference_config", "job_name")}
    return EvaluationRequest(
        job_name=canary.get("job_name") or default_job_name,
        model_identifier=deployment_arn,
        **kwargs,
    )


def canary_job_name(deployment_name: str, token: str) -> str:
    """A canary job's default name: the deployment's, lowercased (EvaluationJobName takes no capitals
    or '_'), and a part of this task instance's token, so that every promotion has its own."""
    base = re.sub(r"[^a-z0-9-]+", "-", deployment_name.lower()).strip("-")[:40] or "deployment"
    return f"{base}-canary-{hashlib.sha256(token.encode()).hexdigest()[:12]}"
