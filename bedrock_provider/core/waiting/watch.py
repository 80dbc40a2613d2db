"""The state machines of waiting: each decides when a wait asks next, backing off after failures.

``TimedWait`` is one wait's deadline and rhythm (a customization job here, a deployment or an
evaluation in core/lifecycle/resources.py); ``Watch`` is one job's wait on what the triggerer's shared
loops broadcast (snapshots from core/waiting/snapshots.py, state changes from core/waiting/push_mode.py)
and ``ListSchedule`` the shared list loop's own cadence. The events a wait ends with are
core/waiting/job_events.py's. Pure Python: no Airflow, no botocore, so every rule here is tested on its
own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from bedrock_provider.core.waiting import states
from bedrock_provider.core.waiting.job_events import EVENT_DESCRIPTION_FIELDS, job_event, timeout_event
from bedrock_provider.core.waiting.push_mode import StateChanges
from bedrock_provider.core.waiting.retry import retry_delay
from bedrock_provider.core.waiting.settings import DEFAULT_PROGRESS_INTERVAL
from bedrock_provider.core.waiting.snapshots import Snapshot

__all__ = [
    "BROADCAST_INTERVAL",
    "LIST_RETRY_WHEN_DENIED",
    "RELEASE_SECONDS",
    "SAFETY_INTERVAL_WITHOUT_QUEUE",
    "ListSchedule",
    "Step",
    "TimedWait",
    "Watch",
]

# The shared loops' timing. The loops read these through this module when they use them, so that
# they can be tuned in one place (the tests shorten them).
# When the list is refused (e.g. the role lacks bedrock:ListModelCustomizationJobs), try it again
# this often; meanwhile each wait describes its own job.
LIST_RETRY_WHEN_DENIED = 300.0
# A queue message no wait of this process claims becomes visible again after this many seconds, so
# the triggerer process that watches its job (when there are several) can take it.
RELEASE_SECONDS = 2
# The receive loop broadcasts the job state changes it received at most this often (the first one
# after a quiet spell at once): each broadcast wakes every wait of its group.
BROADCAST_INTERVAL = 0.25
# When the events queue cannot be read, the safety list runs at least this often.
SAFETY_INTERVAL_WITHOUT_QUEUE = 60.0


class Step(Enum):
    WAIT = "wait"
    DESCRIBE = "describe"


class TimedWait:
    """The deadline and rhythm of one wait, whatever it waits for (a job here, a deployment or an
    evaluation in core/lifecycle/resources.py): the worker's blocking wait and a trigger's own loop both ask
    it how long to sleep."""

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
    # The progress line is logged when it changes, and repeated once this many seconds passed without a
    # change (None: only on a change), so that hours of training do not look like a dead task.
    progress_interval: float | None = DEFAULT_PROGRESS_INTERVAL
    last_progress: str | None = field(default=None, repr=False)
    logged_at: float | None = field(default=None, repr=False)
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
        return Step.WAIT, self.note_progress(line, snapshot.taken_at)

    def on_state_changes(self, changes: StateChanges) -> tuple[Step, str | None]:
        """A notice that this job ended (or of a status not known here) is confirmed with a describe."""
        status = changes.statuses.get(self.job_identifier)
        if status is None:
            return Step.WAIT, None
        if status in states.RUNNING_STATES:
            # The notice carries the status only: worth a log line when the status itself changed
            # (e.g. Stopping), not when it repeats what the last, more detailed, line said.
            known = (self.last_progress or "").split(" ", 1)[0]
            line = self.last_progress if status == known and self.last_progress else status
            return Step.WAIT, self.note_progress(line, changes.received_at)
        return Step.DESCRIBE, None

    def on_description(
        self, description: dict[str, Any], now: float | None = None
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The event to fire when the described job has ended, and the progress line if it changed
        (or if it is due again).

        Only the fields a later event reads are kept: a whole description (hyperparameters, data
        configs, timestamps: about 3 KiB parsed) held by each of thousands of waits in push mode,
        which describe their job when they start, was most of what push mode cost a wait over polling.
        """
        self.description = {key: description[key] for key in EVENT_DESCRIPTION_FIELDS if key in description}
        changed = self.note_progress(states.describe_progress(description), now)
        status = str(description.get("status"))
        if states.is_terminal(status):
            return job_event(status, description, self.job_identifier), changed
        return None, changed

    def note_progress(self, line: str, now: float | None = None) -> str | None:
        """``line`` when it is worth logging at ``now``: it differs from the last one logged, or the
        last one was logged ``progress_interval`` seconds ago or more."""
        now = time.time() if now is None else now
        if line == self.last_progress and not self.progress_due(now):
            return None
        self.last_progress = line
        self.logged_at = now
        return line

    def progress_due(self, now: float) -> bool:
        """The unchanged progress line is due again (never before a first line was logged)."""
        if self.progress_interval is None or self.logged_at is None:
            return False
        return now - self.logged_at >= self.progress_interval

    def last_status(self) -> str | None:
        """The job's status as last seen: described, or in a shared list's progress line."""
        if self.description and self.description.get("status"):
            return str(self.description["status"])
        return self.last_progress.split(" ", 1)[0] if self.last_progress else None

    def timeout_event(self) -> dict[str, Any]:
        return timeout_event(self.job_identifier, self.description, self.max_wait, self.last_status())


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
