"""Jobs that end Failed or Stopped: the task fails with Bedrock's failureMessage, the XCom says what
happened, and a retry does what if_job_exists says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.integration.reliability import submit_elsewhere

pytestmark = pytest.mark.integration

CREATE = "CreateModelCustomizationJob"
MESSAGE = "Training data line 7 is not valid JSON: unexpected end of data"
EXCEPTION = "airflow.sdk.exceptions.AirflowException: "
FAIL_EXCEPTION = "airflow.sdk.exceptions.AirflowFailException: "


def job_statuses(emulator, prefix: str) -> dict[str, str]:
    return {
        job["jobName"]: job["status"]
        for job in emulator.jobs()
        if job["jobName"] == prefix or job["jobName"].startswith(f"{prefix}-r")
    }


@pytest.mark.parametrize("dag_id", ["reliability_job_outcome", "reliability_job_outcome_blocking"])
@pytest.mark.parametrize(
    ("outcome", "expected", "failure_message"),
    [("Failed", f"Failed: {MESSAGE}", MESSAGE), ("Stopped", "was Stopped before it completed", None)],
)
def test_job_that_does_not_complete_fails_the_task_saying_why(
    run_dag, emulator, unique_name, capsys, dag_id, outcome, expected, failure_message
):
    name = unique_name(f"rel-{outcome.lower()}")
    result = run_dag(dag_id, conf={"prefix": name, "outcomes": [outcome], "failure_message": MESSAGE})
    output = capsys.readouterr().out

    assert result.task_states() == {"train": "failed"}
    message = f"Bedrock job {name} {expected}"
    assert EXCEPTION + message in output
    # Told once, by the exception Airflow logs as the task fails, not also by a log line before it.
    assert output.count(message) == 1, output
    xcom = result.xcom("train")
    assert (xcom["status"], xcom["failure_message"]) == (outcome, failure_message)
    assert (xcom["job_name"], xcom["job_arn"]) == (name, emulator.describe_job(name)["jobArn"])
    assert xcom["custom_model_arn"] is None
    assert job_statuses(emulator, name) == {name: outcome}


def test_retry_after_a_failed_job_submits_name_r2_and_succeeds(run_dag, emulator, unique_name):
    name = unique_name("rel-retry")
    result = run_dag(
        "reliability_job_outcome_retried",
        conf={"prefix": name, "outcomes": ["Failed", "Completed"], "failure_message": MESSAGE},
    )

    assert result.state == "success", result.task_states()
    assert result.try_numbers() == {"train": 2}
    xcom = result.xcom("train")
    assert (xcom["job_name"], xcom["attempt"], xcom["status"]) == (f"{name}-r2", 2, "Completed")
    assert xcom["custom_model_name"] == f"{name}-model-r2"
    assert job_statuses(emulator, name) == {name: "Failed", f"{name}-r2": "Completed"}


def test_retries_exhausted_leave_the_last_failure_in_the_xcom(run_dag, emulator, unique_name, capsys):
    name = unique_name("rel-exhausted")
    result = run_dag(
        "reliability_job_outcome_retried",
        conf={"prefix": name, "outcomes": ["Failed"], "failure_message": MESSAGE},
    )
    output = capsys.readouterr().out

    assert result.task_states() == {"train": "failed"}
    assert result.try_numbers() == {"train": 2}
    assert job_statuses(emulator, name) == {name: "Failed", f"{name}-r2": "Failed"}
    xcom = result.xcom("train")
    assert (xcom["job_name"], xcom["status"], xcom["failure_message"]) == (f"{name}-r2", "Failed", MESSAGE)
    assert EXCEPTION + f"Bedrock job {name}-r2 Failed: {MESSAGE}" in output


def test_rerun_with_if_job_exists_rename_submits_the_next_suffix(run_dag, emulator, unique_name):
    name = unique_name("rel-rename")
    created = emulator.jobs_created()
    when = datetime(2024, 4, 1, tzinfo=UTC)
    first = run_dag("reliability_job_outcome", conf={"prefix": name}, logical_date=when)
    assert first.state == "success", first.task_states()
    first_arn = first.xcom("train")["job_arn"]

    second = run_dag(
        "reliability_job_outcome", conf={"prefix": name, "if_job_exists": "rename"}, logical_date=when
    )
    assert second.run_id == first.run_id
    assert second.state == "success", second.task_states()
    assert second.xcom("train")["job_name"] == f"{name}-r2"
    assert second.xcom("train")["job_arn"] != first_arn
    assert emulator.jobs_created() - created == 2
    assert job_statuses(emulator, name) == {name: "Completed", f"{name}-r2": "Completed"}


def test_rerun_with_if_job_exists_fail_refuses_without_submitting(run_dag, emulator, unique_name, capsys):
    name = unique_name("rel-fail-mode")
    when = datetime(2024, 4, 2, tzinfo=UTC)
    first = run_dag("reliability_job_outcome", conf={"prefix": name}, logical_date=when)
    assert first.state == "success", first.task_states()
    capsys.readouterr()
    creates = emulator.request_count(CREATE)

    second = run_dag(
        "reliability_job_outcome", conf={"prefix": name, "if_job_exists": "fail"}, logical_date=when
    )
    output = capsys.readouterr().out

    assert second.task_states() == {"train": "failed"}
    assert emulator.request_count(CREATE) == creates
    assert f"Job '{name}' (" in output
    assert "already exists and if_job_exists='fail'" in output
    assert job_statuses(emulator, name) == {name: "Completed"}


def test_a_job_of_the_same_name_that_is_not_ours_is_never_adopted(
    run_dag, emulator, unique_name, bedrock, capsys
):
    name = unique_name("rel-stranger")
    submit_elsewhere(bedrock, name, model_name=f"{name}-theirs")
    creates = emulator.request_count(CREATE)

    result = run_dag("reliability_job_outcome", conf={"prefix": name})
    output = capsys.readouterr().out

    assert result.task_states() == {"train": "failed"}
    assert emulator.request_count(CREATE) == creates
    assert "was not submitted by this task instance" in output
    assert result.xcom("train") is None


@pytest.mark.parametrize(
    ("outcome", "expected"), [("Failed", f"Failed: {MESSAGE}"), ("Stopped", "was Stopped")]
)
def test_sensor_in_poke_mode_fails_with_the_jobs_outcome(
    run_dag, bedrock, unique_name, capsys, outcome, expected
):
    name = unique_name(f"rel-sensor-{outcome.lower()}")
    submit_elsewhere(bedrock, name, outcome=outcome, failure_message=MESSAGE)
    result = run_dag("it_sensor_poke", conf={"job_identifier": name})
    output = capsys.readouterr().out

    assert result.task_states() == {"wait": "failed"}
    assert FAIL_EXCEPTION + f"Bedrock job {name} {expected}" in output
