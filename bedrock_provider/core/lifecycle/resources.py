"""Every Bedrock resource a task waits for, described once: how to ask about it and what its statuses mean.

One wait design serves them all: the resource trigger and the hook's blocking wait take a
``ResourceKind`` and never know which resource they wait for. Adding a kind is one entry in
``KINDS``. Statuses are the enums of Bedrock's service model (botocore ``bedrock/2023-04-20``):
CustomModelDeploymentStatus, ProvisionedModelStatus, EvaluationJobStatus, ModelCustomizationJobStatus.
Pure Python: no Airflow, no botocore.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bedrock_provider.core.waiting import states
from bedrock_provider.core.waiting.watch import TimedWait


@dataclass(frozen=True)
class ResourceKind:
    """One kind of Bedrock resource that takes a while to become ready (or to end)."""

    key: str
    label: str
    # The boto3 method that describes one resource, and the parameter naming it.
    describe_method: str
    identifier_param: str
    arn_field: str
    name_field: str
    ready_states: frozenset[str]
    failed_states: frozenset[str]
    # What a user kill does to a resource that is not ready yet: "delete" or "stop" (None: nothing).
    cleanup_method: str | None = None
    cleanup_action: str | None = None
    # Statuses worth waiting through; anything else that is not ready or failed is also waited on.
    pending_states: frozenset[str] = field(default_factory=frozenset)
    # Where the status is in a description: ("status",), or a nested member such as a deployment
    # update's ("updateDetails", "updateStatus").
    status_path: tuple[str, ...] = ("status",)

    def status_of(self, description: Mapping[str, Any]) -> str:
        """The status this kind waits on, read from ``description`` ("None" when it has none)."""
        value: Any = description
        for member in self.status_path:
            value = value.get(member) if isinstance(value, Mapping) else None
        return str(value)

    def is_ready(self, status: str) -> bool:
        return status in self.ready_states

    def is_failed(self, status: str) -> bool:
        return status in self.failed_states

    def is_terminal(self, status: str) -> bool:
        return self.is_ready(status) or self.is_failed(status)

    def failure_message(self, description: Mapping[str, Any]) -> str | None:
        """``failureMessage``, or the ``failureMessages`` list of an evaluation job, joined."""
        message = description.get("failureMessage")
        if message:
            return str(message)
        messages = description.get("failureMessages")
        if isinstance(messages, list) and messages:
            return "; ".join(str(m) for m in messages)
        return None

    def describe_kwargs(self, identifier: str) -> dict[str, str]:
        return {self.identifier_param: identifier}


CUSTOM_MODEL_DEPLOYMENT = ResourceKind(
    key="custom_model_deployment",
    label="custom model deployment",
    describe_method="get_custom_model_deployment",
    identifier_param="customModelDeploymentIdentifier",
    arn_field="customModelDeploymentArn",
    name_field="modelDeploymentName",
    ready_states=frozenset({"Active"}),
    failed_states=frozenset({"Failed"}),
    pending_states=frozenset({"Creating"}),
    cleanup_method="delete_custom_model_deployment",
    cleanup_action="delete",
)
# An UpdateCustomModelDeployment in progress: the deployment stays Active and keeps serving its model
# while GetCustomModelDeployment's updateDetails.updateStatus (botocore's
# CustomModelDeploymentUpdateStatus: Updating, UpdateCompleted, UpdateFailed) says how the swap goes.
# No API cancels an update, and deleting the deployment is never what a kill of a promotion means: a
# user's action leaves the update alone (the promotion's next try finishes or reverts it).
CUSTOM_MODEL_DEPLOYMENT_UPDATE = replace(
    CUSTOM_MODEL_DEPLOYMENT,
    key="custom_model_deployment_update",
    label="custom model deployment update",
    ready_states=frozenset({"UpdateCompleted"}),
    failed_states=frozenset({"UpdateFailed"}),
    pending_states=frozenset({"Updating"}),
    status_path=("updateDetails", "updateStatus"),
    cleanup_method=None,
    cleanup_action=None,
)
PROVISIONED_THROUGHPUT = ResourceKind(
    key="provisioned_throughput",
    label="provisioned throughput",
    describe_method="get_provisioned_model_throughput",
    identifier_param="provisionedModelId",
    arn_field="provisionedModelArn",
    name_field="provisionedModelName",
    ready_states=frozenset({"InService"}),
    failed_states=frozenset({"Failed"}),
    pending_states=frozenset({"Creating", "Updating"}),
    cleanup_method="delete_provisioned_model_throughput",
    cleanup_action="delete",
)
EVALUATION_JOB = ResourceKind(
    key="evaluation_job",
    label="evaluation job",
    describe_method="get_evaluation_job",
    identifier_param="jobIdentifier",
    arn_field="jobArn",
    name_field="jobName",
    ready_states=frozenset({"Completed"}),
    failed_states=frozenset({"Failed", "Stopped", "Deleting"}),
    pending_states=frozenset({"InProgress", "Stopping"}),
    cleanup_method="stop_evaluation_job",
    cleanup_action="stop",
)
MODEL_CUSTOMIZATION_JOB = ResourceKind(
    key="model_customization_job",
    label="model customization job",
    describe_method="get_model_customization_job",
    identifier_param="jobIdentifier",
    arn_field="jobArn",
    name_field="jobName",
    ready_states=states.SUCCESS_STATES,
    failed_states=states.FAILURE_STATES,
    pending_states=states.RUNNING_STATES,
    cleanup_method="stop_model_customization_job",
    cleanup_action="stop",
)

KINDS: dict[str, ResourceKind] = {
    kind.key: kind
    for kind in (
        CUSTOM_MODEL_DEPLOYMENT,
        CUSTOM_MODEL_DEPLOYMENT_UPDATE,
        PROVISIONED_THROUGHPUT,
        EVALUATION_JOB,
        MODEL_CUSTOMIZATION_JOB,
    )
}


def kind_of(key: str) -> ResourceKind:
    try:
        return KINDS[key]
    except KeyError:
        raise ValueError(
            f"unknown Bedrock resource kind {key!r}; expected one of {', '.join(KINDS)}"
        ) from None


# ------------------------------------------------------------------------------------------ events


def resource_event(
    kind: ResourceKind,
    status: str,
    identifier: str,
    description: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The one event a wait fires, whatever the kind and outcome.

    ``status`` is the resource's status, or the wait's own "timeout" or "error".
    """
    description = description or {}
    is_arn = identifier.startswith("arn:")
    event: dict[str, Any] = {
        "kind": kind.key,
        "status": status,
        "arn": description.get(kind.arn_field) or (identifier if is_arn else None),
        "name": description.get(kind.name_field) or (None if is_arn else identifier),
        "failure_message": kind.failure_message(description),
        "ready": kind.is_ready(status),
    }
    event.update(extra)
    return event


@dataclass
class ResourceWatch(TimedWait):
    """One wait's view of its resource: deadline, last status seen, and the event to end with."""

    kind: ResourceKind
    identifier: str
    started_at: float
    max_wait: float | None = None
    description: dict[str, Any] | None = None
    last_status: str | None = None
    failures: int = field(default=0, repr=False)

    def on_description(self, description: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The event to fire when the resource is ready or failed, and its status when it changed."""
        self.description = description
        status = self.kind.status_of(description)
        changed = None if status == self.last_status else status
        self.last_status = status
        if self.kind.is_terminal(status):
            return resource_event(self.kind, status, self.identifier, description), changed
        return None, changed

    def progress(self, status: str, now: float) -> str:
        """The log line of a status change, e.g. ``Creating after 12 s``: the status first, so that it
        stays readable in a log view that cuts long lines; the resource is named once, when the wait
        starts."""
        return states.progress_line(status, now - self.started_at)

    def timeout_event(self) -> dict[str, Any]:
        return resource_event(
            self.kind,
            states.TIMEOUT,
            self.identifier,
            self.description,
            message=(
                f"The {self.kind.label} {self.identifier} is still {self.last_status or 'not ready'} after "
                f"max_wait={self.max_wait} s"
            ),
        )

    def error_event(self, message: str) -> dict[str, Any]:
        return resource_event(self.kind, states.ERROR, self.identifier, self.description, message=message)
