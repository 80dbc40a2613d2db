"""Waiting through real Airflow (dag.test) against the emulator: deadlines and timeouts are final."""

from __future__ import annotations

import threading
import time

import pytest

pytestmark = pytest.mark.integration

# Generous against a loaded machine, far below the 72-86 s the unchecked backoff took.
DEADLINE_SLACK = 25.0


def test_blocking_wait_under_server_errors_ends_at_max_wait(run_dag, emulator, unique_name, capsys):
    name = unique_name("it-deadline-500")

    # Faults from the start would refuse the Create too: they start once the job exists, so only the
    # waiting meets them (every describe answered with HTTP 500).

    def turn_faults_on() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(job["jobName"] == name for job in emulator.jobs()):
                emulator.set_fault_rates(server_error=1.0)
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=turn_faults_on, daemon=True)
    watcher.start()
    started = time.monotonic()
    result = run_dag("it_wait_blocking_deadline_fast_poll", conf={"job_name": name})
    took = time.monotonic() - started
    emulator.set_fault_rates(server_error=0.0)
    watcher.join(5)

    assert result.task_states() == {"train": "failed"}
    assert "after max_wait=5 s" in capsys.readouterr().out
    assert took < 5 + DEADLINE_SLACK, f"the wait ran {took:.0f} s past a max_wait of 5 s"


def test_blocking_wait_never_sleeps_a_long_poll_interval_past_max_wait(run_dag, unique_name, capsys):
    started = time.monotonic()
    result = run_dag("it_wait_blocking_deadline", conf={"job_name": unique_name("it-deadline-poll")})
    took = time.monotonic() - started

    assert result.task_states() == {"train": "failed"}
    assert "still InProgress after max_wait=3 s (its last known status)" in capsys.readouterr().out
    assert took < 30, "the 30 s poll interval was cut at the 3 s deadline"


def test_deferrable_sensor_timeout_is_final_like_poke_mode(run_dag, bedrock, unique_name):
    from tests.integration.dags.waiting_dags import REQUEST

    name = unique_name("it-sensor-timeout")
    bedrock.create_model_customization_job(
        jobName=name,
        customModelName=f"{name}-model",
        roleArn=REQUEST["role_arn"],
        baseModelIdentifier=REQUEST["base_model_id"],
        trainingDataConfig={"s3Uri": REQUEST["training_data_uri"]},
        outputDataConfig={"s3Uri": f"s3://bedrock-it/output/{name}/"},
        hyperParameters={"epochCount": "1"},
        jobTags=[{"key": "emulator:duration", "value": "120"}],
    )
    result = run_dag("it_wait_sensor_timeout_deferrable", conf={"job_identifier": name})

    assert result.task_states() == {"wait": "failed"}
    assert result.try_numbers() == {"wait": 1}, "a timeout is not retried (retries=2)"
