"""The one event a customization job's wait fires, whatever the outcome (the job's end, a timeout, an
error), with the same keys every time. Pure Python."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bedrock_provider.core.waiting import states

# The fields of a job's description its events read (job_event below, and the status a timeout names).
EVENT_DESCRIPTION_FIELDS = ("status", "jobArn", "jobName", "failureMessage", "outputModelArn")


def job_event(
    status: str, description: Mapping[str, Any] | None, job_identifier: str, **extra: Any
) -> dict[str, Any]:
    """The one event a wait fires; the same keys whatever the outcome."""
    description = description or {}
    is_arn = job_identifier.startswith("arn:")
    event = {
        "status": status,
        "job_arn": description.get("jobArn") or (job_identifier if is_arn else None),
        "job_name": description.get("jobName") or (None if is_arn else job_identifier),
        "failure_message": description.get("failureMessage"),
        "custom_model_arn": description.get("outputModelArn"),
    }
    event.update(extra)
    return event


def timeout_message(job_identifier: str, status: object, max_wait: float | None) -> str:
    if not status:
        return (
            f"Job {job_identifier}: no status known yet after max_wait={max_wait} s (every call failed); "
            "the job keeps running"
        )
    return (
        f"Job {job_identifier} still {status} after max_wait={max_wait} s (its last known status); "
        "the job keeps running"
    )


def timeout_event(
    job_identifier: str,
    description: Mapping[str, Any] | None,
    max_wait: float | None,
    last_status: str | None = None,
) -> dict[str, Any]:
    status = (description or {}).get("status") or last_status
    return job_event(
        states.TIMEOUT,
        description,
        job_identifier,
        message=timeout_message(job_identifier, status, max_wait),
    )


def error_event(job_identifier: str, description: Mapping[str, Any] | None, message: str) -> dict[str, Any]:
    return job_event(states.ERROR, description, job_identifier, message=message)
