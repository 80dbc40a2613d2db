"""hooks/errors.py: one reading of AWS errors for every hook, operator, sensor and trigger."""

from __future__ import annotations

import aiohttp
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from bedrock_provider.hooks.errors import (
    error_code,
    error_message,
    is_job_name_taken,
    is_not_found,
    is_transient_error,
    job_already_ended,
)


def client_error(code: str, message: str = "", status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "GetModelCustomizationJob",
    )


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "NoSuchKey", "NotFound", "404"])
def test_one_set_of_not_found_codes_for_bedrock_and_s3(code):
    assert is_not_found(client_error(code, status=404))


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (client_error("ThrottlingException", status=400), True),
        (client_error("InternalServerException", status=500), True),
        (client_error("SomethingNew", status=503), True),
        (client_error("SomethingNew", status=429), True),
        (client_error("ValidationException", status=400), False),
        (client_error("AccessDeniedException", status=403), False),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), True),
        (aiohttp.ClientConnectionError("reset"), True),
        (TimeoutError(), True),
        (ValueError("a bug"), False),
    ],
)
def test_what_is_worth_retrying(error, transient):
    assert is_transient_error(error) is transient


def test_only_a_client_error_is_read_as_an_aws_answer():
    """An object that merely carries a response-shaped attribute is not an AWS answer."""

    class Lookalike(Exception):
        response = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}

    error = Lookalike("boom")
    assert error_code(error) is None
    assert error_message(error) == "boom"
    assert not is_transient_error(error)
    assert not is_not_found(error)


def test_bedrocks_particular_answers():
    assert is_job_name_taken(
        client_error("ValidationException", "The provided job name is currently in use.")
    )
    assert not is_job_name_taken(client_error("ValidationException", "roleArn is invalid"))
    assert job_already_ended(client_error("ValidationException", "job is not in progress"))
    assert job_already_ended(client_error("ResourceNotFoundException"))
    assert not job_already_ended(client_error("ThrottlingException"))
    assert error_message(client_error("ValidationException", "roleArn is invalid")) == "roleArn is invalid"
