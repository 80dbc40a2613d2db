"""The local stack of the demo and the end-to-end tests: the Bedrock emulator and real Airflow on 127.0.0.1.

``LocalStack(home)`` runs, everything under ``home``:

- the emulator (the ``bedrock-emulator`` CLI; its jobs and S3 objects live in its memory),
- a PostgreSQL server of its own (demo/services.py; data under ``home/postgres``) and, for the
  CeleryExecutor, a Redis server (``home/redis``) as the broker,
- ``airflow db migrate``, then the api-server, the scheduler, the dag-processor and the triggerer,
  each a process of its own in its own process group, so that a test can kill one (and every child
  it has) the way a crash would. ``executor="celery"`` runs two triggerers (``triggerer-1``,
  ``triggerer-2``) and two Celery workers (``celery-worker-1``, ``celery-worker-2``) instead of one
  triggerer, as a deployment that outgrew one machine does,

and waits until the API answers, every component reports healthy and the example DAGs are parsed.
Each process writes to ``home/logs/<name>.log``; task logs go to ``home/logs/airflow/``.
``home/pids.json`` records what runs (each pid with its start time), so ``python -m demo.run --stop``
can stop a stack left running, and nothing else.

The metadata database is PostgreSQL, as in production: SQLite serializes every writer, and under
load the API answers "Database error" while the scheduler holds the lock. SQLite stays where Airflow
runs in the test's own process (``dag.test()`` in tests/integration). The simple auth manager is told
that everyone is an admin (``simple_auth_manager_all_admins``): the API is on loopback only, and
``GET /auth/token`` hands out a token with no password.

The demo data is uploaded before Airflow starts (demo.seed): the demo's weeks, and the two weeks
the weekly schedule reaches from today. ``schedules=True`` (the demo's) lets the scheduler create runs
from the DAGs' schedules: with catchup off, the weekly retraining DAG runs the latest Sunday's week as
soon as it is parsed, and the "Next Run" its page shows is the next Sunday, which the stack also runs if
it is still up then. The end-to-end tests' stack runs none (``use_job_schedule = False``): its runs are
the ones the tests start through the REST API, triggered runs and backfills.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

from demo.hostname import COMPONENT_VARIABLE, component_of, hostname_of
from demo.seed import DAG_SETTINGS, DAGS_FOLDER, DUMMY_CREDENTIALS, REPO, s3_client, seed
from demo.services import Postgres, Redis, ServiceError

EXAMPLE_DAGS = (
    "bedrock_retraining",
    "bedrock_finetune_manual",
    "bedrock_watch_job",
    "bedrock_hyperparameter_sweep",
)
# The components of the LocalExecutor stack (the default); a CeleryExecutor stack's are in .components.
AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}
CELERY_TRIGGERERS = ("triggerer-1", "triggerer-2")
CELERY_WORKERS = ("celery-worker-1", "celery-worker-2")
EMULATOR = "emulator"
POSTGRES = "postgres"
REDIS = "redis"
# Started first and stopped last: the Airflow processes need them until they have shut down.
SERVICES = (POSTGRES, REDIS)
PIDS_FILE = "pids.json"
# A Celery worker's log line once it consumes from the broker.
WORKER_READY = " ready."
# Health keys of GET /api/v2/monitor/health, by component.
HEALTH_KEYS = {"scheduler": "scheduler", "triggerer": "triggerer", "dag-processor": "dag_processor"}
FINISHED_RUN_STATES = frozenset({"success", "failed"})
_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})

T = TypeVar("T")


class StackError(RuntimeError):
    """The stack did not start, a component died, or a wait ran out of time."""


class ApiError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: Any):
        self.status = status
        self.body = body
        super().__init__(f"{method} {path} answered {status}: {body}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the api-server binds: connections of an earlier server in TIME_WAIT do not block it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for(
    check: Callable[[], T | None],
    timeout: float,
    what: str,
    interval: float = 1.0,
    details: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` every ``interval`` seconds until it returns something truthy; at most ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            extra = details() if details else ""
            raise StackError(
                f"timed out after {timeout:.0f} s waiting for {what}" + (f"\n{extra}" if extra else "")
            )
        time.sleep(interval)


class AirflowApi:
    """The Airflow 3 public REST API (/api/v2) with a JWT from /auth/token."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        # trust_env=False: a proxy from the environment must not see loopback traffic.
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, trust_env=False)
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def token(self) -> str:
        response = self._http.get("/auth/token")
        if response.status_code not in (200, 201):
            raise ApiError("GET", "/auth/token", response.status_code, response.text)
        token: str = response.json()["access_token"]
        return token

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        expect: Iterable[int] = (200, 201),
    ) -> Any:
        """Send a request; return the decoded JSON, or raise ApiError for an unexpected status."""
        for attempt in (1, 2):
            if self._token is None:
                self._token = self.token()
            response = self._http.request(
                method,
                path,
                json=json_body,
                params=params,
                headers={"Authorization": f"Bearer {self._token}"},
            )
            # A token expires; get a fresh one once.
            if response.status_code == 401 and attempt == 1:
                self._token = None
                continue
            break
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code not in tuple(expect):
            raise ApiError(method, path, response.status_code, body)
        return body

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    # -- health and DAGs --------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """GET /api/v2/monitor/health; needs no token."""
        response = self._http.get("/api/v2/monitor/health")
        response.raise_for_status()
        health: dict[str, Any] = response.json()
        return health

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        try:
            dag: dict[str, Any] = self.get(f"/api/v2/dags/{dag_id}")
        except ApiError as error:
            if error.status == 404:
                return None
            raise
        return dag

    def import_errors(self) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = self.get("/api/v2/importErrors")["import_errors"]
        return errors

    def jobs(self, job_type: str, **filters: Any) -> list[dict[str, Any]]:
        """GET /api/v2/jobs of one type (SchedulerJob, TriggererJob, ...), e.g. is_alive=True."""
        params = {
            key: str(value).lower() if isinstance(value, bool) else value for key, value in filters.items()
        }
        found: list[dict[str, Any]] = self.get("/api/v2/jobs", job_type=job_type, limit=100, **params)["jobs"]
        return found

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.request("PATCH", f"/api/v2/dags/{dag_id}", json_body={"is_paused": paused})

    # -- runs ---------------------------------------------------------------------------------------

    def trigger(
        self,
        dag_id: str,
        conf: Mapping[str, Any] | None = None,
        logical_date: datetime | None = None,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "logical_date": logical_date.isoformat() if logical_date else None,
            "conf": dict(conf or {}),
        }
        if run_id:
            body["dag_run_id"] = run_id
        run: dict[str, Any] = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", json_body=body)
        return run

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        return run

    def dag_runs(self, dag_id: str, **filters: Any) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.get(f"/api/v2/dags/{dag_id}/dagRuns", limit=100, **filters)[
            "dag_runs"
        ]
        return runs

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        instances: list[dict[str, Any]] = self.get(
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100
        )["task_instances"]
        return instances

    def task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        if map_index >= 0:
            path += f"/{map_index}"
        instance: dict[str, Any] = self.get(path)
        return instance

    def set_task_state(self, dag_id: str, run_id: str, task_id: str, state: str, map_index: int = -1) -> Any:
        """Mark a task instance, as a user does in the UI (e.g. "failed" to kill a deferred task)."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        if map_index >= 0:
            path += f"/{map_index}"
        return self.request("PATCH", path, json_body={"new_state": state})

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        entry = self.get(
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            map_index=map_index,
            deserialize=True,
            stringify=False,
        )
        return entry["value"]

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


class LocalStack:
    """The emulator, the database (and broker) and the Airflow components, on loopback, under ``home``.

    ``executor="local"`` (the default) runs the LocalExecutor: tasks run in the scheduler's processes
    and one triggerer waits for the deferred ones. ``executor="celery"`` runs the CeleryExecutor with a
    Redis broker, two Celery workers and two triggerers, as a deployment that outgrew one machine does.
    ``schedules=True`` lets the scheduler start runs from the DAGs' schedules, as the demo's does.
    """

    def __init__(
        self,
        home: Path,
        *,
        job_duration: float = 5.0,
        poll_interval: float = 1.0,
        parallelism: int = 4,
        api_port: int | None = None,
        dag_bundles: Mapping[str, Path] | None = None,
        airflow_config: Mapping[str, str] | None = None,
        executor: str = "local",
        worker_concurrency: int = 4,
        max_concurrent_jobs: int = 20,
        schedules: bool = False,
    ):
        if executor not in EXECUTORS:
            raise ValueError(f"executor={executor!r}: use one of {', '.join(EXECUTORS)}")
        self.home = Path(home).resolve()
        self.airflow_home = self.home / "airflow"
        self.logs_dir = self.home / "logs"
        self.job_duration = job_duration
        self.poll_interval = poll_interval
        self.parallelism = parallelism
        self.executor = executor
        self.worker_concurrency = worker_concurrency
        # The emulated account's quota of customization jobs running at once: AWS's default is 2; this
        # account had it raised, so that a sweep's mapped jobs and the tests' parallel waits run at once.
        self.max_concurrent_jobs = max_concurrent_jobs
        self.schedules = schedules
        self.dag_bundles = {name: Path(path).resolve() for name, path in (dag_bundles or {}).items()}
        self.airflow_config = dict(airflow_config or {})
        self.bucket: str = DAG_SETTINGS.DEMO_BUCKET
        self.region: str = DAG_SETTINGS.DEMO_REGION
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._log_files: dict[str, IO[bytes]] = {}
        self.api_port = api_port or free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.emulator_url: str | None = None
        # The demo data's object URIs, once start() has uploaded them.
        self.seeded: list[str] = []
        self.postgres = Postgres(self.home / "postgres", free_port())
        self.redis = Redis(self.home / "redis", free_port()) if executor == "celery" else None
        self._secrets = {"jwt": secrets.token_urlsafe(32), "api": secrets.token_urlsafe(32)}
        self._log_ports = (free_port(), free_port())
        self.api = AirflowApi(self.api_url)
        self._emulator_client: Any = None

    # -- components -----------------------------------------------------------------------------------

    @property
    def triggerers(self) -> tuple[str, ...]:
        return CELERY_TRIGGERERS if self.executor == "celery" else ("triggerer",)

    @property
    def workers(self) -> tuple[str, ...]:
        """The Celery workers (none on the LocalExecutor: the scheduler runs the tasks)."""
        return CELERY_WORKERS if self.executor == "celery" else ()

    @property
    def components(self) -> tuple[str, ...]:
        """Every Airflow process of this stack, by the name start/kill/restart_component take."""
        return ("api-server", "scheduler", "dag-processor", *self.triggerers, *self.workers)

    def component_of_hostname(self, hostname: str | None) -> str | None:
        """The worker or triggerer a task instance's or job's host name names (CeleryExecutor stack)."""
        component = component_of(hostname)
        return component if component in self.components else None

    # -- lifecycle ------------------------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self, timeout: float = 240.0) -> LocalStack:
        """Start everything and wait until it is ready; on failure stop what started and raise."""
        started = time.monotonic()
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.airflow_home.mkdir(parents=True, exist_ok=True)
        try:
            self._start_services()
            self._start_emulator()
            # Before the scheduler: the run it starts from the weekly schedule reads its week at once.
            self.seeded = self.seed_demo_data()
            self._migrate(timeout)
            for name in self.components:
                self.start_component(name)
            self.wait_until_ready(max(30.0, timeout - (time.monotonic() - started)))
            self.write_env_file()
        except ServiceError as error:
            self.stop()
            raise StackError(str(error)) from error
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """Stop every process this stack started: SIGTERM to each Airflow and emulator group, then the
        database and broker (fast shutdown); SIGKILL what is left after ``timeout``."""
        processes = dict(self.processes)

        def reap() -> None:
            for process in processes.values():
                process.poll()

        _stop_groups(
            [process.pid for name, process in processes.items() if name not in SERVICES], timeout, reap
        )
        _stop_groups(
            [process.pid for name, process in processes.items() if name in SERVICES],
            timeout,
            reap,
            sig=signal.SIGINT,
        )
        for process in processes.values():
            process.wait()
        self.processes.clear()
        for handle in self._log_files.values():
            handle.close()
        self._log_files.clear()
        self.postgres.cleanup()
        (self.home / PIDS_FILE).unlink(missing_ok=True)
        self.api.close()

    @property
    def emulator(self) -> Any:
        """An EmulatorClient of the running emulator: counts, jobs, fault rates."""
        if self._emulator_client is None:
            from bedrock_provider.emulator import EmulatorClient

            if self.emulator_url is None:
                raise StackError("the emulator is not running")
            self._emulator_client = EmulatorClient(self.emulator_url)
        return self._emulator_client

    def _start_services(self) -> None:
        """PostgreSQL (initdb on first start), and Redis for the CeleryExecutor; until they answer."""
        self.postgres.prepare()
        if not (self.postgres.data_dir / "PG_VERSION").exists():
            self._run_to_end("initdb", self.postgres.initdb_command(), user=self.postgres.user, timeout=120)
        self._spawn(POSTGRES, self.postgres.server_command(), user=self.postgres.user)
        if self.redis is not None:
            self._spawn(REDIS, self.redis.server_command())

        def database_ready() -> bool:
            self._check_alive(POSTGRES)
            return self.postgres.create_database()

        wait_for(database_ready, 60, "PostgreSQL to accept connections", 0.2, lambda: self.log_tail(POSTGRES))
        if self.redis is not None:
            redis = self.redis

            def broker_ready() -> bool:
                self._check_alive(REDIS)
                return redis.ping()

            wait_for(broker_ready, 30, "Redis to answer", 0.2, lambda: self.log_tail(REDIS))

    def _start_emulator(self) -> None:
        log = self.logs_dir / f"{EMULATOR}.log"
        options = f"--port=0 --job-duration={self.job_duration} --region={self.region}"
        options += f" --seed-bucket={self.bucket} --max-concurrent-jobs={self.max_concurrent_jobs}"
        self._spawn(EMULATOR, [sys.executable, "-m", "bedrock_provider.emulator", *options.split()])
        prefix = "bedrock-emulator listening on "

        def listening() -> str | None:
            self._check_alive(EMULATOR)
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith(prefix):
                    return line[len(prefix) :].strip()
            return None

        self.emulator_url = wait_for(
            listening, 60, "the emulator to listen", 0.1, lambda: self.log_tail(EMULATOR)
        )
        self.emulator.wait_until_ready()

    def _migrate(self, timeout: float) -> None:
        self._run_to_end(
            "db-migrate",
            [sys.executable, "-m", "airflow", "db", "migrate"],
            self.airflow_env(),
            timeout=timeout,
        )

    def _run_to_end(
        self,
        name: str,
        command: list[str],
        env: Mapping[str, str] | None = None,
        user: str | None = None,
        timeout: float = 240.0,
    ) -> None:
        """Run a one-off command of the stack (its output in home/logs/<name>.log); raise if it fails."""
        log_path = self.logs_dir / f"{name}.log"
        with log_path.open("wb") as log:
            result = subprocess.run(  # noqa: S603 - commands built here, no shell
                command,
                env=dict(env) if env is not None else self._base_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
                **_as_user(user),
            )
        if result.returncode != 0:
            raise StackError(f"{name} failed ({result.returncode}); see {log_path}\n{_tail(log_path)}")

    def start_component(self, name: str) -> subprocess.Popen[bytes]:
        """Start one Airflow component (also after kill_component)."""
        if name not in self.components:
            raise ValueError(f"unknown component {name!r}; one of {', '.join(self.components)}")
        env = self.airflow_env()
        if name == "api-server":
            arguments = [name, "--host", "127.0.0.1", "--port", str(self.api_port), "--workers", "1"]
            if self.executor == "celery":
                # The workers' and triggerers' host names resolve nowhere and serve no logs: the
                # api-server reads their logs from the shared folder only (demo/log_reader.py).
                env["AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS"] = "demo.log_reader.LOGGING_CONFIG"
        elif name in self.workers:
            # Distinct Celery node names; the stack reads the task logs from files (no log server).
            arguments = ["celery", "worker", "--celery-hostname", f"{name}@%h", "--skip-serve-logs"]
            arguments += ["--concurrency", str(self.worker_concurrency)]
        elif name in self.triggerers:
            arguments = ["triggerer"]
            if self.executor == "celery":
                # Two triggerers on one machine cannot share the trigger log server's port.
                arguments.append("--skip-serve-logs")
        else:
            arguments = [name]
        if name in (*self.workers, *self.triggerers) and self.executor == "celery":
            env[COMPONENT_VARIABLE] = name
        return self._spawn(name, [sys.executable, "-m", "airflow", *arguments], env=env)

    def kill_component(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the component's whole process group and every process below it (a task
        process leads a group of its own), as a crash of its machine would, and reap it."""
        process = self.processes.pop(name)
        descendants = _descendants(process.pid)
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        for pid in descendants:
            _signal_process(pid, sig)
        process.wait(timeout=30)
        # Whatever of the group outlived the leader (a child that handles the signal) goes too.
        _signal_group(process.pid, signal.SIGKILL)
        if sig == signal.SIGKILL:
            for pid in descendants:
                _signal_process(pid, signal.SIGKILL)
        self._write_pids()

    def pause_component(self, name: str) -> None:
        """Freeze a component's whole process group (SIGSTOP), as a machine that stalls does."""
        _signal_group(self.processes[name].pid, signal.SIGSTOP)

    def resume_component(self, name: str) -> None:
        _signal_group(self.processes[name].pid, signal.SIGCONT)

    def restart_component(self, name: str, sig: int = signal.SIGKILL, timeout: float = 90.0) -> None:
        """Kill a component with ``sig`` (unless already killed), start it again and wait until the new
        one heartbeats (a Celery worker: until it consumes from the broker)."""
        if name in self.processes:
            self.kill_component(name, sig)
        restarted = datetime.now(UTC)
        self.start_component(name)
        self.wait_for_component(name, restarted, timeout)

    def _spawn(
        self,
        name: str,
        command: list[str],
        env: Mapping[str, str] | None = None,
        user: str | None = None,
    ) -> subprocess.Popen[bytes]:
        if name in self.processes and self.processes[name].poll() is None:
            raise StackError(f"{name} is already running (pid {self.processes[name].pid})")
        handle = self._log_files.get(name)
        if handle is None:
            handle = self._log_files[name] = (self.logs_dir / f"{name}.log").open("ab")
        handle.write(f"\n===== {datetime.now(UTC).isoformat()} start: {' '.join(command)}\n".encode())
        handle.flush()
        # Each component leads its own process group: stopping or killing it reaches its children.
        process = subprocess.Popen(  # noqa: S603 - sys.executable with arguments built here, no shell
            command,
            env=dict(env) if env is not None else self._base_env(),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=self.home,
            start_new_session=True,
            **_as_user(user),
        )
        self.processes[name] = process
        self._write_pids()
        return process

    def _write_pids(self) -> None:
        record = {
            "pids": {name: process.pid for name, process in self.processes.items()},
            # With its pid, a process's start time names it for good: stop_recorded checks both.
            "started": {name: _start_time(process.pid) for name, process in self.processes.items()},
            "api_url": self.api_url,
            "emulator_url": self.emulator_url,
            "executor": self.executor,
            "postgres_data": str(self.postgres.private_dir or ""),
        }
        (self.home / PIDS_FILE).write_text(json.dumps(record, indent=2) + "\n")

    # -- configuration --------------------------------------------------------------------------------

    def _base_env(self) -> dict[str, str]:
        """The caller's environment without its Airflow settings, proxies and AWS settings: a real
        profile or credential of the caller's must never reach the stack."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW", "AWS_")) and key.lower() not in _PROXY_VARIABLES
        }
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def airflow_env(self) -> dict[str, str]:
        """Every setting of the Airflow processes, as environment variables."""
        worker_log_port, trigger_log_port = self._log_ports
        access_key, secret_key = DUMMY_CREDENTIALS
        connection = {
            "conn_type": "aws",
            "login": access_key,
            "password": secret_key,
            "extra": {"endpoint_url": self.emulator_url, "region_name": self.region},
        }
        settings = {
            "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(self._bundle_config()),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": EXECUTORS[self.executor],
            "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__WORKERS": "1",
            # Random per stack; every component must share them to accept each other's tokens.
            "AIRFLOW__API_AUTH__JWT_SECRET": self._secrets["jwt"],
            "AIRFLOW__API__SECRET_KEY": self._secrets["api"],
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(self.schedules),
            # Short loops: jobs last seconds here, not hours.
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
            # A task's supervisor notices its process has exited within this many seconds. At the
            # default (5 s) a job shorter than that finishes before the scheduler hears that the task
            # deferred, and the late news makes it fail the resumed task (apache/airflow#67287).
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "120",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            # A triggerer that stopped heartbeating this long ago has its triggers taken over.
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "5",
            # A task whose worker died (no heartbeat for this long) is failed and retried; at the
            # default (300 s) a test of a lost worker would wait five minutes.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.logs_dir / "airflow"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(worker_log_port),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_log_port),
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection),
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "BEDROCK_POLL_INTERVAL": str(self.poll_interval),
        }
        if self.redis is not None:
            settings.update(self._celery_settings(self.redis))
        settings.update(self.airflow_config)
        return {**self._base_env(), **settings}

    def _celery_settings(self, redis: Redis) -> dict[str, str]:
        python_path = os.environ.get("PYTHONPATH")
        return {
            "AIRFLOW__CELERY__BROKER_URL": redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": self.postgres.celery_result_backend,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
            # Each worker and triggerer reports a host name of its own (demo/hostname.py), so the
            # REST API tells which one ran a task or holds a trigger; demo/ must be importable for that.
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "demo.hostname.component_hostname",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), python_path])),
        }

    def _bundle_config(self) -> list[dict[str, Any]]:
        """dags/ (the "dags-folder" bundle) and each extra folder as a DAG bundle of its own."""
        local_bundle = "airflow.dag_processing.bundles.local.LocalDagBundle"
        bundles: list[dict[str, Any]] = [{"name": "dags-folder", "classpath": local_bundle, "kwargs": {}}]
        for name, path in self.dag_bundles.items():
            bundles.append({"name": name, "classpath": local_bundle, "kwargs": {"path": str(path)}})
        return bundles

    def write_env_file(self) -> Path:
        """home/env.sh: ``source`` it to use the airflow CLI against this stack."""
        path = self.home / "env.sh"
        lines = [
            f"export {key}={_shell_quote(value)}"
            for key, value in sorted(self.airflow_env().items())
            if key.startswith(("AIRFLOW", "AWS_", "BEDROCK_"))
            # The CeleryExecutor stack's host names come from demo/hostname.py.
            or (key == "PYTHONPATH" and self.executor == "celery")
        ]
        path.write_text(
            "# Settings of the local stack; source this file to use the airflow CLI with it.\n"
            + "\n".join(lines)
            # The airflow and bedrock-emulator commands of the venv the stack runs on.
            + f'\nexport PATH={_shell_quote(str(Path(sys.executable).parent))}:"$PATH"\n'
        )
        path.chmod(0o600)
        return path

    # -- readiness ------------------------------------------------------------------------------------

    def _check_alive(self, *names: str) -> None:
        for name in names or tuple(self.processes):
            process = self.processes.get(name)
            if process is not None and process.poll() is not None:
                log = self.logs_dir / f"{name}.log"
                raise StackError(
                    f"{name} exited with code {process.returncode}; its log: {log}\n{self.log_tail(name)}"
                )

    def component_health(self) -> dict[str, Any]:
        try:
            return self.api.health()
        except httpx.HTTPError:
            return {}

    def wait_for_heartbeat(self, name: str, after: datetime, timeout: float = 60.0) -> None:
        """Until ``name`` (scheduler, triggerer, dag-processor) heartbeats later than ``after``."""
        key = HEALTH_KEYS[name]

        def beating() -> bool:
            self._check_alive(name)
            health = self.component_health().get(key) or {}
            beat = health.get(f"latest_{key}_heartbeat")
            return bool(beat) and health.get("status") == "healthy" and datetime.fromisoformat(beat) > after

        wait_for(beating, timeout, f"a {name} heartbeat", 0.5, lambda: self.log_tail(name))

    def wait_for_component(self, name: str, after: datetime, timeout: float = 60.0) -> None:
        """Until the component started after ``after`` works: a heartbeat later than ``after`` (each of
        the CeleryExecutor stack's triggerers by its own job), a Celery worker consuming from the broker,
        the api-server answering."""
        if name in HEALTH_KEYS:
            self.wait_for_heartbeat(name, after, timeout)
            return
        if name in self.triggerers:
            hostname = hostname_of(name)

            def beating() -> bool:
                self._check_alive(name)
                jobs = self.api.jobs("TriggererJob", hostname=hostname, is_alive=True)
                return any(datetime.fromisoformat(job["latest_heartbeat"]) > after for job in jobs)

            wait_for(beating, timeout, f"a {name} heartbeat", 0.5, lambda: self.log_tail(name))
        elif name in self.workers:

            def consuming() -> bool:
                self._check_alive(name)
                log = (self.logs_dir / f"{name}.log").read_text(errors="replace")
                return WORKER_READY in log.rpartition("\n===== ")[2]

            wait_for(
                consuming, timeout, f"{name} to consume from the broker", 0.5, lambda: self.log_tail(name)
            )
        else:

            def answering() -> bool:
                self._check_alive(name)
                return bool(self.component_health())

            wait_for(answering, timeout, f"the {name} to answer", 0.5, lambda: self.log_tail(name))

    def wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout

        def remaining() -> float:
            return max(1.0, deadline - time.monotonic())

        def api_up() -> bool:
            self._check_alive()
            return bool(self.component_health())

        wait_for(api_up, remaining(), "the api-server to answer", 0.5, lambda: self.log_tail("api-server"))
        for name in self.components:
            if name != "api-server":
                self.wait_for_component(name, datetime(2000, 1, 1, tzinfo=UTC), remaining())

        def parsed() -> bool:
            self._check_alive()
            errors = self.api.import_errors()
            if errors:
                raise StackError(
                    "the example DAGs do not import:\n"
                    + "\n".join(f"{error['filename']}: {error['stack_trace']}" for error in errors)
                )
            return all(self.api.dag(dag_id) for dag_id in EXAMPLE_DAGS)

        wait_for(
            parsed, remaining(), "the example DAGs to be parsed", 1.0, lambda: self.log_tail("dag-processor")
        )

    # -- data -----------------------------------------------------------------------------------------

    def seed_demo_data(self) -> list[str]:
        """Upload demo/data as the weekly partitions the example DAGs read."""
        if self.emulator_url is None:
            raise StackError("the emulator is not running")
        return seed(self.emulator_url, self.bucket, self.region)

    def download(self, uri: str, destination: Path) -> Path:
        """Copy an object from the emulator's S3 to a local file."""
        if self.emulator_url is None:
            raise StackError("the emulator is not running")
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        s3_client(self.emulator_url, self.region).download_file(bucket, key, str(destination))
        return destination

    # -- diagnostics ----------------------------------------------------------------------------------

    def log_tail(self, name: str, lines: int = 40) -> str:
        return _tail(self.logs_dir / f"{name}.log", lines)

    def logs_hint(self) -> str:
        return f"process logs: {self.logs_dir}/*.log; task logs: {self.logs_dir / 'airflow'}"


def stop_recorded(home: Path, timeout: float = 20.0) -> list[str]:
    """Stop the processes a stack recorded in home/pids.json (a stack left running by --keep), and only
    those; returns what it stopped, as "name (pid N)".

    A recorded pid counts only while the process that has it started when the recorded one did: the pid
    of a process that has ended may belong to another by now (someone else's Airflow too), and a
    command line proves nothing. Each recorded process's group goes, and every process below it that
    left the group (a task process leads one of its own).
    """
    record_path = Path(home) / PIDS_FILE
    if not record_path.exists():
        return []
    record = json.loads(record_path.read_text())
    started = record.get("started", {})
    ours = {
        name: int(pid)
        for name, pid in record.get("pids", {}).items()
        if started.get(name) is not None and _start_time(int(pid)) == started[name]
    }
    below = {pid: _start_time(pid) for leader in ours.values() for pid in _descendants(leader)}
    # The Airflow processes first, the database and the broker once those have shut down.
    _stop_groups([pid for name, pid in ours.items() if name not in SERVICES], timeout)
    _stop_groups([pid for name, pid in ours.items() if name in SERVICES], timeout, sig=signal.SIGINT)
    for pid, start_time in below.items():
        if start_time is not None and _start_time(pid) == start_time:
            _signal_process(pid, signal.SIGKILL)
    if record.get("postgres_data"):
        shutil.rmtree(record["postgres_data"], ignore_errors=True)
    record_path.unlink(missing_ok=True)
    return [f"{name} (pid {pid})" for name, pid in ours.items()]


def _start_time(pid: int) -> int | None:
    """When a process started, in clock ticks after boot (field 22 of /proc/PID/stat), or None when no
    process has that pid."""
    try:
        # The command name (field 2) may hold spaces and parentheses: field 3 follows the last ")".
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name (field 2) may hold spaces and parentheses: the parent pid follows the last ")".
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(children.get(child, []))
    return found


def _signal_process(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_groups(
    pgids: list[int],
    timeout: float,
    reap: Callable[[], object] = lambda: None,
    sig: int = signal.SIGTERM,
) -> None:
    """``sig`` to every group at once (each component takes seconds to shut down), SIGKILL after timeout.

    ``reap`` collects exited children of ours: an unreaped leader still counts as a member of its group.
    """
    for pgid in pgids:
        _signal_group(pgid, sig)
        # A group a test froze (pause_component) acts on the signal only once it runs again.
        _signal_group(pgid, signal.SIGCONT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reap()
        if not any(_group_alive(pgid) for pgid in pgids):
            return
        time.sleep(0.2)
    for pgid in pgids:
        _signal_group(pgid, signal.SIGKILL)
    reap()


def _as_user(user: str | None) -> dict[str, Any]:
    """Popen arguments that run a child as ``user`` with that user's group only (root drops to it)."""
    if user is None:
        return {}
    account = pwd.getpwnam(user)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return f"--- last lines of {path} ---\n" + "\n".join(text.splitlines()[-lines:])


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"
