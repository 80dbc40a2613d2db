"""What a user's action on a waiting task means for its Bedrock job.

Airflow calls a trigger's (and an operator's) ``on_kill`` the same way whether the user marked the task
failed, cleared it, or marked it succeeded. The task instance's state right after tells them apart:

- failed (marked failed): the user gave up on the work: stop the job (the default);
- success or skipped (marked succeeded or skipped): the user says the work is done or not needed;
  the job is left to finish;
- no state, scheduled, queued, restarting, running... (cleared): the task runs again, and the new try
  adopts the job (see "Exactly once"), so stopping it would throw away hours of training;
- deferred: nobody acted on the task; its trigger moved to another triggerer. Never stopped.

``stop_job_on_kill`` takes True (stop on mark-failed), False (never), or the set of actions to stop
on, e.g. ``{"mark_failed", "clear"}``.
"""

from __future__ import annotations

from collections.abc import Iterable

MARK_FAILED = "mark_failed"
CLEAR = "clear"
MARK_SUCCESS = "mark_success"
KILL_ACTIONS = (MARK_FAILED, CLEAR, MARK_SUCCESS)
DEFAULT_STOP_ACTIONS = frozenset({MARK_FAILED})

_FAILED_STATES = frozenset({"failed", "upstream_failed"})
_DONE_STATES = frozenset({"success", "skipped"})
_RUN_AGAIN_STATES = frozenset(
    {"none", "scheduled", "queued", "restarting", "running", "up_for_retry", "up_for_reschedule"}
)
# The trigger was moved (another triggerer took it over), not killed by anyone.
NOT_A_USER_ACTION_STATES = frozenset({"deferred"})


def stop_actions(value: object) -> frozenset[str]:
    """The actions on which the job is stopped, from a ``stop_job_on_kill`` value; ValueError if invalid."""
    if value is True:
        return DEFAULT_STOP_ACTIONS
    if value is False or value is None:
        return frozenset()
    items: Iterable[object] = [value] if isinstance(value, str) else value  # type: ignore[assignment]
    if not isinstance(items, Iterable):
        raise ValueError(
            f"stop_job_on_kill={value!r}: must be True, False or a set of {', '.join(KILL_ACTIONS)}"
        )
    actions = frozenset(str(item) for item in items)
    unknown = sorted(actions - set(KILL_ACTIONS))
    if unknown:
        raise ValueError(
            f"stop_job_on_kill={value!r}: unknown actions {unknown}; choose from {', '.join(KILL_ACTIONS)}"
        )
    return actions


def serializable_stop_actions(value: object) -> bool | list[str]:
    """``stop_job_on_kill`` as a trigger keeps it across triggerer restarts (JSON: no sets)."""
    if isinstance(value, bool):
        return value
    return sorted(stop_actions(value))


def action_from_state(state: object) -> str | None:
    """The user action a task instance's state shows right after a kill, or None when it shows none
    (the trigger moved) or the state is unknown."""
    text = "none" if state is None else str(getattr(state, "value", state)).lower()
    if text in _FAILED_STATES:
        return MARK_FAILED
    if text in _DONE_STATES:
        return MARK_SUCCESS
    if text in _RUN_AGAIN_STATES:
        return CLEAR
    return None


def kill_decision(action: str | None, stop_on: frozenset[str]) -> tuple[bool, str]:
    """(stop the job?, why) for an action; an unknown action never stops a job: stopping cannot be
    undone, and a job left running can still be stopped by hand."""
    if action is None:
        return False, (
            "the task instance shows no user action (its trigger moved to another triggerer, or its "
            "state could not be read); the job is left running"
        )
    if action in stop_on:
        return True, f"{action} is in stop_job_on_kill ({', '.join(sorted(stop_on))})"
    why = {
        CLEAR: "the task was cleared: its next try adopts the running job",
        MARK_SUCCESS: "the task was marked succeeded (or skipped): the job is left to finish",
        MARK_FAILED: "the task was marked failed, and stop_job_on_kill does not include mark_failed",
    }[action]
    return False, why
