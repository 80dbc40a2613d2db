"""BedrockModelCustomizationSensor: wait for a customization job submitted elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from bedrock_provider.core import states
from bedrock_provider.core.results import job_result, json_safe
from bedrock_provider.core.watch import DEFAULT_SAFETY_POLL_INTERVAL
from bedrock_provider.links import BedrockCustomizationJobLink, BedrockCustomModelLink
from bedrock_provider.operators.base import AWS_TEMPLATE_FIELDS, BedrockAwsMixin
from bedrock_provider.operators.customization import check_wait_settings, failure_text

if TYPE_CHECKING:
    from airflow.sdk import Context


class BedrockModelCustomizationSensor(BedrockAwsMixin, BaseSensorOperator):
    """Wait until a model customization job ends; fail with Bedrock's failureMessage if it does not complete.

    :param job_identifier: job name or ARN (templated, e.g. from another task's XCom).
    :param poke_interval: seconds between checks (also the trigger's poll interval when deferrable).
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param mode: "poke" or "reschedule" when not deferrable.
    :param events_queue_url: in deferrable mode, an SQS queue of Bedrock's job state change events
        to wake on (see the operator and docs/push-mode.md); ``safety_poll_interval`` as there.
    :param stop_job_on_kill: in deferrable mode, stop the job when a user kills the task. Off by default:
        the sensor watches a job it did not submit.

    Returns (XCom) the job's description, with datetimes as ISO strings.
    """

    template_fields: Sequence[str] = ("job_identifier", "events_queue_url", *AWS_TEMPLATE_FIELDS)
    ui_color = "#e8f4fa"
    operator_extra_links = (BedrockCustomizationJobLink(), BedrockCustomModelLink())

    def __init__(
        self,
        *,
        job_identifier: str,
        poke_interval: float = 60,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        stop_job_on_kill: bool = False,
        events_queue_url: str | None = None,
        safety_poll_interval: float = DEFAULT_SAFETY_POLL_INTERVAL,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        check_wait_settings(self.poke_interval, None, "poke_interval")
        self.job_identifier = job_identifier
        self.deferrable = deferrable
        self.stop_job_on_kill = stop_job_on_kill
        self.events_queue_url = events_queue_url
        self.safety_poll_interval = safety_poll_interval
        self._init_aws(aws_conn_id, region_name, verify, botocore_config)

    def _check_identifier(self) -> str:
        identifier = self.job_identifier
        if not isinstance(identifier, str) or not identifier.strip():
            raise ValueError(
                f"job_identifier={identifier!r}: must be a job name or job ARN (did a template render to "
                "nothing?)"
            )
        return identifier.strip()

    def _done(self, context: Context, description: dict[str, Any]) -> PokeReturnValue:
        status = str(description.get("status"))
        BedrockCustomizationJobLink.persist(context, description.get("jobArn"))
        if status in states.SUCCESS_STATES:
            BedrockCustomModelLink.persist(context, description.get("outputModelArn"))
            return PokeReturnValue(is_done=True, xcom_value=json_safe(description))
        if status in states.FAILURE_STATES:
            raise AirflowFailException(failure_text(job_result(description)))
        self.log.info("Job %s: %s", self.job_identifier, states.describe_progress(description))
        return PokeReturnValue(is_done=False)

    def poke(self, context: Context) -> PokeReturnValue:
        from bedrock_provider.hooks.customization import is_transient_error

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
        from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger

        # Airflow resolves every extra link when the task defers; the model link has no ARN yet.
        BedrockCustomModelLink.persist(context, None)

        timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else self.timeout
        self.defer(
            trigger=BedrockModelCustomizationTrigger(
                job_identifier=self._check_identifier(),
                poll_interval=float(self.poke_interval),
                max_wait=float(timeout) if timeout else None,
                stop_job_on_kill=self.stop_job_on_kill,
                events_queue_url=self.events_queue_url or None,
                safety_poll_interval=self.safety_poll_interval,
                **self.aws_trigger_kwargs(),
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        if not event or "status" not in event:
            raise AirflowException(f"The trigger returned no usable event: {event!r}")
        if event["status"] in (states.TIMEOUT, states.ERROR):
            raise AirflowException(failure_text(event))
        description = self.hook.describe_job(str(event.get("job_arn") or self.job_identifier))
        result = self._done(context, description)
        return result.xcom_value
