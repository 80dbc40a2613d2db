"""Automated model evaluation: the request, checked before any call.

The request is CreateEvaluationJob's automated form (Bedrock's service model): one task type, one
prompt dataset, built-in metrics, one model. Task types and their metrics are those of "Model
evaluation task types in Amazon Bedrock"
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-tasks.html). The valid request's
job (its Create arguments, how an existing job differs, where its results are) is in
core/lifecycle/evaluation_job.py; the scores and their gate in core/lifecycle/evaluation_scores.py.

Which model goes how (docs/evaluation.md): a model CreateEvaluationJob can invoke (foundation model,
inference profile, provisioned throughput) goes as ``bedrockModel``; an on-demand custom model deployment,
which it cannot (botocore's EvaluationBedrockModelIdentifier), is evaluated on responses the operator
collects through bedrock-runtime, as ``precomputedInferenceSource`` with a judge
(core/lifecycle/precomputed_inference.py).
An ``evaluator_model_id`` makes the job a model-as-a-judge job, with the judge's metrics.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.lifecycle.deployment import OWNER_TAG
from bedrock_provider.core.lifecycle.evaluation_job import ValidEvaluation
from bedrock_provider.core.lifecycle.evaluation_scores import (
    BUILTIN_PREFIX,
    DEFAULT_MIN_VALID_FRACTION,
    parse_min_valid_fraction,
)
from bedrock_provider.core.lifecycle.precomputed_inference import (
    DEFAULT_JUDGE_METRICS,
    EVALUATOR_MODEL_PATTERN,
    JUDGE_METRICS,
    inference_config_problems,
    is_deployment_arn,
)
from bedrock_provider.core.metrics.gate import ON_GATE_FAILURE_CHOICES
from bedrock_provider.core.names import EVALUATION_JOB_NAME_PATTERN as JOB_NAME_PATTERN
from bedrock_provider.core.request.fields import ROLE_ARN_PATTERN, parse_tags
from bedrock_provider.core.s3 import S3_URI_PATTERN
from bedrock_provider.core.values import known_entries, number_or_nan

TASK_METRICS: dict[str, tuple[str, ...]] = {
    "Generation": ("Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity"),
    "Summarization": ("Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity"),
    "QuestionAndAnswer": ("Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity"),
    "Classification": ("Builtin.Accuracy", "Builtin.Robustness"),
}
TASK_TYPES = tuple(TASK_METRICS)
# EvaluationDatasetName (Bedrock's service model); EvaluationJobName's rule is in core/names.py.
DATASET_NAME_PATTERN = re.compile(r"[0-9a-zA-Z-_.]{1,63}")
# "Custom prompt datasets must be stored in Amazon S3, and use the JSON line format and .jsonl file
# extension" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html).
PROMPT_DATASET_SUFFIX = ".jsonl"
# What the models of CreateEvaluationJob may be (botocore's EvaluationBedrockModelIdentifier): a
# provisioned throughput, a foundation model (id or ARN), an inference profile; a custom model must be
# deployed first, and an on-demand deployment takes the precomputed-inference path.
CUSTOM_MODEL_ARN = re.compile(r"arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model/")


@dataclass(frozen=True)
class EvaluationRequest:
    """What BedrockModelEvaluationOperator was asked for, as rendered."""

    job_name: Any
    role_arn: Any
    model_identifier: Any
    task_type: Any
    output_uri: Any
    dataset_uri: Any = None
    dataset_name: Any = None
    metric_names: Any = None
    min_scores: Any = None
    max_scores: Any = None
    on_gate_failure: Any = "fail"
    job_tags: Any = None
    evaluator_model_id: Any = None
    # Converse's inferenceConfig for an on-demand deployment's responses.
    inference_config: Any = None
    min_valid_fraction: Any = DEFAULT_MIN_VALID_FRACTION

    def validate(self) -> ValidEvaluation:
        problems: list[Problem] = []
        name = self.job_name
        if not isinstance(name, str) or not JOB_NAME_PATTERN.fullmatch(name):
            hint = f" (try {name.lower()!r})" if isinstance(name, str) and name != name.lower() else ""
            problems.append(
                Problem("job_name", name, "must be 1-63 lowercase letters, digits and '-' " + hint.strip())
            )
        if not isinstance(self.role_arn, str) or not ROLE_ARN_PATTERN.fullmatch(self.role_arn):
            problems.append(Problem("role_arn", self.role_arn, "must be an IAM role ARN"))
        model = self.model_identifier
        if not isinstance(model, str) or not model:
            problems.append(Problem("model_identifier", model, "must be the deployment ARN to evaluate"))
        elif CUSTOM_MODEL_ARN.match(model):
            problems.append(
                Problem(
                    "model_identifier",
                    model,
                    "is a custom model, which must be deployed before it can be evaluated: pass the "
                    "deployment_arn of BedrockDeployCustomModelOperator",
                )
            )
        task_type = self.task_type
        if task_type not in TASK_METRICS:
            problems.append(Problem("task_type", task_type, f"must be one of {', '.join(TASK_TYPES)}"))
        for field, uri in (("output_uri", self.output_uri), ("dataset_uri", self.dataset_uri)):
            if (uri is not None or field == "output_uri") and (
                not isinstance(uri, str) or not S3_URI_PATTERN.fullmatch(uri)
            ):
                problems.append(Problem(field, uri, "must be an S3 URI like s3://bucket/key"))
            elif field == "dataset_uri" and uri is not None and not str(uri).endswith(PROMPT_DATASET_SUFFIX):
                problems.append(
                    Problem(
                        field,
                        uri,
                        f"a custom prompt dataset must have the {PROMPT_DATASET_SUFFIX} file extension "
                        "(JSON Lines, uncompressed): rename the object",
                    )
                )
        precomputed = is_deployment_arn(model)
        evaluator = self._evaluator(precomputed, problems)
        for message in inference_config_problems(self.inference_config):
            problems.append(Problem("inference_config", self.inference_config, message))
        if precomputed and self.dataset_uri is None:
            problems.append(
                Problem(
                    "dataset_uri",
                    None,
                    f"is required to evaluate the on-demand deployment {model}: its responses to each prompt "
                    "go into the prompt dataset (a built-in dataset cannot be read to invoke it)",
                )
            )
        dataset_name = self._dataset_name(problems)
        allowed: tuple[str, ...]
        default: tuple[str, ...]
        if evaluator is not None:
            allowed, default, kind = JUDGE_METRICS, DEFAULT_JUDGE_METRICS, "a model-as-a-judge job"
        else:
            allowed = default = TASK_METRICS.get(str(task_type), ())
            kind = str(task_type)
        metrics = self._metrics(allowed, default, kind, problems)
        gates = {
            field: _scores(value, field, metrics, problems)
            for field, value in (("min_scores", self.min_scores), ("max_scores", self.max_scores))
        }
        if self.on_gate_failure not in ON_GATE_FAILURE_CHOICES:
            problems.append(
                Problem(
                    "on_gate_failure",
                    self.on_gate_failure,
                    f"must be one of {', '.join(ON_GATE_FAILURE_CHOICES)}",
                )
            )
        min_valid_fraction = parse_min_valid_fraction(self.min_valid_fraction, problems)
        tags = {t["key"]: t["value"] for t in parse_tags(self.job_tags, "job_tags", problems)}
        if OWNER_TAG in tags:
            problems.append(
                Problem("job_tags", self.job_tags, f"{OWNER_TAG!r} is set by the operator itself")
            )
        if problems:
            raise InvalidInputError("Invalid evaluation request", problems)
        return ValidEvaluation(
            job_name=str(name),
            role_arn=str(self.role_arn),
            model_identifier=str(model),
            task_type=str(task_type),
            output_uri=str(self.output_uri),
            dataset_uri=self.dataset_uri,
            dataset_name=dataset_name,
            metric_names=metrics,
            min_scores=gates["min_scores"],
            max_scores=gates["max_scores"],
            on_gate_failure=str(self.on_gate_failure),
            job_tags=tags,
            evaluator_model_id=evaluator,
            precomputed=precomputed,
            min_valid_fraction=min_valid_fraction,
        )

    def _evaluator(self, precomputed: bool, problems: list[Problem]) -> str | None:
        """The judge: required for a deployment (responses brought to the job are judged, "Prepare a dataset
        for an evaluation job using your own inference response data"), optional otherwise."""
        evaluator = self.evaluator_model_id or None
        if evaluator is None:
            if precomputed:
                problems.append(
                    Problem(
                        "evaluator_model_id",
                        None,
                        f"is required to evaluate the on-demand deployment {self.model_identifier}: Bedrock "
                        "judges the responses the operator collects with an evaluator model, e.g. "
                        "'amazon.nova-pro-v1:0' (see docs/evaluation.md for the judge models AWS lists)",
                    )
                )
            return None
        if not isinstance(evaluator, str) or not EVALUATOR_MODEL_PATTERN.fullmatch(evaluator):
            problems.append(
                Problem(
                    "evaluator_model_id",
                    evaluator,
                    "must be a foundation model id or ARN or an inference profile (botocore's "
                    "EvaluatorModelIdentifier), e.g. 'amazon.nova-pro-v1:0'",
                )
            )
            return None
        return evaluator

    def _dataset_name(self, problems: list[Problem]) -> str:
        name = self.dataset_name
        if name is None and isinstance(self.dataset_uri, str):
            stem = self.dataset_uri.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0]
            name = re.sub(r"[^0-9a-zA-Z-_.]", "-", stem)[:63] or "dataset"
        if name is None:
            problems.append(
                Problem(
                    "dataset_uri",
                    None,
                    "give the S3 URI of a custom prompt dataset, or the dataset_name of a built-in "
                    "one (Builtin.*)",
                )
            )
            return ""
        if not isinstance(name, str) or not DATASET_NAME_PATTERN.fullmatch(name):
            problems.append(Problem("dataset_name", name, "must be 1-63 letters, digits, '-', '_' or '.'"))
            return ""
        if self.dataset_uri is None and not name.startswith(BUILTIN_PREFIX):
            problems.append(
                Problem(
                    "dataset_uri",
                    None,
                    f"is required for the custom dataset {name!r}; without it, dataset_name must be one "
                    "of Bedrock's built-in datasets (Builtin.*)",
                )
            )
        return name

    def _metrics(
        self, allowed: tuple[str, ...], default: tuple[str, ...], kind: str, problems: list[Problem]
    ) -> tuple[str, ...]:
        value = self.metric_names
        if value is None:
            return default
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not value:
            problems.append(Problem("metric_names", value, "must be a non-empty list of metric names"))
            return default
        for metric in value:
            if allowed and metric not in allowed:
                problems.append(
                    Problem(
                        "metric_names",
                        metric,
                        f"is not a built-in metric of {kind}: {', '.join(allowed)}",
                    )
                )
        return tuple(str(metric) for metric in value)


_SCORES_SHAPE = 'must be a dict of metric to score, e.g. {"Builtin.Accuracy": 0.7}'


def _scores(value: Any, field: str, metrics: tuple[str, ...], problems: list[Problem]) -> dict[str, float]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            problems.append(Problem(field, value, _SCORES_SHAPE))
            return {}
    if not isinstance(value, Mapping):
        problems.append(Problem(field, value, _SCORES_SHAPE))
        return {}
    out: dict[str, float] = {}
    unknown = f"is not a metric of this job: {', '.join(metrics)}"
    for metric, limit in known_entries(value, metrics, lambda key: f"{field}[{key!r}]", unknown, problems):
        number = number_or_nan(limit)
        if not math.isfinite(number):
            problems.append(Problem(f"{field}[{metric!r}]", limit, "must be a finite number"))
            continue
        out[str(metric)] = number
    return out
