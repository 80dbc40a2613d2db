"""The provider on the CeleryExecutor: PostgreSQL, a Redis broker, two Celery workers and two triggerers.

One Celery stack for this module (started first, stopped before the LocalExecutor stack of the other
modules starts). Each worker and triggerer reports a host name of its own (demo/hostname.py), so the
REST API tells which one ran a task or holds a trigger; the emulator's job lists and request counts
prove what reached Bedrock.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from demo.processes import wait_for
from tests.e2e.conftest import MANUAL_DAG, RUN_TIMEOUT, jobs_for, running_stack
from tests.e2e.harness import E2EStack
from tests.e2e.test_stack import task_states

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SWEEP = "bedrock_hyperparameter_sweep"
WORKER_LOST_DAG = "reliability_e2e_worker_lost_after_submit"
DEFERRED_DAG = "reliability_e2e_deferred"
LIST = "ListModelCustomizationJobs"
GET = "GetModelCustomizationJob"
STOPPED = {"Stopping", "Stopped"}
# Long enough that every job is still running when a triggerer dies and the other takes over, on a
# loaded machine too (deferring six tasks may then take half a minute).
WAIT_JOB_SECONDS = 45
HA_JOB_SECONDS = 90
# What a trigger logs once it has seen its job running ("InProgress after 19 s: validation ...").
TRIGGER_SAW_JOB_RUNNING = "InProgress after"
# What the triggerer logs when a trigger ends there, for whatever reason.
TRIGGER_ENDED = "trigger completed"
# Airflow's line before it calls on_kill, and ours when on_kill leaves the job of a moved trigger running.
AIRFLOW_CALLED_ON_KILL = "Trigger cancelled by user action, invoking on_kill"
ON_KILL_KEPT_THE_MOVED_JOB = "moved to another triggerer"
DEFERRED_TIMEOUT = 120.0
# Airflow fails the task of a lost worker after [scheduler] task_instance_heartbeat_timeout (30 s here).
LOST_WORKER_TIMEOUT = 240.0


@pytest.fixture(scope="module")
def celery_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EStack]:
    yield from running_stack(
        tmp_path_factory.mktemp("e2e-celery-stack"), executor="celery", parallelism=8, worker_concurrency=4
    )


@pytest.fixture(scope="module")
def e2e_dags(celery_stack: E2EStack) -> None:
    dags = (WORKER_LOST_DAG, DEFERRED_DAG)
    wait_for(
        lambda: all(celery_stack.api.dag(dag_id) for dag_id in dags),
        120,
        "the DAGs of tests/e2e/dags to be parsed",
        1.0,
        lambda: celery_stack.log_tail("dag-processor"),
    )


@pytest.fixture
def names(unique_name: Callable[[str], str]) -> Callable[[str, int], list[str]]:
    return lambda prefix, count: [unique_name(f"{prefix}-{index}") for index in range(count)]


def component(stack: E2EStack, hostname: str | None) -> str:
    found = stack.component_of_hostname(hostname)
    assert found is not None, f"host name {hostname!r} names no worker or triggerer of the stack"
    return found


def trigger_manual(stack: E2EStack, name: str, duration: float) -> str:
    tags = {"emulator:duration": str(duration)}
    run = stack.api.trigger(MANUAL_DAG, conf={"job_name": name, "job_tags": tags})
    return str(run["dag_run_id"])


def holders(stack: E2EStack, runs: list[str]) -> dict[str, str]:
    """Run id -> the triggerer running its customize task's trigger (every trigger must have one)."""
    held: dict[str, str] = {}
    for run_id in runs:
        instance = stack.api.task_instance(MANUAL_DAG, run_id, "customize")
        job = instance.get("triggerer_job") or {}
        if instance["state"] != "deferred" or not job.get("hostname"):
            return {}
        held[run_id] = component(stack, job["hostname"])
    return held


def wait_for_holders(
    stack: E2EStack, runs: list[str], accept: Callable[[dict[str, str]], bool], what: str
) -> dict[str, str]:
    seen: list[dict[str, str]] = [{}]

    def held() -> dict[str, str] | None:
        seen[0] = holders(stack, runs)
        return seen[0] if seen[0] and accept(seen[0]) else None

    return wait_for(held, DEFERRED_TIMEOUT, what, 0.5, lambda: f"triggers held by: {seen[0]}")


def trigger_log(stack: E2EStack, dag_id: str, run_id: str, triggerer_job: int | str = "*") -> str:
    """What triggerers logged for a run's customize trigger (one file per triggerer job)."""
    folder = stack.logs_dir / "airflow" / f"dag_id={dag_id}" / f"run_id={run_id}" / "task_id=customize"
    return "".join(
        path.read_text(errors="replace") for path in sorted(folder.glob(f"*.trigger.{triggerer_job}.log"))
    )


def wait_until_polled(stack: E2EStack, runs: list[str], dag_id: str = MANUAL_DAG) -> None:
    """Until each run's trigger has seen its job running: only a running trigger gets on_kill."""
    wait_for(
        lambda: all(TRIGGER_SAW_JOB_RUNNING in trigger_log(stack, dag_id, run_id) for run_id in runs),
        DEFERRED_TIMEOUT,
        "the triggers to see their jobs running",
        0.5,
    )


def finish_all(stack: E2EStack, runs: list[str], names: list[str]) -> None:
    """Every run succeeded on its first try, with exactly one job, Completed."""
    for run_id, name in zip(runs, names, strict=True):
        run = stack.api.wait_for_run(MANUAL_DAG, run_id, timeout=RUN_TIMEOUT)
        assert run["state"] == "success", task_states(stack.api, MANUAL_DAG, run_id)
        assert stack.api.task_instance(MANUAL_DAG, run_id, "customize")["try_number"] == 1
        jobs = jobs_for(stack.emulator, name)
        assert [job["status"] for job in jobs] == ["Completed"], jobs


def other_triggerer(stack: E2EStack, name: str) -> str:
    return next(triggerer for triggerer in stack.triggerers if triggerer != name)


def polled_lines(stack: E2EStack, runs: list[str], job_id: int) -> dict[str, int]:
    """Run id -> how many progress lines one triggerer job has logged for its trigger."""
    return {
        run_id: trigger_log(stack, MANUAL_DAG, run_id, job_id).count(TRIGGER_SAW_JOB_RUNNING)
        for run_id in runs
    }


def wait_until_run_by(
    stack: E2EStack, runs: list[str], triggerer: str, job_id: int, before: dict[str, int] | None = None
) -> None:
    """Until ``triggerer`` has run each run's trigger: its own trigger log shows the job's status, more
    often than ``before`` when given (then a log from an earlier stint there does not count)."""
    seen = before or {}
    wait_for(
        lambda: all(
            count > seen.get(run_id, 0) for run_id, count in polled_lines(stack, runs, job_id).items()
        ),
        DEFERRED_TIMEOUT,
        f"{triggerer} to run every trigger",
        0.5,
        lambda: f"held now: {holders(stack, runs)}",
    )


# -- the stack ------------------------------------------------------------------------------------------


def test_the_stack_runs_the_celery_executor_with_two_workers_and_two_triggerers(celery_stack):
    env = celery_stack.airflow_env()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://127.0.0.1:")
    assert sorted(celery_stack.triggerer_job_ids()) == ["triggerer-1", "triggerer-2"]
    for triggerer in celery_stack.triggerers:
        assert celery_stack.processes[triggerer].poll() is None, f"{triggerer} is not running"
    for worker in celery_stack.workers:
        assert celery_stack.processes[worker].poll() is None, f"{worker} is not running"


def test_reading_a_deferred_tasks_log_adds_no_traceback_to_the_api_server_log(celery_stack, unique_name):
    """The workers' and triggerers' host names resolve nowhere; the api-server reads their logs from the
    shared folder (demo/log_reader.py) instead of asking for them at those names, which logged a
    traceback for every view of a running or deferred task's log."""
    from urllib.parse import quote

    stack = celery_stack
    run_id = trigger_manual(stack, unique_name("celery-log-view"), WAIT_JOB_SECONDS)
    stack.api.wait_for_task_state(MANUAL_DAG, run_id, "customize", {"deferred"}, timeout=DEFERRED_TIMEOUT)
    api_server_log = stack.logs_dir / "api-server.log"
    written_before = api_server_log.stat().st_size
    # What the UI's log view of the task asks for.
    path = f"/api/v2/dags/{MANUAL_DAG}/dagRuns/{quote(run_id, safe='')}/taskInstances/customize/logs/1"
    shown = str(stack.api.get(path))
    assert "Deferring: the triggerer checks job" in shown, shown[-2000:]
    with api_server_log.open() as log:
        log.seek(written_before)
        added = log.read()
    assert "Traceback" not in added and "Could not read served logs" not in added, added[-4000:]


# -- workers --------------------------------------------------------------------------------------------


def test_sweep_of_twelve_mapped_jobs_spreads_over_both_workers_with_one_job_each(celery_stack):
    api = celery_stack.api
    conf = {
        "partition": "20250202",
        "learning_rates": [0.00001, 0.00002, 0.00003, 0.00004],
        "epoch_counts": [1, 2, 3],
    }
    run_id = api.trigger(SWEEP, conf=conf)["dag_run_id"]
    run = api.wait_for_run(SWEEP, run_id, timeout=RUN_TIMEOUT * 2)
    states = task_states(api, SWEEP, run_id)
    assert run["state"] == "success", states

    customize = [ti for ti in api.task_instances(SWEEP, run_id) if ti["task_id"] == "customize"]
    assert sorted(ti["map_index"] for ti in customize) == list(range(12))
    split = Counter(component(celery_stack, ti["hostname"]) for ti in customize)
    print(f"\nsweep of 12 jobs, customize tasks per worker: {dict(sorted(split.items()))}")
    assert set(split) == set(celery_stack.workers), f"all 12 ran on one worker: {split}"
    assert {ti["try_number"] for ti in customize} == {1}

    results = [api.xcom(SWEEP, run_id, "customize", map_index=index) for index in range(12)]
    assert len({result["job_arn"] for result in results}) == 12
    assert [len(jobs_for(celery_stack.emulator, result["job_name"])) for result in results] == [1] * 12
    # bedrock_job_name: the readable part (prefix and run id) is the run's, the digest after it each task's.
    run_prefix = results[0]["job_name"].rpartition("-")[0] + "-"
    assert len([job for job in celery_stack.emulator.jobs() if job["jobName"].startswith(run_prefix)]) == 12


def test_worker_sigkilled_right_after_create_the_retry_on_the_other_worker_adopts_the_job(
    celery_stack, e2e_dags, unique_name
):
    api, emulator = celery_stack.api, celery_stack.emulator
    name = unique_name("worker-lost")
    run_id = api.trigger(WORKER_LOST_DAG, conf={"job_name": name, "duration": 20})["dag_run_id"]
    wait_for(lambda: jobs_for(emulator, name), 120, f"the Create call of job {name}", 0.2)
    first = api.task_instance(WORKER_LOST_DAG, run_id, "customize")
    assert (first["state"], first["try_number"]) == ("running", 1), first
    lost = component(celery_stack, first["hostname"])

    celery_stack.kill_component(lost)
    try:
        run = api.wait_for_run(WORKER_LOST_DAG, run_id, timeout=LOST_WORKER_TIMEOUT)
        retry = api.task_instance(WORKER_LOST_DAG, run_id, "customize")
        assert run["state"] == "success", task_states(api, WORKER_LOST_DAG, run_id)
        assert retry["try_number"] == 2
        assert component(celery_stack, retry["hostname"]) != lost, "the retry ran on the surviving worker"
        jobs = jobs_for(emulator, name)
        assert len(jobs) == 1, f"the retry adopted the job instead of submitting another: {jobs}"
        assert api.xcom(WORKER_LOST_DAG, run_id, "customize")["job_arn"] == jobs[0]["jobArn"]
        assert jobs[0]["status"] == "Completed"
    finally:
        celery_stack.restart_component(lost)


# -- triggerers -----------------------------------------------------------------------------------------


def test_triggerer_sigkilled_with_six_tasks_deferred_the_other_takes_over_polling_shared(celery_stack, names):
    emulator = celery_stack.emulator
    jobs = names("ha", 6)
    runs = [trigger_manual(celery_stack, name, HA_JOB_SECONDS) for name in jobs]
    held = wait_for_holders(celery_stack, runs, bool, "all 6 triggers to run in a triggerer")
    wait_until_polled(celery_stack, runs)

    # Shared polling: each triggerer lists the running jobs once per interval for all its triggers,
    # and describes a job only when it leaves the list; nobody describes a job per interval.
    busy = set(held.values())
    lists, gets, started = emulator.request_count(LIST), emulator.request_count(GET), time.monotonic()
    time.sleep(6)  # a measurement window, not a wait for an event
    window = time.monotonic() - started
    lists, gets = emulator.request_count(LIST) - lists, emulator.request_count(GET) - gets
    print(f"\nin {window:.1f} s with 6 jobs on {sorted(busy)}: {lists} lists, {gets} describes")
    assert {job["status"] for name in jobs for job in jobs_for(emulator, name)} == {"InProgress"}
    assert 1 <= lists <= (window / 1.0 + 2) * len(busy), lists
    assert gets <= len(jobs) // 2, f"{gets} describes in {window:.0f} s: the triggers do not share one list"

    killed = Counter(held.values()).most_common(1)[0][0]
    survivor = other_triggerer(celery_stack, killed)
    survivor_job = celery_stack.triggerer_job_ids()[survivor]
    celery_stack.kill_component(killed)
    try:
        assert {job["status"] for name in jobs for job in jobs_for(emulator, name)} == {"InProgress"}, (
            "the jobs must outlive the triggerer"
        )
        # Takes over once the killed one has missed triggerer_health_check_threshold (5 s here).
        wait_until_run_by(celery_stack, runs, survivor, survivor_job)
        # Each job Completed, never stopped, and the only one of its name: nothing was resubmitted.
        finish_all(celery_stack, runs, jobs)
    finally:
        celery_stack.restart_component(killed)


def test_trigger_moved_to_the_other_triggerer_keeps_its_job_running(celery_stack, names):
    """A triggerer that stalls past the health threshold loses its triggers to the other; when it runs
    again Airflow cancels them there, and calls their on_kill when the cancel carries its user-action
    message (not every time). That is no user's kill: the job goes on."""
    emulator = celery_stack.emulator
    jobs = names("moved", 2)
    runs = [trigger_manual(celery_stack, name, HA_JOB_SECONDS) for name in jobs]
    wait_for_holders(celery_stack, runs, bool, "both triggers to run in a triggerer")
    wait_until_polled(celery_stack, runs)
    # Who holds them now: on a busy machine a triggerer that has just started can lose them once already.
    held = wait_for_holders(celery_stack, runs, bool, "both triggers to run in a triggerer")
    stalled = held[runs[0]]
    moved = [run_id for run_id in runs if held[run_id] == stalled]
    survivor = other_triggerer(celery_stack, stalled)
    job_ids = celery_stack.triggerer_job_ids()
    polled_before = polled_lines(celery_stack, moved, job_ids[survivor])
    ended_before = {
        run_id: trigger_log(celery_stack, MANUAL_DAG, run_id, job_ids[stalled]).count(TRIGGER_ENDED)
        for run_id in moved
    }

    celery_stack.pause_component(stalled)
    try:
        wait_until_run_by(celery_stack, moved, survivor, job_ids[survivor], polled_before)
    finally:
        celery_stack.resume_component(stalled)

    def lost_log(run_id: str) -> str:
        return trigger_log(celery_stack, MANUAL_DAG, run_id, job_ids[stalled])

    # Running again, the stalled triggerer ends the triggers it lost.
    wait_for(
        lambda: all(lost_log(run_id).count(TRIGGER_ENDED) > ended_before[run_id] for run_id in moved),
        60,
        f"{stalled} to cancel the triggers it lost",
        0.5,
        lambda: lost_log(moved[0])[-3000:],
    )
    for run_id in moved:
        if AIRFLOW_CALLED_ON_KILL in lost_log(run_id):
            assert ON_KILL_KEPT_THE_MOVED_JOB in lost_log(run_id), lost_log(run_id)[-3000:]

    for name in jobs:
        statuses = [job["status"] for job in jobs_for(emulator, name)]
        # Still running, or already done if the takeover outlasted the job on a slow machine: either
        # way not stopped, and the only job of its name.
        assert statuses in (["InProgress"], ["Completed"]), f"moving the trigger stopped {name}: {statuses}"
    finish_all(celery_stack, runs, jobs)


def test_user_marking_a_deferred_task_failed_stops_its_job(celery_stack, e2e_dags, unique_name):
    api, emulator = celery_stack.api, celery_stack.emulator
    name = unique_name("user-kill")
    run_id = api.trigger(DEFERRED_DAG, conf={"job_name": name, "duration": WAIT_JOB_SECONDS})["dag_run_id"]
    instance = api.wait_for_task_state(DEFERRED_DAG, run_id, "customize", {"deferred"}, DEFERRED_TIMEOUT)
    wait_until_polled(celery_stack, [run_id], DEFERRED_DAG)
    assert instance["try_number"] == 1
    assert [job["status"] for job in jobs_for(emulator, name)] == ["InProgress"]

    api.set_task_state(DEFERRED_DAG, run_id, "customize", "failed")
    wait_for(
        lambda: {job["status"] for job in jobs_for(emulator, name)} <= STOPPED,
        30,
        f"job {name} to be stopped",
        0.5,
        lambda: str(jobs_for(emulator, name)),
    )
    assert api.task_instance(DEFERRED_DAG, run_id, "customize")["state"] == "failed"
