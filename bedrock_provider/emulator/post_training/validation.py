"""Requests for evaluation jobs, checked as Bedrock checks them.

Every constraint of Bedrock's service model (patterns, lengths, enums, required members) is checked by
``validation.check_input`` from botocore's model; what the model cannot say follows here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bedrock_provider.emulator.errors import validation_error
from bedrock_provider.emulator.validation import check_input, tag_dict

BUILTIN_DATASET_PREFIX = "Builtin."


def check_evaluation_job(body: Mapping[str, Any]) -> dict[str, Any]:
    """CreateEvaluationJob's request (automated model evaluation; human and RAG are refused)."""
    # botocore's EvaluationBedrockModelIdentifier pattern is enforced as it is: it has no
    # custom-model-deployment ARN, so AWS refuses one as bedrockModel.modelIdentifier.
    check_input("CreateEvaluationJob", body)
    config = body["evaluationConfig"]
    if "automated" not in config:
        raise validation_error(
            "evaluationConfig.human: human-based evaluation jobs need an Amazon SageMaker flow definition; "
            "this emulator runs automated evaluation jobs only."
        )
    application = body.get("applicationType") or "ModelEvaluation"
    if application != "ModelEvaluation":
        raise validation_error(
            "applicationType RagEvaluation needs a knowledge base; this emulator has none."
        )
    models = (body.get("inferenceConfig") or {}).get("models") or []
    _check_inference_sources(models, config["automated"])
    for index, item in enumerate(config["automated"]["datasetMetricConfigs"], start=1):
        dataset = item["dataset"]
        if "datasetLocation" not in dataset and not str(dataset["name"]).startswith(BUILTIN_DATASET_PREFIX):
            raise validation_error(
                f"evaluationConfig.automated.datasetMetricConfigs.{index}.member.dataset {dataset['name']!r} "
                "has no datasetLocation: a custom prompt dataset needs its S3 location; built-in datasets "
                "are named Builtin.*."
            )
    return {
        "name": str(body["jobName"]),
        "role": str(body["roleArn"]),
        "application": application,
        "evaluation_config": copy.deepcopy(dict(config)),
        "inference_config": copy.deepcopy(dict(body["inferenceConfig"])),
        "output": dict(body["outputDataConfig"]),
        "token": body.get("clientRequestToken"),
        "tags": tag_dict(body.get("jobTags"), "jobTags"),
        "description": body.get("jobDescription"),
        "kms_key_id": body.get("customerEncryptionKeyId"),
    }


def _check_inference_sources(models: list[Any], automated: Mapping[str, Any]) -> None:
    """Each model is a Bedrock model or your own responses (EvaluationModelConfig is a union).

    Your own inference responses (precomputedInferenceSource) are judged by a model: "Prepare a dataset
    for an evaluation job using your own inference response data", in
    https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html,
    so such a job names its evaluator in evaluationConfig.automated.evaluatorModelConfig.
    """
    if not models:
        raise validation_error(
            "inferenceConfig.models must name the models to evaluate: bedrockModel.modelIdentifier, or "
            "precomputedInferenceSource.inferenceSourceIdentifier for your own inference responses."
        )
    for index, model in enumerate(models, start=1):
        if len([kind for kind in ("bedrockModel", "precomputedInferenceSource") if kind in model]) != 1:
            raise validation_error(
                f"inferenceConfig.models.{index}.member must set exactly one of bedrockModel and "
                "precomputedInferenceSource."
            )
    own = any("precomputedInferenceSource" in model for model in models)
    judges = (automated.get("evaluatorModelConfig") or {}).get("bedrockEvaluatorModels") or []
    if own and not judges:
        raise validation_error(
            "evaluationConfig.automated.evaluatorModelConfig.bedrockEvaluatorModels is required when "
            "inferenceConfig.models holds a precomputedInferenceSource: your own inference responses are "
            "evaluated by an evaluator (judge) model."
        )
