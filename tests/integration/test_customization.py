"""BedrockModelCustomizationOperator and the sensor through real Airflow (dag.test) on the emulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.integration

CREATE = "CreateModelCustomizationJob"


def test_deferred_job_completes_and_returns_the_xcom(run_dag, emulator, unique_name, bedrock):
    name = unique_name("it-defer")
    before = emulator.request_count(CREATE)
    result = run_dag("it_customize_deferrable", conf={"job_name": name})

    assert result.state == "success", result.task_states()
    xcom = result.xcom("train")
    assert xcom["status"] == "Completed"
    assert xcom["job_name"] == name
    assert xcom["custom_model_name"] == f"{name}-model"
    assert xcom["custom_model_arn"].startswith("arn:aws:bedrock:us-east-1:123456789012:custom-model/")
    assert xcom["output_data_uri"] == f"s3://bedrock-it/output/{name}/"
    assert xcom["job_arn"] == bedrock.get_model_customization_job(jobIdentifier=name)["jobArn"]
    assert emulator.request_count(CREATE) == before + 1
    assert result.xcom("train", key="bedrock_customization_job_arn") == xcom["job_arn"]
    assert result.xcom("train", key="bedrock_custom_model_arn") == xcom["custom_model_arn"]


def test_blocking_wait_completes(run_dag, unique_name):
    result = run_dag("it_customize_blocking", conf={"job_name": unique_name("it-block")})
    assert result.state == "success", result.task_states()
    assert result.xcom("train")["status"] == "Completed"


def test_fire_and_forget_returns_while_in_progress(run_dag, unique_name):
    result = run_dag("it_customize_no_wait", conf={"job_name": unique_name("it-nowait"), "duration": 30})
    assert result.state == "success"
    assert result.xcom("train")["status"] == "InProgress"


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [("Failed", "Failed: Training data is invalid"), ("Stopped", "was Stopped")],
)
def test_job_that_does_not_complete_fails_the_task_with_bedrocks_message(
    run_dag, unique_name, outcome, expected, capsys
):
    name = unique_name(f"it-{outcome.lower()}")
    result = run_dag("it_customize_deferrable", conf={"job_name": name, "outcome": outcome})

    assert result.task_states() == {"train": "failed"}
    xcom = result.xcom("train")
    assert xcom["status"] == outcome
    assert expected in capsys.readouterr().out
    if outcome == "Failed":
        assert xcom["failure_message"] == "Training data is invalid"


def test_rerun_of_the_same_task_instance_adopts_its_completed_job(run_dag, emulator, unique_name):
    name = unique_name("it-rerun")
    when = datetime(2024, 3, 1, tzinfo=UTC)
    before = emulator.request_count(CREATE)
    first = run_dag("it_customize_deferrable", conf={"job_name": name}, logical_date=when)
    second = run_dag("it_customize_deferrable", conf={"job_name": name}, logical_date=when)

    assert first.state == second.state == "success"
    assert first.run_id == second.run_id
    assert second.xcom("train")["job_arn"] == first.xcom("train")["job_arn"]
    assert emulator.request_count(CREATE) == before + 1


def test_a_rerun_adopts_its_job_after_its_training_data_expired(run_dag, emulator, unique_name, s3):
    """A backfill re-run after an S3 lifecycle rule expired the prepared data: the job is adopted."""
    name = unique_name("it-expired")
    key = f"data/{name}.jsonl"
    s3.copy_object(
        Bucket="bedrock-it", Key=key, CopySource={"Bucket": "bedrock-it", "Key": "data/train.jsonl"}
    )
    when = datetime(2024, 3, 3, tzinfo=UTC)
    before = emulator.request_count(CREATE)
    conf = {"job_name": name, "data_key": key}
    first = run_dag("it_customize_expiring_data", conf=conf, logical_date=when)
    s3.delete_object(Bucket="bedrock-it", Key=key)
    second = run_dag("it_customize_expiring_data", conf=conf, logical_date=when)

    assert first.state == second.state == "success", second.task_states()
    assert second.xcom("train")["job_arn"] == first.xcom("train")["job_arn"]
    assert second.xcom("train")["estimated_cost"]["tokens"] is None
    assert emulator.request_count(CREATE) == before + 1


def test_worker_crash_after_submit_is_adopted_by_the_retry(run_dag, emulator, unique_name, bedrock):
    name = unique_name("it-crash")
    before = emulator.request_count(CREATE)
    created_before = emulator.jobs_created()
    result = run_dag("it_crash_after_submit", conf={"job_name": name})

    assert result.state == "success", result.task_states()
    assert result.try_numbers() == {"train": 2}
    assert emulator.request_count(CREATE) == before + 1
    assert emulator.jobs_created() == created_before + 1
    assert result.xcom("train")["job_name"] == name
    summaries = bedrock.list_model_customization_jobs(nameContains=name)["modelCustomizationJobSummaries"]
    assert [s["jobName"] for s in summaries] == [name]


def test_retry_after_a_failed_job_submits_a_suffixed_one(run_dag, emulator, unique_name, bedrock):
    name = unique_name("it-retry")
    when = datetime(2024, 3, 2, tzinfo=UTC)
    failed = run_dag(
        "it_customize_deferrable", conf={"job_name": name, "outcome": "Failed"}, logical_date=when
    )
    assert failed.task_states() == {"train": "failed"}

    retried = run_dag("it_customize_deferrable", conf={"job_name": name}, logical_date=when)
    assert retried.state == "success"
    assert retried.xcom("train")["job_name"] == f"{name}-r2"
    assert retried.xcom("train")["custom_model_name"] == f"{name}-model-r2"
    names = {
        s["jobName"]
        for s in bedrock.list_model_customization_jobs(nameContains=name)["modelCustomizationJobSummaries"]
    }
    assert names == {name, f"{name}-r2"}


def test_job_name_from_the_bedrock_name_filter(run_dag):
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    result = run_dag("it_customize_templated_name", conf={"job_name": "unused"}, logical_date=when)
    assert result.state == "success", result.task_states()
    assert result.xcom("train")["job_name"] == "it-customize-templated-name-20240506T070809"


def test_throttling_at_30_percent_still_succeeds(run_dag, emulator, unique_name):
    emulator.set_fault_rates(throttle=0.3)
    result = run_dag("it_customize_deferrable", conf={"job_name": unique_name("it-throttle")})
    emulator.set_fault_rates(throttle=0.0)
    assert result.state == "success", result.task_states()
    assert emulator.fault_count("GetModelCustomizationJob") + emulator.fault_count(CREATE) > 0


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_sensor_waits_for_a_job_submitted_elsewhere(run_dag, bedrock, unique_name, mode):
    name = unique_name(f"it-sensor-{mode}")
    arn = bedrock.create_model_customization_job(
        jobName=name,
        customModelName=f"{name}-model",
        roleArn="arn:aws:iam::123456789012:role/BedrockCustomization",
        baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": "s3://bedrock-it/data/train.jsonl"},
        outputDataConfig={"s3Uri": f"s3://bedrock-it/output/{name}/"},
        jobTags=[{"key": "emulator:duration", "value": "1.5"}],
    )["jobArn"]
    identifier = arn if mode == "deferrable" else name
    result = run_dag(f"it_sensor_{mode}", conf={"job_identifier": identifier})

    assert result.state == "success", result.task_states()
    description = result.xcom("wait")
    assert description["status"] == "Completed"
    assert description["jobArn"] == arn


def test_sensor_fails_with_the_failure_message(run_dag, bedrock, unique_name, capsys):
    name = unique_name("it-sensor-failed")
    bedrock.create_model_customization_job(
        jobName=name,
        customModelName=f"{name}-model",
        roleArn="arn:aws:iam::123456789012:role/BedrockCustomization",
        baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": "s3://bedrock-it/data/train.jsonl"},
        outputDataConfig={"s3Uri": f"s3://bedrock-it/output/{name}/"},
        jobTags=[
            {"key": "emulator:duration", "value": "0.5"},
            {"key": "emulator:outcome", "value": "Failed"},
            {"key": "emulator:failure-message", "value": "Quota exceeded for epochs"},
        ],
    )
    result = run_dag("it_sensor_deferrable", conf={"job_identifier": name})
    assert result.task_states() == {"wait": "failed"}
    assert "Quota exceeded for epochs" in capsys.readouterr().out
