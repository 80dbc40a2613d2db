"""bedrock_finetune_manual from its Trigger dialog, as a user runs it: at the defaults, with edited
values, and with each bad value the form must refuse before a run (or a job) exists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from demo.seed import DUMMY_CREDENTIALS
from demo.stack import LocalStack
from tests.e2e.conftest import MANUAL_DAG, RUN_TIMEOUT
from tests.e2e.ui.airflow_ui import (
    error_alert,
    fill,
    fill_json,
    help_text,
    new_run,
    open_section,
    open_trigger_dialog,
    run_ids,
    task_page,
    trigger_button,
    wait_for_task_state,
)

pytestmark = [pytest.mark.e2e, pytest.mark.ui]

RUN_TIMEOUT_MS = RUN_TIMEOUT * 1000


def bedrock_client(stack: LocalStack) -> Any:
    """Bedrock's API on the stack's emulator, to read a job as the console would show it."""
    import boto3

    return boto3.client(
        "bedrock",
        endpoint_url=stack.emulator_url,
        region_name=stack.region,
        aws_access_key_id=DUMMY_CREDENTIALS[0],
        aws_secret_access_key=DUMMY_CREDENTIALS[1],
    )


def test_the_form_at_its_defaults_triggers_a_run_that_defers_then_succeeds(
    stack: LocalStack, page: Page, shoot: Callable[[str], Path]
) -> None:
    api = stack.api
    before = run_ids(api, MANUAL_DAG)
    dialog = open_trigger_dialog(page, stack.api_url, MANUAL_DAG)
    shoot("trigger-dialog")
    expect(trigger_button(dialog)).to_be_enabled()
    open_section(dialog, "Model")
    expect(dialog.get_by_text("Amazon Nova Micro (128k)").last).to_be_visible()
    shoot("trigger-form-model")  # docs/trigger-form.png
    expect(trigger_button(dialog)).to_be_enabled()

    trigger_button(dialog).click()
    run = new_run(api, MANUAL_DAG, before)
    shoot("triggered")
    assert run["conf"]["job_name"] is None, "the defaults name the job after the run"

    task_page(page, stack.api_url, MANUAL_DAG, run["dag_run_id"], "customize")
    wait_for_task_state(page, "Success", RUN_TIMEOUT_MS)
    shoot("customize-success")
    # The job waited in the triggerer: its lines are in the task's log, between the two halves.
    expect(page.get_by_text("Deferring: the triggerer checks job").first).to_be_visible()
    expect(page.get_by_text("Completed after").first).to_be_visible()
    finished = api.wait_for_run(MANUAL_DAG, run["dag_run_id"], timeout=RUN_TIMEOUT)
    assert finished["state"] == "success"


def test_edited_values_reach_the_job_which_is_seen_deferred_then_successful(
    stack: LocalStack, page: Page, shoot: Callable[[str], Path], unique_name: Callable[[str], str]
) -> None:
    api, emulator = stack.api, stack.emulator
    name = unique_name("ui-edited")
    # A raw week Bedrock's validation accepts (20250112 and 20250209 hold an invalid record on purpose).
    validation = f"s3://{stack.bucket}/raw/support/20250119/tickets.jsonl"
    before = run_ids(api, MANUAL_DAG)
    dialog = open_trigger_dialog(page, stack.api_url, MANUAL_DAG)
    fill_json(dialog, "Model", "hyperparameters", {"epochCount": 1, "learningRate": 0.00002})
    fill(dialog, "Names", "job_name", name)
    fill(dialog, "Data", "validation_data_uri", validation)
    # Long enough for the page to show the task deferred while the job runs.
    fill_json(dialog, "Access", "job_tags", {"team": "support", "emulator:duration": "25"})
    fill(dialog, "Quality", "max_validation_loss", "5")
    shoot("edited-form")
    expect(trigger_button(dialog)).to_be_enabled()
    trigger_button(dialog).click()
    run = new_run(api, MANUAL_DAG, before)
    conf = run["conf"]
    assert conf["job_name"] == name and conf["validation_data_uri"] == validation
    assert conf["hyperparameters"] == {"epochCount": 1, "learningRate": 0.00002}
    assert conf["max_validation_loss"] == 5

    task_page(page, stack.api_url, MANUAL_DAG, run["dag_run_id"], "customize")
    wait_for_task_state(page, "Deferred", 120_000)
    shoot("customize-deferred")
    jobs = [job for job in emulator.jobs() if job["jobName"] == name]
    assert [job["status"] for job in jobs] == ["InProgress"]
    wait_for_task_state(page, "Success", RUN_TIMEOUT_MS)
    shoot("customize-success")
    finished = api.wait_for_run(MANUAL_DAG, run["dag_run_id"], timeout=RUN_TIMEOUT)
    assert finished["state"] == "success"
    job = bedrock_client(stack).get_model_customization_job(jobIdentifier=name)
    assert job["hyperParameters"] == {"epochCount": "1", "learningRate": "2e-05"}
    assert job["validationDataConfig"]["validators"] == [{"s3Uri": validation}]


# Each bad value the issue lists: (section, field, value typed, a fragment of the refusal).
BAD_VALUES: list[tuple[str, str, Any, str]] = [
    ("Names", "job_name", "my retraining job", "'my retraining job' does not match"),
    ("Names", "custom_model_name", "support model", "'support model' does not match"),
    ("Data", "training_data_uri", "https://example.com/train.jsonl", "'https://example.com/train.jsonl'"),
    ("Data", "training_data_uri", "s3://bedrock-demo/raw/support/20250105/", "/20250105/' does not match"),
    ("Data", "output_data_uri", "s3://My_Bucket/out/", "'s3://My_Bucket/out/' does not match"),
    ("Quality", "max_validation_loss", "-1", "-1 is less than or equal to the minimum of 0"),
    ("Quality", "max_validation_loss", "0", "0 is less than or equal to the minimum of 0"),
    ("Model", "hyperparameters", {}, "{} should be non-empty"),
    ("Model", "hyperparameters", [1, 2], "[1, 2] is not of type 'object'"),
    ("Model", "hyperparameters", {"epochCount": 500}, "500 is greater than the maximum of 10"),
    ("Access", "job_tags", {"team": 5}, "5 is not of type 'string'"),
    ("Access", "role_arn", "BedrockRole", "'BedrockRole' does not match"),
]


@pytest.mark.parametrize(
    ("section", "param", "value", "refusal"),
    BAD_VALUES,
    ids=[f"{param}={value}" for _, param, value, _ in BAD_VALUES],
)
def test_a_bad_value_is_refused_with_its_field_named_and_no_run(
    stack: LocalStack,
    page: Page,
    shoot: Callable[[str], Path],
    section: str,
    param: str,
    value: Any,
    refusal: str,
) -> None:
    api = stack.api
    before = run_ids(api, MANUAL_DAG)
    dialog = open_trigger_dialog(page, stack.api_url, MANUAL_DAG)
    if isinstance(value, str):
        fill(dialog, section, param, value)
    else:
        fill_json(dialog, section, param, value)
    assert help_text(dialog, param), f"{param} has no sentence under it"
    trigger_button(dialog).click()
    alert = error_alert(dialog)
    expect(alert).to_contain_text(f"Invalid input for param {param}:")
    expect(alert).to_contain_text(refusal)
    open_section(dialog, section)
    alert.scroll_into_view_if_needed()
    shoot("refused")
    assert run_ids(api, MANUAL_DAG) == before, "a refused form must not create a run"


def test_a_loss_limit_without_validation_data_fails_in_seconds_before_any_job(
    stack: LocalStack, page: Page, shoot: Callable[[str], Path]
) -> None:
    """The form cannot relate two fields; check_request does, before anything is submitted."""
    api, emulator = stack.api, stack.emulator
    before = run_ids(api, MANUAL_DAG)
    creates = emulator.request_count("CreateModelCustomizationJob")
    dialog = open_trigger_dialog(page, stack.api_url, MANUAL_DAG)
    fill(dialog, "Quality", "max_validation_loss", "5")
    trigger_button(dialog).click()
    run = new_run(api, MANUAL_DAG, before)

    task_page(page, stack.api_url, MANUAL_DAG, run["dag_run_id"], "check_request")
    wait_for_task_state(page, "Failed", RUN_TIMEOUT_MS)
    expect(page.get_by_text("a validation-loss limit needs validation data").first).to_be_visible()
    shoot("check-request-failed")
    finished = api.wait_for_run(MANUAL_DAG, run["dag_run_id"], timeout=RUN_TIMEOUT)
    assert finished["state"] == "failed"
    check = api.task_instance(MANUAL_DAG, run["dag_run_id"], "check_request")
    assert check["try_number"] == 1, "a refused form is not retried"
    assert api.task_instance(MANUAL_DAG, run["dag_run_id"], "customize")["state"] == "upstream_failed"
    assert emulator.request_count("CreateModelCustomizationJob") == creates, "no job was submitted"
