"""BedrockModelCustomizationTrigger: waits for a customization job in the triggerer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from bedrock_provider.core import states
from bedrock_provider.core.retry import backoff_delay

# Transient failures back off up to this long between describes, however short poll_interval is.
MAX_BACKOFF_SECONDS = 300.0


def job_event(
    status: str, description: dict[str, Any] | None, job_identifier: str, **extra: Any
) -> dict[str, Any]:
    """The one event a trigger fires; the same keys whatever the outcome."""
    description = description or {}
    event = {
        "status": status,
        "job_arn": description.get("jobArn")
        or (job_identifier if job_identifier.startswith("arn:") else None),
        "job_name": description.get("jobName")
        or (None if job_identifier.startswith("arn:") else job_identifier),
        "failure_message": description.get("failureMessage"),
        "custom_model_arn": description.get("outputModelArn"),
    }
    event.update(extra)
    return event


class BedrockModelCustomizationTrigger(BaseTrigger):
    """Poll a model customization job until it ends, then fire one event.

    :param job_identifier: job name or ARN.
    :param poll_interval: seconds between describes while the job runs.
    :param max_wait: give up (event status "timeout") this many seconds after ``started_at``; None waits
        as long as the job runs.
    :param stop_job_on_kill: stop the job when a user kills the deferred task (mark failed, clear).
    :param started_at: epoch seconds the wait began; kept across triggerer restarts so max_wait holds.
    """

    def __init__(
        self,
        job_identifier: str,
        poll_interval: float = 60,
        max_wait: float | None = None,
        stop_job_on_kill: bool = True,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        started_at: float | None = None,
    ) -> None:
        super().__init__()
        self.job_identifier = job_identifier
        self.poll_interval = poll_interval
        self.max_wait = max_wait
        self.stop_job_on_kill = stop_job_on_kill
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config
        self.started_at = started_at if started_at is not None else time.time()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_identifier": self.job_identifier,
                "poll_interval": self.poll_interval,
                "max_wait": self.max_wait,
                "stop_job_on_kill": self.stop_job_on_kill,
                "aws_conn_id": self.aws_conn_id,
                "region_name": self.region_name,
                "verify": self.verify,
                "botocore_config": self.botocore_config,
                "started_at": self.started_at,
            },
        )

    def hook(self) -> Any:
        from bedrock_provider.hooks.customization import BedrockCustomizationHook

        return BedrockCustomizationHook(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=self._botocore_config(),
        )

    def _botocore_config(self) -> Any:
        if not self.botocore_config:
            return None
        from botocore.config import Config

        return Config(**self.botocore_config)

    def _remaining(self) -> float | None:
        if self.max_wait is None:
            return None
        return self.max_wait - (time.time() - self.started_at)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # The lease keeps the shared client open for the whole wait instead of per describe.
        hook = self.hook()
        async with hook.async_client():
            async for event in self._poll(hook):
                yield event

    async def _poll(self, hook: Any) -> AsyncIterator[TriggerEvent]:
        from bedrock_provider.hooks.customization import error_message, is_not_found, is_transient_error

        failures = 0
        last_progress = None
        description: dict[str, Any] | None = None
        while True:
            try:
                description = await hook.describe_job_async(self.job_identifier)
                failures = 0
            except Exception as error:
                if is_not_found(error):
                    yield TriggerEvent(
                        job_event(
                            states.ERROR,
                            description,
                            self.job_identifier,
                            message=f"Job {self.job_identifier} not found: {error_message(error)}",
                        )
                    )
                    return
                if not is_transient_error(error):
                    yield TriggerEvent(
                        job_event(
                            states.ERROR,
                            description,
                            self.job_identifier,
                            message=f"Describing job {self.job_identifier} failed: {error_message(error)}",
                        )
                    )
                    return
                failures += 1
                delay = backoff_delay(failures, base=min(self.poll_interval, 5.0), cap=MAX_BACKOFF_SECONDS)
                self.log.warning(
                    "Describing job %s failed (%s, attempt %d); retrying in %.1f s",
                    self.job_identifier,
                    error_message(error),
                    failures,
                    delay,
                )
                if await self._sleep_or_time_out(delay):
                    yield TriggerEvent(self._timeout_event(description))
                    return
                continue

            status = str(description.get("status"))
            progress = states.describe_progress(description)
            if progress != last_progress:
                self.log.info(
                    "Job %s: %s after %.0f s", self.job_identifier, progress, time.time() - self.started_at
                )
                last_progress = progress
            if states.is_terminal(status):
                yield TriggerEvent(job_event(status, description, self.job_identifier))
                return
            if await self._sleep_or_time_out(self.poll_interval):
                yield TriggerEvent(self._timeout_event(description))
                return

    async def _sleep_or_time_out(self, seconds: float) -> bool:
        """Sleep, but not past the deadline; True when the deadline has passed."""
        remaining = self._remaining()
        if remaining is not None and remaining <= 0:
            return True
        await asyncio.sleep(seconds if remaining is None else min(seconds, remaining))
        remaining = self._remaining()
        return remaining is not None and remaining <= 0

    def _timeout_event(self, description: dict[str, Any] | None) -> dict[str, Any]:
        return job_event(
            states.TIMEOUT,
            description,
            self.job_identifier,
            message=(
                f"Job {self.job_identifier} still {(description or {}).get('status', 'unknown')} after "
                f"max_wait={self.max_wait} s; the job keeps running"
            ),
        )

    async def on_kill(self) -> None:
        """Stop the job when a user kills the deferred task (Airflow 3.3 calls this)."""
        if not self.stop_job_on_kill:
            self.log.info("Task killed; job %s left running (stop_job_on_kill=False)", self.job_identifier)
            return
        stopped = await self.hook().stop_job_async(self.job_identifier)
        if stopped:
            self.log.info("Task killed; stop requested for job %s", self.job_identifier)
        else:
            self.log.info("Task killed; job %s had already ended, nothing to stop", self.job_identifier)
