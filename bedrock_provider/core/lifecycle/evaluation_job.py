"""The evaluation job a valid request makes: CreateEvaluationJob's arguments, how an existing job of ours
differs from the request, and where the job's results are.

The arguments are CreateEvaluationJob's automated form (Bedrock's service model): one task type, one
prompt dataset, built-in metrics, one model, given as ``bedrockModel`` or, for an on-demand deployment's
collected responses, as ``precomputedInferenceSource`` (core/lifecycle/precomputed_inference.py).
Results are read where "Understand how the results of your model evaluation job are saved in Amazon S3"
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-report-s3.html) puts them:
``{output}/{job name}/{job id}/models/{model id}/taskTypes/{task type}/datasets/{dataset}/``
``{uuid}_output.jsonl``, one JSON line per prompt whose ``automatedEvaluationResult.scores`` lists
``{"metricName", "result"}`` (read and gated in core/lifecycle/evaluation_scores.py). The request and its
checks are in core/lifecycle/evaluation.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bedrock_provider.core.errors import Problem
from bedrock_provider.core.lifecycle.deployment import OWNER_TAG
from bedrock_provider.core.lifecycle.evaluation_scores import DEFAULT_MIN_VALID_FRACTION
from bedrock_provider.core.lifecycle.precomputed_inference import inference_source_identifier

RESULTS_SUFFIX = "_output.jsonl"


@dataclass(frozen=True)
class ValidEvaluation:
    """An EvaluationRequest that passed ``validate()``: what the job is created with and compared to."""

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
    evaluator_model_id: str | None = None
    # An on-demand deployment: evaluated on responses collected through bedrock-runtime.
    precomputed: bool = False
    # The prompt dataset with those responses (set by with_responses before the job is submitted).
    responses_uri: str | None = None
    min_valid_fraction: float = DEFAULT_MIN_VALID_FRACTION

    @property
    def needs_reference(self) -> bool:
        """Question and answer, accuracy and robustness compare each response with referenceResponse; a
        judge uses it when given ("Builtin.Correctness ... without supplying a ground truth response")."""
        return self.evaluator_model_id is None and (
            self.task_type == "QuestionAndAnswer"
            or any(metric in ("Builtin.Accuracy", "Builtin.Robustness") for metric in self.metric_names)
        )

    @property
    def inference_source(self) -> str | None:
        """The precomputedInferenceSource's identifier of a deployment's responses, else None."""
        return inference_source_identifier(self.model_identifier) if self.precomputed else None

    @property
    def evaluation_path(self) -> str:
        return "precomputed_inference" if self.precomputed else "bedrock_model"

    def with_responses(self, responses_uri: str) -> ValidEvaluation:
        return replace(self, responses_uri=responses_uri)

    @property
    def submitted_dataset_uri(self) -> str | None:
        if self.precomputed and self.responses_uri is None:
            raise ValueError("the responses of the deployment are collected before the job is submitted")
        return self.responses_uri or self.dataset_uri

    def dataset(self) -> dict[str, Any]:
        dataset: dict[str, Any] = {"name": self.dataset_name}
        uri = self.submitted_dataset_uri
        if uri:
            dataset["datasetLocation"] = {"s3Uri": uri}
        return dataset

    def model_config(self) -> dict[str, Any]:
        """inferenceConfig.models[0]: the model Bedrock invokes, or the label of the responses brought."""
        if self.inference_source is not None:
            return {"precomputedInferenceSource": {"inferenceSourceIdentifier": self.inference_source}}
        return {"bedrockModel": {"modelIdentifier": self.model_identifier}}

    def create_kwargs(self, job_name: str, token: str) -> dict[str, Any]:
        tags = {**self.job_tags, OWNER_TAG: token}
        automated: dict[str, Any] = {
            "datasetMetricConfigs": [
                {
                    "taskType": self.task_type,
                    "dataset": self.dataset(),
                    "metricNames": list(self.metric_names),
                }
            ]
        }
        if self.evaluator_model_id:
            automated["evaluatorModelConfig"] = {
                "bedrockEvaluatorModels": [{"modelIdentifier": self.evaluator_model_id}]
            }
        return {
            "jobName": job_name,
            "roleArn": self.role_arn,
            "clientRequestToken": token,
            "applicationType": "ModelEvaluation",
            "evaluationConfig": {"automated": automated},
            "inferenceConfig": {"models": [self.model_config()]},
            "outputDataConfig": {"s3Uri": self.output_uri},
            "jobTags": [{"key": key, "value": value} for key, value in tags.items()],
        }

    def differences(self, description: Mapping[str, Any]) -> list[Problem]:
        """How an existing job of ours differs from this request (each field with both values)."""
        automated = (description.get("evaluationConfig") or {}).get("automated") or {}
        config = (automated.get("datasetMetricConfigs") or [{}])[0]
        evaluators = (automated.get("evaluatorModelConfig") or {}).get("bedrockEvaluatorModels") or [{}]
        models = (description.get("inferenceConfig") or {}).get("models") or [{}]
        existing = {
            "model_identifier": (models[0].get("bedrockModel") or {}).get("modelIdentifier")
            or (models[0].get("precomputedInferenceSource") or {}).get("inferenceSourceIdentifier"),
            "task_type": config.get("taskType"),
            "dataset_uri": ((config.get("dataset") or {}).get("datasetLocation") or {}).get("s3Uri"),
            "metric_names": tuple(config.get("metricNames") or ()),
            "output_uri": (description.get("outputDataConfig") or {}).get("s3Uri"),
            "role_arn": description.get("roleArn"),
            "evaluator_model_id": evaluators[0].get("modelIdentifier"),
        }
        wanted = {
            "model_identifier": self.inference_source or self.model_identifier,
            "task_type": self.task_type,
            "dataset_uri": self.submitted_dataset_uri,
            "metric_names": self.metric_names,
            "output_uri": self.output_uri,
            "role_arn": self.role_arn,
            "evaluator_model_id": self.evaluator_model_id,
        }
        return [
            Problem(field, wanted[field], f"the existing job has {existing[field]!r}")
            for field in wanted
            if existing[field] != wanted[field]
        ]


def results_prefix(output_uri: str, job_name: str, job_arn: str) -> str:
    """The S3 prefix of one job's results: {output}/{job name}/{job id}/."""
    return f"{output_uri.rstrip('/')}/{job_name}/{job_arn.rsplit('/', 1)[-1]}/"


def is_results_file(key: str) -> bool:
    return key.endswith(RESULTS_SUFFIX)
