"""One method per Bedrock API operation the emulator serves, named after it (as moto's responses are).

Each method checks its input against the API's constraints (``validation.check_input``), calls the
backend and returns (HTTP status, body). ``operation_method`` maps an operation name such as
"GetModelCustomizationJob" to its method ``get_model_customization_job``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from bedrock_provider.emulator.backend import CustomizationBackend
from bedrock_provider.emulator.validation import check_input

Answer = tuple[int, dict[str, Any]]
# An operation's method: (identifier from the path, JSON body, query parameters) -> its answer.
OperationMethod = Callable[[str | None, dict[str, Any], dict[str, str]], Answer]
Backend = TypeVar("Backend")
# Query-string members the model types as integers or booleans arrive as text.
_INTEGER_PARAMS = frozenset({"maxResults"})


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _typed(params: Mapping[str, str]) -> dict[str, Any]:
    typed: dict[str, Any] = dict(params)
    for name in _INTEGER_PARAMS & set(typed):
        try:
            typed[name] = int(typed[name])
        except ValueError:
            pass
    return typed


class OperationResponses(Generic[Backend]):
    """API operations over one backend, each a method named after its operation."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def operation_method(self, operation: str) -> OperationMethod:
        method: OperationMethod = getattr(self, _snake(operation))
        return method


class BedrockResponses(OperationResponses[CustomizationBackend]):
    """The model customization operations: jobs, custom models and their tags."""

    # ----------------------------------------------------------------- model customization jobs

    def create_model_customization_job(
        self, identifier: str | None, body: dict[str, Any], params: dict[str, str]
    ) -> Answer:
        check_input("CreateModelCustomizationJob", body)
        arn, _ = self.backend.create_job(body)
        return 201, {"jobArn": arn}

    def get_model_customization_job(
        self, identifier: str | None, body: dict[str, Any], params: dict[str, str]
    ) -> Answer:
        check_input("GetModelCustomizationJob", {"jobIdentifier": identifier})
        return 200, self.backend.get_job(identifier or "")

    def stop_model_customization_job(
        self, identifier: str | None, body: dict[str, Any], params: dict[str, str]
    ) -> Answer:
        check_input("StopModelCustomizationJob", {"jobIdentifier": identifier})
        self.backend.stop_job(identifier or "")
        return 200, {}

    def list_model_customization_jobs(
        self, identifier: str | None, body: dict[str, Any], params: dict[str, str]
    ) -> Answer:
        check_input("ListModelCustomizationJobs", _typed(params))
        return 200, self.backend.list_jobs(params)

    # ----------------------------------------------------------------- custom models

    def get_custom_model(
        self, identifier: str | None, body: dict[str, Any], params: dict[str, str]
    ) -> Answer:
        check_input("GetCustomModel", {"modelIdentifier": identifier})
        return 200, self.backend.get_custom_model(identifier or "")

    def delete_custom_model(
        self, identifier: str | None, body: dict[str, Any], params: dict[str, str]
    ) -> Answer:
        check_input("DeleteCustomModel", {"modelIdentifier": identifier})
        self.backend.delete_custom_model(identifier or "")
        return 200, {}

    def list_custom_models(
        self, identifier: str | None, body: dict[str, Any], params: dict[str, str]
    ) -> Answer:
        typed = _typed(params)
        typed.pop("isOwned", None)
        check_input("ListCustomModels", typed)
        return 200, self.backend.list_custom_models(params)

    # ----------------------------------------------------------------- model invocation logging

    def get_model_invocation_logging_configuration(
        self, identifier: str | None, body: dict[str, Any], params: dict[str, str]
    ) -> Answer:
        return 200, self.backend.get_logging_config()

    def put_model_invocation_logging_configuration(
        self, identifier: str | None, body: dict[str, Any], params: dict[str, str]
    ) -> Answer:
        check_input("PutModelInvocationLoggingConfiguration", body)
        self.backend.put_logging_config(body["loggingConfig"])
        return 200, {}

    def delete_model_invocation_logging_configuration(
        self, identifier: str | None, body: dict[str, Any], params: dict[str, str]
    ) -> Answer:
        self.backend.delete_logging_config()
        return 200, {}

    # ----------------------------------------------------------------- tags

    def tag_resource(self, identifier: str | None, body: dict[str, Any], params: dict[str, str]) -> Answer:
        check_input("TagResource", body)
        self.backend.tag_resource(body["resourceARN"], body["tags"])
        return 200, {}

    def untag_resource(self, identifier: str | None, body: dict[str, Any], params: dict[str, str]) -> Answer:
        check_input("UntagResource", body)
        self.backend.untag_resource(body["resourceARN"], body["tagKeys"])
        return 200, {}

    def list_tags_for_resource(
        self, identifier: str | None, body: dict[str, Any], params: dict[str, str]
    ) -> Answer:
        check_input("ListTagsForResource", body)
        return 200, self.backend.list_tags(body["resourceARN"])
