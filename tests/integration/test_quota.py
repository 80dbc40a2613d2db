"""A sweep larger than the account's quota of concurrent customization jobs.

Bedrock answers ServiceQuotaExceededException to a Create beyond the quota. The operator then waits
for a slot, deferred on a timer (no worker held), and submits again with the same token: every
point runs, none fails, and Airflow retries nothing. dag.test() runs mapped tasks one after another,
so two jobs started elsewhere hold the quota's two slots until the sweep has been refused a few
times, and are then stopped, freeing the slots.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from bedrock_provider.emulator import BedrockEmulator
from tests.integration.dags.reliability_dags import BASE_MODEL, BUCKET, ROLE_ARN
from tests.integration.reliability import mapped_tries, run_many_jobs

pytestmark = pytest.mark.integration

CREATE = "CreateModelCustomizationJob"
QUOTA = 2
POINTS = 6
# How many times the first point is refused before the slots free.
REFUSALS = 3


@pytest.fixture
def quota_of_two(emulator: BedrockEmulator) -> Iterator[BedrockEmulator]:
    # Jobs other tests left running would hold slots: wait for them to end first.
    deadline = time.monotonic() + 60
    while any(job["status"] in ("InProgress", "Stopping") for job in emulator.jobs()):
        assert time.monotonic() < deadline, "jobs of earlier tests are still running"
        time.sleep(0.1)
    previous = emulator.max_concurrent_jobs
    emulator.max_concurrent_jobs = QUOTA
    try:
        yield emulator
    finally:
        emulator.max_concurrent_jobs = previous


def test_six_point_sweep_under_a_quota_of_two_waits_deferred_and_completes(
    run_dag, bedrock, quota_of_two: BedrockEmulator, unique_name, capsys
):
    emulator = quota_of_two
    holders = [unique_name("quota-holder") for _ in range(QUOTA)]
    for name in holders:
        _hold_a_slot(bedrock, name)
    creates_before = emulator.request_count(CREATE)
    releaser = threading.Thread(
        target=_release_after_refusals, args=(bedrock, emulator, holders, creates_before), daemon=True
    )
    releaser.start()
    run = run_many_jobs(
        run_dag, emulator, "reliability_many_jobs", unique_name("quota-sweep"), count=POINTS, duration=1.0
    )
    releaser.join(timeout=5)
    output = capsys.readouterr().out

    run.assert_every_task_succeeded()
    run.assert_one_completed_job_per_task()
    # No point failed and was retried by Airflow: each waited within its first try.
    assert set(mapped_tries(run.result, "train").values()) == {1}
    # Creates beyond the quota were refused and sent again after the wait.
    refused = emulator.request_count(CREATE) - creates_before - POINTS
    assert refused >= REFUSALS
    assert "quota of concurrent customization jobs is full" in output
    # The points ran only once the slots were free.
    holder_end = max(emulator.describe_job(name)["endTime"] for name in holders)
    assert {emulator.describe_job(name)["status"] for name in holders} == {"Stopped"}
    first_point = min(emulator.describe_job(f"{run.prefix}-{i}")["creationTime"] for i in range(POINTS))
    assert first_point >= holder_end


def _release_after_refusals(
    bedrock, emulator: BedrockEmulator, holders: list[str], creates_before: int
) -> None:
    """Stop the jobs holding the slots once the sweep's first point has been refused REFUSALS times."""
    deadline = time.monotonic() + 300
    while emulator.request_count(CREATE) - creates_before < REFUSALS and time.monotonic() < deadline:
        time.sleep(0.05)
    for name in holders:
        bedrock.stop_model_customization_job(jobIdentifier=name)


def _hold_a_slot(bedrock, name: str, seconds: float = 600) -> None:
    bedrock.create_model_customization_job(
        jobName=name,
        customModelName=f"{name}-model",
        roleArn=ROLE_ARN,
        baseModelIdentifier=BASE_MODEL,
        trainingDataConfig={"s3Uri": f"s3://{BUCKET}/data/train.jsonl"},
        outputDataConfig={"s3Uri": f"s3://{BUCKET}/output/{name}/"},
        jobTags=[{"key": "emulator:duration", "value": str(seconds)}],
    )


def test_quota_refusal_reads_like_bedrock(bedrock, quota_of_two: BedrockEmulator, unique_name) -> None:
    from botocore.exceptions import ClientError

    from tests.integration.reliability import submit_elsewhere

    names = [unique_name("quota-direct") for _ in range(QUOTA + 1)]
    for name in names[:QUOTA]:
        submit_elsewhere(bedrock, name)
    with pytest.raises(ClientError) as caught:
        submit_elsewhere(bedrock, names[-1])
    error = caught.value.response
    assert error["Error"]["Code"] == "ServiceQuotaExceededException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert f"quota of {QUOTA} concurrent model customization jobs" in error["Error"]["Message"]
