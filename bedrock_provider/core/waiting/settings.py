"""Wait settings (poll interval, max_wait, ...) are plain numbers fixed in the DAG file: checked where
the DAG is parsed, before any AWS call. Pure Python."""

from __future__ import annotations

import math

# Seconds between progress lines while a job's status does not change (the operator's
# progress_interval): often enough that a task training for hours visibly lives, rarely enough that
# a day's log stays readable.
DEFAULT_PROGRESS_INTERVAL = 600.0


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
