"""Errors for bad input: each names the field, the value and the fix, before any AWS call."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

_MAX_SHOWN_VALUE = 200


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input."""

    field: str
    value: object
    message: str

    def __str__(self) -> str:
        shown = repr(self.value)
        if len(shown) > _MAX_SHOWN_VALUE:
            shown = shown[:_MAX_SHOWN_VALUE] + "...'"
        return f"{self.field}={shown}: {self.message}"


class InvalidInputError(ValueError):
    """Raised before any AWS call when the input cannot make a valid Bedrock request."""

    def __init__(self, what: str, problems: Iterable[Problem]):
        self.problems = list(problems)
        self.fields = [problem.field for problem in self.problems]
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        count = len(self.problems)
        super().__init__(
            f"{what}: {count} problem{'s' if count != 1 else ''}; nothing was sent to AWS.\n{lines}"
        )


class MissingDataError(InvalidInputError):
    """A data object the job names does not exist (S3 answered 404). It refuses a new job; a job this
    task instance already submitted with that data is still adopted, since the data may have expired
    after Bedrock read it."""


class JobConflictError(RuntimeError):
    """A job of the requested name exists and is not this task's, or if_job_exists='fail'."""


class JobWaitError(RuntimeError):
    """Waiting for a job gave up: every call about it failed for max_failure_duration (the job itself
    may still be running)."""
