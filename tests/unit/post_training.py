"""What the after-training operator tests share: an emulator reached through the environment, a task
context, and a trained custom model to deploy."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from bedrock_provider.emulator import BedrockEmulator

BUCKET = "after-training"
ROLE = "arn:aws:iam::123456789012:role/bedrock-evaluation"
PROMPTS = b'{"prompt": "What is 2+2?", "referenceResponse": "4"}\n' * 4
# A model AWS deploys on demand (core/lifecycle/on_demand.py), customized from records in its format.
BASE_MODEL = "amazon.nova-micro-v1:0:128k"
# A model AWS does not deploy on demand.
TITAN_TEXT = "amazon.titan-text-express-v1"
NOVA_RECORD = {
    "schemaVersion": "bedrock-conversation-2024",
    "system": [{"text": "You answer questions."}],
    "messages": [
        {"role": "user", "content": [{"text": "What is AWS?"}]},
        {"role": "assistant", "content": [{"text": "Amazon Web Services"}]},
    ],
}


class FakeTaskInstance:
    def __init__(self, run_id: str = "manual__1", task_id: str = "task", map_index: int = -1) -> None:
        self.dag_id = "after_training"
        self.task_id = task_id
        self.run_id = run_id
        self.map_index = map_index
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def context(run_id: str = "manual__1", task_id: str = "task") -> dict[str, Any]:
    from airflow.sdk.execution_time.context import OutletEventAccessors

    return {"ti": FakeTaskInstance(run_id, task_id), "outlet_events": OutletEventAccessors()}


@pytest.fixture(scope="module")
def emulator() -> Iterator[BedrockEmulator]:
    with BedrockEmulator(
        job_duration=0.3,
        deployment_duration=0.3,
        evaluation_duration=0.3,
        stop_delay=0.1,
        tick_interval=0.05,
        seed_buckets=[BUCKET],
        check_roles=False,
    ) as emu:
        yield emu


@pytest.fixture
def emu(emulator: BedrockEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[BedrockEmulator]:
    """The module's emulator, cleared, reached by every hook with aws_conn_id=None."""
    emulator.reset()
    emulator.set_fault_rates()
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    yield emulator
    emulator.set_fault_rates()


def clients(emu: BedrockEmulator) -> tuple[Any, Any]:
    kwargs = {"endpoint_url": emu.endpoint_url, "region_name": "us-east-1"}
    return boto3.client("bedrock", **kwargs), boto3.client("s3", **kwargs)


def until(check: Callable[[], bool], deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while not check():
        if time.monotonic() > end:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.05)


# Training records each base model takes (Titan Text: prompt and completion).
TRAINING_RECORDS = {
    BASE_MODEL: json.dumps(NOVA_RECORD).encode() + b"\n",
    TITAN_TEXT: b'{"prompt": "a", "completion": "b"}\n',
}


def trained_model(
    emu: BedrockEmulator,
    name: str = "support-bot-20250105",
    model_tags: dict[str, str] | None = None,
    base_model: str = BASE_MODEL,
) -> str:
    """A Completed customization job's custom model of ``base_model`` (tagged ``model_tags``); its ARN."""
    bedrock, s3 = clients(emu)
    data_key = f"train-{base_model.replace(':', '-')}.jsonl"
    s3.put_object(Bucket=BUCKET, Key=data_key, Body=TRAINING_RECORDS[base_model] * 8)
    job = bedrock.create_model_customization_job(
        jobName=f"job-{name}",
        customModelName=name,
        roleArn=ROLE,
        baseModelIdentifier=base_model,
        trainingDataConfig={"s3Uri": f"s3://{BUCKET}/{data_key}"},
        outputDataConfig={"s3Uri": f"s3://{BUCKET}/out/"},
        customModelTags=[{"key": key, "value": value} for key, value in (model_tags or {}).items()],
    )
    until(lambda: bedrock.get_model_customization_job(jobIdentifier=job["jobArn"])["status"] != "InProgress")
    return str(bedrock.get_model_customization_job(jobIdentifier=job["jobArn"])["outputModelArn"])
