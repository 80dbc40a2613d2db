"""Statuses of a model customization job (GetModelCustomizationJob ``status``)."""

from __future__ import annotations

IN_PROGRESS = "InProgress"
COMPLETED = "Completed"
FAILED = "Failed"
STOPPING = "Stopping"
STOPPED = "Stopped"

RUNNING_STATES = frozenset({IN_PROGRESS, STOPPING})
SUCCESS_STATES = frozenset({COMPLETED})
FAILURE_STATES = frozenset({FAILED, STOPPED})
TERMINAL_STATES = SUCCESS_STATES | FAILURE_STATES

# A job in these states is still worth waiting for when a retry finds it: it will, or did, produce
# the model. A Stopping job will end Stopped, so a retry starts a fresh one instead.
ADOPTABLE_STATES = frozenset({IN_PROGRESS, COMPLETED})

# The trigger's own outcomes, next to Bedrock's terminal statuses.
TIMEOUT = "timeout"
ERROR = "error"

# statusDetails stages in the order Bedrock runs them.
STAGES = (
    ("validationDetails", "validation"),
    ("dataProcessingDetails", "data processing"),
    ("trainingDetails", "training"),
)


def is_terminal(status: str) -> bool:
    return status in TERMINAL_STATES


def describe_progress(description: dict) -> str:
    """One line for the log: the status and each stage that has started, e.g.
    ``InProgress (validation Completed, data processing InProgress, training NotStarted)``."""
    status = str(description.get("status", "unknown"))
    details = description.get("statusDetails") or {}
    stages = [
        f"{label} {details[key].get('status')}"
        for key, label in STAGES
        if isinstance(details.get(key), dict) and details[key].get("status")
    ]
    return f"{status} ({', '.join(stages)})" if stages else status


def format_elapsed(seconds: float) -> str:
    """'42 s', '4 min 12 s', '2 h 05 min': a job's age as a log line shows it."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def progress_line(progress: str, elapsed: float | None = None) -> str:
    """A progress log line that leads with the status and the time since submission, e.g.
    ``InProgress after 4 min 12 s: validation Completed, training InProgress``.

    The status comes first so that it stays readable in a log view that cuts long lines; the job is
    named once, when it is submitted, not on every line.
    """
    status, _, stages = progress.partition(" (")
    line = status + (f" after {format_elapsed(elapsed)}" if elapsed is not None else "")
    return line + (f": {stages.removesuffix(')')}" if stages else "")
