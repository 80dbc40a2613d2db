"""Automated model evaluation: the request checked before any call, the results read, the score gate.

The request is CreateEvaluationJob's automated form (Bedrock's service model): one task type, one
prompt dataset, built-in metrics, one model. Task types and their metrics are those of "Model
evaluation task types in Amazon Bedrock"
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-tasks.html). Results are read
where "Understand how the results of your model evaluation job are saved in Amazon S3"
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-report-s3.html) puts them:
``{output}/{job name}/{job id}/models/{model id}/taskTypes/{task type}/datasets/{dataset}/``
``{uuid}_output.jsonl``, one JSON line per prompt whose ``automatedEvaluationResult.scores`` lists
``{"metricName", "result"}`` (read and gated in core/evaluation_scores.py).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_provider.core.common_fields import ROLE_ARN_PATTERN, S3_URI_PATTERN, parse_tags
from bedrock_provider.core.deployment import OWNER_TAG
from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.evaluation_scores import (
    BUILTIN_PREFIX,
    DEFAULT_MIN_VALID_FRACTION,
    parse_min_valid_fraction,
)
from bedrock_provider.core.metrics_gate import ON_GATE_FAILURE_CHOICES
from bedrock_provider.core.names import EVALUATION_JOB_NAME_PATTERN as JOB_NAME_PATTERN
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
RESULTS_SUFFIX = "_output.jsonl"
# "Custom prompt datasets must be stored in Amazon S3, and use the JSON line format and .jsonl file
# extension" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html).
PROMPT_DATASET_SUFFIX = ".jsonl"
# What the models of CreateEvaluationJob may be: a deployment, a provisioned throughput, a
# foundation model (id or ARN) or an inference profile. A custom model must be deployed first.
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
        dataset_name = self._dataset_name(problems)
        metrics = self._metrics(task_type, problems)
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
            min_valid_fraction=min_valid_fraction,
        )

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

    def _metrics(self, task_type: object, problems: list[Problem]) -> tuple[str, ...]:
        allowed = TASK_METRICS.get(str(task_type), ())
        value = self.metric_names
        if value is None:
            return allowed
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not value:
            problems.append(Problem("metric_names", value, "must be a non-empty list of metric names"))
            return allowed
        for metric in value:
            if allowed and metric not in allowed:
                problems.append(
                    Problem(
                        "metric_names",
                        metric,
                        f"is not a built-in metric of {task_type}: {', '.join(allowed)}",
                    )
                )
        return tuple(str(metric) for metric in value)


@dataclass(frozen=True)
class ValidEvaluation:
    job_name: str
    role_arn: str
    model_identifier: str
    task_type: str
    output_uri: str
    dataset_uri: str | None
    dataset_name: str
    metric_names: tuple[str, ...]
    min_scores: dict[str, float]
    max_scores: dict[str, float]
    on_gate_failure: str
    job_tags: dict[str, str]
    min_valid_fraction: float = DEFAULT_MIN_VALID_FRACTION

    @property
    def needs_reference(self) -> bool:
        """Question and answer, accuracy and robustness compare each response with referenceResponse."""
        return self.task_type == "QuestionAndAnswer" or any(
            metric in ("Builtin.Accuracy", "Builtin.Robustness") for metric in self.metric_names
        )

    def dataset(self) -> dict[str, Any]:
        dataset: dict[str, Any] = {"name": self.dataset_name}
        if self.dataset_uri:
            dataset["datasetLocation"] = {"s3Uri": self.dataset_uri}
        return dataset

    def create_kwargs(self, job_name: str, token: str) -> dict[str, Any]:
        tags = {**self.job_tags, OWNER_TAG: token}
        return {
            "jobName": job_name,
            "roleArn": self.role_arn,
            "clientRequestToken": token,
            "applicationType": "ModelEvaluation",
            "evaluationConfig": {
                "automated": {
                    "datasetMetricConfigs": [
                        {
                            "taskType": self.task_type,
                            "dataset": self.dataset(),
                            "metricNames": list(self.metric_names),
                        }
                    ]
                }
            },
            "inferenceConfig": {"models": [{"bedrockModel": {"modelIdentifier": self.model_identifier}}]},
            "outputDataConfig": {"s3Uri": self.output_uri},
            "jobTags": [{"key": key, "value": value} for key, value in tags.items()],
        }

    def differences(self, description: Mapping[str, Any]) -> list[Problem]:
        """How an existing job of ours differs from this request (each field with both values)."""
        configs = ((description.get("evaluationConfig") or {}).get("automated") or {}).get(
            "datasetMetricConfigs"
        ) or [{}]
        config = configs[0]
        models = (description.get("inferenceConfig") or {}).get("models") or [{}]
        existing = {
            "model_identifier": (models[0].get("bedrockModel") or {}).get("modelIdentifier"),
            "task_type": config.get("taskType"),
            "dataset_uri": ((config.get("dataset") or {}).get("datasetLocation") or {}).get("s3Uri"),
            "metric_names": tuple(config.get("metricNames") or ()),
            "output_uri": (description.get("outputDataConfig") or {}).get("s3Uri"),
            "role_arn": description.get("roleArn"),
        }
        wanted = {
            "model_identifier": self.model_identifier,
            "task_type": self.task_type,
            "dataset_uri": self.dataset_uri,
            "metric_names": self.metric_names,
            "output_uri": self.output_uri,
            "role_arn": self.role_arn,
        }
        return [
            Problem(field, wanted[field], f"the existing job has {existing[field]!r}")
            for field in wanted
            if existing[field] != wanted[field]
        ]


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


# -------------------------------------------------------------------------------------- results


def results_prefix(output_uri: str, job_name: str, job_arn: str) -> str:
    """The S3 prefix of one job's results: {output}/{job name}/{job id}/."""
    return f"{output_uri.rstrip('/')}/{job_name}/{job_arn.rsplit('/', 1)[-1]}/"


def is_results_file(key: str) -> bool:
    return key.endswith(RESULTS_SUFFIX)
