"""Kills on real Airflow processes: a worker SIGKILLed right after its Create call, the triggerer
SIGKILLed while several tasks wait, and users marking running or deferred tasks failed or successful.

The DAGs are tests/e2e/dags/reliability_kills.py, which the stack loads as a DAG bundle of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from demo.processes import wait_for
from tests.e2e.conftest import MANUAL_DAG, RUN_TIMEOUT, jobs_for
from tests.e2e.harness import E2E_DAGS, E2EStack, HarnessApi
from tests.e2e.test_stack import job_named, task_states, trigger_logs

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CREATE = "CreateModelCustomizationJob"
STOP = "StopModelCustomizationJob"
KILL_DAGS = (
    "reliability_e2e_sigkill_after_submit",
    "reliability_e2e_deferred",
    "reliability_e2e_deferred_keep_job",
    "reliability_e2e_blocking",
    "reliability_e2e_slow_poll",
)
STOPPED = {"Stopping", "Stopped"}
# Issue 7: a killed task's job is stopped within this many seconds.
STOP_DEADLINE = 30.0
DEFERRED_TIMEOUT = 90.0


@pytest.fixture(scope="module")
def kill_dags(stack: E2EStack) -> None:
    """The kill DAGs are parsed (the stack's dag-processor reads tests/e2e/dags as a second bundle)."""
    bundles = stack.airflow_env().get("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", "")
    if str(E2E_DAGS) not in bundles:
        pytest.fail(
            f"the stack does not load {E2E_DAGS}: E2EStack (tests/e2e/harness.py) adds it as a DAG "
            "bundle of its own (dag_bundles) beside the dags-folder bundle",
            pytrace=False,
        )
    wait_for(
        lambda: all(stack.api.dag(dag_id) for dag_id in KILL_DAGS),
        120,
        "the kill DAGs of tests/e2e/dags to be parsed",
        1.0,
        lambda: stack.log_tail("dag-processor"),
    )


@pytest.fixture
def start(
    api: HarnessApi, kill_dags: None, unique_name: Callable[[str], str]
) -> Callable[..., tuple[str, str]]:
    """Trigger a kill DAG for a new job; returns (run id, job name)."""

    def trigger(dag_id: str, duration: float = 60) -> tuple[str, str]:
        name = unique_name(dag_id.removeprefix("reliability_e2e_").replace("_", "-"))
        run = api.trigger(dag_id, conf={"job_name": name, "duration": duration})
        return str(run["dag_run_id"]), name

    return trigger


def job_status(emulator: Any, name: str) -> str:
    return str(job_named(emulator, name)["status"])


def wait_for_job_status(emulator: Any, name: str, statuses: set[str], timeout: float) -> float:
    """Seconds until the job reached one of ``statuses``."""
    started = time.monotonic()
    wait_for(
        lambda: job_status(emulator, name) in statuses,
        timeout,
        f"job {name} to be {'/'.join(sorted(statuses))}",
        0.5,
        lambda: f"status: {job_status(emulator, name)}",
    )
    return time.monotonic() - started


def task_log(stack: E2EStack, dag_id: str, run_id: str) -> str:
    folder = stack.logs_dir / "airflow" / f"dag_id={dag_id}" / f"run_id={run_id}" / "task_id=customize"
    return "".join(path.read_text(errors="replace") for path in sorted(folder.glob("attempt=*.log")))


def wait_for_log(stack: E2EStack, dag_id: str, run_id: str, text: str, trigger: bool = True) -> None:
    """Until the trigger's log (or the task's) for the run says ``text``."""

    def read() -> str:
        return (
            trigger_logs(stack, dag_id, run_id, "customize") if trigger else task_log(stack, dag_id, run_id)
        )

    wait_for(
        lambda: text in read(),
        60,
        f"the {'triggerer' if trigger else 'task'} to log {text!r} for {dag_id}",
        0.5,
        lambda: read()[-3000:] or stack.log_tail("triggerer" if trigger else "scheduler"),
    )


def wait_until_the_trigger_runs(stack: E2EStack, api: HarnessApi, dag_id: str, run_id: str) -> None:
    """Deferred, and the triggerer has started the trigger and seen the job running.

    Only a running trigger gets on_kill: a task marked failed in the second or two before the
    triggerer picks its trigger up just loses the trigger, and its job runs on.
    """
    api.wait_for_task_state(dag_id, run_id, "customize", {"deferred"}, timeout=DEFERRED_TIMEOUT)
    wait_for_log(stack, dag_id, run_id, "InProgress after")


# -- crashes ---------------------------------------------------------------------------------------------


def test_worker_sigkilled_right_after_submit_is_retried_and_adopts_its_job(api, emulator, start):
    dag_id = "reliability_e2e_sigkill_after_submit"
    run_id, name = start(dag_id, duration=3)

    run = api.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success", task_states(api, dag_id, run_id)
    assert api.task_instance(dag_id, run_id, "customize")["try_number"] == 2
    assert api.xcom(dag_id, run_id, "customize")["job_name"] == name
    assert len(jobs_for(emulator, name)) == 1, "the retry adopted the job instead of submitting"
    assert job_status(emulator, name) == "Completed"


def test_triggerer_sigkilled_while_four_tasks_wait_then_restarted(
    stack, api, emulator, trigger_manual, unique_name
):
    names = [unique_name(f"e2e-waits-{index}") for index in range(4)]
    runs = [trigger_manual(name, duration=20) for name in names]
    for run_id in runs:
        api.wait_for_task_state(MANUAL_DAG, run_id, "customize", {"deferred"}, timeout=DEFERRED_TIMEOUT)

    stack.kill_component("triggerer")
    assert {job_status(emulator, name) for name in names} == {"InProgress"}, "the jobs outlive the triggerer"
    stack.restart_component("triggerer")

    for run_id, name in zip(runs, names, strict=True):
        run = api.wait_for_run(MANUAL_DAG, run_id, timeout=RUN_TIMEOUT)
        assert run["state"] == "success", task_states(api, MANUAL_DAG, run_id)
        assert api.task_instance(MANUAL_DAG, run_id, "customize")["try_number"] == 1
        assert api.xcom(MANUAL_DAG, run_id, "customize")["job_name"] == name
        assert job_status(emulator, name) == "Completed"
    assert [len(jobs_for(emulator, name)) for name in names] == [1] * len(names)


# -- user kills ------------------------------------------------------------------------------------------


def test_deferred_task_marked_failed_stops_its_job(stack, api, emulator, start):
    dag_id = "reliability_e2e_deferred"
    run_id, name = start(dag_id)
    wait_until_the_trigger_runs(stack, api, dag_id, run_id)
    assert job_status(emulator, name) == "InProgress"

    api.set_task_state(dag_id, run_id, "customize", "failed")
    took = wait_for_job_status(emulator, name, STOPPED, STOP_DEADLINE)

    assert took < STOP_DEADLINE
    wait_for_log(stack, dag_id, run_id, "stop requested")
    assert api.task_instance(dag_id, run_id, "customize")["state"] == "failed"


def test_running_task_in_blocking_mode_marked_failed_stops_its_job_through_on_kill(
    stack, api, emulator, start
):
    dag_id = "reliability_e2e_blocking"
    run_id, name = start(dag_id)
    api.wait_for_task_state(dag_id, run_id, "customize", {"running"}, timeout=DEFERRED_TIMEOUT)
    # Marked only once the job exists: on_kill stops the job the task is waiting for.
    wait_for(lambda: any(job["jobName"] == name for job in emulator.jobs()), 60, f"job {name}", 0.5)
    assert job_status(emulator, name) == "InProgress"

    api.set_task_state(dag_id, run_id, "customize", "failed")
    took = wait_for_job_status(emulator, name, STOPPED, STOP_DEADLINE)

    assert took < STOP_DEADLINE
    wait_for_log(stack, dag_id, run_id, "Task killed; stop requested for job", trigger=False)
    assert api.task_instance(dag_id, run_id, "customize")["state"] == "failed"


def test_stop_job_on_kill_false_leaves_the_job_running(stack, api, emulator, start):
    dag_id = "reliability_e2e_deferred_keep_job"
    stops = emulator.request_count(STOP)
    run_id, name = start(dag_id, duration=25)
    wait_until_the_trigger_runs(stack, api, dag_id, run_id)

    api.set_task_state(dag_id, run_id, "customize", "failed")
    # The trigger's on_kill ran and chose to leave the job alone.
    wait_for_log(stack, dag_id, run_id, "left running (stop_job_on_kill=False)")

    assert job_status(emulator, name) == "InProgress"
    assert emulator.request_count(STOP) == stops


def test_task_marked_success_does_not_stop_the_job(stack, api, emulator, start):
    dag_id = "reliability_e2e_slow_poll"
    stops = emulator.request_count(STOP)
    run_id, name = start(dag_id, duration=3)
    wait_until_the_trigger_runs(stack, api, dag_id, run_id)
    wait_for_job_status(emulator, name, {"Completed"}, 60)
    assert api.task_instance(dag_id, run_id, "customize")["state"] == "deferred", (
        "the trigger has not fired yet"
    )

    api.set_task_state(dag_id, run_id, "customize", "success")
    wait_for_log(stack, dag_id, run_id, "left running: the task was marked succeeded")

    assert job_status(emulator, name) == "Completed"
    assert emulator.request_count(STOP) == stops
    assert api.task_instance(dag_id, run_id, "customize")["state"] == "success"
