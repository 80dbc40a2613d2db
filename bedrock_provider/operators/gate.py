"""What a failed quality gate does to the task, the same for the metrics gate and the score gate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from bedrock_provider.core.metrics.gate import ON_GATE_FAILURE_CHOICES

if TYPE_CHECKING:
    import logging

    from airflow.sdk import Context

__all__ = ["ON_GATE_FAILURE_CHOICES", "on_gate_failure"]


def on_gate_failure(
    mode: str, message: str, context: Context, result: dict[str, Any], log: logging.Logger | Any
) -> None:
    """ "record": log and let the task succeed; "skip": skip it (and so its downstream tasks); "fail":
    fail it without retries, as a retry would reach the same verdict. The result is pushed to XCom
    either way, so downstream tasks and the UI still see the numbers of a model that did not pass."""
    if mode == "record":
        log.warning("%s (on_gate_failure='record': the task succeeds)", message)
        return
    context["ti"].xcom_push(key="return_value", value=result)
    if mode == "skip":
        raise AirflowSkipException(message)
    raise AirflowFailException(message)
