"""The local stack of the demo: the Bedrock emulator and real Airflow on 127.0.0.1.

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
it is still up then. ``schedules=False`` (the e2e tests', and the demo's ``--logical-date``) runs none
(``use_job_schedule = False``): the runs are the ones started through the REST API.

Its parts: demo/settings.py (the Airflow processes' environment and env.sh), demo/airflow_api.py (the
REST API client), demo/processes.py (ports, waits, process groups, stop_recorded), demo/services.py
(PostgreSQL, Redis). The end-to-end tests start this same class through their harness
(tests/e2e/harness.py E2EStack, a subclass that adds killing, freezing and restarting components, the
tests' own weeks of data and DAG bundle, and the REST calls only tests make).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from demo.airflow_api import AirflowApi
from demo.components import StackComponents
from demo.hostname import COMPONENT_VARIABLE
from demo.processes import (
    PIDS_FILE,
    POSTGRES,
    REDIS,
    StackError,
    as_user,
    free_port,
    start_time,
    stop_stack,
    tail,
    wait_for,
)
from demo.seed import DAG_SETTINGS, s3_client, seed
from demo.services import Postgres, Redis, ServiceError
from demo.settings import EXECUTORS, AirflowSettings

EMULATOR = "emulator"


class LocalStack(StackComponents, AirflowSettings):
    """The emulator, the database (and broker) and the Airflow components, on loopback, under ``home``.

    ``executor="local"`` (the default) runs the LocalExecutor: tasks run in the scheduler's processes
    and one triggerer waits for the deferred ones. ``executor="celery"`` runs the CeleryExecutor with a
    Redis broker, two Celery workers and two triggerers, as a deployment that outgrew one machine does.
    ``schedules=True`` lets the scheduler start runs from the DAGs' schedules, as the demo's does.
    """

    # The REST client of ``.api``; the e2e harness's stack uses its own, which adds the tests' calls.
    api_class: type[AirflowApi] = AirflowApi

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
        self.api = self.api_class(self.api_url)
        self._emulator_client: Any = None

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

        stop_stack({name: process.pid for name, process in processes.items()}, timeout, reap)
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

            self._emulator_client = EmulatorClient(self.running_emulator_url())
        return self._emulator_client

    def running_emulator_url(self) -> str:
        """The emulator's URL; StackError before it listens."""
        if self.emulator_url is None:
            raise StackError("the emulator is not running")
        return self.emulator_url

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
                **as_user(user),
            )
        if result.returncode != 0:
            raise StackError(f"{name} failed ({result.returncode}); see {log_path}\n{tail(log_path)}")

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
            **as_user(user),
        )
        self.processes[name] = process
        self._write_pids()
        return process

    def _write_pids(self) -> None:
        record = {
            "pids": {name: process.pid for name, process in self.processes.items()},
            # With its pid, a process's start time names it for good: stop_recorded checks both.
            "started": {name: start_time(process.pid) for name, process in self.processes.items()},
            "api_url": self.api_url,
            "emulator_url": self.emulator_url,
            "executor": self.executor,
            "postgres_data": str(self.postgres.private_dir or ""),
        }
        (self.home / PIDS_FILE).write_text(json.dumps(record, indent=2) + "\n")

    # -- data -----------------------------------------------------------------------------------------

    def seed_demo_data(self) -> list[str]:
        """Upload demo/data as the weekly partitions the example DAGs read."""
        return seed(self.running_emulator_url(), self.bucket, self.region)

    def download(self, uri: str, destination: Path) -> Path:
        """Copy an object from the emulator's S3 to a local file."""
        s3 = s3_client(self.running_emulator_url(), self.region)
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(destination))
        return destination
