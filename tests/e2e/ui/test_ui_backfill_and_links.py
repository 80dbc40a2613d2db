"""A backfill started from the Backfill dialog, and the customize task's extra links to the console."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RUN_TIMEOUT
from tests.e2e.harness import E2EStack
from tests.e2e.ui.airflow_ui import (
    extra_links,
    open_trigger_dialog,
    pick_datetime,
    task_page,
    wait_for_task_state,
)

pytestmark = [pytest.mark.e2e, pytest.mark.ui]

RETRAINING = "bedrock_retraining"
# Two weeks of the demo data no other test of the session runs.
WEEKS = (datetime(2025, 1, 26, tzinfo=UTC), datetime(2025, 2, 2, tzinfo=UTC))


def test_a_two_week_backfill_from_the_dialog_runs_both_weeks_to_success(
    stack: E2EStack, page: Page, shoot: Callable[[str], Path]
) -> None:
    api = stack.api
    dialog = open_trigger_dialog(page, stack.api_url, RETRAINING)
    dialog.get_by_text("Backfill", exact=True).click()
    pick_datetime(dialog, "From", WEEKS[0])
    pick_datetime(dialog, "To", WEEKS[1])
    expect(dialog.get_by_text("2 runs will be triggered.")).to_be_visible()
    shoot("backfill-dialog")
    dialog.get_by_role("button", name="Run Backfill").click()
    expect(dialog).to_be_hidden()

    def backfill_runs() -> list[dict]:
        return api.dag_runs(
            RETRAINING,
            logical_date_gte=WEEKS[0].isoformat(),
            logical_date_lte=WEEKS[1].isoformat(),
            run_type="backfill",
        )

    from demo.processes import wait_for

    runs = wait_for(
        lambda: (found := backfill_runs()) and len(found) == 2 and found, 60, "the backfill's two runs"
    )
    assert sorted(run["logical_date"][:10] for run in runs) == [f"{week:%Y-%m-%d}" for week in WEEKS]
    for run in sorted(runs, key=lambda run: run["logical_date"]):
        task_page(page, stack.api_url, RETRAINING, run["dag_run_id"], "customize")
        wait_for_task_state(page, "Success", RUN_TIMEOUT * 2 * 1000)
        shoot(f"week-{run['logical_date'][:10]}-customize")
        assert api.wait_for_run(RETRAINING, run["dag_run_id"], timeout=RUN_TIMEOUT)["state"] == "success"


def test_the_customize_tasks_extra_links_open_the_job_and_the_model_in_the_console(
    stack: E2EStack, page: Page, shoot: Callable[[str], Path]
) -> None:
    api = stack.api
    # A week no other test trains (2025-02-09 is the retraining form's default, which its test runs).
    run = api.trigger(RETRAINING, logical_date=datetime(2025, 1, 19, tzinfo=UTC))
    finished = api.wait_for_run(RETRAINING, run["dag_run_id"], timeout=RUN_TIMEOUT * 2)
    assert finished["state"] == "success"
    result = api.xcom(RETRAINING, run["dag_run_id"], "customize")

    task_page(page, stack.api_url, RETRAINING, run["dag_run_id"], "customize", tab="details")
    links = extra_links(page)
    shoot("extra-links")
    console = f"https://console.aws.amazon.com/bedrock/home?region={stack.region}"
    assert links == {
        "Bedrock Customization Job": f"{console}#/custom-models/customization-jobs/item?arn="
        + quote(result["job_arn"], safe=""),
        "Bedrock Custom Model": f"{console}#/custom-models/item?arn="
        + quote(result["custom_model_arn"], safe=""),
    }
    assert f":{stack.region}:" in result["job_arn"]
