"""BedrockResourceTrigger: waits in the triggerer for any Bedrock resource to become ready or fail.

One trigger for every kind in ``core.resources.KINDS`` (custom model deployments, provisioned
throughput, evaluation jobs, ...): the kind says which describe to call and what its statuses mean,
so there is no trigger per resource. It describes the resource every ``poll_interval`` through the
process-wide shared client, backs off with jitter on throttling and server errors, keeps its
deadline across triggerer restarts (``started_at`` is serialized), and fires one event:
``{"kind", "status", "arn", "name", "failure_message", "ready"}`` (status is the resource's, or
"timeout" / "error").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from airflow.triggers.base import TriggerEvent

from bedrock_provider.core.lifecycle.resources import ResourceWatch, kind_of
from bedrock_provider.core.waiting.kill import KillRule, serializable_stop_actions
from bedrock_provider.triggers.base import BedrockAwsTrigger


class BedrockResourceTrigger(BedrockAwsTrigger):
    """Wait for a Bedrock resource of any kind, then fire one event.

    :param kind: a key of ``bedrock_provider.core.lifecycle.resources.KINDS``, e.g. "custom_model_deployment".
    :param identifier: the resource's ARN (or name, where its Get call takes one).
    :param poll_interval: seconds between describes.
    :param max_wait: give up (status "timeout") this many seconds after ``started_at``.
    :param cleanup_on_kill: on which user actions on the deferred task the resource, if not ready yet,
        is deleted (deployments, provisioned throughput) or stopped (jobs): True on mark-failed only (a
        cleared task's next try adopts it; mark-succeeded leaves it), False never, or a set of
        "mark_failed", "clear", "mark_success" (bedrock_provider.core.waiting.kill).
    :param kill_parameter: the operator parameter cleanup_on_kill came from, named in the kill's log
        (e.g. "delete_on_kill").
    :param started_at: epoch seconds the wait began, kept across triggerer restarts.
    """

    aws_hook_class = "bedrock_provider.hooks.resources.BedrockResourceHook"

    def __init__(
        self,
        kind: str,
        identifier: str,
        poll_interval: float = 30,
        max_wait: float | None = None,
        cleanup_on_kill: bool | Iterable[str] = True,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        started_at: float | None = None,
        kill_parameter: str = "cleanup_on_kill",
    ) -> None:
        kind_of(kind)
        super().__init__(
            aws_conn_id=aws_conn_id, region_name=region_name, verify=verify, botocore_config=botocore_config
        )
        self.kind = kind
        self.identifier = identifier
        self.poll_interval = poll_interval
        self.max_wait = max_wait
        self.cleanup_on_kill = serializable_stop_actions(cleanup_on_kill, kill_parameter)
        self.started_at = started_at if started_at is not None else time.time()
        self.kill_parameter = kill_parameter

    async def run(self) -> AsyncIterator[TriggerEvent]:
        watch = ResourceWatch(kind_of(self.kind), self.identifier, self.started_at, self.max_wait)
        await self.warm_up_for_kill()
        hook = self.hook()
        # The lease keeps the shared client open for the whole wait instead of per describe.
        async with hook.async_client():
            while True:
                event, delay = await self._describe(hook, watch)
                if event is None and watch.expired():
                    event = watch.timeout_event()
                if event is not None:
                    yield TriggerEvent(event)
                    return
                await asyncio.sleep(delay)

    async def _describe(self, hook: Any, watch: ResourceWatch) -> tuple[dict[str, Any] | None, float]:
        """Describe the resource once: the event to end with (it is ready or failed, or cannot be
        described), and the seconds until the next describe (backing off after a transient failure)."""
        from bedrock_provider.hooks.errors import error_message, is_not_found, is_transient_error

        kind = watch.kind
        try:
            description = await hook.describe_async(kind, self.identifier)
        except Exception as error:
            if is_not_found(error) or not is_transient_error(error):
                what = "not found" if is_not_found(error) else "could not be described"
                message = f"The {kind.label} {self.identifier} {what}: {error_message(error)}"
                return watch.error_event(message), 0.0
            delay = watch.next_poll(self.poll_interval, failed=True)
            self.log.warning(
                "Describing %s %s failed (%s, attempt %d); retrying in %.1f s",
                kind.label,
                self.identifier,
                error_message(error),
                watch.failures,
                delay,
            )
            return None, delay
        delay = watch.next_poll(self.poll_interval, failed=False)
        event, changed = watch.on_description(description)
        if changed is not None:
            self.log.info("%s", watch.progress(changed, time.time()))
        return event, delay

    def kill_rule(self) -> KillRule:
        kind = kind_of(self.kind)
        # A kind with nothing to stop or delete is never acted on.
        actions = self.cleanup_on_kill if kind.cleanup_action else False
        return KillRule.of(
            self.kill_parameter, actions, kind.label, self.identifier, str(kind.cleanup_action)
        )

    async def act_on_kill(self) -> bool:
        """Delete or stop the resource if it is not ready yet (a ready one is left as it is)."""
        return bool(await self.hook().cleanup_async(kind_of(self.kind), self.identifier))
