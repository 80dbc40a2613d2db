"""What the shared list loop broadcasts to every waiting trigger: the running jobs it saw, or the run
of failures that kept it from seeing them. Pure Python."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_provider.core.waiting import states

# ListModelCustomizationJobs' largest page: one call answers for up to this many running jobs.
LIST_PAGE_SIZE = 1000


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
