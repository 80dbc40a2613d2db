"""The state of a trigger's task instance, asked from inside the triggerer.

Airflow 3.3's triggerer calls a trigger's ``on_kill`` whenever it cancels the trigger for anything but
its own shutdown: when a user marked the task failed, and also when the trigger moved to another
triggerer (this one had missed its heartbeat for ``triggerer_health_check_threshold``, another took
its triggers, and this one cancels them once it runs again). Only the task instance's state tells
the two apart: a user's kill has ended the deferral, a move has not.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

DEFERRED = "deferred"


async def task_instance_state(trigger: Any) -> str | None:
    """The current state of the task instance that deferred to ``trigger``; None when there is none
    to ask about (a trigger run outside the triggerer, e.g. by dag.test) or the question failed."""
    ti = getattr(trigger, "task_instance", None)
    if ti is None:
        return None
    try:
        from airflow.sdk.execution_time import task_runner
        from airflow.sdk.execution_time.comms import GetTaskStates

        comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
        if comms is None or not hasattr(comms, "asend"):
            return None
        result = await comms.asend(
            GetTaskStates(
                dag_id=ti.dag_id, task_ids=[ti.task_id], run_ids=[ti.run_id], map_index=ti.map_index
            )
        )
    except Exception as error:
        log.warning("Could not read the state of task %s: %s", getattr(ti, "task_id", "?"), error)
        return None
    states = (getattr(result, "task_states", None) or {}).get(ti.run_id) or {}
    key = ti.task_id if ti.map_index is None or ti.map_index < 0 else f"{ti.task_id}_{ti.map_index}"
    state = states.get(key)
    return None if state is None else str(getattr(state, "value", state))
