"""bedrock_rollback from its Trigger dialog: two promotions put a model and then another behind a stable
deployment; the form, left at its model default (the last-good model), points the deployment back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RUN_TIMEOUT
from tests.e2e.harness import E2EStack
from tests.e2e.test_promotion import ROLLBACK, stable_state, trained_models
from tests.e2e.test_stack import task_states
from tests.e2e.ui.airflow_ui import fill, new_run, open_trigger_dialog, run_ids, task_page, trigger_button

pytestmark = [pytest.mark.e2e, pytest.mark.ui]


def test_the_rollback_form_points_the_stable_deployment_back_at_its_last_good_model(
    stack: E2EStack, page: Page, shoot: Callable[[str], Path]
) -> None:
    api = stack.api
    suffix = uuid.uuid4().hex[:8]
    deployment = f"ui-rollback-{suffix}"
    good, bad = trained_models(stack, f"ui-good-{suffix}", f"ui-bad-{suffix}")
    for model in (good, bad):
        run_id = str(
            api.trigger("e2e_promote", conf={"deployment_name": deployment, "model": model})["dag_run_id"]
        )
        run = api.wait_for_run("e2e_promote", run_id, timeout=RUN_TIMEOUT)
        assert run["state"] == "success", task_states(api, "e2e_promote", run_id)
    before = stable_state(stack, deployment)
    assert before["model"] == bad and before["last_good"] == good

    runs = run_ids(api, ROLLBACK)
    dialog = open_trigger_dialog(page, stack.api_url, ROLLBACK)
    fill(dialog, "Rollback", "deployment_name", deployment)
    expect(dialog.locator("input#element_model")).to_have_value("@last-good")
    shoot("rollback-form")
    expect(trigger_button(dialog)).to_be_enabled()
    trigger_button(dialog).click()
    run = new_run(api, ROLLBACK, runs)
    assert run["conf"]["deployment_name"] == deployment and run["conf"]["model"] == "@last-good"
    finished = api.wait_for_run(ROLLBACK, run["dag_run_id"], timeout=RUN_TIMEOUT)
    assert finished["state"] == "success", task_states(api, ROLLBACK, run["dag_run_id"])
    task_page(page, stack.api_url, ROLLBACK, run["dag_run_id"], "rollback")
    expect(page.get_by_text(f"before: {bad}").first).to_be_visible()
    shoot("rollback-log")
    after = stable_state(stack, deployment)
    assert after == {"arn": before["arn"], "model": good, "last_good": good}
