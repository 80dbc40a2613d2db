"""Waiting for a Bedrock resource from an operator: deferred to the triggerer, or blocking in the worker.

Every operator that waits for a deployment, a provisioned throughput or an evaluation job uses the
same steps: ``wait_for_resource`` (defer with BedrockResourceTrigger, or block through the hook's
wait), ``resource_from_event`` (what the trigger's event says, as a description), and
``kill_resource`` (the worker's on_kill, by the same rule as the trigger's: core.kill).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from bedrock_provider.core.lifecycle.resources import ResourceKind, kind_of
from bedrock_provider.core.waiting import states
from bedrock_provider.core.waiting.kill import KillRule

if TYPE_CHECKING:
    from bedrock_provider.hooks.resources import BedrockResourceHook

# The parameters of every operator that waits for what it created.
WAIT_SETTINGS = ("wait_for_completion", "deferrable", "poll_interval", "max_wait")


class ResourceWaitMixin:
    """For operators on BedrockBaseOperator (the connection) and set poll_interval, max_wait
    and deferrable."""

    poll_interval: float
    max_wait: float | None
    deferrable: bool

    @cached_property
    def resource_hook(self) -> BedrockResourceHook:
        from bedrock_provider.hooks.resources import BedrockResourceHook

        # On the task's one reading of the connection, which hook and s3_hook share.
        hook = BedrockResourceHook(**self.aws_hook_kwargs())  # type: ignore[attr-defined]
        return self._on_shared_connection(hook)  # type: ignore[attr-defined]

    def wait_for_resource(
        self,
        kind: ResourceKind,
        arn: str,
        started_at: float,
        *,
        kill_parameter: str,
        method_name: str = "execute_complete",
        resume_kwargs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The resource's final description; in deferrable mode this defers and returns nothing here.

        ``kill_parameter`` names the operator's on-kill setting (e.g. "delete_on_kill"), handed to the
        trigger; ``resume_kwargs`` reach ``method_name`` with the event.
        """
        description = self.resource_hook.describe(kind, arn)
        if kind.is_terminal(kind.status_of(description)):
            return description
        if self.deferrable:
            from bedrock_provider.triggers.resource import BedrockResourceTrigger

            self.log.info(  # type: ignore[attr-defined]
                "Deferring: the triggerer checks %s %s every %s s", kind.label, arn, self.poll_interval
            )
            self.defer(  # type: ignore[attr-defined]
                trigger=BedrockResourceTrigger(
                    kind=kind.key,
                    identifier=arn,
                    poll_interval=self.poll_interval,
                    max_wait=self.max_wait,
                    cleanup_on_kill=getattr(self, kill_parameter),
                    kill_parameter=kill_parameter,
                    started_at=started_at,
                    **self.aws_trigger_kwargs(),  # type: ignore[attr-defined]
                ),
                method_name=method_name,
                kwargs=resume_kwargs,
            )
        self.log.info(  # type: ignore[attr-defined]
            "Waiting for %s %s: checking every %s s", kind.label, arn, self.poll_interval
        )
        try:
            return self.resource_hook.wait(
                kind, arn, self.poll_interval, self.max_wait, started_at=started_at
            )
        except TimeoutError as error:
            raise AirflowException(str(error)) from error

    def resource_from_event(self, event: dict[str, Any] | None) -> tuple[ResourceKind, dict[str, Any]]:
        """The kind and current description of the resource a trigger event is about."""
        if not event or "status" not in event or "kind" not in event or not event.get("arn"):
            raise AirflowException(f"The trigger returned no usable event: {event!r}")
        kind = kind_of(str(event["kind"]))
        if event["status"] in (states.TIMEOUT, states.ERROR):
            raise AirflowException(str(event.get("message") or f"Waiting for {kind.label} ended: {event}"))
        return kind, self.resource_hook.describe(kind, str(event["arn"]))

    def kill_resource(self, kind: ResourceKind, arn: str | None, kill_parameter: str) -> None:
        """The worker's on_kill (a blocking wait): stop or delete the resource, if not ready yet, only
        for the user actions ``kill_parameter`` names, as the trigger's on_kill does."""
        if not arn or kind.cleanup_action is None:
            return
        from bedrock_provider.triggers.user_action import act_on_kill

        rule = KillRule.of(
            kill_parameter, getattr(self, kill_parameter), kind.label, arn, kind.cleanup_action
        )
        act_on_kill(
            rule,
            getattr(self, "_task_instance", None),
            lambda: self.resource_hook.cleanup(kind, arn),
            self.log,  # type: ignore[attr-defined]
        )
