"""bedrock_finetune_manual and bedrock_retraining from their Trigger dialogs, as a user runs them on a
1366x768 screen (conftest.VIEWPORT): at the defaults, with edited values, with optional fields cleared,
and with each bad value the form must refuse before a run (or a job) exists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from demo.seed import DUMMY_CREDENTIALS
from tests.e2e.conftest import MANUAL_DAG, RUN_TIMEOUT
from tests.e2e.harness import E2EStack
from tests.e2e.ui.airflow_ui import (
    dropdown_options,
    error_alert,
    fill,
    fill_json,
    help_text,
    is_starred,
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
RETRAINING = "bedrock_retraining"


def bedrock_client(stack: E2EStack) -> Any:
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
    stack: E2EStack, page: Page, shoot: Callable[[str], Path]
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
    stack: E2EStack, page: Page, shoot: Callable[[str], Path], unique_name: Callable[[str], str]
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


# Each bad value the issue lists: (section, field, value typed, a fragment of the refusal). A pattern's
# refusal reads its sentence (core.forms.explained_pattern) before the expression.
BAD_VALUES: list[tuple[str, str, Any, str]] = [
    ("Names", "job_name", "my retraining job", "'my retraining job' does not match '(?#a job name is"),
    ("Names", "custom_model_name", "support model", "'support model' does not match '(?#a model name is"),
    ("Data", "training_data_uri", "https://example.com/train.jsonl", "'https://example.com/train.jsonl'"),
    ("Data", "training_data_uri", "s3://bedrock-demo/raw/support/20250105/", "/20250105/' does not match"),
    ("Data", "output_data_uri", "s3://My_Bucket/out/", "'s3://My_Bucket/out/' does not match"),
    ("Quality", "max_validation_loss", "-1", "-1 is less than or equal to the minimum of 0"),
    ("Quality", "max_validation_loss", "0", "0 is less than or equal to the minimum of 0"),
    ("Model", "hyperparameters", {}, "{} should be non-empty"),
    ("Model", "hyperparameters", [1, 2], "[1, 2] is not of type 'null', 'object'"),
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
    stack: E2EStack,
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
    # The field and the sentence lead; the schema's dump that Airflow appends comes after them.
    text = alert.inner_text()
    assert text.index(f"Invalid input for param {param}:") < text.index(refusal)
    if "Failed validating" in text:
        assert text.index(refusal) < text.index("Failed validating")
    # On a 1366x768 screen the alert sits above the part of the dialog the Trigger button is in (the
    # page shows a "Bad Request" toast): it is there, once scrolled to (docs: the trigger forms).
    open_section(dialog, section)
    alert.scroll_into_view_if_needed()
    expect(alert).to_be_in_viewport()
    shoot("refused")
    assert run_ids(api, MANUAL_DAG) == before, "a refused form must not create a run"


def test_a_loss_limit_without_validation_data_fails_in_seconds_before_any_job(
    stack: E2EStack, page: Page, shoot: Callable[[str], Path]
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


def test_the_form_offers_the_regions_models_and_stars_only_what_a_run_needs(
    stack: E2EStack, page: Page, shoot: Callable[[str], Path]
) -> None:
    dialog = open_trigger_dialog(page, stack.api_url, MANUAL_DAG)
    models = dropdown_options(dialog, "Model", "base_model_id")
    shoot("base-models")
    # The stack's connection is in us-east-1: the models customized only in us-west-2 are not offered.
    assert "Amazon Titan Text G1 - Express" in models and "Amazon Nova Micro (128k)" in models
    assert not [model for model in models if "Claude" in model or "Llama" in model], models
    assert is_starred(dialog, "base_model_id") and is_starred(dialog, "training_data_uri")
    for section, optional in {
        "Model": ["hyperparameters"],
        "Access": ["job_tags"],
        "Evaluation": [
            "evaluate",
            "evaluation_task_type",
            "evaluation_dataset_uri",
            "min_scores",
            "max_scores",
        ],
    }.items():
        open_section(dialog, section)
        starred = [param for param in optional if is_starred(dialog, param)]
        assert starred == [], f"{section}: {starred} are starred as required"
    shoot("evaluation-section")


def test_cleared_optional_fields_trigger_a_run_that_succeeds(
    stack: E2EStack, page: Page, shoot: Callable[[str], Path], unique_name: Callable[[str], str]
) -> None:
    """Job tags and hyperparameters say what "empty" means; clearing them is not refused as required."""
    api = stack.api
    name = unique_name("ui-cleared")
    before, dialog = run_ids(api, MANUAL_DAG), open_trigger_dialog(page, stack.api_url, MANUAL_DAG)
    fill(dialog, "Names", "job_name", name)
    fill_json(dialog, "Access", "job_tags", "")
    fill_json(dialog, "Model", "hyperparameters", "")
    shoot("cleared")
    expect(dialog.get_by_text("This field is required")).to_have_count(0)
    expect(trigger_button(dialog)).to_be_enabled()
    trigger_button(dialog).click()
    run = new_run(api, MANUAL_DAG, before)
    assert run["conf"]["job_tags"] in (None, {}) and run["conf"]["hyperparameters"] in (None, {})
    finished = api.wait_for_run(MANUAL_DAG, run["dag_run_id"], timeout=RUN_TIMEOUT)
    assert finished["state"] == "success"
    # No hyperparameters were sent: the model trained with its own defaults.
    assert bedrock_client(stack).get_model_customization_job(jobIdentifier=name)["hyperParameters"] == {}


def test_the_retraining_form_at_its_defaults_trains_a_week_that_has_data(
    stack: E2EStack, page: Page, shoot: Callable[[str], Path]
) -> None:
    """The dialog's Logical Date is the present moment, whose week has no data; "Week to train" decides."""
    from tests.unit.test_example_dags import DAG_SETTINGS

    api = stack.api
    before, dialog = run_ids(api, RETRAINING), open_trigger_dialog(page, stack.api_url, RETRAINING)
    hint = help_text(dialog, "week")
    assert DAG_SETTINGS.DEMO_DATES in hint, hint
    assert DAG_SETTINGS.DEMO_DATES not in help_text(dialog, "max_validation_loss")
    shoot("retraining-form")
    trigger_button(dialog).click()
    run = new_run(api, RETRAINING, before)
    assert run["conf"]["week"] == f"{DAG_SETTINGS.LAST_PARTITION:%Y-%m-%d}"
    task_page(page, stack.api_url, RETRAINING, run["dag_run_id"], "prepare_dataset")
    wait_for_task_state(page, "Success", RUN_TIMEOUT_MS)
    shoot("retraining-prepared")
    finished = api.wait_for_run(RETRAINING, run["dag_run_id"], timeout=RUN_TIMEOUT * 2)
    assert finished["state"] == "success", finished
    week = f"{DAG_SETTINGS.LAST_PARTITION:%Y%m%d}"
    assert api.xcom(RETRAINING, run["dag_run_id"], "customize")["custom_model_name"] == f"support-bot-{week}"
