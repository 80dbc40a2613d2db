"""The Amazon provider's Bedrock customization parameters, translated (core.amazon_compat) and taken by
the drop-in classes under exactly the Amazon names."""

from __future__ import annotations

import inspect

import pytest
from airflow.providers.amazon.aws.operators.bedrock import BedrockCustomizeModelOperator as AmazonOperator
from airflow.providers.amazon.aws.sensors.bedrock import BedrockCustomizeModelCompletedSensor as AmazonSensor

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.request.amazon_compat import (
    check_states,
    if_job_exists_for,
    max_wait_for,
    with_api_kwargs,
)
from bedrock_provider.core.request.customization import CustomizationRequest
from bedrock_provider.operators.customization import BedrockCustomizeModelOperator
from bedrock_provider.sensors.customization import BedrockCustomizeModelCompletedSensor

ARGS = {
    "job_name": "job",
    "custom_model_name": "model",
    "role_arn": "arn:aws:iam::123456789012:role/BedrockCustomization",
    "base_model_id": "amazon.titan-text-express-v1",
    "training_data_uri": "s3://bucket/train.jsonl",
    "output_data_uri": "s3://bucket/output/",
    "hyperparameters": {"epochCount": "1", "batchSize": "1", "learningRate": ".0005"},
}


def _parameters(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith("airflow.sdk"):
            return names  # BaseOperator's and BaseSensorOperator's own are the same class for both
        init = klass.__dict__.get("__init__")
        if init is not None:
            names |= {
                name
                for name, parameter in inspect.signature(init).parameters.items()
                if name != "self" and parameter.kind is not inspect.Parameter.VAR_KEYWORD
            }
    return names


@pytest.mark.parametrize(
    ("ours", "theirs", "call"),
    [
        (BedrockCustomizeModelOperator, AmazonOperator, {"task_id": "t", **ARGS}),
        (BedrockCustomizeModelCompletedSensor, AmazonSensor, {"task_id": "t", "job_name": "job"}),
    ],
)
def test_every_amazon_parameter_is_taken(ours, theirs, call):
    """Each parameter the Amazon class (and its AWS base) declares is accepted by ours."""
    values = {
        "ensure_unique_job_name": False,
        "customization_job_kwargs": {},
        "wait_for_completion": True,
        "waiter_delay": 30,
        "waiter_max_attempts": 10,
        "deferrable": True,
        "max_retries": 3,
        "poke_interval": 5,
        "aws_conn_id": "aws_other",
        "region_name": "eu-west-1",
        "region": "eu-west-1",  # deprecated there and here; the same Region is not a conflict
        "verify": False,
        "botocore_config": {"retries": {"mode": "standard"}},
    }
    names = _parameters(theirs) - set(call)
    for name in names:
        assert name in values, f"no test value for Amazon's {name}"
    with pytest.warns(DeprecationWarning, match="region='eu-west-1' is deprecated"):
        task = ours(**call, **{name: values[name] for name in names})
    assert (task.aws_conn_id, task.region_name, task.verify) == ("aws_other", "eu-west-1", False)


DROP_INS = [
    (BedrockCustomizeModelOperator, {"task_id": "t", **ARGS}),
    (BedrockCustomizeModelCompletedSensor, {"task_id": "t", "job_name": "job"}),
]


@pytest.mark.parametrize(("cls", "call"), DROP_INS, ids=["operator", "sensor"])
def test_region_is_read_as_region_name_with_a_deprecation(cls, call):
    """The Amazon classes take region= (their deprecated region_name); a DAG that passes it imports
    here too, and its job goes to that Region rather than the connection's."""
    with pytest.warns(DeprecationWarning, match="use region_name='eu-west-1'"):
        task = cls(**call, region="eu-west-1")
    assert task.region_name == "eu-west-1"
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="name different Regions"):
        cls(**call, region="eu-west-1", region_name="us-east-1")
    assert cls(**call).region_name is None


@pytest.mark.parametrize(("cls", "call"), DROP_INS, ids=["operator", "sensor"])
def test_region_is_taken_by_partial_as_there(cls, call):
    from airflow.sdk import DAG

    arguments = {key: value for key, value in call.items() if key != "job_name"}
    with DAG("region_partial", schedule=None):
        mapped = cls.partial(**arguments, region="eu-west-1").expand(job_name=["a", "b"])
    assert mapped.partial_kwargs["region"] == "eu-west-1"


def test_operator_defaults_and_translation():
    op = BedrockCustomizeModelOperator(task_id="t", **ARGS)
    assert op.poll_interval == 120  # Amazon's waiter_delay default
    assert op.max_wait is None  # no waiter_max_attempts given: no cap
    assert op.ensure_unique_job_name is True
    assert op.deferrable is False  # [operators] default_deferrable, as in the Amazon operator
    capped = BedrockCustomizeModelOperator(task_id="t", waiter_delay=30, waiter_max_attempts=10, **ARGS)
    assert (capped.poll_interval, capped.max_wait) == (30, 300.0)
    deferred = BedrockCustomizeModelOperator(task_id="t", deferrable=True, wait_for_completion=False, **ARGS)
    assert deferred.wait_for_completion is True  # deferrable implies waiting, as there
    assert op.result_value({"job_arn": "arn:x", "status": "Completed"}) == "arn:x"


def test_operator_templates_every_amazon_templated_field():
    assert set(AmazonOperator.template_fields) <= set(BedrockCustomizeModelOperator.template_fields)
    assert "if_job_exists" not in BedrockCustomizeModelOperator.template_fields


def test_sensor_defaults_and_translation():
    sensor = BedrockCustomizeModelCompletedSensor(task_id="t", job_name="job")
    assert sensor.job_identifier == "job"
    assert sensor.poke_interval == 120
    assert sensor.deferrable is False
    assert sensor.timeout == AmazonSensor(task_id="t", job_name="job").timeout  # no max_retries: no cap
    capped = BedrockCustomizeModelCompletedSensor(
        task_id="t", job_name="job", poke_interval=10, max_retries=6
    )
    assert capped.timeout == 60
    shorter = BedrockCustomizeModelCompletedSensor(
        task_id="t", job_name="job", poke_interval=10, max_retries=6, timeout=30
    )
    assert shorter.timeout == 30
    assert set(AmazonSensor.template_fields) <= set(BedrockCustomizeModelCompletedSensor.template_fields)
    assert sensor.FAILURE_STATES == AmazonSensor.FAILURE_STATES
    assert sensor.SUCCESS_STATES == AmazonSensor.SUCCESS_STATES
    assert sensor.result_value({"status": "Completed"}) is None


def test_sensor_states_are_checked():
    with pytest.raises(ValueError, match=r"\['COMPLETED'\] are not job statuses"):
        BedrockCustomizeModelCompletedSensor(task_id="t", job_name="job", success_states=["COMPLETED"])
    with pytest.raises(ValueError, match="share \\['Stopped'\\]"):
        BedrockCustomizeModelCompletedSensor(
            task_id="t", job_name="job", success_states=["Completed", "Stopped"]
        )
    sensor = BedrockCustomizeModelCompletedSensor(
        task_id="t", job_name="job", success_states=["Completed", "Stopped"], failure_states=["Failed"]
    )
    assert (sensor.SUCCESS_STATES, sensor.FAILURE_STATES) == (("Completed", "Stopped"), ("Failed",))
    assert check_states("Failed", "failure_states") == ("Failed",)


@pytest.mark.parametrize(
    ("value", "policy"),
    [
        (True, "reattach_or_rename"),
        ("True", "reattach_or_rename"),
        (False, "reattach"),
        (" false", "reattach"),
    ],
)
def test_ensure_unique_job_name_policy(value, policy):
    assert if_job_exists_for(value) == policy


def test_ensure_unique_job_name_must_be_a_flag():
    with pytest.raises(InvalidInputError, match="ensure_unique_job_name='yes'"):
        if_job_exists_for("yes")


@pytest.mark.parametrize(
    ("delay", "attempts", "expected"), [(120, None, None), (120, 75, 9000.0), (0.5, 4, 2.0)]
)
def test_max_wait_only_when_attempts_are_given(delay, attempts, expected):
    assert max_wait_for(delay, attempts, "waiter_delay", "waiter_max_attempts") == expected


@pytest.mark.parametrize(
    ("delay", "attempts", "field"),
    [(10, 0, "waiter_max_attempts"), (10, 2.5, "waiter_max_attempts"), (0, 3, "waiter_delay")],
)
def test_bad_waiter_settings_are_refused(delay, attempts, field):
    with pytest.raises(ValueError, match=f"^{field}="):
        max_wait_for(delay, attempts, "waiter_delay", "waiter_max_attempts")


def _request(**kwargs: object) -> CustomizationRequest:
    return CustomizationRequest(**{**ARGS, **kwargs})  # type: ignore[arg-type]


def test_api_kwargs_become_validated_parameters():
    request = with_api_kwargs(
        _request(
            customization_job_kwargs={
                "validationDataConfig": {"validators": [{"s3Uri": "s3://bucket/validation.jsonl"}]},
                "jobTags": [{"key": "team", "value": "ml"}],
                "customModelTags": [{"key": "stage", "value": "candidate"}],
                "customModelKmsKeyId": "alias/models",
                "customizationType": "FINE_TUNING",
            }
        )
    )
    assert request.validation_data_uri == ["s3://bucket/validation.jsonl"]
    assert request.job_tags == [{"key": "team", "value": "ml"}]
    assert request.customization_job_kwargs == {}
    kwargs = request.validate().create_kwargs(1, "token")
    assert kwargs["validationDataConfig"] == {"validators": [{"s3Uri": "s3://bucket/validation.jsonl"}]}
    assert kwargs["jobTags"] == [{"key": "team", "value": "ml"}]
    assert kwargs["customModelKmsKeyId"] == "alias/models"


def test_api_kwargs_are_checked_under_their_own_names():
    with pytest.raises(InvalidInputError) as raised:
        with_api_kwargs(
            _request(
                job_tags={"team": "ml"},
                customization_job_kwargs={
                    "validationDataConfig": {"validators": "s3://bucket/validation.jsonl"},
                    "clientRequestToken": "mine",
                    "jobTags": [{"key": "team", "value": "other"}],
                },
            )
        )
    assert raised.value.fields == [
        "customization_job_kwargs.validationDataConfig",
        "customization_job_kwargs.clientRequestToken",
        "customization_job_kwargs.jobTags",
    ]
    with pytest.raises(
        InvalidInputError, match="customization_job_kwargs.jobName.*use its parameter job_name"
    ):
        with_api_kwargs(_request(customization_job_kwargs={"jobName": "other"})).validate()
