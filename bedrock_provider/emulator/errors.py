"""Bedrock API errors as the emulator answers them (rest-json: HTTP status + x-amzn-ErrorType)."""

from __future__ import annotations


class BedrockError(Exception):
    """An error answered to the client with Bedrock's error code and HTTP status."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def validation_error(message: str) -> BedrockError:
    return BedrockError("ValidationException", message, 400)


def not_found(message: str) -> BedrockError:
    return BedrockError("ResourceNotFoundException", message, 404)


def throttling() -> BedrockError:
    return BedrockError("ThrottlingException", "Too many requests, please wait before trying again.", 429)


def internal_error(message: str = "Internal server error. Retry your request.") -> BedrockError:
    return BedrockError("InternalServerException", message, 500)


def quota_exceeded(message: str) -> BedrockError:
    return BedrockError("ServiceQuotaExceededException", message, 400)
