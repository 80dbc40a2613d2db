from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.request.customization import CustomizationRequest

GOOD = {
    "job_name": "weekly-2024-01-01",
    "custom_model_name": "support-bot-2024-01-01",
    "role_arn": "arn:aws:iam::123456789012:role/BedrockCustomization",
    "base_model_id": "amazon.titan-text-express-v1",
    "training_data_uri": "s3://my-bucket/data/train.jsonl",
    "output_data_uri": "s3://my-bucket/output/",
    "hyperparameters": {"epochCount": 2, "batchSize": 1, "learningRate": 1e-5},
}

# (overrides, field the error must name, fragment of the message)
BAD_INPUTS = [
    ({"job_name": ""}, "job_name", "must not be empty"),
    ({"job_name": None}, "job_name", "a template rendered None"),
    ({"job_name": "has space"}, "job_name", "' ' at position 4"),
    ({"job_name": "under_score"}, "job_name", "'_' at position 6"),
    ({"job_name": "-lead"}, "job_name", "must start with a letter or digit"),
    ({"job_name": "j" * 64}, "job_name", "at most 63"),
    ({"job_name": " padded"}, "job_name", "white space"),
    ({"custom_model_name": "model.v1"}, "custom_model_name", "'.' at position 6"),
    ({"custom_model_name": "a__b"}, "custom_model_name", "two separators"),
    ({"custom_model_name": ""}, "custom_model_name", "must not be empty"),
    ({"role_arn": "BedrockRole"}, "role_arn", "IAM role ARN"),
    ({"role_arn": "arn:aws:iam::123:role/x"}, "role_arn", "IAM role ARN"),
    ({"role_arn": "arn:aws:iam::123456789012:user/bob"}, "role_arn", "IAM role ARN"),
    ({"base_model_id": "titan text"}, "base_model_id", "Bedrock model id"),
    ({"base_model_id": ""}, "base_model_id", "must not be empty"),
    ({"training_data_uri": "my-bucket/train.jsonl"}, "training_data_uri", "starting with 's3://'"),
    ({"training_data_uri": "s3://my-bucket/data/"}, "training_data_uri", "must point at a file"),
    ({"training_data_uri": "s3://My_Bucket/train.jsonl"}, "training_data_uri", "lowercase bucket"),
    ({"training_data_uri": "s3://bucket/has space.jsonl"}, "training_data_uri", "no spaces"),
    ({"output_data_uri": "https://bucket/out"}, "output_data_uri", "starting with 's3://'"),
    ({"output_data_uri": 42}, "output_data_uri", "must be a string"),
    ({"validation_data_uri": "s3://bkt/val/"}, "validation_data_uri", "must point at a file"),
    ({"validation_data_uri": ["s3://bkt/v.jsonl", "nope"]}, "validation_data_uri[1]", "s3://"),
    ({"validation_data_uri": 3}, "validation_data_uri", "S3 URI or a list"),
    (
        {"validation_data_uri": [f"s3://bkt/v{i}.jsonl" for i in range(11)]},
        "validation_data_uri",
        "at most 10",
    ),
    ({"customization_type": "FINETUNING"}, "customization_type", "must be one of"),
    (
        {
            "customization_type": "CONTINUED_PRE_TRAINING",
            "base_model_id": "anthropic.claude-3-haiku-20240307-v1:0:200k",
        },
        "customization_type",
        "supports",
    ),
    (
        {"customization_type": "DISTILLATION", "base_model_id": "amazon.nova-micro-v1:0:128k"},
        "customization_job_kwargs.customizationConfig",
        "teacherModelIdentifier",
    ),
    ({"hyperparameters": {"epochs": 2}}, "hyperparameters.epochs", "epochCount"),
    ({"hyperparameters": {"epochCount": 11}}, "hyperparameters.epochCount", "10"),
    ({"hyperparameters": {"epochCount": 0}}, "hyperparameters.epochCount", "1"),
    ({"hyperparameters": {"epochCount": 2.5}}, "hyperparameters.epochCount", "integer"),
    ({"hyperparameters": {"learningRate": "fast"}}, "hyperparameters.learningRate", "fast"),
    ({"hyperparameters": {"batchSize": True}}, "hyperparameters.batchSize", "bool"),
    ({"hyperparameters": "epochCount=2"}, "hyperparameters", "dict"),
    ({"hyperparameters": ["epochCount", 2]}, "hyperparameters", "must be a dict"),
    ({"custom_model_kms_key_id": "my-key"}, "custom_model_kms_key_id", "KMS key ARN"),
    (
        {"custom_model_kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/short"},
        "custom_model_kms_key_id",
        "KMS",
    ),
    ({"vpc_config": {"subnetIds": []}}, "vpc_config.subnetIds", "1 to 16"),
    (
        {"vpc_config": {"subnet_ids": ["subnet-1"], "securityGroupIds": ["sg-1"]}},
        "vpc_config",
        "unknown keys",
    ),
    (
        {"vpc_config": {"subnetIds": ["subnet 1"], "securityGroupIds": ["sg-1"]}},
        "vpc_config.subnetIds",
        "letters",
    ),
    (
        {"vpc_config": {"subnetIds": ["s-1"], "securityGroupIds": [f"sg-{i}" for i in range(6)]}},
        "vpc_config.securityGroupIds",
        "at most 5",
    ),
    ({"vpc_config": "subnet-1"}, "vpc_config", "dict"),
    ({"job_tags": {"aws:owner": "me"}}, "job_tags['aws:owner']", "reserved"),
    ({"job_tags": {"team": "a" * 257}}, "job_tags['team']", "0-256"),
    ({"job_tags": {"": "x"}}, "job_tags['']", "1-128"),
    ({"job_tags": [{"Key": "a", "Value": "b"}]}, "job_tags[0]", "'key' and 'value'"),
    ({"job_tags": {"team": None}}, "job_tags['team']", "strings"),
    ({"custom_model_tags": "team=ml"}, "custom_model_tags", "dict of tag names"),
    (
        {"customization_job_kwargs": {"jobName": "other"}},
        "customization_job_kwargs.jobName",
        "use its parameter job_name",
    ),
    (
        {"customization_job_kwargs": {"hyperParameters": {}}},
        "customization_job_kwargs.hyperParameters",
        "hyperparameters",
    ),
    (
        {"customization_job_kwargs": {"unknownThing": 1}},
        "customization_job_kwargs.unknownThing",
        "not a CreateModelCustomizationJob parameter",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"), BAD_INPUTS, ids=[b[1] + ":" + b[2] for b in BAD_INPUTS]
)
def test_bad_input_is_rejected_naming_the_field(overrides, field, fragment):
    with pytest.raises(InvalidInputError) as raised:
        CustomizationRequest(**{**GOOD, **overrides}).validate()
    assert field in raised.value.fields, str(raised.value)
    line = next(str(p) for p in raised.value.problems if p.field == field)
    assert fragment in line, line
    assert "nothing was sent to AWS" in str(raised.value)


def test_bad_input_table_is_large_enough():
    assert len(BAD_INPUTS) >= 30


def test_every_problem_is_reported_at_once():
    with pytest.raises(InvalidInputError) as raised:
        CustomizationRequest(
            **{**GOOD, "job_name": "a b", "role_arn": "x", "output_data_uri": "out"}
        ).validate()
    assert set(raised.value.fields) == {"job_name", "role_arn", "output_data_uri"}


def test_valid_request_builds_the_create_call():
    request = CustomizationRequest(
        **{
            **GOOD,
            "validation_data_uri": "s3://my-bucket/data/validation.jsonl",
            "job_tags": {"team": "ml"},
            "custom_model_tags": [{"key": "stage", "value": "candidate"}],
            "vpc_config": {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]},
            "custom_model_kms_key_id": "arn:aws:kms:us-east-1:123456789012:alias/models",
        }
    ).validate()
    kwargs = request.create_kwargs(2, "airflow-token")
    assert kwargs["jobName"] == "weekly-2024-01-01-r2"
    assert kwargs["customModelName"] == "support-bot-2024-01-01-r2"
    assert kwargs["hyperParameters"] == {"epochCount": "2", "batchSize": "1", "learningRate": "1e-05"}
    assert kwargs["validationDataConfig"] == {
        "validators": [{"s3Uri": "s3://my-bucket/data/validation.jsonl"}]
    }
    assert kwargs["jobTags"] == [{"key": "team", "value": "ml"}]
    assert kwargs["customModelTags"] == [{"key": "stage", "value": "candidate"}]
    assert kwargs["clientRequestToken"] == "airflow-token"
    assert kwargs["customizationType"] == "FINE_TUNING"


@pytest.mark.parametrize(
    "rendered",
    ['{"epochCount": 2}', "{'epochCount': 2}"],
    ids=["json", "python-literal"],
)
def test_hyperparameters_rendered_to_text_are_read_back(rendered):
    request = CustomizationRequest(**{**GOOD, "hyperparameters": rendered}).validate()
    assert request.hyperparameters == {"epochCount": "2"}


def test_empty_optional_templates_mean_not_set():
    request = CustomizationRequest(
        **{**GOOD, "validation_data_uri": "", "custom_model_kms_key_id": "", "hyperparameters": ""}
    ).validate()
    assert request.validation_data_uris == ()
    assert request.custom_model_kms_key_id is None
    assert request.hyperparameters == {}


def test_unknown_base_model_is_accepted_with_a_warning():
    request = CustomizationRequest(
        **{**GOOD, "base_model_id": "acme.future-model-v9", "hyperparameters": {"anything": 3}}
    ).validate()
    assert request.hyperparameters == {"anything": "3"}
    assert request.warnings


_text = st.one_of(st.none(), st.text(max_size=80), st.integers(), st.floats(allow_nan=True))


@given(
    job_name=_text,
    custom_model_name=_text,
    role_arn=st.one_of(_text, st.just(GOOD["role_arn"])),
    training=st.one_of(_text, st.just(GOOD["training_data_uri"])),
    hyperparameters=st.one_of(
        st.none(),
        st.text(max_size=40),
        st.dictionaries(
            st.text(max_size=20), st.one_of(st.integers(), st.floats(), st.text(max_size=10), st.none())
        ),
    ),
)
def test_any_input_gives_a_valid_request_or_a_clear_error(
    job_name, custom_model_name, role_arn, training, hyperparameters
):
    try:
        request = CustomizationRequest(
            **{
                **GOOD,
                "job_name": job_name,
                "custom_model_name": custom_model_name,
                "role_arn": role_arn,
                "training_data_uri": training,
                "hyperparameters": hyperparameters,
            }
        ).validate()
    except InvalidInputError as error:
        assert error.problems
        assert all(problem.field and problem.message for problem in error.problems)
        return
    kwargs = request.create_kwargs(1, "t")
    # What botocore will accept: the parameter validator of the real service model.
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("bedrock")
    shape = model.operation_model("CreateModelCustomizationJob").input_shape
    report = ParamValidator().validate(kwargs, shape)
    assert not report.has_errors(), report.generate_report()
