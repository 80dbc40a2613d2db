"""Evaluating each kind of model by AWS's documented path: the request, checked against botocore's model."""

from __future__ import annotations

import json
import re
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.lifecycle.evaluation import EvaluationRequest
from bedrock_provider.core.lifecycle.precomputed_inference import (
    DEPLOYMENT_ARN_PATTERN,
    converse_request,
    inference_source_identifier,
    prompt_records,
    record_with_response,
    response_text,
    responses_uri,
)

DEPLOYMENT = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdef123456"
PROVISIONED = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdef123456"
JUDGE = "amazon.nova-pro-v1:0"
RESPONSES = "s3://bucket/evaluations/inference-responses/airflow-token.jsonl"


def request(**overrides: Any) -> EvaluationRequest:
    fields: dict[str, Any] = {
        "job_name": "support-bot-eval",
        "role_arn": "arn:aws:iam::123456789012:role/bedrock",
        "model_identifier": DEPLOYMENT,
        "task_type": "QuestionAndAnswer",
        "output_uri": "s3://bucket/evaluations/",
        "dataset_uri": "s3://bucket/evaluation/support-qa.jsonl",
        "evaluator_model_id": JUDGE,
    }
    fields.update(overrides)
    return EvaluationRequest(**fields)


def botocore_problems(kwargs: dict[str, Any]) -> str:
    """What botocore's own parameter validation says of a CreateEvaluationJob request ('' when valid)."""
    model = botocore.session.get_session().get_service_model("bedrock")
    shape = model.operation_model("CreateEvaluationJob").input_shape
    report = ParamValidator().validate(kwargs, shape)
    return report.generate_report() if report.has_errors() else ""


def test_an_on_demand_deployment_goes_as_precomputed_inference_with_its_judge() -> None:
    valid = request().validate().with_responses(RESPONSES)
    kwargs = valid.create_kwargs("support-bot-eval", "airflow-token")
    assert kwargs["inferenceConfig"]["models"] == [
        {"precomputedInferenceSource": {"inferenceSourceIdentifier": "custom-model-deployment-abcdef123456"}}
    ]
    automated = kwargs["evaluationConfig"]["automated"]
    assert automated["evaluatorModelConfig"] == {"bedrockEvaluatorModels": [{"modelIdentifier": JUDGE}]}
    config = automated["datasetMetricConfigs"][0]
    assert config["dataset"] == {"name": "support-qa", "datasetLocation": {"s3Uri": RESPONSES}}
    assert config["metricNames"] == ["Builtin.Correctness", "Builtin.Completeness", "Builtin.Helpfulness"]
    assert botocore_problems(kwargs) == ""
    assert valid.evaluation_path == "precomputed_inference" and not valid.needs_reference


@pytest.mark.parametrize("model", [PROVISIONED, "amazon.nova-micro-v1:0", "us.amazon.nova-lite-v1:0"])
def test_a_model_the_job_can_invoke_goes_as_bedrock_model(model: str) -> None:
    valid = request(model_identifier=model, evaluator_model_id=None, metric_names=["Builtin.Accuracy"])
    kwargs = valid.validate().create_kwargs("support-bot-eval", "airflow-token")
    assert kwargs["inferenceConfig"]["models"] == [{"bedrockModel": {"modelIdentifier": model}}]
    assert "evaluatorModelConfig" not in kwargs["evaluationConfig"]["automated"]
    assert botocore_problems(kwargs) == ""


def shape_pattern(name: str) -> re.Pattern[str]:
    model = botocore.session.get_session().get_service_model("bedrock")
    return re.compile(model.shape_for(name).metadata["pattern"])


def test_a_deployment_arn_does_not_match_botocores_bedrock_model_pattern() -> None:
    """Why the deployment takes the other path: AWS refuses it as bedrockModel.modelIdentifier."""
    bedrock_model = shape_pattern("EvaluationBedrockModelIdentifier")
    assert bedrock_model.fullmatch(PROVISIONED) and not bedrock_model.fullmatch(DEPLOYMENT)
    source = shape_pattern("EvaluationPrecomputedInferenceSourceIdentifier")
    assert source.fullmatch(inference_source_identifier(DEPLOYMENT))
    assert shape_pattern("CustomModelDeploymentArn").pattern == DEPLOYMENT_ARN_PATTERN.pattern


def test_a_deployment_without_a_judge_or_prompts_is_refused_naming_the_fields() -> None:
    with pytest.raises(InvalidInputError) as raised:
        request(evaluator_model_id=None, dataset_uri=None, dataset_name="Builtin.BoolQ").validate()
    fields = {problem.field for problem in raised.value.problems}
    assert {"evaluator_model_id", "dataset_uri"} <= fields
    assert "amazon.nova-pro-v1:0" in str(raised.value)


def test_a_judge_takes_the_judges_metrics_only() -> None:
    with pytest.raises(
        InvalidInputError, match="Builtin.Accuracy.*not a built-in metric of a model-as-a-judge"
    ):
        request(metric_names=["Builtin.Accuracy"]).validate()
    with pytest.raises(InvalidInputError, match="evaluator_model_id"):
        request(evaluator_model_id="not a model").validate()


def test_the_job_is_not_submitted_before_the_responses_are_written() -> None:
    with pytest.raises(ValueError, match="responses"):
        request().validate().create_kwargs("support-bot-eval", "airflow-token")


def test_an_earlier_job_on_other_responses_or_another_judge_differs() -> None:
    valid = request().validate().with_responses(RESPONSES)
    description = {
        **valid.create_kwargs("support-bot-eval", "t"),
        "outputDataConfig": {"s3Uri": "s3://bucket/evaluations/"},
    }
    assert valid.differences(description) == []
    other = request(evaluator_model_id="anthropic.claude-3-haiku-20240307-v1:0").validate()
    assert [p.field for p in other.with_responses(RESPONSES).differences(description)] == [
        "evaluator_model_id"
    ]
    moved = valid.with_responses(RESPONSES.replace("token", "other"))
    assert [p.field for p in moved.differences(description)] == ["dataset_uri"]


def test_the_record_is_the_documented_byoi_line() -> None:
    lines = [
        json.dumps({"prompt": "Reset my password", "referenceResponse": "Settings", "category": "a", "x": 1}),
        "",
    ]
    (record,) = prompt_records(lines)
    line = record_with_response(record, "Open Settings", inference_source_identifier(DEPLOYMENT))
    assert line == {
        "prompt": "Reset my password",
        "referenceResponse": "Settings",
        "category": "a",
        "modelResponses": [
            {"response": "Open Settings", "modelIdentifier": "custom-model-deployment-abcdef123456"}
        ],
    }


def test_converse_on_the_deployment_and_its_text() -> None:
    call = converse_request(DEPLOYMENT, "Hi", {"maxTokens": 64})
    assert call == {
        "modelId": DEPLOYMENT,
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "inferenceConfig": {"maxTokens": 64},
    }
    runtime = botocore.session.get_session().get_service_model("bedrock-runtime")
    report = ParamValidator().validate(call, runtime.operation_model("Converse").input_shape)
    assert not report.has_errors(), report.generate_report()
    answer = {"output": {"message": {"role": "assistant", "content": [{"text": "Hel"}, {"text": "lo"}]}}}
    assert response_text(answer) == "Hello"
    with pytest.raises(ValueError, match="stopReason='content_filtered'"):
        response_text({"output": {"message": {"content": []}}, "stopReason": "content_filtered"})


def test_the_responses_file_is_keyed_by_the_token() -> None:
    assert responses_uri("s3://b/evals/", "airflow-x") == "s3://b/evals/inference-responses/airflow-x.jsonl"
    assert DEPLOYMENT_ARN_PATTERN.fullmatch(DEPLOYMENT)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("maxTokens=5", "must be a dict"),
        ({"maxTokens": 0}, r"maxTokens=0 is outside \[1"),
        ({"maxTokens": 1.5}, "maxTokens must be an integer"),
        ({"temperature": 2}, r"temperature=2 is outside \[0, 1\]"),
        ({"topK": 5}, "'topK' is not a member"),
        ({"stopSequences": "END"}, "stopSequences must be a list"),
    ],
)
def test_a_bad_inference_config_is_refused_naming_the_member(config: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as raised:
        request(inference_config=config).validate()
    assert raised.value.fields == ["inference_config"]


def test_a_good_inference_config_passes() -> None:
    config = {"maxTokens": 512, "temperature": 0, "topP": 0.9, "stopSequences": ["END"]}
    assert request(inference_config=config).validate().precomputed
