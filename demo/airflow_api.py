"""The Airflow 3 public REST API (/api/v2) as the demo reads it: health, DAGs, jobs, runs, task instances
and their XComs, with a JWT from /auth/token.

The e2e tier's client (tests/e2e/harness.py HarnessApi) extends this one with what only the tests do:
marking task instances, backfills, pausing DAGs and waiting on states.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import httpx


class ApiError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: Any):
        self.status = status
        self.body = body
        super().__init__(f"{method} {path} answered {status}: {body}")


class AirflowApi:
    """The Airflow 3 public REST API (/api/v2) with a JWT from /auth/token."""

    def __init__(self, base_url: str, timeout: float = 30.0, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        # trust_env=False: a proxy from the environment must not see loopback traffic.
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout, trust_env=False, transport=transport
        )
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
        """GET /api/v2/jobs of one type (SchedulerJob, TriggererJob, ...), newest first, e.g. is_alive=True.

        Airflow applies is_alive to the page it read, not in the query (airflow/api_fastapi/core_api/
        routes/public/job.py get_jobs), and orders by id by default: newest first, the page holds the
        current jobs even once restarts have left more than a page of old ones.
        """
        params = {
            key: str(value).lower() if isinstance(value, bool) else value for key, value in filters.items()
        }
        params.setdefault("order_by", "-id")
        found: list[dict[str, Any]] = self.get("/api/v2/jobs", job_type=job_type, limit=100, **params)["jobs"]
        return found

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
