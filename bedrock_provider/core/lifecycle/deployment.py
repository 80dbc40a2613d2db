"""Deploying a custom model: the request checked before any call, and whether an existing one is ours.

``mode="on_demand"`` is CreateCustomModelDeployment; ``mode="provisioned"`` is
CreateProvisionedModelThroughput (model units, an optional commitment). Patterns and enums are those
of Bedrock's service model. A deployment carries the task instance's token as a tag, since neither
GetCustomModelDeployment nor GetProvisionedModelThroughput returns the clientRequestToken: a retry
adopts a deployment only when that tag is its own and the deployment serves what it asks for.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.lifecycle.resources import (
    CUSTOM_MODEL_DEPLOYMENT,
    PROVISIONED_THROUGHPUT,
    ResourceKind,
)
from bedrock_provider.core.names import CUSTOM_MODEL_NAME_PATTERN as RESOURCE_NAME_PATTERN
from bedrock_provider.core.request.fields import parse_tags

ON_DEMAND = "on_demand"
PROVISIONED = "provisioned"
MODES = (ON_DEMAND, PROVISIONED)
COMMITMENTS = ("OneMonth", "SixMonths")
# The tag that tells our own resources from a stranger's: the task instance's client token.
OWNER_TAG = "airflow:task-token"
# The prefix of every tag the provider itself sets (the owner token, promotion's last-good model...).
PROVIDER_TAG_PREFIX = "airflow:"

# ModelDeploymentName and ProvisionedModelName: the rule of custom model names (core/names.py).
CUSTOM_MODEL_ARN_PATTERN = re.compile(
    r"arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model/[^/]+/[a-z0-9]{12}"
)
NAME_RULE = "1 to 63 letters and digits, each optionally followed by a single '-' or '_'"


@dataclass(frozen=True)
class DeploymentRequest:
    """What BedrockDeployCustomModelOperator was asked for, as rendered."""

    model_identifier: Any
    deployment_name: Any
    mode: Any = ON_DEMAND
    model_units: Any = 1
    commitment_duration: Any = None
    tags: Any = None
    description: Any = None

    def validate(self) -> ValidDeployment:
        problems: list[Problem] = []
        mode = self.mode
        if mode not in MODES:
            problems.append(Problem("mode", mode, f"must be one of {', '.join(MODES)}"))
        name = self.deployment_name
        if not isinstance(name, str) or not RESOURCE_NAME_PATTERN.fullmatch(name):
            problems.append(
                Problem("deployment_name", name, f"must be {NAME_RULE}, e.g. 'support-bot-20250105'")
            )
        model = self.model_identifier
        if not isinstance(model, str) or not (
            CUSTOM_MODEL_ARN_PATTERN.fullmatch(model) or RESOURCE_NAME_PATTERN.fullmatch(model)
        ):
            problems.append(
                Problem(
                    "model_identifier",
                    model,
                    "must be a custom model's ARN or name (the customization task's custom_model_arn)",
                )
            )
        units = _positive_int(self.model_units)
        commitment = self.commitment_duration or None
        if mode == PROVISIONED:
            if units is None:
                problems.append(
                    Problem("model_units", self.model_units, "must be a whole number of at least 1")
                )
            if commitment is not None and commitment not in COMMITMENTS:
                problems.append(
                    Problem(
                        "commitment_duration",
                        commitment,
                        f"must be None (no commitment) or one of {', '.join(COMMITMENTS)}",
                    )
                )
        elif mode == ON_DEMAND and commitment is not None:
            problems.append(
                Problem(
                    "commitment_duration", commitment, "applies to mode='provisioned' only; leave it None"
                )
            )
        # An empty description (a blank form field, an unset template variable) is no description:
        # Bedrock's CustomModelDeploymentDescription is 1 to 2048 characters (botocore bedrock/2023-04-20).
        description = None if self.description == "" else self.description
        if description is not None and (
            not isinstance(description, str) or not 1 <= len(description) <= 2048
        ):
            problems.append(Problem("description", description, "must be 1 to 2048 characters"))
        elif description is not None and mode == PROVISIONED:
            # CreateProvisionedModelThroughputRequest has no description member (botocore bedrock/2023-04-20).
            problems.append(
                Problem(
                    "description",
                    description,
                    "a provisioned throughput has no description (CreateProvisionedModelThroughput takes "
                    "none); leave it None, or put it in tags",
                )
            )
        tags = {t["key"]: t["value"] for t in parse_tags(self.tags, "tags", problems)}
        if OWNER_TAG in tags:
            problems.append(Problem("tags", self.tags, f"{OWNER_TAG!r} is set by the operator itself"))
        if problems:
            raise InvalidInputError("Invalid deployment request", problems)
        return ValidDeployment(
            model_identifier=str(model),
            deployment_name=str(name),
            mode=str(mode),
            model_units=units or 1,
            commitment_duration=commitment,
            tags=tags,
            description=description,
        )


@dataclass(frozen=True)
class ValidDeployment:
    model_identifier: str
    deployment_name: str
    mode: str
    model_units: int
    commitment_duration: str | None
    tags: dict[str, str]
    description: str | None

    @property
    def kind(self) -> ResourceKind:
        return PROVISIONED_THROUGHPUT if self.mode == PROVISIONED else CUSTOM_MODEL_DEPLOYMENT

    def create_call(self, model_arn: str, token: str, owner: str) -> tuple[str, dict[str, Any]]:
        """The boto3 method and its arguments."""
        tags = [{"key": k, "value": v} for k, v in {**self.tags, OWNER_TAG: owner}.items()]
        if self.mode == PROVISIONED:
            kwargs: dict[str, Any] = {
                "provisionedModelName": self.deployment_name,
                "modelId": model_arn,
                "modelUnits": self.model_units,
                "clientRequestToken": token,
                "tags": tags,
            }
            if self.commitment_duration:
                kwargs["commitmentDuration"] = self.commitment_duration
            return "create_provisioned_model_throughput", kwargs
        kwargs = {
            "modelDeploymentName": self.deployment_name,
            "modelArn": model_arn,
            "clientRequestToken": token,
            "tags": tags,
        }
        if self.description:
            kwargs["description"] = self.description
        return "create_custom_model_deployment", kwargs

    def differences(self, existing: Mapping[str, Any], model_arn: str) -> list[Problem]:
        """What an existing deployment of this name serves that differs from the request."""
        found: list[Problem] = []
        served = existing.get("modelArn")
        if self.mode == PROVISIONED:
            served = existing.get("desiredModelArn") or served
        if served != model_arn:
            found.append(Problem("model_identifier", model_arn, f"the existing deployment serves {served}"))
        if self.mode == PROVISIONED:
            if existing.get("desiredModelUnits", existing.get("modelUnits")) != self.model_units:
                units = existing.get("desiredModelUnits", existing.get("modelUnits"))
                found.append(Problem("model_units", self.model_units, f"the existing deployment has {units}"))
            if (existing.get("commitmentDuration") or None) != self.commitment_duration:
                found.append(
                    Problem(
                        "commitment_duration",
                        self.commitment_duration,
                        f"the existing deployment has {existing.get('commitmentDuration')}",
                    )
                )
        elif (existing.get("description") or None) != self.description:
            # UpdateCustomModelDeploymentRequest takes only modelArn (botocore bedrock/2023-04-20): a
            # deployment's description cannot be changed, so an edited one is refused, never ignored.
            found.append(
                Problem(
                    "description",
                    self.description,
                    f"the existing deployment's is {existing.get('description')!r}, and Bedrock cannot "
                    "change a deployment's description (UpdateCustomModelDeployment takes only the model); "
                    "set description back to it",
                )
            )
        return found

    def tag_changes(self, existing_tags: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """(the requested tags an existing deployment lacks or holds another value of, the tags it
        carries that the request does not name). The operator's own ``airflow:`` tags are neither."""
        to_apply = {key: value for key, value in self.tags.items() if existing_tags.get(key) != value}
        unrequested = {
            key: value
            for key, value in existing_tags.items()
            if key not in self.tags and not key.startswith(PROVIDER_TAG_PREFIX)
        }
        return to_apply, unrequested


def replacement_token(token: str, replaced_arn: str) -> str:
    """The token of a deployment that replaces a failed one of ours: Bedrock returns the earlier
    resource for a reused token, so the replacement needs its own, derived from what it replaces."""
    digest = hashlib.sha256(f"{token}\x1f{replaced_arn}".encode()).hexdigest()[:48]
    return f"airflow-{digest}"


def deployment_result(
    kind: ResourceKind, description: Mapping[str, Any], mode: str, **extra: Any
) -> dict[str, Any]:
    """The XCom result: deployment_arn is the modelId that bedrock-runtime takes (and, provisioned, an
    evaluation job)."""
    return {
        "deployment_arn": description.get(kind.arn_field),
        "deployment_name": description.get(kind.name_field),
        "model_arn": description.get("modelArn"),
        "status": description.get("status"),
        "mode": mode,
        "failure_message": kind.failure_message(description),
        **extra,
    }


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value >= 1 else None
