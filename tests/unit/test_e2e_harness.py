"""The e2e harness's read of which TriggererJob each triggerer runs as (tests/e2e/harness.py).

A fresh clone's e2e tier under heavy load failed test_celery.py's moved-trigger test with
``KeyError: 'triggerer-2'``: the test had just seen triggerer-2 hold a trigger, but its job was not
among the ones GET /api/v2/jobs?is_alive=true returned. Airflow's endpoint
(airflow/api_fastapi/core_api/routes/public/job.py get_jobs) orders by id, pages at ``limit``, and
applies is_alive to the page only: a job counts as alive while its latest heartbeat is younger than
``triggerer_health_check_threshold`` (5 s on the stack; Job._is_alive in airflow/jobs/job.py). A
loaded triggerer misses that for a moment while it still holds its triggers.

The endpoint below is that code path over rows in memory; the harness reads it through the same
REST client the stack uses, so no Airflow runs here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from demo.hostname import component_of, hostname_of
from demo.processes import StackError
from tests.e2e.harness import HarnessApi, current_triggerer_jobs

# The stack's AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD (demo/settings.py).
HEALTH_CHECK_THRESHOLD = timedelta(seconds=5)


class JobsEndpoint:
    """GET /api/v2/jobs as Airflow 3 answers it, over a list of job rows."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows
        self.requests: list[httpx.QueryParams] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(201, json={"access_token": "token"})
        assert request.url.path == "/api/v2/jobs", request.url
        params = request.url.params
        self.requests.append(params)
        rows = [
            row
            for row in self.rows
            if row["job_type"] == params.get("job_type", row["job_type"])
            and row["hostname"] == params.get("hostname", row["hostname"])
        ]
        order_by = params.get("order_by", "id")
        assert order_by in ("id", "-id"), order_by
        rows.sort(key=lambda row: int(row["id"]), reverse=order_by == "-id")
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 50))
        page = rows[offset : offset + limit]
        if "is_alive" in params:
            now = datetime.now(UTC)
            page = [
                row
                for row in page
                if row["state"] == "running"
                and now - datetime.fromisoformat(row["latest_heartbeat"]) < HEALTH_CHECK_THRESHOLD
            ]
        return httpx.Response(200, json={"jobs": page, "total_entries": len(rows)})


def triggerer_row(
    job_id: int, component: str, heartbeat_age: float, state: str = "running"
) -> dict[str, Any]:
    beat = datetime.now(UTC) - timedelta(seconds=heartbeat_age)
    return {
        "id": job_id,
        "job_type": "TriggererJob",
        "hostname": hostname_of(component),
        "state": state,
        "latest_heartbeat": beat.isoformat(),
    }


@pytest.fixture
def serve() -> Iterator[Any]:
    clients: list[HarnessApi] = []

    def make(rows: list[dict[str, Any]]) -> HarnessApi:
        api = HarnessApi("http://127.0.0.1:1", transport=httpx.MockTransport(JobsEndpoint(rows)))
        clients.append(api)
        return api

    yield make
    for api in clients:
        api.close()


def test_a_triggerer_whose_heartbeat_lags_still_has_its_job(serve: Any) -> None:
    # What the KeyError run saw: triggerer-2 holds triggers, its last heartbeat is 7 s old (a loaded
    # machine), and an earlier triggerer-2 killed by an earlier test left its row "running".
    api = serve(
        [
            triggerer_row(1, "triggerer-1", heartbeat_age=0.5),
            triggerer_row(2, "triggerer-2", heartbeat_age=300.0),
            triggerer_row(3, "triggerer-2", heartbeat_age=7.0),
        ]
    )
    ids = api.triggerer_job_ids(component_of, ["triggerer-1", "triggerer-2"], timeout=2.0)
    assert ids == {"triggerer-1": 1, "triggerer-2": 3}


def test_the_current_job_of_a_often_restarted_triggerer_is_past_the_first_page(serve: Any) -> None:
    # triggerer-1 restarted 150 times: its current row is the newest, far past the oldest 100.
    rows = [triggerer_row(job_id, "triggerer-1", heartbeat_age=600.0) for job_id in range(1, 151)]
    rows += [triggerer_row(151, "triggerer-1", heartbeat_age=0.5), triggerer_row(152, "triggerer-2", 0.5)]
    api = serve(rows)
    assert api.triggerer_job_ids(component_of, ["triggerer-1", "triggerer-2"], timeout=2.0) == {
        "triggerer-1": 151,
        "triggerer-2": 152,
    }


def test_every_job_is_read_page_by_page_newest_first(serve: Any) -> None:
    rows = [triggerer_row(job_id, "triggerer-1", heartbeat_age=600.0) for job_id in range(1, 8)]
    api = serve(rows)
    found = api.all_jobs("TriggererJob", page_size=3)
    assert [row["id"] for row in found] == [7, 6, 5, 4, 3, 2, 1]


def test_a_triggerer_without_a_running_job_is_waited_for_then_named(serve: Any) -> None:
    # triggerer-2 shut down cleanly (its job "success") and no new one has registered.
    api = serve([triggerer_row(1, "triggerer-1", 0.5), triggerer_row(2, "triggerer-2", 0.5, state="success")])
    with pytest.raises(StackError, match=r"(?s)triggerer-2.*current triggerer jobs: \{'triggerer-1'"):
        api.triggerer_job_ids(component_of, ["triggerer-1", "triggerer-2"], timeout=1.0)


def test_rows_of_other_hosts_and_ended_jobs_are_no_triggerer_of_the_stack() -> None:
    rows = [
        triggerer_row(1, "triggerer-1", 0.5),
        {**triggerer_row(2, "triggerer-1", 0.5), "hostname": "elsewhere.example.com"},
        triggerer_row(3, "triggerer-2", 0.5, state="failed"),
    ]
    current = current_triggerer_jobs(rows, component_of)
    assert {name: row["id"] for name, row in current.items()} == {"triggerer-1": 1}
