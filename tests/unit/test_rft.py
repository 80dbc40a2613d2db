"""Reinforcement fine-tuning and invocation logs in the request: core/request/rft.py,
core/request/invocation_logs.py."""

from __future__ import annotations

import botocore.session
import pytest

from bedrock_provider.core.catalog import RFT_HYPERPARAMETERS
from bedrock_provider.core.catalog.cost import TokenCount, estimate_training_cost
from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.request.customization import CustomizationRequest
from bedrock_provider.core.request.invocation_logs import logging_problem
from bedrock_provider.core.request.rft import LAMBDA_ARN_PATTERN

NOVA2 = "amazon.nova-2-lite-v1:0:256k"
GRADER = "arn:aws:lambda:us-east-1:123456789012:function:grader"
COMMON = {
    "job_name": "rft-job",
    "custom_model_name": "rft-model",
    "role_arn": "arn:aws:iam::123456789012:role/BedrockCustomization",
    "output_data_uri": "s3://out-bucket/out/",
    "region_name": "us-east-1",
}
TEACHER = {
    "customizationConfig": {
        "distillationConfig": {"teacherModelConfig": {"teacherModelIdentifier": "amazon.nova-pro-v1:0"}}
    }
}


def rft(**given: object) -> CustomizationRequest:
    fields: dict[str, object] = {
        **COMMON,
        "base_model_id": NOVA2,
        "training_data_uri": "s3://data-bucket/rft.jsonl",
        "customization_type": "REINFORCEMENT_FINE_TUNING",
        "grader_lambda_arn": GRADER,
    }
    fields.update(given)
    return CustomizationRequest(**fields)  # type: ignore[arg-type]


def problems_of(request: CustomizationRequest) -> dict[str, str]:
    with pytest.raises(InvalidInputError) as raised:
        request.validate()
    return {problem.field: problem.message for problem in raised.value.problems}


# --- the bounds are botocore's ------------------------------------------------------------------------


def test_rft_bounds_are_botocores():
    model = botocore.session.get_session().get_service_model("bedrock")
    shape = model.shape_for("RFTHyperParameters")
    assert set(shape.members) == set(RFT_HYPERPARAMETERS)
    for name, member in shape.members.items():
        spec = RFT_HYPERPARAMETERS[name]
        expected_kind = {"integer": int, "float": float, "string": str}[member.type_name]
        assert spec.kind is expected_kind, name
        assert spec.maximum == member.metadata.get("max"), name
        if "min" in member.metadata:
            assert spec.minimum == member.metadata["min"], name
        assert spec.choices == tuple(getattr(member, "enum", ()) or ()), name
    assert LAMBDA_ARN_PATTERN.pattern == model.shape_for("LambdaArn").metadata["pattern"]


# --- the request ----------------------------------------------------------------------------------------


def test_nova2_rft_request_puts_grader_and_typed_hyperparameters_in_rft_config():
    request = rft(hyperparameters={"batchSize": "32", "learningRate": 1e-5, "epochCount": 2.0}).validate()
    kwargs = request.create_kwargs(1, "token")
    assert "hyperParameters" not in kwargs
    assert kwargs["customizationConfig"] == {
        "rftConfig": {
            "graderConfig": {"lambdaGrader": {"lambdaArn": GRADER}},
            "hyperParameters": {"batchSize": 32, "learningRate": 1e-5, "epochCount": 2},
        }
    }
    assert kwargs["customizationType"] == "REINFORCEMENT_FINE_TUNING"


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("batchSize", 8, "below 16"),
        ("batchSize", 1024, "above 512"),
        ("learningRate", 0.01, "above 0.001"),
        ("learningRate", 1e-9, "below 1e-07"),
        ("epochCount", 1.5, "not a whole number"),
        ("trainingSamplePerPrompt", 1, "below 2"),
        ("evalInterval", 101, "above 100"),
        ("reasoningEffort", "extreme", "not one of"),
        ("maxPromptLength", 0, "below 1"),
    ],
)
def test_rft_hyperparameters_out_of_bounds_are_refused_before_any_call(name, value, why):
    messages = problems_of(rft(hyperparameters={name: value}))
    assert why in messages[f"hyperparameters.{name}"]


def test_rft_learning_rate_bounds_are_inclusive():
    rft(hyperparameters={"learningRate": 1e-7}).validate()
    rft(hyperparameters={"learningRate": "0.001"}).validate()


def test_unknown_rft_hyperparameter_lists_the_allowed_ones():
    message = problems_of(rft(hyperparameters={"epoch_count": 1}))["hyperparameters.epoch_count"]
    assert "epochCount" in message and "batchSize" in message


def test_rft_needs_a_grader():
    assert "needs the grader" in problems_of(rft(grader_lambda_arn=None))["grader_lambda_arn"]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:lambda:us-east-1:1234:function:grader",
        "arn:aws:iam::123456789012:role/grader",
        "grader",
        "arn:aws:lambda:us-east-1:123456789012:function:bad name",
    ],
)
def test_grader_arn_format_is_checked(arn):
    assert "Lambda function ARN" in problems_of(rft(grader_lambda_arn=arn))["grader_lambda_arn"]


def test_grader_is_refused_for_other_types():
    request = CustomizationRequest(
        **COMMON,  # type: ignore[arg-type]
        base_model_id="amazon.nova-lite-v1:0:300k",
        training_data_uri="s3://data-bucket/train.jsonl",
        grader_lambda_arn=GRADER,
    )
    assert "REINFORCEMENT_FINE_TUNING' only" in problems_of(request)["grader_lambda_arn"]


def test_rft_config_given_through_api_kwargs_is_checked_the_same():
    config = {
        "rftConfig": {
            "graderConfig": {"lambdaGrader": {"lambdaArn": GRADER}},
            "hyperParameters": {"batchSize": 8},
        }
    }
    messages = problems_of(
        rft(grader_lambda_arn=None, customization_job_kwargs={"customizationConfig": config})
    )
    assert "below 16" in messages["hyperparameters.batchSize"]
    config["rftConfig"]["hyperParameters"] = {"batchSize": 64}
    kwargs = rft(grader_lambda_arn=None, customization_job_kwargs={"customizationConfig": config}).validate()
    assert kwargs.create_kwargs(1, "t")["customizationConfig"] == config


def test_rft_config_given_twice_is_refused():
    config = {"rftConfig": {"graderConfig": {"lambdaGrader": {"lambdaArn": GRADER}}}}
    messages = problems_of(rft(customization_job_kwargs={"customizationConfig": config}))
    assert (
        "give grader_lambda_arn and hyperparameters only"
        in messages["customization_job_kwargs.customizationConfig"]
    )


def test_rft_is_refused_for_a_model_without_it():
    messages = problems_of(rft(base_model_id="amazon.nova-lite-v1:0:300k"))
    assert "not REINFORCEMENT_FINE_TUNING" in messages["customization_type"]


def test_a_different_grader_is_a_different_request():
    one = rft().validate()
    other = rft(grader_lambda_arn=GRADER + "-2").validate()
    assert one.fingerprint() != other.fingerprint()


# --- invocation logs --------------------------------------------------------------------------------


def distill(**given: object) -> CustomizationRequest:
    fields: dict[str, object] = {
        **COMMON,
        "base_model_id": "amazon.nova-lite-v1:0:300k",
        "training_data_uri": None,
        "customization_type": "DISTILLATION",
        "customization_job_kwargs": TEACHER,
        "invocation_logs": {"s3_uri": "s3://logs-bucket/bedrock/"},
    }
    fields.update(given)
    return CustomizationRequest(**fields)  # type: ignore[arg-type]


def test_invocation_logs_become_invocation_logs_config():
    request = distill(
        invocation_logs={
            "s3_uri": "s3://logs-bucket/bedrock/",
            "use_prompt_response": "true",
            "request_metadata_filters": {"andAll": [{"equals": {"project": "support"}}]},
        }
    ).validate()
    assert request.create_kwargs(1, "t")["trainingDataConfig"] == {
        "invocationLogsConfig": {
            "invocationLogSource": {"s3Uri": "s3://logs-bucket/bedrock/"},
            "usePromptResponse": True,
            "requestMetadataFilters": {"andAll": [{"equals": {"project": "support"}}]},
        }
    }


def test_rft_takes_invocation_logs_too():
    request = rft(training_data_uri=None, invocation_logs={"s3_uri": "s3://logs-bucket/"}).validate()
    assert "invocationLogsConfig" in request.create_kwargs(1, "t")["trainingDataConfig"]


def test_invocation_logs_are_refused_for_fine_tuning():
    request = distill(customization_type="FINE_TUNING", customization_job_kwargs=None)
    assert "DISTILLATION and REINFORCEMENT_FINE_TUNING only" in problems_of(request)["invocation_logs"]


def test_invocation_logs_and_a_training_file_are_refused_together():
    request = distill(training_data_uri="s3://data-bucket/train.jsonl")
    assert "both given" in problems_of(request)["training_data_uri"]


@pytest.mark.parametrize(
    ("logs", "field"),
    [
        ({"s3_uri": "not-s3"}, "invocation_logs.s3_uri"),
        ({"s3_uri": "s3://logs-bucket/", "extra": 1}, "invocation_logs"),
        (
            {"s3_uri": "s3://logs-bucket/", "request_metadata_filters": {"equals": {"a": "1", "b": "2"}}},
            "invocation_logs.request_metadata_filters.equals",
        ),
        (
            {"s3_uri": "s3://logs-bucket/", "request_metadata_filters": {"orAll": []}},
            "invocation_logs.request_metadata_filters.orAll",
        ),
        (
            {"s3_uri": "s3://logs-bucket/", "use_prompt_response": "maybe"},
            "invocation_logs.use_prompt_response",
        ),
    ],
)
def test_bad_invocation_logs_are_refused(logs, field):
    assert field in problems_of(distill(invocation_logs=logs))


def test_a_training_file_is_still_required_without_invocation_logs():
    assert "training_data_uri" in problems_of(distill(invocation_logs=None))


@pytest.mark.parametrize(
    ("config", "uri", "expected"),
    [
        ({}, "s3://logs-bucket/", "is off"),
        (
            {"cloudWatchConfig": {"logGroupName": "g", "roleArn": "arn:aws:iam::1:role/r"}},
            "s3://logs-bucket/",
            "is off",
        ),
        ({"s3Config": {"bucketName": "other-bucket"}}, "s3://logs-bucket/", "delivers to s3://other-bucket/"),
        (
            {"s3Config": {"bucketName": "logs-bucket", "keyPrefix": "a"}},
            "s3://logs-bucket/b/",
            "delivers to s3://logs-bucket/a/",
        ),
        (
            {"s3Config": {"bucketName": "logs-bucket"}, "textDataDeliveryEnabled": False},
            "s3://logs-bucket/",
            "text data",
        ),
        (
            {"s3Config": {"bucketName": "logs-bucket"}, "textDataDeliveryEnabled": True},
            "s3://logs-bucket/",
            None,
        ),
        ({"s3Config": {"bucketName": "logs-bucket", "keyPrefix": "a"}}, "s3://logs-bucket/a/AWSLogs/", None),
        ({"s3Config": {"bucketName": "logs-bucket", "keyPrefix": "a/b"}}, "s3://logs-bucket/", None),
    ],
)
def test_logging_problem(config, uri, expected):
    problem = logging_problem(config, uri)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected in problem and uri in problem


# --- cost -------------------------------------------------------------------------------------------


def test_rft_cost_says_it_cannot_be_estimated_and_why():
    estimate = estimate_training_cost(
        NOVA2, TokenCount(1000, "counted"), {}, None, "REINFORCEMENT_FINE_TUNING"
    )
    assert estimate.usd is None
    assert any("Reinforcement fine-tuning cannot be estimated" in warning for warning in estimate.warnings)
