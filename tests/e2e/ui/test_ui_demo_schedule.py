"""`make demo`'s stack schedules the weekly DAG: the run it starts is the latest Sunday's, and the
"Next Run" its UI shows is the next Sunday, whose data is there for it.

The demo runs here as the README runs it (demo.run with --keep), on a stack of its own: the e2e
stack's scheduler starts no runs from schedules, so that the tests decide which runs exist.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from demo import run
from demo.airflow_api import AirflowApi
from demo.processes import free_port
from demo.seed import DAG_SETTINGS, s3_client

pytestmark = [pytest.mark.e2e, pytest.mark.ui]

RETRAINING = "bedrock_retraining"


@dataclass
class Demo:
    exit_code: int
    output: str
    api: AirflowApi
    # The Sundays the demo's seed covers, as of its start: the latest and the next.
    seeded_weeks: tuple[datetime, datetime]

    def emulator_url(self) -> str:
        match = re.search(r"emulator (http://127\.0\.0\.1:[0-9]+)", self.output)
        assert match, self.output
        return match.group(1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    home = tmp_path_factory.mktemp("demo")
    port = free_port()
    seeded_weeks = DAG_SETTINGS.scheduled_weeks(datetime.now(UTC))
    output = io.StringIO()
    with redirect_stdout(output), redirect_stderr(output):
        exit_code = run.main(["--home", str(home), "--port", str(port), "--keep"])
    api = AirflowApi(f"http://127.0.0.1:{port}")
    try:
        yield Demo(exit_code, output.getvalue(), api, seeded_weeks)
    finally:
        api.close()
        run.main(["--stop", "--home", str(home)])


def scheduled_week(demo: Demo) -> datetime:
    """The week of the demo's one run: the latest Sunday (the next one, had a Sunday begun while the
    stack started)."""
    runs = demo.api.dag_runs(RETRAINING)
    assert [(r["run_type"], r["state"]) for r in runs] == [("scheduled", "success")], runs
    week = datetime.fromisoformat(runs[0]["logical_date"])
    assert week in demo.seeded_weeks
    return week


def test_the_demo_trains_the_week_its_scheduler_starts(demo: Demo) -> None:
    assert demo.exit_code == 0, demo.output
    week = scheduled_week(demo)
    assert f"The scheduler started {RETRAINING} for the latest Sunday, {week:%Y-%m-%d}" in demo.output


def test_next_run_is_a_sunday_the_demo_schedules_and_has_data_for(
    demo: Demo, page: Page, shoot: Callable[[str], Path]
) -> None:
    week = scheduled_week(demo)
    following = week + timedelta(weeks=1)
    dag = demo.api.dag(RETRAINING)
    assert dag is not None and not dag["is_paused"]
    assert datetime.fromisoformat(dag["next_dagrun_run_after"]) == following
    assert datetime.fromisoformat(dag["next_dagrun_logical_date"]) == following
    if week == demo.seeded_weeks[0]:
        # That run will find its week: the partition its prepare_dataset reads is in the bucket. (Not
        # when a Sunday began between the seed and the scheduler's first run: the seed covers two weeks.)
        s3 = s3_client(demo.emulator_url())
        key = DAG_SETTINGS.partition_key(following)
        assert s3.head_object(Bucket=DAG_SETTINGS.DEMO_BUCKET, Key=key)["ContentLength"] > 0
    # What the DAG's page shows (the UI's default time zone is UTC).
    page.goto(f"{demo.api.base_url}/dags/{RETRAINING}")
    expect(page.get_by_text("Next Run", exact=True)).to_be_visible()
    expect(page.get_by_text(f"{following:%Y-%m-%d} 00:00:00", exact=True)).to_be_visible()
    expect(page.get_by_text(f"{week:%Y-%m-%d} 00:00:00", exact=True)).to_be_visible()
    shoot("next-run")
