"""BedrockModelCustomizationTrigger: waits for a customization job in the triggerer.

In Airflow 3.3's triggerer, every trigger waiting through the same connection and poll interval
joins one shared stream: a single loop lists the running jobs (ListModelCustomizationJobs,
statusEquals=InProgress, every page) once per interval and broadcasts the snapshot; each trigger
describes its job only when the job is missing from a snapshot, which is when it may have ended.
With ``events_queue_url``, the shared stream is an SQS receive loop fed by an EventBridge rule on
Bedrock's job state-change events, with a list every ``safety_poll_interval`` in case an event is
lost. Where shared streams do not exist (Airflow before 3.3) and in ``dag.test()``, which calls
``run()``, the trigger describes its own job every ``poll_interval`` through the process-wide
shared client.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
import time
from collections.abc import AsyncIterator, Hashable, Iterable
from contextlib import AsyncExitStack
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from bedrock_provider.core.waiting import push_mode, states, watch
from bedrock_provider.core.waiting.deadline import TIMED_OUT, sleep_or_time_out, until_deadline
from bedrock_provider.core.waiting.failure_run import DEFAULT_MAX_FAILURE_DURATION, FailureRun
from bedrock_provider.core.waiting.job_events import error_event
from bedrock_provider.core.waiting.kill import KillRule, serializable_stop_actions
from bedrock_provider.core.waiting.push_mode import DEFAULT_SAFETY_POLL_INTERVAL
from bedrock_provider.core.waiting.retry import retry_delay
from bedrock_provider.core.waiting.settings import DEFAULT_PROGRESS_INTERVAL
from bedrock_provider.core.waiting.snapshots import ListFailure, Snapshot
from bedrock_provider.core.waiting.watch import Step, Watch
from bedrock_provider.triggers.base import BedrockAwsTrigger, hook_kwargs
from bedrock_provider.triggers.hook_lease import HookLease
from bedrock_provider.triggers.shared_list import SharedLister, list_loop

# The receive loop runs once per group, outside any trigger, so it logs under the module.
log = logging.getLogger(__name__)


class BedrockModelCustomizationTrigger(BedrockAwsTrigger, BaseEventTrigger):
    """Wait for a model customization job to end, then fire one event.

    :param job_identifier: job name or ARN.
    :param poll_interval: seconds between checks while the job runs (one shared list per interval
        for all the triggers of a triggerer that use the same connection and interval).
    :param max_wait: give up (event status "timeout") this many seconds after ``started_at``; None waits
        as long as the job runs.
    :param stop_job_on_kill: when a user acts on the deferred task: True stops the job on mark-failed
        only (a cleared task's next try adopts the job; mark-succeeded leaves it to finish), False
        never stops it, or a set of "mark_failed", "clear", "mark_success" to stop on.
    :param started_at: epoch seconds the wait began; kept across triggerer restarts so max_wait holds.
    :param events_queue_url: SQS queue that an EventBridge rule feeds with Bedrock's "Model
        Customization Job State Change" events (see docs/push-mode.md). The trigger then learns of the
        job's end from its event within a second or two, and lists as a safety net only every
        ``safety_poll_interval``. Needs Airflow 3.3's shared streams; elsewhere the trigger polls.
    :param safety_poll_interval: seconds between safety lists in push mode.
    :param max_failure_duration: when every call about the job fails (an endpoint down, credentials
        refused) for this many seconds, end the wait with an "error" event; the connection is read
        again every few failures meanwhile, so a fixed endpoint or rotated credentials are picked
        up. None retries for as long as the wait lasts.
    :param progress_interval: while the job's progress does not change, log it again (status, time
        since submission, stages) once this many seconds passed, at the next check; None logs only
        changes.
    """

    # A deferred task's trigger, not an asset watcher: it may run on the task's triggerer queue.
    supports_triggerer_queue = True
    aws_hook_class = "bedrock_provider.hooks.customization.BedrockCustomizationHook"

    def __init__(
        self,
        job_identifier: str,
        poll_interval: float = 60,
        max_wait: float | None = None,
        stop_job_on_kill: bool | Iterable[str] = True,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        started_at: float | None = None,
        events_queue_url: str | None = None,
        safety_poll_interval: float = DEFAULT_SAFETY_POLL_INTERVAL,
        max_failure_duration: float | None = DEFAULT_MAX_FAILURE_DURATION,
        progress_interval: float | None = DEFAULT_PROGRESS_INTERVAL,
    ) -> None:
        super().__init__(
            aws_conn_id=aws_conn_id, region_name=region_name, verify=verify, botocore_config=botocore_config
        )
        self.job_identifier = job_identifier
        self.poll_interval = poll_interval
        self.max_wait = max_wait
        self.stop_job_on_kill = serializable_stop_actions(stop_job_on_kill)
        self.started_at = started_at if started_at is not None else time.time()
        self.events_queue_url = events_queue_url or None
        self.safety_poll_interval = safety_poll_interval
        self.max_failure_duration = max_failure_duration
        self.progress_interval = progress_interval

    @classmethod
    def make_queue_hook(cls, kwargs: dict[str, Any]) -> Any:
        from bedrock_provider.hooks.events_queue import EventsQueueHook

        return EventsQueueHook(**hook_kwargs(kwargs))

    # -- shared streams (Airflow 3.3's triggerer) -------------------------------------------------

    def shared_stream_key(self) -> Hashable | None:
        """Triggers share a loop when they reach Bedrock the same way and want the same cadence.

        The job is not part of the key: one list answers for every running job. In push mode the
        queue and the safety interval are, since the group's loop receives from that queue.
        """
        base = ("bedrock-customization", *self.connection_key())
        if self.events_queue_url:
            return (*base, "push", self.events_queue_url, float(self.safety_poll_interval))
        return (*base, "poll", float(self.poll_interval))

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        """One loop per group, yielding forever: a Snapshot every interval, and in push mode
        StateChanges whenever the queue brings events for jobs this process watches.

        Errors never end it, so they never fail the waiting tasks: throttling and connection
        failures back off with jitter; a refused list turns into "unknown" snapshots that make each
        trigger describe its own job.
        """
        await load_hook_modules()
        if kwargs.get("events_queue_url"):
            watchers = push_mode.watchers_for(cls(**kwargs).shared_stream_key())
            async for item in _receive_loop(cls, kwargs, watchers):
                yield item
        else:
            async for item in list_loop(cls.make_hook(kwargs), float(kwargs["poll_interval"])):
                yield item

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        await self.warm_up_for_kill()
        state = self._watch()
        failures = FailureRun(self.max_failure_duration)
        await load_hook_modules()
        lease = HookLease(self.hook())
        watchers = push_mode.watchers_for(self.shared_stream_key()) if self.events_queue_url else None
        if watchers is not None:
            watchers.add(self.job_identifier)
        try:
            await lease.open()
            if watchers is not None:
                # An event sent before this trigger subscribed went to nobody: one describe now
                # covers a job that ended while the task was deferring or the triggerer restarting.
                event = await self._describe_between_polls(lease, state, failures)
                if event is not None:
                    yield TriggerEvent(event)
                    return
            async for item in until_deadline(shared_stream, state):
                if item is TIMED_OUT:
                    yield TriggerEvent(state.timeout_event())
                    return
                if isinstance(item, ListFailure):
                    if failures.outlasted_by(item.since, item.count, item.last_error):
                        message = failures.message(self.job_identifier)
                        yield TriggerEvent(error_event(self.job_identifier, state.description, message))
                        return
                    continue
                if isinstance(item, Snapshot):
                    step, progress = state.on_snapshot(item)
                elif isinstance(item, push_mode.StateChanges):
                    step, progress = state.on_state_changes(item)
                else:
                    continue
                if progress is not None:
                    self._log_progress(state, progress)
                if step is Step.DESCRIBE:
                    event = await self._describe_between_polls(lease, state, failures)
                    if event is not None:
                        yield TriggerEvent(event)
                        return
                if state.expired():
                    yield TriggerEvent(state.timeout_event())
                    return
        finally:
            await lease.close()
            if watchers is not None:
                watchers.remove(self.job_identifier)

    # -- standalone (dag.test, Airflow before 3.3) ------------------------------------------------

    async def run(self) -> AsyncIterator[TriggerEvent]:
        if self.events_queue_url:
            self.log.info(
                "Push mode needs Airflow 3.3's shared trigger streams; checking job %s every %s s instead",
                self.job_identifier,
                self.poll_interval,
            )
        await self.warm_up_for_kill()
        state = self._watch()
        failures = FailureRun(self.max_failure_duration)
        await load_hook_modules()
        lease = HookLease(self.hook())
        try:
            # The lease keeps the shared client open for the whole wait instead of per describe.
            await lease.open()
            while True:
                event, failure = await self._describe(lease.hook, state)
                if failure is None:
                    failures.succeeded()
                    delay = state.next_poll(self.poll_interval, failed=False)
                else:
                    event = await self._describe_failed(lease, state, failures, failure)
                    delay = state.next_poll(self.poll_interval, failed=True)
                    if event is None:
                        self.log.warning(
                            "Describing job %s failed (%s, attempt %d); retrying in %.1f s",
                            self.job_identifier,
                            failures.last_error,
                            failures.count,
                            delay,
                        )
                if event is not None:
                    yield TriggerEvent(event)
                    return
                if await sleep_or_time_out(state, delay):
                    yield TriggerEvent(state.timeout_event())
                    return
        finally:
            await lease.close()

    # -- shared by both ----------------------------------------------------------------------------

    def _watch(self) -> Watch:
        return Watch(
            self.job_identifier,
            started_at=self.started_at,
            max_wait=self.max_wait,
            progress_interval=self.progress_interval,
        )

    async def _describe(self, hook: Any, state: Watch) -> tuple[dict[str, Any] | None, BaseException | None]:
        """Ask Bedrock about the job: the event to fire if it ended or cannot be waited for, or the
        transient error that kept us from knowing (the caller decides when to ask again)."""
        from bedrock_provider.hooks.errors import error_message, is_not_found, is_retryable_failure

        try:
            description = await hook.describe_job_async(self.job_identifier)
        except Exception as error:
            if is_not_found(error):
                message = f"Job {self.job_identifier} not found: {error_message(error)}"
                return error_event(self.job_identifier, state.description, message), None
            if not is_retryable_failure(error):
                message = f"Describing job {self.job_identifier} failed: {error_message(error)}"
                return error_event(self.job_identifier, state.description, message), None
            return None, error
        event, progress = state.on_description(description)
        if progress is not None:
            self._log_progress(state, progress)
        return event, None

    async def _describe_failed(
        self, lease: HookLease, state: Watch, failures: FailureRun, failure: BaseException
    ) -> dict[str, Any] | None:
        """Count a transient describe failure: the error event once failures have lasted
        max_failure_duration, and meanwhile a fresh read of the connection every few of them."""
        from bedrock_provider.hooks.errors import error_message

        failures.failed(error_message(failure))
        if failures.exhausted():
            return error_event(self.job_identifier, state.description, failures.message(self.job_identifier))
        if failures.should_reconnect():
            await lease.reconnect(f"{failures.count} describes failed in a row")
        return None

    async def _describe_between_polls(
        self, lease: HookLease, state: Watch, failures: FailureRun
    ) -> dict[str, Any] | None:
        """Describe from a shared stream: a failure just waits for the next snapshot or event, which
        is the shared loop's own cadence and backoff; a long run of them ends the wait."""
        event, failure = await self._describe(lease.hook, state)
        if failure is None:
            failures.succeeded()
            return event
        event = await self._describe_failed(lease, state, failures, failure)
        if event is None:
            self.log.warning(
                "Describing job %s failed (%s); asking again at the next check",
                self.job_identifier,
                failures.last_error,
            )
        return event

    def _log_progress(self, state: Watch, progress: str) -> None:
        self.log.info("%s", states.progress_line(progress, time.time() - state.started_at))

    def kill_rule(self) -> KillRule:
        return KillRule.of("stop_job_on_kill", self.stop_job_on_kill, "job", self.job_identifier, "stop")

    async def act_on_kill(self) -> bool:
        await load_hook_modules()
        return bool(await self.hook().stop_job_async(self.job_identifier))


# Importing them loads boto3, botocore and the Amazon provider: 0.3-0.7 s that, on the triggerer's
# event loop, Airflow reports as "async thread was blocked". Imported in a thread instead.
_HOOK_MODULES = ("bedrock_provider.hooks.customization", "bedrock_provider.hooks.events_queue")


async def load_hook_modules() -> None:
    """Import the hook modules off the event loop (once; later calls find them loaded)."""
    if all(name in sys.modules for name in _HOOK_MODULES):
        return
    await asyncio.to_thread(lambda: [importlib.import_module(name) for name in _HOOK_MODULES])


async def _receive_loop(
    cls: type[BedrockModelCustomizationTrigger], kwargs: dict[str, Any], watchers: push_mode.Watchers
) -> AsyncIterator[Any]:
    """Long-poll the events queue; list every safety interval in case an event is lost.

    Messages for jobs this process watches are handed over, then deleted: the trigger confirms
    with a describe, so the message is only a hint and needs no acknowledgement beyond that.
    Messages nobody here watches are left for another triggerer process, then dropped.
    """
    from bedrock_provider.hooks.errors import error_message, is_transient_error

    queue_url = str(kwargs["events_queue_url"])
    safety = float(kwargs.get("safety_poll_interval") or DEFAULT_SAFETY_POLL_INTERVAL)
    queue_hook = cls.make_queue_hook(kwargs)
    async with AsyncExitStack() as stack:
        lister = SharedLister(cls.make_hook(kwargs), safety, stack)
        queue_leased = False
        queue_failures = 0
        next_list_at = 0.0
        # State changes not broadcast yet, and when the last broadcast was (see BROADCAST_INTERVAL).
        pending: list[push_mode.StateChange] = []
        broadcast_at = 0.0
        # Deletes run beside the next receive: awaited in turn, they halved how fast a burst of
        # messages (a Stopping and a Stopped per stopped job) left the queue.
        deletes: set[asyncio.Task[None]] = set()
        stack.callback(lambda: [task.cancel() for task in deletes])

        async def delete(handles: list[str]) -> None:
            try:
                await queue_hook.delete_async(queue_url, handles)
            except Exception as error:
                # Undeleted messages come back and are delivered again: a second describe at worst.
                log.warning(
                    "Deleting %d messages from %s failed: %s", len(handles), queue_url, error_message(error)
                )

        while True:
            now = time.time()
            if now >= next_list_at:
                item, delay = await lister.tick()
                yield item
                if queue_failures:
                    delay = min(delay, watch.SAFETY_INTERVAL_WITHOUT_QUEUE)
                next_list_at = time.time() + delay
            try:
                if not queue_leased:
                    await stack.enter_async_context(queue_hook.async_client())
                    queue_leased = True
                # With changes waiting to be broadcast, only collect what is queued already.
                wait_seconds = 0 if pending else push_mode.receive_wait_seconds(time.time(), next_list_at)
                messages = await queue_hook.receive_async(queue_url, wait_seconds, watch.RELEASE_SECONDS)
            except Exception as error:
                queue_failures += 1
                delay = retry_delay(queue_failures, 1.0, cap=watch.SAFETY_INTERVAL_WITHOUT_QUEUE)
                level = logging.WARNING if is_transient_error(error) else logging.ERROR
                log.log(
                    level,
                    "Receiving from events queue %s failed (%s, attempt %d); the safety list runs every "
                    "%.0f s meanwhile, next receive in %.1f s",
                    queue_url,
                    error_message(error),
                    queue_failures,
                    min(safety, watch.SAFETY_INTERVAL_WITHOUT_QUEUE),
                    delay,
                )
                next_list_at = min(next_list_at, time.time() + watch.SAFETY_INTERVAL_WITHOUT_QUEUE)
                if pending:
                    broadcast_at = time.time()
                    yield push_mode.StateChanges.of(pending, broadcast_at)
                    pending = []
                await asyncio.sleep(delay)
                continue
            queue_failures = 0
            delivered, done = push_mode.sort_messages(messages, watchers)
            pending.extend(delivered)
            # Every broadcast wakes every wait of the group, whosever the job: one per receive made
            # thousands of waits run for each job end (what kept push mode's p99 over 1 s). The first
            # change after a quiet spell goes at once; later ones are gathered (a full receive is
            # followed at once by the next), so there is at most one broadcast per BROADCAST_INTERVAL.
            if pending and time.time() >= broadcast_at + watch.BROADCAST_INTERVAL:
                broadcast_at = time.time()
                yield push_mode.StateChanges.of(pending, broadcast_at)
                pending = []
            if done:
                task = asyncio.create_task(delete(done))
                deletes.add(task)
                task.add_done_callback(deletes.discard)
            if pending and len(messages) < push_mode.MAX_MESSAGES_PER_RECEIVE:
                await asyncio.sleep(max(0.0, broadcast_at + watch.BROADCAST_INTERVAL - time.time()))
