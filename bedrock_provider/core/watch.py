"""Waiting for many customization jobs at once: what a shared poll or an events queue tells each wait.

The triggerer runs one list loop per connection (and one receive loop per events queue) and hands
every waiting trigger the same snapshots and state-change notices. This module decides, for one
watched job, whether a snapshot or a notice means "keep waiting" or "ask Bedrock now", when the
list loop runs next, what to do with each queue message, and the shape of the event a wait ends
with. Pure Python: no Airflow, no botocore, so every rule here is tested on its own.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from bedrock_provider.core import states
from bedrock_provider.core.retry import retry_delay

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

# ListModelCustomizationJobs' largest page: one call answers for up to this many running jobs.
LIST_PAGE_SIZE = 1000
# In push mode polling is only the safety net for a lost event.
DEFAULT_SAFETY_POLL_INTERVAL = 600.0
# When the list is refused (e.g. the role lacks bedrock:ListModelCustomizationJobs), try it again
# this often; meanwhile each wait describes its own job.
LIST_RETRY_WHEN_DENIED = 300.0
# SQS allows at most 20 s of long polling per ReceiveMessage.
MAX_RECEIVE_WAIT = 20
# A message no wait of this process claims becomes visible again after this many seconds, so the
# triggerer process that watches its job (when there are several) can take it.
RELEASE_SECONDS = 2
# After this many receives nobody claimed, a message is dropped: its job is nobody's, or its wait
# ended. A wait that starts later describes its job once, so a dropped message loses nothing.
MAX_UNCLAIMED_RECEIVES = 5
# When the events queue cannot be read, the safety list runs at least this often.
SAFETY_INTERVAL_WITHOUT_QUEUE = 60.0


# ------------------------------------------------------------------------------- wait settings


def seconds_problem(value: object, optional: bool = False) -> str | None:
    """Why ``value`` is not a usable number of seconds (finite, greater than 0), or None if it is."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number of seconds, got {type(value).__name__}"
    if not math.isfinite(value):
        # nan compares false with everything (a poll loop that never sleeps, a deadline never
        # reached); inf overflows the sleep. Neither is a wait anyone means.
        return "must be a finite number of seconds" + (
            " (None to wait as long as the job runs)" if optional else ""
        )
    if value <= 0:
        return "must be a number of seconds greater than 0"
    return None


def check_wait_settings(
    poll_interval: object, max_wait: object, interval_name: str = "poll_interval", **optional: object
) -> None:
    """Wait settings are plain numbers fixed in the DAG file: checked where the DAG is parsed.

    ``max_wait`` and the ``optional`` ones (e.g. safety_poll_interval, max_failure_duration) may be None.
    """
    problems = []
    if (problem := seconds_problem(poll_interval)) is not None:
        problems.append(f"{interval_name}={poll_interval!r}: {problem}")
    for name, value in {"max_wait": max_wait, **optional}.items():
        if (problem := seconds_problem(value, optional=True)) is not None:
            problems.append(f"{name}={value!r}: {problem}")
    if problems:
        raise ValueError("; ".join(problems))


# --------------------------------------------------------------------------------------- events


def job_event(
    status: str, description: Mapping[str, Any] | None, job_identifier: str, **extra: Any
) -> dict[str, Any]:
    """The one event a wait fires; the same keys whatever the outcome."""
    description = description or {}
    is_arn = job_identifier.startswith("arn:")
    event = {
        "status": status,
        "job_arn": description.get("jobArn") or (job_identifier if is_arn else None),
        "job_name": description.get("jobName") or (None if is_arn else job_identifier),
        "failure_message": description.get("failureMessage"),
        "custom_model_arn": description.get("outputModelArn"),
    }
    event.update(extra)
    return event


def timeout_message(job_identifier: str, status: object, max_wait: float | None) -> str:
    if not status:
        return (
            f"Job {job_identifier}: no status known yet after max_wait={max_wait} s (every call failed); "
            "the job keeps running"
        )
    return (
        f"Job {job_identifier} still {status} after max_wait={max_wait} s (its last known status); "
        "the job keeps running"
    )


def timeout_event(
    job_identifier: str,
    description: Mapping[str, Any] | None,
    max_wait: float | None,
    last_status: str | None = None,
) -> dict[str, Any]:
    status = (description or {}).get("status") or last_status
    return job_event(
        states.TIMEOUT,
        description,
        job_identifier,
        message=timeout_message(job_identifier, status, max_wait),
    )


def error_event(job_identifier: str, description: Mapping[str, Any] | None, message: str) -> dict[str, Any]:
    return job_event(states.ERROR, description, job_identifier, message=message)


# --------------------------------------------------------------------------- what the loops share


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The jobs a ListModelCustomizationJobs(statusEquals=InProgress) showed running.

    ``progress`` maps both the ARN and the name of every running job to its progress line; it is
    None when the list could not be read, and then every wait asks about its own job.
    ``taken_at`` is when the list was requested: a job missing from it may have been created later.
    """

    taken_at: float
    progress: Mapping[str, str] | None

    @classmethod
    def from_summaries(cls, summaries: Iterable[Mapping[str, Any]], taken_at: float) -> Snapshot:
        progress: dict[str, str] = {}
        for summary in summaries:
            if summary.get("status") != states.IN_PROGRESS:
                continue
            line = states.describe_progress(dict(summary))
            for key in (summary.get("jobArn"), summary.get("jobName")):
                if key:
                    progress[str(key)] = line
        return cls(taken_at, progress)

    @classmethod
    def unknown(cls, taken_at: float) -> Snapshot:
        return cls(taken_at, None)

    def __len__(self) -> int:
        return 0 if self.progress is None else len(self.progress)


@dataclass(frozen=True, slots=True)
class ListFailure:
    """The shared list has failed ``count`` times in a row since ``since``: each wait decides, by its
    own max_failure_duration, whether to keep waiting."""

    since: float
    count: int
    last_error: str

    def failing_for(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.since


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


# ------------------------------------------------------------------------------- one job's wait


class Step(Enum):
    WAIT = "wait"
    DESCRIBE = "describe"


class TimedWait:
    """The deadline and rhythm of one wait, whatever it waits for (a job here, a deployment or an
    evaluation in core/resources.py): the worker's blocking wait and a trigger's own loop both ask it
    how long to sleep."""

    started_at: float
    max_wait: float | None
    failures: int

    def remaining(self, now: float | None = None) -> float | None:
        if self.max_wait is None:
            return None
        return self.max_wait - ((time.time() if now is None else now) - self.started_at)

    def expired(self, now: float | None = None) -> bool:
        remaining = self.remaining(now)
        return remaining is not None and remaining <= 0

    def next_poll(self, poll_interval: float, failed: bool) -> float:
        """Seconds until a wait that describes its own resource (the worker's blocking wait, a trigger
        outside a shared stream) asks again: the interval after an answer, backoff after a transient
        failure, never past the deadline."""
        if failed:
            self.failures += 1
            delay = retry_delay(self.failures, poll_interval)
        else:
            self.failures = 0
            delay = float(poll_interval)
        remaining = self.remaining()
        return delay if remaining is None else max(0.0, min(delay, remaining))


@dataclass
class Watch(TimedWait):
    """One trigger's view of its job while it waits on what the shared loops broadcast."""

    job_identifier: str
    started_at: float
    max_wait: float | None = None
    description: dict[str, Any] | None = None
    last_progress: str | None = field(default=None, repr=False)
    failures: int = field(default=0, repr=False)

    def on_snapshot(self, snapshot: Snapshot) -> tuple[Step, str | None]:
        """A job the list shows running needs nothing; any other may have ended and is described.

        Not in the list covers a job that ended since the last list, one created after this list
        was requested, and a list that lags behind: the describe tells them apart.
        Returns the step and, when it changed, the job's progress line to log.
        """
        if snapshot.progress is None:
            return Step.DESCRIBE, None
        line = snapshot.progress.get(self.job_identifier)
        if line is None:
            return Step.DESCRIBE, None
        return Step.WAIT, self.note_progress(line)

    def on_state_changes(self, changes: StateChanges) -> tuple[Step, str | None]:
        """A notice that this job ended (or of a status not known here) is confirmed with a describe."""
        status = changes.statuses.get(self.job_identifier)
        if status is None:
            return Step.WAIT, None
        if status in states.RUNNING_STATES:
            # The notice carries the status only: worth a log line when the status itself changed
            # (e.g. Stopping), not when it repeats what the last, more detailed, line said.
            known = (self.last_progress or "").split(" ", 1)[0]
            return Step.WAIT, None if status == known else self.note_progress(status)
        return Step.DESCRIBE, None

    def on_description(self, description: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The event to fire when the described job has ended, and the progress line if it changed."""
        self.description = description
        changed = self.note_progress(states.describe_progress(description))
        status = str(description.get("status"))
        if states.is_terminal(status):
            return job_event(status, description, self.job_identifier), changed
        return None, changed

    def note_progress(self, line: str) -> str | None:
        if line == self.last_progress:
            return None
        self.last_progress = line
        return line

    def last_status(self) -> str | None:
        """The job's status as last seen: described, or in a shared list's progress line."""
        if self.description and self.description.get("status"):
            return str(self.description["status"])
        return self.last_progress.split(" ", 1)[0] if self.last_progress else None

    def timeout_event(self) -> dict[str, Any]:
        return timeout_event(self.job_identifier, self.description, self.max_wait, self.last_status())


# ----------------------------------------------------------------------- runs of failing calls

# After this many failing calls in a row, the connection is read again and a new client made: a
# fixed endpoint or rotated credentials are picked up without restarting anything.
RECONNECT_AFTER_FAILURES = 3
# A wait whose calls have all failed for this long ends with an error event (the job may still run).
DEFAULT_MAX_FAILURE_DURATION = 1800.0


@dataclass
class FailureRun:
    """Consecutive failed calls of one wait: when to reconnect and when to give up (the backoff between
    them is TimedWait.next_poll's)."""

    max_duration: float | None = DEFAULT_MAX_FAILURE_DURATION
    count: int = 0
    since: float | None = None
    last_error: str | None = None

    def failed(self, message: str, now: float | None = None) -> None:
        self.count += 1
        self.last_error = message
        if self.since is None:
            self.since = time.time() if now is None else now

    def succeeded(self) -> None:
        self.count, self.since, self.last_error = 0, None, None

    def should_reconnect(self) -> bool:
        return self.count > 0 and self.count % RECONNECT_AFTER_FAILURES == 0

    def duration(self, now: float | None = None) -> float:
        return 0.0 if self.since is None else (time.time() if now is None else now) - self.since

    def exhausted(self, now: float | None = None) -> bool:
        return (
            self.max_duration is not None
            and self.since is not None
            and self.duration(now) >= self.max_duration
        )

    def message(self, job_identifier: str, now: float | None = None) -> str:
        return (
            f"Every call to Bedrock about job {job_identifier} failed for {self.duration(now):.0f} s "
            f"({self.count} in a row, max_failure_duration={self.max_duration} s), although the "
            f"connection was read again every {RECONNECT_AFTER_FAILURES} failures; last error: "
            f"{self.last_error}. Check the AWS connection's endpoint and credentials. The job itself "
            "may still be running: look it up before starting another"
        )


# -------------------------------------------------------------------------- the shared list loop


@dataclass
class ListSchedule:
    """When the shared list loop lists next: a steady cadence, backoff on failures, and a slow retry
    when the list is refused (each wait then describes its own job at the same cadence)."""

    interval: float
    failures: int = 0
    denied_until: float | None = None

    def should_list(self, now: float) -> bool:
        return self.denied_until is None or now >= self.denied_until

    @property
    def denied(self) -> bool:
        return self.denied_until is not None

    def listed(self, taken_at: float, now: float) -> float:
        """Seconds to sleep after a good list: the cadence counts from when the list was requested,
        so a slow list does not stretch the interval."""
        self.failures = 0
        self.denied_until = None
        return max(0.0, taken_at + self.interval - now)

    def transient_failure(self) -> float:
        self.failures += 1
        return retry_delay(self.failures, self.interval)

    def refused(self, now: float) -> float:
        self.failures = 0
        self.denied_until = now + max(LIST_RETRY_WHEN_DENIED, self.interval)
        return self.interval

    def skipped(self, taken_at: float, now: float) -> float:
        return max(0.0, taken_at + self.interval - now)


# ---------------------------------------------------------------------- the shared receive loop


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
        process (it reappears after RELEASE_SECONDS), until it has gone unclaimed
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
