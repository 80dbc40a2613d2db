"""Waiting for a submitted customization job and ending the task on its outcome.

The wait blocks in the worker or is deferred to the triggerer (BedrockModelCustomizationTrigger);
``execute_complete`` reads the trigger's event back. A completed job records its lineage and returns its
summary; any other end pushes the summary (downstream tasks and the UI still see what happened) and fails
the task. The worker's ``on_kill`` stops the job only for the user actions in ``stop_job_on_kill``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from bedrock_provider.core.lineage import customization_lineage
from bedrock_provider.core.request.results import job_result
from bedrock_provider.core.waiting import states
from bedrock_provider.core.waiting.kill import KillRule
from bedrock_provider.links import BedrockCustomModelLink
from bedrock_provider.operators.base import (
    customization_trigger,
    failure_text,
    trigger_event,
    wait_ended_early,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_provider.hooks.customization import SubmittedJob
    from bedrock_provider.operators.costs import CostEstimateMixin as _OperatorBase
else:
    _OperatorBase = object


class CustomizationWaitMixin(_OperatorBase):
    """For an operator on BedrockBaseOperator with CostEstimateMixin (the estimate kept for the result)
    that sets the wait's parameters below and ``job_arn``."""

    deferrable: bool
    poll_interval: float
    max_wait: float | None
    max_failure_duration: float | None
    progress_interval: float | None
    stop_job_on_kill: bool | Iterable[str]
    job_arn: str | None
    _task_instance: Any

    def result_value(self, result: dict[str, Any]) -> Any:
        """What the task returns (its XCom): the job's summary dict."""
        return result

    def wait_for_job(
        self, context: Context, submitted: SubmittedJob, started_at: float, estimated_cost: Any
    ) -> Any:
        """The task's result once the job ended; in deferrable mode this defers and returns nothing here."""
        # The status as submitting saw it: no extra describe, whose failure would end the task
        # outside the wait's retries and deadline.
        status = submitted.status
        if not states.is_terminal(status) and self.deferrable:
            # Airflow resolves every extra link when the task defers; the model link has no ARN yet.
            BedrockCustomModelLink.persist(context, self, None)
            self.log.info(
                "Deferring: the triggerer checks job %s every %s s%s",
                submitted.job_name,
                self.poll_interval,
                f" for at most {self.max_wait} s" if self.max_wait else "",
            )
            self.defer(
                trigger=customization_trigger(
                    self, submitted.job_arn, self.poll_interval, self.max_wait, started_at
                ),
                method_name="execute_complete",
            )
        if states.is_terminal(status):
            description = self.hook.describe_job(submitted.job_arn)
        else:
            try:
                description = self.hook.wait_for_job(
                    submitted.job_arn,
                    self.poll_interval,
                    self.max_wait,
                    started_at=started_at,
                    max_failure_duration=self.max_failure_duration,
                    progress_interval=self.progress_interval,
                )
            except TimeoutError as error:
                raise AirflowException(str(error)) from error
        return self._finish(context, job_result(description, estimated_cost=estimated_cost))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        event = trigger_event(event)
        self.job_arn = event.get("job_arn")
        estimated_cost = self.stored_estimate(context)
        if wait_ended_early(event):
            BedrockCustomModelLink.persist(context, self, None)
            result = {key: event.get(key) for key in ("job_arn", "job_name", "status", "failure_message")}
            result["message"] = event.get("message")
            result["estimated_cost"] = estimated_cost
            context["ti"].xcom_push(key="return_value", value=self.result_value(result))
            raise AirflowException(failure_text(event))
        description = self.hook.describe_job(str(event["job_arn"]))
        return self._finish(context, job_result(description, estimated_cost=estimated_cost))

    def _finish(self, context: Context, result: dict[str, Any]) -> Any:
        BedrockCustomModelLink.persist(context, self, result.get("custom_model_arn"))
        if result["status"] == states.COMPLETED:
            self.record_lineage(customization_lineage(result))
            self.log.info(
                "Job %s Completed: custom model %s (%s)",
                result["job_name"],
                result["custom_model_name"],
                result["custom_model_arn"],
            )
            return self.result_value(result)
        # A failed run still tells downstream tasks (and the UI) what happened.
        context["ti"].xcom_push(key="return_value", value=self.result_value(result))
        # Said once: Airflow logs the exception's message as the task fails.
        raise AirflowException(failure_text(result))

    def on_kill(self) -> None:
        """The worker kills a blocking wait on mark-failed, mark-succeeded, clear, and on shutdown: the
        task instance's state tells which, and the job is stopped only for the actions in
        stop_job_on_kill (see bedrock_provider.core.waiting.kill)."""
        if not self.job_arn:
            return
        from bedrock_provider.triggers.user_action import act_on_kill

        rule = KillRule.of("stop_job_on_kill", self.stop_job_on_kill, "job", self.job_arn, "stop")
        job_arn = self.job_arn
        act_on_kill(rule, self._task_instance, lambda: bool(self.hook.stop_job(job_arn)), self.log)
