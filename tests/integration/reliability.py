"""What the reliability tests share: running many mapped jobs and counting what the emulator created."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bedrock_provider.emulator import BedrockEmulator
from tests.integration.dags.reliability_dags import BASE_MODEL, BUCKET, JOBS, ROLE_ARN


def mapped_task_instances(result: Any, task_id: str) -> list[Any]:
    return sorted(
        (ti for ti in result._task_instances() if ti.task_id == task_id), key=lambda ti: ti.map_index
    )


def mapped_tries(result: Any, task_id: str) -> dict[int, int]:
    """try_number of each mapped task instance: 1 means it needed no Airflow retry."""
    return {ti.map_index: ti.try_number for ti in mapped_task_instances(result, task_id)}


def jobs_named(emulator: BedrockEmulator, prefix: str) -> list[dict[str, Any]]:
    return [job for job in emulator.jobs() if str(job["jobName"]).startswith(f"{prefix}-")]


@dataclass
class ManyJobsRun:
    result: Any
    prefix: str
    created: int
    jobs: list[dict[str, Any]]
    count: int = JOBS

    def assert_every_task_succeeded(self) -> None:
        states = self.result.task_states()
        assert self.result.state == "success", states
        assert len(states) == self.count + 1, states
        assert set(states.values()) == {"success"}, states

    def assert_one_completed_job_per_task(self) -> None:
        names = [job["jobName"] for job in self.jobs]
        assert self.created == self.count, names
        assert sorted(names) == sorted(f"{self.prefix}-{i}" for i in range(self.count)), names
        assert {job["status"] for job in self.jobs} == {"Completed"}, self.jobs
        arns = {self.result.xcom("train", map_index=i)["job_arn"] for i in range(self.count)}
        assert arns == {job["jobArn"] for job in self.jobs}


def run_many_jobs(
    run_dag: Callable[..., Any], emulator: BedrockEmulator, dag_id: str, prefix: str, **conf: Any
) -> ManyJobsRun:
    created_before = emulator.jobs_created()
    result = run_dag(dag_id, conf={"prefix": prefix, **conf})
    return ManyJobsRun(
        result=result,
        prefix=prefix,
        created=emulator.jobs_created() - created_before,
        jobs=jobs_named(emulator, prefix),
        count=int(conf.get("count", JOBS)),
    )


def submit_elsewhere(
    bedrock: Any,
    name: str,
    outcome: str = "Completed",
    failure_message: str = "Training data is invalid",
    model_name: str | None = None,
) -> str:
    """Create a job the way another system would: straight through boto3, with no task's token."""
    response = bedrock.create_model_customization_job(
        jobName=name,
        customModelName=model_name or f"{name}-model",
        roleArn=ROLE_ARN,
        baseModelIdentifier=BASE_MODEL,
        trainingDataConfig={"s3Uri": f"s3://{BUCKET}/data/train.jsonl"},
        outputDataConfig={"s3Uri": f"s3://{BUCKET}/output/{name}/"},
        jobTags=[
            {"key": "emulator:duration", "value": "0.5"},
            {"key": "emulator:outcome", "value": outcome},
            {"key": "emulator:failure-message", "value": failure_message},
        ],
    )
    return str(response["jobArn"])
