"""A run of failing calls about one job: when to read the connection again and when to give up.
Pure Python."""

from __future__ import annotations

import time
from dataclasses import dataclass

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

    def outlasted_by(self, since: float, count: int, last_error: str, now: float | None = None) -> bool:
        """Whether a run of failures counted elsewhere (the shared list's: ``count`` since ``since``)
        has lasted this wait's max_duration; if so it is taken as this run, for ``message``."""
        if self.max_duration is None or (time.time() if now is None else now) - since < self.max_duration:
            return False
        self.failed(last_error, since)
        self.count = count
        return True

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
