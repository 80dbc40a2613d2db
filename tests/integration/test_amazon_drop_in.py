"""The Amazon-named drop-in classes through real Airflow (dag.test) on the emulator.

The first test runs the Amazon provider's own system-test DAG shape with only its import lines
changed; the others take each waiting and naming parameter in turn.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.conftest import ROLE_ARN

pytestmark = pytest.mark.integration


@pytest.fixture
def instant_jobs(emulator) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Jobs without a duration tag end at once: the Amazon DAG sets none and polls every 120 s."""
    before = emulator.job_duration
    emulator.job_duration = 0.0
    yield
    emulator.job_duration = before


def test_the_amazon_system_test_dag_runs_with_only_its_imports_changed(run_dag, instant_jobs, bedrock, s3):
    env_id = os.environ["SYSTEM_TESTS_ENV_ID"]
    result = run_dag("example_bedrock")

    assert result.state == "success", result.task_states()
    states = result.task_states()
    assert states["customize_model_workflow.customize_model"] == "success"
    assert states["customize_model_workflow.await_custom_model_job"] == "success"
    assert states["customize_model_workflow.delete_custom_model"] == "success"
    assert states["watcher"] == "skipped"
    job = bedrock.get_model_customization_job(jobIdentifier=f"CustomizeModelJob{env_id}")
    # Returns what the Amazon operator returns: the job ARN.
    assert result.xcom("customize_model_workflow.customize_model") == job["jobArn"]
    assert job["status"] == "Completed"
    assert job["roleArn"] == ROLE_ARN
    assert job["hyperParameters"] == {
        "epochCount": "1",
        "batchSize": "1",
        "learningRate": "0.0005",
        "learningRateWarmupSteps": "0",
    }
    assert job["outputModelName"] == f"CustomModel{env_id}"
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_custom_model(modelIdentifier=f"CustomModel{env_id}")
    assert all(bucket["Name"] != f"{env_id}-bedrock" for bucket in s3.list_buckets()["Buckets"])


@pytest.mark.parametrize("mode", ["blocking", "deferrable"])
def test_operator_waits_and_returns_the_job_arn(run_dag, unique_name, bedrock, mode):
    name = unique_name(f"it-amazon-{mode}")
    result = run_dag(f"it_amazon_{mode}", conf={"job_name": name})

    assert result.state == "success", result.task_states()
    job = bedrock.get_model_customization_job(jobIdentifier=name)
    assert job["status"] == "Completed"
    assert result.xcom("customize") == job["jobArn"]
    tags = {
        tag["key"]: tag["value"] for tag in bedrock.list_tags_for_resource(resourceARN=job["jobArn"])["tags"]
    }
    assert tags["emulator:duration"] == "1"


@pytest.mark.parametrize("mode", ["blocking", "deferrable"])
def test_waiter_max_attempts_times_waiter_delay_is_the_longest_wait(
    run_dag, unique_name, bedrock, mode, capsys
):
    name = unique_name(f"it-amazon-cap-{mode}")
    result = run_dag(f"it_amazon_{mode}_max_attempts", conf={"job_name": name, "duration": 60})

    assert result.task_states() == {"customize": "failed"}
    assert "after max_wait=2.0 s" in capsys.readouterr().out
    # Giving up the wait leaves the job running, as the Amazon waiter does.
    assert bedrock.get_model_customization_job(jobIdentifier=name)["status"] == "InProgress"
    bedrock.stop_model_customization_job(jobIdentifier=name)


def test_without_wait_for_completion_the_arn_comes_back_while_the_job_runs(run_dag, unique_name, bedrock):
    name = unique_name("it-amazon-nowait")
    result = run_dag("it_amazon_no_wait", conf={"job_name": name, "duration": 60})

    assert result.state == "success", result.task_states()
    job = bedrock.get_model_customization_job(jobIdentifier=name)
    assert result.xcom("customize") == job["jobArn"]
    assert job["status"] == "InProgress"
    bedrock.stop_model_customization_job(jobIdentifier=name)


def _strangers_job(bedrock, name: str) -> str:  # type: ignore[no-untyped-def]
    """A job of the name submitted by someone else (another DAG, the console)."""
    return bedrock.create_model_customization_job(
        jobName=name,
        customModelName=f"{name}-model",
        roleArn=ROLE_ARN,
        baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": "s3://bedrock-it/data/train.jsonl"},
        outputDataConfig={"s3Uri": "s3://bedrock-it/output/stranger/"},
        hyperParameters={"epochCount": "1"},
    )["jobArn"]


def test_ensure_unique_job_name_renames_the_job_and_the_model_around_a_strangers_job(
    run_dag, unique_name, bedrock
):
    name = unique_name("it-amazon-unique")
    strangers = _strangers_job(bedrock, name)
    result = run_dag("it_amazon_deferrable", conf={"job_name": name})

    assert result.state == "success", result.task_states()
    ours = bedrock.get_model_customization_job(jobIdentifier=f"{name}-r2")
    assert result.xcom("customize") == ours["jobArn"] != strangers
    assert ours["outputModelName"] == f"{name}-model-r2"


def test_ensure_unique_job_name_never_renames_a_retry_of_the_same_task_instance(
    run_dag, unique_name, bedrock, emulator
):
    name = unique_name("it-amazon-retry")
    before = emulator.request_count("CreateModelCustomizationJob")
    result = run_dag("it_amazon_crash_after_submit", conf={"job_name": name})

    assert result.state == "success", result.task_states()
    assert result.try_numbers() == {"customize": 2}
    assert emulator.request_count("CreateModelCustomizationJob") == before + 1
    job = bedrock.get_model_customization_job(jobIdentifier=name)
    assert result.xcom("customize") == job["jobArn"]
    names = {
        summary["jobName"]
        for summary in bedrock.list_model_customization_jobs(nameContains=name)[
            "modelCustomizationJobSummaries"
        ]
    }
    assert names == {name}


def test_without_ensure_unique_job_name_a_strangers_job_fails_the_task(run_dag, unique_name, bedrock, capsys):
    name = unique_name("it-amazon-taken")
    _strangers_job(bedrock, name)
    result = run_dag("it_amazon_not_unique", conf={"job_name": name})

    assert result.task_states() == {"customize": "failed"}
    assert "was not submitted by this task instance" in capsys.readouterr().out


def _job(run_dag, name: str, duration: float = 1, outcome: str = "Completed") -> None:  # type: ignore[no-untyped-def]
    result = run_dag("it_amazon_no_wait", conf={"job_name": name, "duration": duration, "outcome": outcome})
    assert result.state == "success", result.task_states()


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_sensor_waits_for_the_job_by_name(run_dag, unique_name, bedrock, mode):
    name = unique_name(f"it-amazon-sensor-{mode}")
    _job(run_dag, name, duration=2)
    result = run_dag(f"it_amazon_sensor_{mode}", conf={"job_name": name})

    assert result.state == "success", result.task_states()
    assert bedrock.get_model_customization_job(jobIdentifier=name)["status"] == "Completed"
    # The Amazon sensor returns nothing; the job stays reachable through the console link's XCom.
    assert result.xcom("wait") is None
    assert (
        result.xcom("wait", key="bedrock_customization_job_arn")
        == bedrock.get_model_customization_job(jobIdentifier=name)["jobArn"]
    )


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_sensor_max_retries_times_poke_interval_is_the_longest_wait(run_dag, unique_name, bedrock, mode):
    name = unique_name(f"it-amazon-sensor-cap-{mode}")
    _job(run_dag, name, duration=60)
    result = run_dag(f"it_amazon_sensor_{mode}_max_retries", conf={"job_name": name})

    assert result.task_states() == {"wait": "failed"}
    bedrock.stop_model_customization_job(jobIdentifier=name)


@pytest.mark.parametrize(("outcome", "state"), [("Stopped", "success"), ("Failed", "failed")])
def test_sensor_success_and_failure_states(run_dag, unique_name, outcome, state):
    name = unique_name(f"it-amazon-sensor-{outcome.lower()}")
    _job(run_dag, name, outcome=outcome)
    result = run_dag("it_amazon_sensor_failure_states", conf={"job_name": name})

    assert result.task_states() == {"wait": state}
