"""The Airflow components of the local stack: which processes it runs, and when each one works.

``StackComponents`` is a part of LocalStack (demo/stack.py): the components' names by executor, the
waits that tell a started component works (a heartbeat, a Celery worker consuming from the broker, the
api-server answering, the example DAGs parsed), and the tails of their logs.
"""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from demo.airflow_api import AirflowApi
from demo.hostname import component_of, hostname_of
from demo.processes import StackError, tail, wait_for

EXAMPLE_DAGS = (
    "bedrock_retraining",
    "bedrock_finetune_manual",
    "bedrock_watch_job",
    "bedrock_hyperparameter_sweep",
)
CELERY_TRIGGERERS = ("triggerer-1", "triggerer-2")
CELERY_WORKERS = ("celery-worker-1", "celery-worker-2")
# A Celery worker's log line once it consumes from the broker.
WORKER_READY = " ready."
# Health keys of GET /api/v2/monitor/health, by component.
HEALTH_KEYS = {"scheduler": "scheduler", "triggerer": "triggerer", "dag-processor": "dag_processor"}


class StackComponents:
    """The components part of LocalStack; the attributes below are the stack's own (set in its __init__)."""

    executor: str
    logs_dir: Path
    api: AirflowApi
    processes: dict[str, subprocess.Popen[bytes]]

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

    # -- diagnostics ----------------------------------------------------------------------------------

    def log_tail(self, name: str, lines: int = 40) -> str:
        return tail(self.logs_dir / f"{name}.log", lines)

    def logs_hint(self) -> str:
        return f"process logs: {self.logs_dir}/*.log; task logs: {self.logs_dir / 'airflow'}"
