"""The operator's wait for a slot when Bedrock's quota of concurrent customization jobs is full."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, TaskDeferred
from botocore.exceptions import ClientError

from bedrock_provider.operators.customization import BedrockModelCustomizationOperator


def _operator(**kwargs: Any) -> BedrockModelCustomizationOperator:
    return BedrockModelCustomizationOperator(
        task_id="customize",
        job_name="job",
        custom_model_name="model",
        role_arn="arn:aws:iam::123456789012:role/r",
        base_model_id="amazon.titan-text-express-v1",
        training_data_uri="s3://bucket/train.jsonl",
        output_data_uri="s3://bucket/out/",
        poll_interval=5,
        **kwargs,
    )


def _error(code: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "quota of 2 reached"}}, "CreateModelCustomizationJob"
    )


def test_a_full_quota_defers_on_a_timer_and_comes_back_to_submit() -> None:
    operator = _operator()
    with pytest.raises(TaskDeferred) as deferred:
        operator._wait_for_quota_slot(_error("ServiceQuotaExceededException"))
    assert deferred.value.method_name == "resume_after_quota_wait"
    assert deferred.value.kwargs["quota_wait_started"] == operator._quota_wait_started
    assert type(deferred.value.trigger).__name__ == "TimeDeltaTrigger"


def test_the_wait_is_bounded_and_says_what_to_do() -> None:
    operator = _operator(max_quota_wait=0)
    with pytest.raises(AirflowException, match="max_quota_wait"):
        operator._wait_for_quota_slot(_error("ServiceQuotaExceededException"))


def test_other_errors_are_not_waited_on() -> None:
    with pytest.raises(ClientError):
        _operator()._wait_for_quota_slot(_error("ValidationException"))


def test_max_quota_wait_is_checked() -> None:
    with pytest.raises(ValueError, match="max_quota_wait"):
        _operator(max_quota_wait=-1)
