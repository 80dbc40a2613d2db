"""BedrockModelCustomizationSensor: wait for a customization job submitted elsewhere."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import PokeReturnValue
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout

from bedrock_provider.core.lineage import customization_lineage
from bedrock_provider.core.names import renders_none
from bedrock_provider.core.request.amazon_compat import (
    AMAZON_POKE_INTERVAL,
    check_states,
    max_wait_for,
    region_name_for,
)
from bedrock_provider.core.request.results import job_result, json_safe
from bedrock_provider.core.waiting import states
from bedrock_provider.core.waiting.failure_run import DEFAULT_MAX_FAILURE_DURATION
from bedrock_provider.core.waiting.kill import stop_actions
from bedrock_provider.core.waiting.push_mode import DEFAULT_SAFETY_POLL_INTERVAL
from bedrock_provider.core.waiting.settings import DEFAULT_PROGRESS_INTERVAL, check_wait_settings
from bedrock_provider.core.waiting.watch import Watch
from bedrock_provider.links import BedrockCustomizationJobLink, BedrockCustomModelLink
from bedrock_provider.operators.base import (
    DEFERRABLE_DEFAULT,
    BedrockBaseSensor,
    aws_template_fields,
    customization_trigger,
    failure_text,
    trigger_event,
)

if TYPE_CHECKING:
    from airflow.sdk import Context


class BedrockModelCustomizationSensor(BedrockBaseSensor):
    """Wait until a model customization job ends; fail with Bedrock's failureMessage if it does not complete.

    :param job_identifier: job name or ARN (templated, e.g. from another task's XCom).
    :param poke_interval: seconds between checks (also the trigger's poll interval when deferrable).
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param mode: "poke" or "reschedule" when not deferrable.
    :param events_queue_url: in deferrable mode, an SQS queue of Bedrock's job state change events
        to wake on (see the operator and docs/push-mode.md); ``safety_poll_interval`` as there.
    :param max_failure_duration: as the operator's: end the wait after this many seconds of nothing
        but failing calls (the connection is read again every few failures meanwhile).
    :param stop_job_on_kill: in deferrable mode, stop the job on these user actions (True: mark-failed;
        or a set of "mark_failed", "clear", "mark_success"; see the operator). Off by default:
        the sensor watches a job it did not submit.
    :param progress_interval: while the job's progress does not change, log it again once this many
        seconds passed (default 600; None: only changes). In poke and deferrable mode; a
        reschedule-mode sensor starts afresh at each poke and logs the progress each time.

    Returns (XCom) the job's description, with datetimes as ISO strings.
    """

    template_fields: Sequence[str] = aws_template_fields("job_identifier", "events_queue_url")
    ui_color = "#e8f4fa"
    operator_extra_links = (BedrockCustomizationJobLink(), BedrockCustomModelLink())
    # The statuses the sensor succeeds and fails on; any other end (e.g. Stopped when it is not listed
    # here) fails it too, and any other status waits.
    SUCCESS_STATES: Collection[str] = states.SUCCESS_STATES
    FAILURE_STATES: Collection[str] = states.FAILURE_STATES

    def __init__(
        self,
        *,
        job_identifier: str,
        poke_interval: float = 60,
        deferrable: bool = DEFERRABLE_DEFAULT,
        stop_job_on_kill: bool | Iterable[str] = False,
        events_queue_url: str | None = None,
        safety_poll_interval: float = DEFAULT_SAFETY_POLL_INTERVAL,
        max_failure_duration: float | None = DEFAULT_MAX_FAILURE_DURATION,
        progress_interval: float | None = DEFAULT_PROGRESS_INTERVAL,
        **kwargs: Any,
    ) -> None:
        # Checked before BaseSensorOperator sees them: it turns an infinite interval into an
        # OverflowError and lets nan through.
        timeout = kwargs.get("timeout", 60 * 60 * 24 * 7)
        check_wait_settings(
            poke_interval.total_seconds() if isinstance(poke_interval, timedelta) else poke_interval,
            None,
            "poke_interval",
            timeout=timeout.total_seconds() if isinstance(timeout, timedelta) else timeout,
            safety_poll_interval=safety_poll_interval,
            max_failure_duration=max_failure_duration,
            progress_interval=progress_interval,
        )
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.job_identifier = job_identifier
        self.deferrable = deferrable
        stop_actions(stop_job_on_kill)  # refused here, where the DAG is parsed
        self.stop_job_on_kill = stop_job_on_kill
        self.events_queue_url = events_queue_url
        self.safety_poll_interval = safety_poll_interval
        self.max_failure_duration = max_failure_duration
        self.progress_interval = progress_interval
        self._progress: Watch | None = None

    def _check_identifier(self) -> str:
        identifier = self.job_identifier
        if renders_none(identifier):
            raise ValueError(
                f"job_identifier={identifier!r}: is None: a template rendered None (e.g. an XCom the "
                "upstream task did not push); give a job name or job ARN. Nothing was sent to AWS."
            )
        if not isinstance(identifier, str) or not identifier.strip():
            raise ValueError(
                f"job_identifier={identifier!r}: must be a job name or job ARN (did a template render to "
                "nothing?)"
            )
        return identifier.strip()

    def _done(self, context: Context, description: dict[str, Any]) -> PokeReturnValue:
        status = str(description.get("status"))
        BedrockCustomizationJobLink.persist(context, self, description.get("jobArn"))
        if status in self.SUCCESS_STATES:
            BedrockCustomModelLink.persist(context, self, description.get("outputModelArn"))
            self.record_lineage(customization_lineage(job_result(description)))
            return PokeReturnValue(is_done=True, xcom_value=self.result_value(description))
        if status in self.FAILURE_STATES or states.is_terminal(status):
            raise AirflowFailException(self.failure_message(description))
        self._log_progress(description)
        return PokeReturnValue(is_done=False)

    def _log_progress(self, description: dict[str, Any]) -> None:
        """A poke logs the job's progress when it changed, or when progress_interval passed since."""
        now = time.time()
        if self._progress is None:
            # The job's age counts from its creation (GetModelCustomizationJob creationTime), not from
            # this sensor's first poke: the sensor may watch a job submitted hours ago.
            created = description.get("creationTime")
            started_at = created.timestamp() if isinstance(created, datetime) else now
            self._progress = Watch(
                self.job_identifier, started_at=started_at, progress_interval=self.progress_interval
            )
        line = self._progress.note_progress(states.describe_progress(description), now)
        if line is not None:
            self.log.info("%s", states.progress_line(line, now - self._progress.started_at))

    def result_value(self, description: dict[str, Any]) -> Any:
        """What the sensor returns (its XCom): the job's description."""
        return json_safe(description)

    def failure_message(self, description: dict[str, Any]) -> str:
        return failure_text(job_result(description))

    def poke(self, context: Context) -> PokeReturnValue:
        from bedrock_provider.hooks.errors import is_transient_error

        identifier = self._check_identifier()
        try:
            description = self.hook.describe_job(identifier)
        except Exception as error:
            if is_transient_error(error):
                self.log.warning("Describing job %s failed (%s); checking again next poke", identifier, error)
                return PokeReturnValue(is_done=False)
            raise
        return self._done(context, description)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        result = self.poke(context)
        if result.is_done:
            return result.xcom_value
        # Airflow resolves every extra link when the task defers; the model link has no ARN yet.
        BedrockCustomModelLink.persist(context, self, None)

        timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else self.timeout
        self.defer(
            trigger=customization_trigger(
                self, self._check_identifier(), float(self.poke_interval), float(timeout) if timeout else None
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        event = trigger_event(event)
        if event["status"] == states.TIMEOUT:
            # Final, as in poke and reschedule mode: a retry would wait the whole timeout again.
            raise AirflowSensorTimeout(failure_text(event))
        if event["status"] == states.ERROR:
            raise AirflowException(failure_text(event))
        description = self.hook.describe_job(str(event.get("job_arn") or self.job_identifier))
        result = self._done(context, description)
        return result.xcom_value


class BedrockCustomizeModelCompletedSensor(BedrockModelCustomizationSensor):
    """The Amazon provider's BedrockCustomizeModelCompletedSensor, same parameters, on this provider's
    waiting (shared polling in the triggerer, backoff on throttling, Bedrock's failureMessage).

    :param job_name: the job's name (or ARN).
    :param poke_interval: seconds between checks (also the trigger's poll interval).
    :param max_retries: when given, the wait gives up after ``max_retries * poke_interval`` seconds in
        every mode (Amazon's counts only when deferrable). Not given: the sensor's ``timeout`` holds.
    :param deferrable: wait in the triggerer. Defaults to ``[operators] default_deferrable``, as there.
    :param success_states: statuses to succeed on (default ``SUCCESS_STATES``: Completed).
    :param failure_states: statuses to fail on at once (default ``FAILURE_STATES``: Failed, Stopping,
        Stopped). A job that ends in a status of neither list fails the sensor too.
    :param region: the Amazon provider's deprecated name of ``region_name``, read as it (see the
        operator).

    Returns nothing, as the Amazon sensor does in poke mode (the job ARN is pushed under the console
    link's key).
    """

    INTERMEDIATE_STATES: tuple[str, ...] = (states.IN_PROGRESS,)
    FAILURE_STATES: Collection[str] = (states.FAILED, states.STOPPING, states.STOPPED)
    SUCCESS_STATES: Collection[str] = (states.COMPLETED,)
    FAILURE_MESSAGE = "Bedrock model customization job sensor failed."

    template_fields: Sequence[str] = aws_template_fields("job_name", "events_queue_url")

    def __init__(
        self,
        *,
        job_name: str,
        max_retries: int | None = None,
        poke_interval: float = AMAZON_POKE_INTERVAL,
        success_states: Collection[str] | None = None,
        failure_states: Collection[str] | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        region: str | None = None,
        **kwargs: Any,
    ) -> None:
        max_wait = max_wait_for(poke_interval, max_retries, "poke_interval", "max_retries")
        kwargs["region_name"] = region_name_for(kwargs.get("region_name"), region)
        super().__init__(
            job_identifier=job_name, poke_interval=poke_interval, deferrable=deferrable, **kwargs
        )
        self.max_retries = max_retries
        if max_wait is not None:
            timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else self.timeout
            self.timeout = min(float(timeout), max_wait)
        if success_states is not None:
            self.SUCCESS_STATES = check_states(success_states, "success_states")
        if failure_states is not None:
            self.FAILURE_STATES = check_states(failure_states, "failure_states")
        overlap = set(self.SUCCESS_STATES) & set(self.FAILURE_STATES)
        if overlap:
            raise ValueError(
                f"success_states={sorted(self.SUCCESS_STATES)} and "
                f"failure_states={sorted(self.FAILURE_STATES)} share {sorted(overlap)}; a status can only "
                "be one of them"
            )

    @property
    def job_identifier(self) -> str:
        return self.job_name

    @job_identifier.setter
    def job_identifier(self, value: str) -> None:
        self.job_name = value

    def result_value(self, description: dict[str, Any]) -> Any:
        return None

    def failure_message(self, description: dict[str, Any]) -> str:
        return f"{self.FAILURE_MESSAGE} {super().failure_message(description)}"
