"""Push mode: Bedrock's job state-change events, delivered by an EventBridge rule to an SQS queue.

What the rule matches, how a queue message is read, and what the receive loop does with each message
(hand it to a wait of this process, leave it for another triggerer process, or delete it). Pure Python.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bedrock_provider.core.waiting import states
from bedrock_provider.core.waiting.loops import PerLoop

# What Bedrock publishes to EventBridge (the "Model Customization Job State Change" event).
EVENT_SOURCE = "aws.bedrock"
EVENT_DETAIL_TYPE = "Model Customization Job State Change"
# Every state change of every customization job of the account and region.
ALL_STATE_CHANGES_PATTERN: dict[str, Any] = {"source": [EVENT_SOURCE], "detail-type": [EVENT_DETAIL_TYPE]}
# The recommended rule: only the changes a wait acts on (an end, and Stopping, which is logged).
# It leaves out the InProgress event of every job's start, half of all messages.
EVENT_PATTERN: dict[str, Any] = {
    **ALL_STATE_CHANGES_PATTERN,
    "detail": {"jobStatus": sorted(states.TERMINAL_STATES | {states.STOPPING})},
}

# In push mode polling is only the safety net for a lost event.
DEFAULT_SAFETY_POLL_INTERVAL = 600.0
# SQS allows at most 20 s of long polling and 10 messages per ReceiveMessage.
MAX_RECEIVE_WAIT = 20
MAX_MESSAGES_PER_RECEIVE = 10
# After this many receives nobody claimed, a message is dropped: its job is nobody's, or its wait
# ended. A wait that starts later describes its job once, so a dropped message loses nothing.
MAX_UNCLAIMED_RECEIVES = 5


@dataclass(frozen=True, slots=True)
class StateChange:
    """One "Model Customization Job State Change" event, as read from the events queue."""

    job_arn: str | None
    job_name: str | None
    status: str
    failure_message: str | None = None

    def keys(self) -> tuple[str, ...]:
        return tuple(key for key in (self.job_arn, self.job_name) if key)


@dataclass(frozen=True, slots=True)
class StateChanges:
    """The state changes one receive brought, by job ARN and by job name."""

    received_at: float
    statuses: Mapping[str, str]

    @classmethod
    def of(cls, changes: Iterable[StateChange], received_at: float) -> StateChanges:
        statuses: dict[str, str] = {}
        for change in changes:
            for key in change.keys():
                statuses[key] = change.status
        return cls(received_at, statuses)


def parse_state_change(body: str) -> StateChange | None:
    """The job and its new status from an SQS message an EventBridge rule delivered; None if not one.

    Bedrock's detail carries ``jobStatus``; ``status`` is accepted too, as it names the same thing in
    the API, so a rule with an input transformer that renamed it still works.
    """
    try:
        event = json.loads(body)
    except (TypeError, ValueError):
        return None
    if not isinstance(event, dict):
        return None
    if event.get("source") != EVENT_SOURCE or event.get("detail-type") != EVENT_DETAIL_TYPE:
        return None
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return None
    status = detail.get("jobStatus") or detail.get("status")
    job_arn = detail.get("jobArn")
    job_name = detail.get("jobName")
    if not isinstance(status, str) or not (isinstance(job_arn, str) or isinstance(job_name, str)):
        return None
    failure = detail.get("failureMessage")
    return StateChange(
        job_arn=job_arn if isinstance(job_arn, str) else None,
        job_name=job_name if isinstance(job_name, str) else None,
        status=status,
        failure_message=failure if isinstance(failure, str) else None,
    )


class Watchers:
    """The jobs the waits of one receive loop watch (by name or ARN), to tell whose a message is."""

    def __init__(self) -> None:
        self._count: Counter[str] = Counter()

    def add(self, job_identifier: str) -> None:
        self._count[job_identifier] += 1

    def remove(self, job_identifier: str) -> None:
        self._count[job_identifier] -= 1
        if self._count[job_identifier] <= 0:
            del self._count[job_identifier]

    def claims(self, change: StateChange) -> bool:
        return any(key in self._count for key in change.keys())

    def __len__(self) -> int:
        return len(self._count)


# The waits each receive loop serves, by shared stream key and event loop: a receive loop hands over
# only the messages its own waits claim.
_WATCHERS: PerLoop[Watchers] = PerLoop(Watchers)


def watchers_for(key: Hashable) -> Watchers:
    """The jobs watched by the waits of the shared stream ``key`` in the running event loop."""
    return _WATCHERS.get(key)


Disposition = Literal["deliver", "release", "discard"]


def disposition(
    change: StateChange | None,
    watchers: Watchers,
    receive_count: int,
    max_unclaimed_receives: int = MAX_UNCLAIMED_RECEIVES,
) -> Disposition:
    """What the receive loop does with one message.

    deliver: a wait here watches the job; hand it over and delete the message.
    release: nobody here watches the job, which ended; leave the message for another triggerer
        process (it reappears after core.waiting.watch.RELEASE_SECONDS), until it has gone unclaimed
        MAX_UNCLAIMED_RECEIVES times.
    discard: not a job state change, unclaimed for too long, or an unclaimed notice that a job is
        running, which no wait anywhere needs (a wait ends only on an end); delete it.
    """
    if change is None:
        return "discard"
    if watchers.claims(change):
        return "deliver"
    if change.status in states.RUNNING_STATES:
        return "discard"
    return "release" if receive_count < max_unclaimed_receives else "discard"


def receive_wait_seconds(now: float, next_list_at: float) -> int:
    """Long-poll for as long as SQS allows, but not much past the next safety list.

    Rounded up: a wait of 0 is a short poll that returns at once, and a loop of those until the
    list is due would spin.
    """
    return math.ceil(max(0.0, min(MAX_RECEIVE_WAIT, next_list_at - now)))


def sort_messages(
    messages: Iterable[Mapping[str, Any]], watchers: Watchers
) -> tuple[list[StateChange], list[str]]:
    """One receive's messages, by disposition: the state changes to hand to this process's waits, and
    the receipt handles of the messages to delete (delivered or discarded; released ones stay)."""
    delivered: list[StateChange] = []
    done: list[str] = []
    for message in messages:
        change = parse_state_change(message.get("Body", ""))
        receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
        verdict = disposition(change, watchers, receives)
        if verdict == "deliver" and change is not None:
            delivered.append(change)
        if verdict != "release":
            done.append(message["ReceiptHandle"])
    return delivered, done
