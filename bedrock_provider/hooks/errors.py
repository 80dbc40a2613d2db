"""What an AWS error means here: not found, worth retrying, or Bedrock's answer to a particular call.

Every caller asks these predicates instead of parsing ``error.response`` itself. An AWS service
answer is a botocore ``ClientError``, recognised by type; a dropped connection (botocore's or
aiohttp's) has no answer and is transient.
"""

from __future__ import annotations

import asyncio

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceQuotaExceededException",
        "SlowDown",
    }
)
SERVER_ERROR_CODES = frozenset(
    {"InternalServerException", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException"}
)
# Bedrock's answer for a job or model that does not exist, and S3's for an object (GetObject answers
# NoSuchKey, HeadObject a bare 404).
NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "NoSuchKey", "NotFound", "404"})

# Refusals of the caller's credentials that rotated or refreshed credentials fix: worth reading the
# connection again and retrying, within a wait's max_failure_duration.
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)

NAME_IN_USE_MESSAGE = "job name is currently in use"


def error_code(error: BaseException) -> str | None:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code")
    return None


def error_http_status(error: BaseException) -> int | None:
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if status is not None else None
    return None


def error_message(error: BaseException) -> str:
    """The service's own message when there is one, else the error's text."""
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message")
        if message:
            return str(message)
    return str(error)


def is_not_found(error: BaseException) -> bool:
    return error_code(error) in NOT_FOUND_CODES


def is_job_name_taken(error: BaseException) -> bool:
    """Bedrock's answer to a Create whose job name another submitter took first."""
    return error_code(error) == "ValidationException" and NAME_IN_USE_MESSAGE in error_message(error)


def job_already_ended(error: BaseException) -> bool:
    """Bedrock's answer to a Stop of a job that ended (or vanished) since it was described."""
    return error_code(error) in {"ValidationException", "ConflictException"} or is_not_found(error)


def is_transient(code: str | None, http_status: int | None) -> bool:
    """Throttling and server-side errors pass; a caller error (4xx other than 429) does not."""
    if code in THROTTLING_CODES or code in SERVER_ERROR_CODES:
        return True
    return http_status is not None and (http_status == 429 or http_status >= 500)


def is_transient_error(error: BaseException) -> bool:
    """Throttling, 5xx, and the connection failing (botocore's or aiohttp's) are worth retrying."""
    if isinstance(error, ClientError):
        return is_transient(error_code(error), error_http_status(error))
    if isinstance(error, BotocoreConnectionError | HTTPClientError | asyncio.TimeoutError | ConnectionError):
        return True
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - aiobotocore brings aiohttp
        return False
    return isinstance(error, aiohttp.ClientError)


def is_retryable_failure(error: BaseException) -> bool:
    """Transient, or a refusal of credentials that reading the connection again may fix."""
    return is_transient_error(error) or error_code(error) in CREDENTIAL_CODES
