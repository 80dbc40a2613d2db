"""Where a pushed job end's time goes, stage by stage, in a measured child process.

``StageClock.install()`` wraps the receive, the trigger's handling of a state change and the describe
(by monkeypatching, in the child only) and notes, per job, when each stage happened:

- received: the receive that brought the job's event returned (its time from the job's ``endTime``
  is EventBridge, SQS and the long poll);
- woken: the job's trigger read the event from its shared-stream queue (the broadcast and the event
  loop's backlog);
- describe start and end: the confirming GetModelCustomizationJob (queued behind the connection's
  other calls, then its round trip);
- fired: the trigger's event reached the consumer.
"""

from __future__ import annotations

import json
import time
from typing import Any

from waiting.measures import percentile

STAGES = ("end->received", "received->woken", "woken->describe", "describe", "describe->fired")


class StageClock:
    def __init__(self) -> None:
        self.received: dict[str, float] = {}
        self.woken: dict[str, float] = {}
        self.describe_started: dict[str, float] = {}
        self.described: dict[str, float] = {}

    def install(self) -> None:
        from bedrock_provider.core.waiting import watch
        from bedrock_provider.hooks.customization import BedrockCustomizationHook
        from bedrock_provider.hooks.events_queue import EventsQueueHook

        clock = self
        receive = EventsQueueHook.receive_async
        on_state_changes = watch.Watch.on_state_changes
        describe = BedrockCustomizationHook.describe_job_async

        async def timed_receive(hook: Any, *args: Any, **kwargs: Any) -> Any:
            messages = await receive(hook, *args, **kwargs)
            now = time.time()
            for message in messages:
                name = json.loads(message["Body"]).get("detail", {}).get("jobName")
                clock.received.setdefault(str(name), now)
            return messages

        def timed_on_state_changes(wait: Any, changes: Any) -> Any:
            if wait.job_identifier in changes.statuses:
                clock.woken.setdefault(wait.job_identifier, time.time())
            return on_state_changes(wait, changes)

        async def timed_describe(hook: Any, job_identifier: str) -> Any:
            started = time.time()
            description = await describe(hook, job_identifier)
            clock.describe_started[job_identifier] = started
            clock.described[job_identifier] = time.time()
            return description

        EventsQueueHook.receive_async = timed_receive  # type: ignore[method-assign]
        watch.Watch.on_state_changes = timed_on_state_changes  # type: ignore[method-assign]
        BedrockCustomizationHook.describe_job_async = timed_describe  # type: ignore[method-assign]

    def breakdown(self, names: list[str], ends: dict[str, float], fired: dict[str, float]) -> dict[str, Any]:
        """p50 and p99 of each stage over the jobs that went through all of them."""
        spans: dict[str, list[float]] = {stage: [] for stage in STAGES}
        for name in names:
            points = (
                ends.get(name),
                self.received.get(name),
                self.woken.get(name),
                self.describe_started.get(name),
                self.described.get(name),
                fired.get(name),
            )
            if any(point is None for point in points):
                continue
            for stage, start, end in zip(STAGES, points, points[1:], strict=False):
                spans[stage].append(end - start)  # type: ignore[operator]
        return {stage: (percentile(v, 50), percentile(v, 99)) for stage, v in spans.items()}


def format_breakdown(label: str, breakdown: dict[str, Any]) -> str:
    parts = [f"{stage} {p50:.3f}/{p99:.3f}" for stage, (p50, p99) in breakdown.items() if p50 is not None]
    return f"{label}, seconds p50/p99: " + ", ".join(parts)
