"""Which action a user took on a killed task: the task instance's state, read through Airflow's
supervisor channel (the triggerer's and the worker's own, so no database access and no API token);
and the one on_kill every waiting trigger and operator runs on it, whatever the resource.

The decision itself is bedrock_provider.core.waiting.kill's; this module asks Airflow for the state, and
calls the stop or delete the rule asks for.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from bedrock_provider.core.waiting.kill import KillRule, action_from_state

log = logging.getLogger(__name__)

# How long a kill waits for the state before leaving the job running: Airflow gives on_kill 30 s, and
# the stop call needs some of them.
STATE_LOOKUP_TIMEOUT = 20.0
# The triggerer's first call of this kind starts its in-process execution API: 20 s and more on a busy
# machine. A wait makes that call when it starts (warm_up), so no kill pays for it.
WARM_UP_TIMEOUT = 120.0
_UNKNOWN = object()
_warmed_up = False


def _map_index(task_instance: Any) -> int:
    map_index = getattr(task_instance, "map_index", -1)
    return -1 if map_index is None else int(map_index)


def _states_request(task_instance: Any) -> Any:
    from airflow.sdk.execution_time.comms import GetTaskStates

    return GetTaskStates(
        dag_id=task_instance.dag_id,
        task_ids=[task_instance.task_id],
        run_ids=[task_instance.run_id],
        map_index=_map_index(task_instance),
    )


def _state_in(response: Any, task_instance: Any) -> object:
    """The task instance's state in a TaskStatesResult ({run_id: {task_id[_map_index]: state}})."""
    run = (getattr(response, "task_states", None) or {}).get(task_instance.run_id) or {}
    map_index = _map_index(task_instance)
    key = task_instance.task_id if map_index < 0 else f"{task_instance.task_id}_{map_index}"
    return run[key] if key in run else _UNKNOWN


def _comms() -> Any:
    from airflow.sdk.execution_time import task_runner

    return getattr(task_runner, "SUPERVISOR_COMMS", None)


def _action(state: object, task_instance: Any) -> str | None:
    if state is _UNKNOWN:
        log.warning("No state found for %s; treating the kill as no user action", task_instance)
        return None
    return action_from_state(state)


async def warm_up(task_instance: Any) -> None:
    """Read this task instance's state once per process, in the background, so the channel is ready
    (and fast) by the time a user's action kills a wait."""
    global _warmed_up
    comms = _comms()
    if _warmed_up or task_instance is None or comms is None or not hasattr(comms, "asend"):
        return
    _warmed_up = True

    async def ask() -> None:
        try:
            await asyncio.wait_for(comms.asend(_states_request(task_instance)), WARM_UP_TIMEOUT)
        except Exception as error:
            log.debug("Warming up the task-state lookup failed: %s", error)

    task = asyncio.get_running_loop().create_task(ask())
    _background.add(task)
    task.add_done_callback(_background.discard)


_background: set[asyncio.Task[None]] = set()


async def user_action_async(task_instance: Any) -> str | None:
    """The action (core.kill) behind a trigger's on_kill, or None when it cannot be told."""
    comms = _comms()
    if task_instance is None or comms is None or not hasattr(comms, "asend"):
        return None
    try:
        response = await asyncio.wait_for(comms.asend(_states_request(task_instance)), STATE_LOOKUP_TIMEOUT)
    except Exception as error:
        log.warning("Could not read the state of %s after a kill: %s", task_instance, error)
        return None
    return _action(_state_in(response, task_instance), task_instance)


def user_action(task_instance: Any) -> str | None:
    """The action behind an operator's on_kill (worker side), or None when it cannot be told.

    on_kill runs in the task's signal handler, possibly while the interrupted code holds the channel's
    lock: the request runs in a thread with a deadline instead, so a kill never hangs on it.
    """
    comms = _comms()
    if task_instance is None or comms is None:
        return None
    result: list[object] = []

    def ask() -> None:
        try:
            result.append(_state_in(comms.send(_states_request(task_instance)), task_instance))
        except Exception as error:
            log.warning("Could not read the state of %s after a kill: %s", task_instance, error)

    thread = threading.Thread(target=ask, name="bedrock-kill-state", daemon=True)
    thread.start()
    thread.join(STATE_LOOKUP_TIMEOUT)
    return _action(result[0], task_instance) if result else None


async def act_on_kill_async(
    rule: KillRule, task_instance: Any, act: Callable[[], Awaitable[bool]], logger: Any
) -> bool:
    """A trigger's on_kill: ``act`` (the stop or delete call, True when it did something) runs only
    when the user's action is one of the rule's; each outcome is logged. True when it acted."""
    never = rule.never()
    if never is not None:
        logger.info("%s", never)
        return False
    acts, why = rule.decide(await user_action_async(task_instance))
    return _logged(rule, why, await act() if acts else None, logger)


def act_on_kill(rule: KillRule, task_instance: Any, act: Callable[[], bool], logger: Any) -> bool:
    """An operator's on_kill (the worker's blocking wait), as act_on_kill_async."""
    never = rule.never()
    if never is not None:
        logger.info("%s", never)
        return False
    acts, why = rule.decide(user_action(task_instance))
    return _logged(rule, why, act() if acts else None, logger)


def _logged(rule: KillRule, why: str, acted: bool | None, logger: Any) -> bool:
    """Log what on_kill did: None when the rule kept the resource, else whether the call acted."""
    logger.info("%s", rule.kept(why) if acted is None else rule.outcome(acted, why))
    return bool(acted)
