"""What a user's action on a waiting task means for what it waits for: one rule for every kind.

Airflow calls a trigger's (and an operator's) ``on_kill`` the same way whether the user marked the task
failed, cleared it, or marked it succeeded. The task instance's state right after tells them apart:

- failed (marked failed): the user gave up on the work: stop the job, or delete the deployment or
  provisioned throughput not ready yet (the default);
- success or skipped (marked succeeded or skipped): the user says the work is done or not needed;
  the job is left to finish;
- no state, scheduled, queued, restarting, running... (cleared): the task runs again, and the new try
  adopts the job (see "Exactly once"), so stopping it would throw away hours of training;
- deferred: nobody acted on the task; its trigger moved to another triggerer. Never stopped.

The same holds for customization jobs, evaluation jobs, custom model deployments and provisioned
throughput, on the triggerer's path (a trigger's on_kill) and the worker's (an operator's): each kind's
parameter (``stop_job_on_kill``, ``delete_on_kill``, the resource trigger's ``cleanup_on_kill``) takes
True (act on mark-failed), False (never), or the set of actions to act on, e.g.
``{"mark_failed", "clear"}``. ``KillRule`` is that rule for one resource, and the lines it logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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


def stop_actions(value: object, parameter: str = "stop_job_on_kill") -> frozenset[str]:
    """The actions on which on_kill acts, from a ``stop_job_on_kill`` (``delete_on_kill``,
    ``cleanup_on_kill``) value; ValueError naming ``parameter`` if invalid."""
    if value is True:
        return DEFAULT_STOP_ACTIONS
    if value is False or value is None:
        return frozenset()
    items: Iterable[object] = [value] if isinstance(value, str) else value  # type: ignore[assignment]
    if not isinstance(items, Iterable):
        raise ValueError(f"{parameter}={value!r}: must be True, False or a set of {', '.join(KILL_ACTIONS)}")
    actions = frozenset(str(item) for item in items)
    unknown = sorted(actions - set(KILL_ACTIONS))
    if unknown:
        raise ValueError(
            f"{parameter}={value!r}: unknown actions {unknown}; choose from {', '.join(KILL_ACTIONS)}"
        )
    return actions


def serializable_stop_actions(value: object, parameter: str = "stop_job_on_kill") -> bool | list[str]:
    """The value as a trigger keeps it across triggerer restarts (JSON: no sets); checked first."""
    if isinstance(value, bool):
        return value
    return sorted(stop_actions(value, parameter))


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


def kill_decision(
    action: str | None, stop_on: frozenset[str], parameter: str = "stop_job_on_kill", subject: str = "job"
) -> tuple[bool, str]:
    """(act on the resource?, why) for an action; an unknown action never acts: stopping a job or
    deleting a deployment cannot be undone, and one left alone can still be ended by hand."""
    if action is None:
        return False, (
            "the task instance shows no user action (its trigger moved to another triggerer, or its "
            f"state could not be read); the {subject} is left running"
        )
    if action in stop_on:
        return True, f"{action} is in {parameter} ({', '.join(sorted(stop_on))})"
    why = {
        CLEAR: f"the task was cleared: its next try adopts the {subject}",
        MARK_SUCCESS: f"the task was marked succeeded (or skipped): the {subject} is left to finish",
        MARK_FAILED: f"the task was marked failed, and {parameter} does not include mark_failed",
    }[action]
    return False, why


@dataclass(frozen=True)
class KillRule:
    """What on_kill does to one waiting resource, and the lines it logs: the same for every kind.

    ``noun`` names the kind ("job", "custom model deployment"), ``identifier`` the resource, ``verb``
    what acting on it is ("stop", "delete"), ``parameter`` the setting the actions came from.
    """

    parameter: str
    actions: frozenset[str]
    noun: str
    identifier: str
    verb: str

    @classmethod
    def of(cls, parameter: str, value: object, noun: str, identifier: str, verb: str) -> KillRule:
        return cls(parameter, stop_actions(value, parameter), noun, identifier, verb)

    @property
    def resource(self) -> str:
        return f"{self.noun} {self.identifier}"

    def never(self) -> str | None:
        """The line to log, without asking for the user's action, when no action acts."""
        if self.actions:
            return None
        return f"Task killed; {self.resource} left running ({self.parameter}=False)"

    def decide(self, action: str | None) -> tuple[bool, str]:
        """(act?, why) for the user's action."""
        return kill_decision(action, self.actions, self.parameter, self.noun)

    def kept(self, why: str) -> str:
        return f"Task killed; {self.resource} left running: {why}"

    def outcome(self, acted: bool, why: str) -> str:
        """The line after the stop or delete call: False when it found nothing left to do."""
        if acted:
            return f"Task killed; {self.verb} requested for {self.resource} ({why})"
        return f"Task killed; {self.resource} had already ended or was ready, nothing to {self.verb}"
