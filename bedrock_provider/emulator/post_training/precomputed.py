"""Evaluation jobs on your own inference responses (precomputedInferenceSource), as Bedrock runs them.

"Prepare a dataset for an evaluation job using your own inference response data"
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html#model-evaluation-prompt-datasets-judge-byoir):
each prompt carries ``modelResponses: [{"response", "modelIdentifier"}]``, one response, whose
``modelIdentifier`` is the job's ``precomputedInferenceSource.inferenceSourceIdentifier``; Bedrock
skips invoking a model and judges those responses. It is the model-as-a-judge path, so the job names
an evaluator model (``evaluatorModelConfig``, "required ... in model evaluation job that use a model
as judge", botocore's AutomatedEvaluationConfig) and the judge's built-in metrics (botocore's
EvaluationDatasetMetricConfig.metricNames).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bedrock_provider.core.precomputed_inference import JUDGE_METRICS
from bedrock_provider.emulator.errors import validation_error

# The judge's metrics whose good score is low, as Toxicity's is.
LOW_IS_GOOD = ("Toxicity", "Harmfulness", "Stereotyping", "Refusal")


def source_identifiers(inference_config: Mapping[str, Any]) -> list[str]:
    return [
        str(model["precomputedInferenceSource"]["inferenceSourceIdentifier"])
        for model in inference_config.get("models") or []
        if isinstance(model, dict) and isinstance(model.get("precomputedInferenceSource"), dict)
    ]


def check_models(body: Mapping[str, Any]) -> None:
    """Each model is a Bedrock model or a precomputed source; responses brought need a judge, and a
    judge takes its own metrics only."""
    models = (body.get("inferenceConfig") or {}).get("models") or []
    if not models or not all(
        "bedrockModel" in model or "precomputedInferenceSource" in model for model in models
    ):
        raise validation_error(
            "inferenceConfig.models must name Bedrock models (bedrockModel.modelIdentifier) or your own "
            "inference responses (precomputedInferenceSource.inferenceSourceIdentifier)."
        )
    automated = body["evaluationConfig"]["automated"]
    judged = "evaluatorModelConfig" in automated
    if source_identifiers(body["inferenceConfig"]) and not judged:
        raise validation_error(
            "evaluationConfig.automated.evaluatorModelConfig is required to evaluate your own inference "
            "responses (precomputedInferenceSource): they are scored by an evaluator model."
        )
    if not judged:
        return
    for item in automated["datasetMetricConfigs"]:
        for metric in item["metricNames"]:
            if metric not in JUDGE_METRICS:
                raise validation_error(
                    f"The metric {metric} does not exist for a model evaluation job that uses a model as "
                    f"judge: use {', '.join(JUDGE_METRICS)}."
                )


def responses_problem(record: Mapping[str, Any], source: str, location: str, number: int) -> str | None:
    """Why a line of a precomputed job's dataset cannot be judged, or None."""
    responses = record.get("modelResponses")
    if not isinstance(responses, list) or len(responses) != 1 or not isinstance(responses[0], dict):
        return (
            f"The prompt dataset {location} line {number} needs modelResponses with exactly one "
            '{"response", "modelIdentifier"} to evaluate your own inference responses.'
        )
    response = responses[0]
    if not isinstance(response.get("response"), str):
        return f"The prompt dataset {location} line {number} has a model response without response text."
    if response.get("modelIdentifier") != source:
        return (
            f"The prompt dataset {location} line {number} has modelIdentifier "
            f"{response.get('modelIdentifier')!r}, but the job's inferenceSourceIdentifier is {source!r}."
        )
    return None
