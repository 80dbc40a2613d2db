"""A user's action on a deferred task, through a real triggerer: what happens to its Bedrock job.

mark-failed stops the job; clear keeps it and the task's next try adopts it; mark-succeeded leaves it
running to finish (bedrock_provider.core.kill). The runs are of the demo's manual DAG, whose
``customize`` task waits deferred with the default stop_job_on_kill=True.
"""

from __future__ import annotations

from typing import Any

import pytest

from demo.stack import AirflowApi, LocalStack
from tests.e2e.conftest import MANUAL_DAG, RUN_TIMEOUT
from tests.e2e.test_kills import (
    STOP_DEADLINE,
    STOPPED,
    job_status,
    wait_for_job_status,
    wait_for_log,
    wait_until_the_trigger_runs,
)
from tests.e2e.test_stack import task_states

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CREATE = "CreateModelCustomizationJob"
STOP = "StopModelCustomizationJob"
TASK = "customize"
# Long enough to act on the task while the job runs, even when the session's first trigger starts
# slowly on a loaded machine; the runs that wait for the end still finish in a minute.
JOB_SECONDS = 60.0


def clear_task(api: AirflowApi, dag_id: str, run_id: str, task_id: str) -> Any:
    """Clear one task instance, as the UI's Clear does (the REST API's clearTaskInstances)."""
    return api.request(
        "POST",
        f"/api/v2/dags/{dag_id}/clearTaskInstances",
        json_body={"dry_run": False, "dag_run_id": run_id, "task_ids": [task_id], "only_failed": False},
    )


def test_mark_failed_stops_the_job(stack: LocalStack, api, emulator, trigger_manual, unique_name):
    name = unique_name("e2e-act-failed")
    run_id = trigger_manual(name, duration=JOB_SECONDS)
    wait_until_the_trigger_runs(stack, api, MANUAL_DAG, run_id)

    api.set_task_state(MANUAL_DAG, run_id, TASK, "failed")

    assert wait_for_job_status(emulator, name, STOPPED, STOP_DEADLINE) < STOP_DEADLINE
    wait_for_log(stack, MANUAL_DAG, run_id, "stop requested")
    assert api.task_instance(MANUAL_DAG, run_id, TASK)["state"] == "failed"


def test_clear_keeps_the_job_and_the_rerun_adopts_it(stack, api, emulator, trigger_manual, unique_name):
    name = unique_name("e2e-act-clear")
    creates, stops = emulator.request_count(CREATE), emulator.request_count(STOP)
    run_id = trigger_manual(name, duration=JOB_SECONDS)
    wait_until_the_trigger_runs(stack, api, MANUAL_DAG, run_id)
    arn_before = next(job["jobArn"] for job in emulator.jobs() if job["jobName"] == name)

    clear_task(api, MANUAL_DAG, run_id, TASK)
    # The reason logged depends on a race the user does not see: the cleared task's next try may
    # already be deferred again when on_kill reads its state ("no user action"). Either way the job
    # is kept, which is what the assertions below prove.
    wait_for_log(stack, MANUAL_DAG, run_id, "left running")

    run = api.wait_for_run(MANUAL_DAG, run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success", task_states(api, MANUAL_DAG, run_id)
    assert api.task_instance(MANUAL_DAG, run_id, TASK)["try_number"] == 2
    xcom = api.xcom(MANUAL_DAG, run_id, TASK)
    assert (xcom["job_name"], xcom["job_arn"], xcom["status"]) == (name, arn_before, "Completed")
    assert emulator.request_count(CREATE) == creates + 1, "the re-run adopted the job"
    assert emulator.request_count(STOP) == stops


def test_mark_succeeded_leaves_the_job_running(stack, api, emulator, trigger_manual, unique_name):
    name = unique_name("e2e-act-success")
    stops = emulator.request_count(STOP)
    run_id = trigger_manual(name, duration=JOB_SECONDS)
    wait_until_the_trigger_runs(stack, api, MANUAL_DAG, run_id)

    api.set_task_state(MANUAL_DAG, run_id, TASK, "success")
    wait_for_log(stack, MANUAL_DAG, run_id, "left running: the task was marked succeeded")

    assert job_status(emulator, name) == "InProgress"
    wait_for_job_status(emulator, name, {"Completed"}, JOB_SECONDS + 60)
    assert emulator.request_count(STOP) == stops
    assert api.task_instance(MANUAL_DAG, run_id, TASK)["state"] == "success"
