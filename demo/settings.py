"""The settings of the local stack's Airflow processes: environment variables, and home/env.sh.

``AirflowSettings`` is a part of LocalStack (demo/stack.py): it reads the stack's ports, folders and
services and turns them into the environment every Airflow process of the stack gets, and into
``home/env.sh``, which a user ``source``s to run the airflow CLI against the stack.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from demo.seed import DAGS_FOLDER, DUMMY_CREDENTIALS, REPO
from demo.services import Postgres, Redis

EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}
_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})


class AirflowSettings:
    """The settings part of LocalStack; the attributes below are the stack's own (set in its __init__)."""

    home: Path
    airflow_home: Path
    logs_dir: Path
    executor: str
    parallelism: int
    worker_concurrency: int
    poll_interval: float
    schedules: bool
    region: str
    api_port: int
    api_url: str
    emulator_url: str | None
    postgres: Postgres
    redis: Redis | None
    dag_bundles: dict[str, Path]
    airflow_config: dict[str, str]
    _secrets: dict[str, str]
    _log_ports: tuple[int, int]

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
            f"export {key}={shell_quote(value)}"
            for key, value in sorted(self.airflow_env().items())
            if key.startswith(("AIRFLOW", "AWS_", "BEDROCK_"))
            # The CeleryExecutor stack's host names come from demo/hostname.py.
            or (key == "PYTHONPATH" and self.executor == "celery")
        ]
        path.write_text(
            "# Settings of the local stack; source this file to use the airflow CLI with it.\n"
            + "\n".join(lines)
            # The airflow and bedrock-emulator commands of the venv the stack runs on.
            + f'\nexport PATH={shell_quote(str(Path(sys.executable).parent))}:"$PATH"\n'
        )
        path.chmod(0o600)
        return path


def shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"
