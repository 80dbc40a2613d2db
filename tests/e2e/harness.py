"""The e2e tier's harness: the demo's own stack (demo/stack.py LocalStack), with what only the tests do.

``E2EStack`` is LocalStack, started the way the demo starts it; it adds:

- the schedule-off mode by default: the scheduler starts no runs of its own, the tests decide which
  runs exist (``schedules=False``),
- the tests' DAG bundle (tests/e2e/dags) beside the example DAGs, and weeks of training data only the
  tests train on (E2E_WEEKS), uploaded with the demo's,
- killing, freezing, resuming and restarting a component, as a crash or a stalled machine would,
- ``triggerer_job_ids``: which TriggererJob each triggerer runs as now,

and its ``.api`` is ``HarnessApi``: the demo's REST client with the calls only the tests make
(marking task instances, backfills, pausing DAGs, waiting on states).
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from demo.airflow_api import AirflowApi, ApiError
from demo.processes import StackError, descendants, signal_group, signal_process, wait_for
from demo.seed import newest_week_as, s3_client, upload_weeks
from demo.stack import LocalStack

# Jobs last long enough to be seen deferred (the API is polled every second), short enough for CI.
JOB_DURATION = 6.0
POLL_INTERVAL = 1.0
E2E_DAGS = Path(__file__).resolve().parent / "dags"
# Weeks of training data only the e2e tests train on (after the demo's six): tests that need weeks of
# their own take them from here (test_stack.unused_weeks), leaving the demo's weeks to the tests and
# the UI checks that name them.
E2E_WEEKS = tuple(datetime(2025, 2, 16, tzinfo=UTC) + timedelta(weeks=index) for index in range(9))
FINISHED_RUN_STATES = frozenset({"success", "failed"})
# Airflow's Job.state of a job whose process runs (or was killed without a chance to say otherwise).
JOB_RUNNING = "running"


def current_triggerer_jobs(
    rows: Iterable[Mapping[str, Any]], component_of: Callable[[str | None], str | None]
) -> dict[str, Mapping[str, Any]]:
    """Each triggerer's current job among TriggererJob rows of GET /api/v2/jobs, by component name.

    A triggerer has a row per start: one killed with SIGKILL leaves its row "running" with a heartbeat
    that stops, and the restarted process's row has a higher id. So the current row is the newest
    running one of the component's host name. Its heartbeat's age does not decide: on a loaded machine a
    triggerer that holds triggers can miss ``triggerer_health_check_threshold`` (5 s here) for a moment,
    and Airflow's ``is_alive`` then leaves it out, though nothing else has taken its place.
    """
    current: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        name = component_of(row.get("hostname"))
        if name is None or row.get("state") != JOB_RUNNING:
            continue
        if name not in current or int(row["id"]) > int(current[name]["id"]):
            current[name] = row
    return current


class HarnessApi(AirflowApi):
    """The demo's REST client with the calls only the tests make."""

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.request("PATCH", f"/api/v2/dags/{dag_id}", json_body={"is_paused": paused})

    def all_jobs(self, job_type: str, page_size: int = 100) -> list[dict[str, Any]]:
        """Every job of a type, page by page, newest first (Airflow's default order is by id, and its
        pages stop at ``limit``)."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.get(
                "/api/v2/jobs", job_type=job_type, order_by="-id", limit=page_size, offset=len(found)
            )
            found += page["jobs"]
            if not page["jobs"] or len(found) >= int(page["total_entries"]):
                return found

    def triggerer_job_ids(
        self,
        component_of: Callable[[str | None], str | None],
        wanted: Collection[str],
        timeout: float = 60.0,
    ) -> dict[str, int]:
        """The job id each of ``wanted`` (triggerer component names) runs as now, once each has one.

        Polls until every wanted triggerer has a current job (current_triggerer_jobs): a triggerer that
        has just started registers its job within a heartbeat or two.
        """
        seen: list[dict[str, Mapping[str, Any]]] = [{}]

        def found() -> dict[str, int] | None:
            seen[0] = current_triggerer_jobs(self.all_jobs("TriggererJob"), component_of)
            if not set(wanted) <= set(seen[0]):
                return None
            return {name: int(seen[0][name]["id"]) for name in wanted}

        return wait_for(
            found,
            timeout,
            f"a running TriggererJob of each of {sorted(wanted)}",
            0.5,
            lambda: f"current triggerer jobs: { {name: dict(row) for name, row in seen[0].items()} }",
        )

    @staticmethod
    def _task_instance_path(dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        return path + f"/{map_index}" if map_index >= 0 else path

    def task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        instance: dict[str, Any] = self.get(self._task_instance_path(dag_id, run_id, task_id, map_index))
        return instance

    def set_task_state(self, dag_id: str, run_id: str, task_id: str, state: str, map_index: int = -1) -> Any:
        """Mark a task instance, as a user does in the UI (e.g. "failed" to kill a deferred task)."""
        path = self._task_instance_path(dag_id, run_id, task_id, map_index)
        return self.request("PATCH", path, json_body={"new_state": state})

    def create_backfill(
        self,
        dag_id: str,
        from_date: datetime,
        to_date: datetime,
        reprocess_behavior: str = "none",
        max_active_runs: int = 3,
        dag_run_conf: Mapping[str, Any] | None = None,
        wait_for_running: float = 300.0,
    ) -> dict[str, Any]:
        """POST /api/v2/backfills; while another backfill of the DAG runs, wait up to
        ``wait_for_running`` seconds for it to complete."""
        body = {
            "dag_id": dag_id,
            "from_date": from_date.isoformat(),
            "to_date": to_date.isoformat(),
            "reprocess_behavior": reprocess_behavior,
            "max_active_runs": max_active_runs,
            "dag_run_conf": dict(dag_run_conf or {}),
        }
        refusals: list[str] = []

        def created() -> dict[str, Any] | None:
            try:
                backfill: dict[str, Any] = self.request("POST", "/api/v2/backfills", json_body=body)
            except ApiError as error:
                # Airflow runs one backfill per DAG at a time and answers 409 while another is
                # running (one a user, the UI or an earlier test started): it is accepted once that
                # one has completed.
                if error.status == 409 and self.running_backfills(dag_id):
                    refusals.append(str(error))
                    return None
                raise
            return backfill

        return wait_for(
            created,
            wait_for_running,
            f"the running backfill of {dag_id} to complete so that a new one is accepted",
            1.0,
            lambda: f"{refusals[-1]}; running: {self.running_backfills(dag_id)}",
        )

    def backfill(self, backfill_id: int) -> dict[str, Any]:
        backfill: dict[str, Any] = self.get(f"/api/v2/backfills/{backfill_id}")
        return backfill

    def running_backfills(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's backfills that have not completed yet."""
        backfills: list[dict[str, Any]] = self.get("/api/v2/backfills", dag_id=dag_id, limit=100)["backfills"]
        return [backfill for backfill in backfills if not backfill.get("completed_at")]

    # -- waits --------------------------------------------------------------------------------------

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        timeout: float,
        interval: float = 1.0,
        details: Callable[[], str] | None = None,
    ) -> dict[str, Any]:
        """Until the run is success or failed; returns the run."""

        def finished() -> dict[str, Any] | None:
            run = self.dag_run(dag_id, run_id)
            return run if run["state"] in FINISHED_RUN_STATES else None

        return wait_for(finished, timeout, f"run {run_id} of {dag_id} to finish", interval, details)

    def wait_for_task_state(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        states: Iterable[str],
        timeout: float,
        interval: float = 1.0,
        map_index: int = -1,
    ) -> dict[str, Any]:
        """Until the task instance is in one of ``states``; fails early if it ends in another."""
        wanted = frozenset(states)
        final = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"}) - wanted
        seen: list[str | None] = []

        def reached() -> dict[str, Any] | None:
            try:
                instance = self.task_instance(dag_id, run_id, task_id, map_index)
            except ApiError as error:
                # The scheduler creates a run's task instances (and expands mapped ones) after the
                # run exists: until then the task instance is not found.
                if error.status == 404:
                    if not seen or seen[-1] != "not created yet":
                        seen.append("not created yet")
                    return None
                raise
            if not seen or seen[-1] != instance["state"]:
                seen.append(instance["state"])
            if instance["state"] in final:
                raise StackError(
                    f"{dag_id}.{task_id} in {run_id} ended {instance['state']} (states seen: {seen})"
                )
            return instance if instance["state"] in wanted else None

        return wait_for(
            reached,
            timeout,
            f"{dag_id}.{task_id} in {run_id} to be {'/'.join(sorted(wanted))}",
            interval,
            lambda: f"states seen: {seen}",
        )

    def wait_for_backfill(self, backfill_id: int, timeout: float, interval: float = 1.0) -> dict[str, Any]:
        """Until every run of the backfill has finished; returns the backfill."""

        def completed() -> dict[str, Any] | None:
            backfill = self.backfill(backfill_id)
            return backfill if backfill.get("completed_at") else None

        return wait_for(completed, timeout, f"backfill {backfill_id} to complete", interval)


class E2EStack(LocalStack):
    """The demo's stack (LocalStack) as the e2e tests run it; see the module's docstring."""

    api_class = HarnessApi
    api: HarnessApi

    def __init__(self, home: Path, **options: Any):
        options.setdefault("job_duration", JOB_DURATION)
        options.setdefault("poll_interval", POLL_INTERVAL)
        options.setdefault("schedules", False)
        # DAGs only the tests run, beside the example DAGs: a bundle of their own.
        options.setdefault("dag_bundles", {"e2e-tests": E2E_DAGS})
        super().__init__(home, **options)

    def seed_demo_data(self) -> list[str]:
        """The demo's data, and its last week again as each of E2E_WEEKS' partitions."""
        s3 = s3_client(self.running_emulator_url(), self.region)
        return super().seed_demo_data() + upload_weeks(s3, self.bucket, newest_week_as(E2E_WEEKS))

    def triggerer_job_ids(
        self, wanted: Collection[str] | None = None, timeout: float = 60.0
    ) -> dict[str, int]:
        """The job id each triggerer (or each of ``wanted``) runs as now; its trigger logs are named
        after it (``*.trigger.<job id>.log``)."""
        return self.api.triggerer_job_ids(self.component_of_hostname, wanted or self.triggerers, timeout)

    def kill_component(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the component's whole process group and every process below it (a task
        process leads a group of its own), as a crash of its machine would, and reap it."""
        process = self.processes.pop(name)
        below = descendants(process.pid)
        signal_group(process.pid, sig)
        for pid in below:
            signal_process(pid, sig)
        process.wait(timeout=30)
        # Whatever of the group outlived the leader (a child that handles the signal) goes too.
        signal_group(process.pid, signal.SIGKILL)
        if sig == signal.SIGKILL:
            for pid in below:
                signal_process(pid, signal.SIGKILL)
        self._write_pids()

    def pause_component(self, name: str) -> None:
        """Freeze a component's whole process group (SIGSTOP), as a machine that stalls does."""
        signal_group(self.processes[name].pid, signal.SIGSTOP)

    def resume_component(self, name: str) -> None:
        signal_group(self.processes[name].pid, signal.SIGCONT)

    def restart_component(self, name: str, sig: int = signal.SIGKILL, timeout: float = 90.0) -> None:
        """Kill a component with ``sig`` (unless already killed), start it again and wait until the new
        one heartbeats (a Celery worker: until it consumes from the broker)."""
        if name in self.processes:
            self.kill_component(name, sig)
        restarted = datetime.now(UTC)
        self.start_component(name)
        self.wait_for_component(name, restarted, timeout)
