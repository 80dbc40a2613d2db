"""Tests of the local Bedrock emulator (bedrock_provider.emulator)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from bedrock_provider.core.request.roles import ensure_service_role
from bedrock_provider.emulator import (
    TAG_DURATION,
    TAG_FAILURE_MESSAGE,
    TAG_FINAL_LOSS,
    TAG_OUTCOME,
    BedrockEmulator,
    EmulatorClient,
)
from bedrock_provider.emulator import metrics as emulator_metrics
from bedrock_provider.emulator.backend import CustomizationBackend
from bedrock_provider.emulator.models import DEFAULT_FAILURE_MESSAGE

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/bedrock-customization"
BASE_MODEL = "amazon.titan-text-express-v1"
RECORD = b'{"prompt": "What is 2+2?", "completion": "4"}\n'
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
JOB_ARN_PATTERN = (
    r"^arn:aws:bedrock:us-east-1:123456789012:model-customization-job/"
    r"amazon\.titan-text-express-v1/[a-z0-9]{12}$"
)


# --------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def emulator() -> Iterator[BedrockEmulator]:
    # Tests here run many jobs at once; the quota has tests of its own.
    with BedrockEmulator(
        job_duration=0.5, stop_delay=0.2, tick_interval=0.05, max_concurrent_jobs=1000
    ) as emu:
        assert emu.create_service_role("bedrock-customization") == ROLE
        yield emu


@pytest.fixture
def emu(emulator: BedrockEmulator) -> Iterator[BedrockEmulator]:
    """The module's emulator, with jobs, counts and faults cleared for each test."""
    emulator.reset()
    emulator.set_fault_rates()
    emulator.job_duration = 0.5
    yield emulator
    emulator.set_fault_rates()


def _client(emu: BedrockEmulator, service: str, config: Config | None = None) -> Any:
    # Typed as Any: the stubs only accept literal service names.
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=emu.endpoint_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


@pytest.fixture
def bedrock(emu: BedrockEmulator) -> Any:
    return _client(emu, "bedrock")


@pytest.fixture
def s3(emu: BedrockEmulator) -> Any:
    return _client(emu, "s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    """A fresh bucket holding train.jsonl (40 records) and validation.jsonl (8 records)."""
    name = f"data-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="datasets/train.jsonl", Body=RECORD * 40)
    s3.put_object(Bucket=name, Key="datasets/validation.jsonl", Body=RECORD * 8)
    return name


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _job_args(bucket: str, **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "jobName": _unique("job"),
        "customModelName": _unique("model"),
        "roleArn": ROLE,
        "baseModelIdentifier": BASE_MODEL,
        "trainingDataConfig": {"s3Uri": f"s3://{bucket}/datasets/train.jsonl"},
        "validationDataConfig": {"validators": [{"s3Uri": f"s3://{bucket}/datasets/validation.jsonl"}]},
        "outputDataConfig": {"s3Uri": f"s3://{bucket}/output"},
        "hyperParameters": {"epochCount": "2", "batchSize": "4", "learningRate": "0.00001"},
    }
    args.update(overrides)
    return args


def _backend_request(
    name: str, base_model: str = BASE_MODEL, bucket: str = "bkt", **extra: Any
) -> dict[str, Any]:
    """A CreateModelCustomizationJob request for a CustomizationBackend driven without HTTP."""
    return {
        "jobName": name,
        "customModelName": f"{name}-model",
        "roleArn": ROLE,
        "baseModelIdentifier": base_model,
        "trainingDataConfig": {"s3Uri": f"s3://{bucket}/train.jsonl"},
        "outputDataConfig": {"s3Uri": f"s3://{bucket}/out/"},
        **extra,
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _tags(**tags: str) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags.items()]


def _wait_for(
    bedrock: Any,
    identifier: str,
    statuses: tuple[str, ...] = ("Completed", "Failed", "Stopped"),
    timeout: float = 10,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = bedrock.get_model_customization_job(jobIdentifier=identifier)
        if job["status"] in statuses:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {identifier} still {job['status']} after {timeout}s")
        time.sleep(0.05)


def _eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _read_csv(s3: Any, bucket: str, key: str) -> tuple[list[str], list[dict[str, str]]]:
    text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _error(exc_info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc_info.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


# --------------------------------------------------------------------- lifecycle


def test_job_runs_to_completed_and_writes_metrics(bedrock: Any, s3: Any, bucket: str) -> None:
    args = _job_args(bucket, clientRequestToken="token-1", customModelTags=_tags(team="ml"))
    response = bedrock.create_model_customization_job(**args)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 201
    arn = response["jobArn"]
    assert re.match(JOB_ARN_PATTERN, arn)
    job_id = arn.rsplit("/", 1)[1]

    first = bedrock.get_model_customization_job(jobIdentifier=arn)
    assert first["status"] == "InProgress"
    assert "outputModelArn" not in first and "endTime" not in first and "trainingMetrics" not in first
    assert first["statusDetails"]["validationDetails"]["status"] in ("InProgress", "Completed")
    assert first["statusDetails"]["trainingDetails"]["status"] in ("NotStarted", "InProgress")

    job = _wait_for(bedrock, arn)
    assert job["status"] == "Completed"
    assert job["jobName"] == args["jobName"]
    assert job["outputModelName"] == args["customModelName"]
    assert job["clientRequestToken"] == "token-1"
    assert job["roleArn"] == ROLE
    assert job["baseModelArn"] == f"arn:aws:bedrock:us-east-1::foundation-model/{BASE_MODEL}"
    assert job["customizationType"] == "FINE_TUNING"
    assert job["hyperParameters"] == args["hyperParameters"]
    assert job["trainingDataConfig"] == args["trainingDataConfig"]
    assert job["validationDataConfig"] == args["validationDataConfig"]
    assert job["outputDataConfig"] == args["outputDataConfig"]
    assert job["endTime"] >= job["creationTime"]
    assert {d["status"] for d in job["statusDetails"].values()} == {"Completed"}
    assert "failureMessage" not in job
    model_arn = job["outputModelArn"]
    assert model_arn.startswith(f"arn:aws:bedrock:us-east-1:123456789012:custom-model/{BASE_MODEL}/")

    prefix = f"output/model-customization-job-{job_id}"
    columns, rows = _read_csv(s3, bucket, f"{prefix}/training_artifacts/step_wise_training_metrics.csv")
    assert columns == ["step_number", "epoch_number", "training_loss", "perplexity"]
    # 40 records / batch 4 = 10 steps per epoch, 2 epochs, steps from 0.
    assert [int(r["step_number"]) for r in rows] == list(range(20))
    assert sorted({int(r["epoch_number"]) for r in rows}) == [0, 1]
    losses = [float(r["training_loss"]) for r in rows]
    assert sum(losses[:5]) / 5 > sum(losses[-5:]) / 5
    assert losses[-1] < losses[0]
    assert all(
        abs(float(r["perplexity"]) - 2.718281828 ** float(r["training_loss"])) < 1e-3 * float(r["perplexity"])
        for r in rows
    )
    assert job["trainingMetrics"]["trainingLoss"] == pytest.approx(losses[-1])

    val_key = f"{prefix}/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"
    columns, rows = _read_csv(s3, bucket, val_key)
    assert columns == ["step_number", "epoch_number", "validation_loss", "validation_perplexity"]
    val_losses = [float(r["validation_loss"]) for r in rows]
    assert val_losses[-1] < val_losses[0]
    assert job["validationMetrics"] == [{"validationLoss": pytest.approx(val_losses[-1])}]
    assert val_losses[-1] > losses[-1]

    model = bedrock.get_custom_model(modelIdentifier=args["customModelName"])
    assert model["modelArn"] == model_arn
    assert model["jobArn"] == arn and model["jobName"] == args["jobName"]
    assert model["modelStatus"] == "Active"
    assert model["trainingMetrics"] == job["trainingMetrics"]
    assert bedrock.get_custom_model(modelIdentifier=model_arn)["modelName"] == args["customModelName"]
    assert bedrock.list_tags_for_resource(resourceARN=model_arn)["tags"] == [{"key": "team", "value": "ml"}]


def test_job_completes_without_anyone_polling(
    emu: BedrockEmulator, bedrock: Any, s3: Any, bucket: str
) -> None:
    args = _job_args(bucket, outputDataConfig={"s3Uri": f"s3://{bucket}/"})
    del args["validationDataConfig"]
    arn = bedrock.create_model_customization_job(**args)["jobArn"]
    key = f"model-customization-job-{arn.rsplit('/', 1)[1]}/training_artifacts/step_wise_training_metrics.csv"

    def metrics_written() -> bool:
        return s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 1

    _eventually(metrics_written)
    assert emu.request_count("GetModelCustomizationJob") == 0
    job = bedrock.get_model_customization_job(jobIdentifier=arn)
    assert job["status"] == "Completed"
    assert "validationMetrics" not in job
    listing = s3.list_objects_v2(Bucket=bucket, Prefix="model-customization-job-")
    assert not any("validation_artifacts" in o["Key"] for o in listing["Contents"])


def test_final_loss_tag_pins_the_losses(bedrock: Any, s3: Any, bucket: str) -> None:
    arn = bedrock.create_model_customization_job(
        **_job_args(bucket, jobTags=_tags(**{TAG_FINAL_LOSS: "2.5"}))
    )["jobArn"]
    job = _wait_for(bedrock, arn)
    assert job["trainingMetrics"]["trainingLoss"] == 2.5
    assert 2.5 < job["validationMetrics"][0]["validationLoss"] < 2.5 * 1.2
    job_dir = f"output/model-customization-job-{arn.rsplit('/', 1)[1]}"
    _, rows = _read_csv(s3, bucket, f"{job_dir}/training_artifacts/step_wise_training_metrics.csv")
    assert float(rows[-1]["training_loss"]) == 2.5


@pytest.mark.parametrize(
    ("tags", "status", "message"),
    [
        (
            {TAG_OUTCOME: "Failed", TAG_FAILURE_MESSAGE: "base64:" + _b64("Out of capacity, sorry!")},
            "Failed",
            "Out of capacity, sorry!",
        ),
        ({TAG_OUTCOME: "Failed"}, "Failed", DEFAULT_FAILURE_MESSAGE),
        ({TAG_OUTCOME: "Stopped"}, "Stopped", None),
    ],
)
def test_outcome_tags(
    bedrock: Any, s3: Any, bucket: str, tags: dict[str, str], status: str, message: str | None
) -> None:
    arn = bedrock.create_model_customization_job(**_job_args(bucket, jobTags=_tags(**tags)))["jobArn"]
    job = _wait_for(bedrock, arn)
    assert job["status"] == status
    assert job.get("failureMessage") == message
    assert "outputModelArn" not in job and "trainingMetrics" not in job
    assert job["statusDetails"]["trainingDetails"]["status"] == status
    assert job["statusDetails"]["validationDetails"]["status"] == "Completed"
    assert s3.list_objects_v2(Bucket=bucket, Prefix="output/").get("KeyCount", 0) == 0


def test_duration_tag_and_outcome_change_on_a_running_job(
    emu: BedrockEmulator, bedrock: Any, bucket: str
) -> None:
    emu.job_duration = 60
    quick = bedrock.create_model_customization_job(
        **_job_args(bucket, jobTags=_tags(**{TAG_DURATION: "0.2"}))
    )
    slow = bedrock.create_model_customization_job(**_job_args(bucket, jobTags=_tags(**{TAG_DURATION: "0.6"})))
    bedrock.tag_resource(
        resourceARN=slow["jobArn"],
        tags=_tags(**{TAG_OUTCOME: "Failed", TAG_FAILURE_MESSAGE: "changed my mind"}),
    )
    assert _wait_for(bedrock, quick["jobArn"], timeout=3)["status"] == "Completed"
    job = _wait_for(bedrock, slow["jobArn"], timeout=3)
    assert (job["status"], job["failureMessage"]) == ("Failed", "changed my mind")


def test_lookup_by_name_and_arn(bedrock: Any, bucket: str) -> None:
    args = _job_args(bucket)
    arn = bedrock.create_model_customization_job(**args)["jobArn"]
    by_name = bedrock.get_model_customization_job(jobIdentifier=args["jobName"])
    by_arn = bedrock.get_model_customization_job(jobIdentifier=arn)
    assert by_name["jobArn"] == by_arn["jobArn"] == arn
    assert by_arn["jobName"] == args["jobName"]

    for identifier in ("no-such-job", arn[:-12] + "aaaaaaaaaaaa"):
        with pytest.raises(ClientError) as exc_info:
            bedrock.get_model_customization_job(jobIdentifier=identifier)
        code, message, status = _error(exc_info)
        assert (code, status) == ("ResourceNotFoundException", 404)
        assert identifier in message
        with pytest.raises(ClientError) as exc_info:
            bedrock.stop_model_customization_job(jobIdentifier=identifier)
        assert _error(exc_info)[0] == "ResourceNotFoundException"


def test_aiobotocore_reaches_jobs_by_arn(emu: BedrockEmulator, bedrock: Any, bucket: str) -> None:
    aiobotocore_session = pytest.importorskip("aiobotocore.session")
    arn = bedrock.create_model_customization_job(**_job_args(bucket))["jobArn"]

    async def describe() -> dict[str, Any]:
        session = aiobotocore_session.get_session()
        async with session.create_client(
            "bedrock",
            endpoint_url=emu.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ) as client:
            job: dict[str, Any] = await client.get_model_customization_job(jobIdentifier=arn)
            return job

    assert asyncio.run(describe())["jobArn"] == arn


# --------------------------------------------------------------------- idempotency and conflicts


def test_client_request_token_makes_create_idempotent(
    emu: BedrockEmulator, bedrock: Any, bucket: str
) -> None:
    args = _job_args(bucket, clientRequestToken="dag-task-run-0")
    first = bedrock.create_model_customization_job(**args)["jobArn"]
    second = bedrock.create_model_customization_job(**args)
    assert second["jobArn"] == first
    assert second["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert emu.jobs_created() == 1
    assert emu.request_count("CreateModelCustomizationJob") == 2
    assert [j["jobArn"] for j in emu.jobs()] == [first]


@pytest.mark.parametrize("token", [None, "another-token"])
def test_job_name_in_use(emu: BedrockEmulator, bedrock: Any, bucket: str, token: str | None) -> None:
    args = _job_args(bucket, clientRequestToken="original-token")
    bedrock.create_model_customization_job(**args)
    retry = dict(args, customModelName=_unique("other"))
    retry.pop("clientRequestToken")
    if token is not None:
        retry["clientRequestToken"] = token
    with pytest.raises(ClientError) as exc_info:
        # botocore fills in a fresh token when none is given, which is just as foreign.
        bedrock.create_model_customization_job(**retry)
    assert _error(exc_info) == ("ValidationException", "The provided job name is currently in use.", 400)
    assert emu.jobs_created() == 1


def test_job_name_stays_taken_after_the_job_ended(bedrock: Any, bucket: str) -> None:
    args = _job_args(bucket, jobTags=_tags(**{TAG_OUTCOME: "Failed"}))
    arn = bedrock.create_model_customization_job(**args)["jobArn"]
    _wait_for(bedrock, arn)
    with pytest.raises(ClientError) as exc_info:
        bedrock.create_model_customization_job(**dict(args, customModelName=_unique("m"), jobTags=[]))
    assert _error(exc_info)[1] == "The provided job name is currently in use."


def test_custom_model_name_in_use(bedrock: Any, bucket: str) -> None:
    args = _job_args(bucket)
    arn = bedrock.create_model_customization_job(**args)["jobArn"]
    with pytest.raises(ClientError) as exc_info:
        bedrock.create_model_customization_job(**dict(args, jobName=_unique("job")))
    code, message, _ = _error(exc_info)
    assert code == "ValidationException" and args["customModelName"] in message and args["jobName"] in message

    _wait_for(bedrock, arn)
    with pytest.raises(ClientError) as exc_info:
        bedrock.create_model_customization_job(**dict(args, jobName=_unique("job")))
    assert args["customModelName"] in _error(exc_info)[1]

    # Deleting the model frees its name.
    bedrock.delete_custom_model(modelIdentifier=args["customModelName"])
    bedrock.create_model_customization_job(**dict(args, jobName=_unique("job")))


def test_failed_job_does_not_hold_its_model_name(bedrock: Any, bucket: str) -> None:
    args = _job_args(bucket, jobTags=_tags(**{TAG_OUTCOME: "Failed"}))
    _wait_for(bedrock, bedrock.create_model_customization_job(**args)["jobArn"])
    retry = bedrock.create_model_customization_job(**dict(args, jobName=args["jobName"] + "-r2", jobTags=[]))
    assert _wait_for(bedrock, retry["jobArn"])["status"] == "Completed"


# --------------------------------------------------------------------- input validation


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"jobName": "bad_name!"}, "jobName"),
        ({"jobName": "x" * 64}, "jobName"),
        ({"customModelName": "bad model"}, "customModelName"),
        ({"roleArn": "arn:aws:iam::123:user/bob"}, "roleArn"),
        ({"trainingDataConfig": {"s3Uri": "https://example.com/train.jsonl"}}, "trainingDataConfig.s3Uri"),
        ({"outputDataConfig": {"s3Uri": "s3://Bad_Bucket/out"}}, "outputDataConfig.s3Uri"),
        ({"hyperParameters": {"epochCount": "zero"}}, "epochCount"),
        ({"jobTags": _tags(**{TAG_OUTCOME: "Exploded"})}, TAG_OUTCOME),
        ({"jobTags": _tags(**{TAG_DURATION: "soon"})}, TAG_DURATION),
        ({"baseModelIdentifier": "no-such-custom-model"}, "baseModelIdentifier"),
    ],
)
def test_create_validation(
    emu: BedrockEmulator, bedrock: Any, bucket: str, override: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ClientError) as exc_info:
        bedrock.create_model_customization_job(**_job_args(bucket, **override))
    code, message, status = _error(exc_info)
    assert code in ("ValidationException", "ResourceNotFoundException")
    assert status in (400, 404)
    assert fragment in message
    assert emu.jobs_created() == 0


@pytest.mark.parametrize(
    ("override", "uri_field"),
    [
        (
            {"trainingDataConfig": {"s3Uri": "s3://{bucket}/datasets/missing.jsonl"}},
            "trainingDataConfig.s3Uri",
        ),
        (
            {"trainingDataConfig": {"s3Uri": "s3://no-such-bucket-xyz/train.jsonl"}},
            "trainingDataConfig.s3Uri",
        ),
        ({"trainingDataConfig": {"s3Uri": "s3://{bucket}/empty-prefix/"}}, "trainingDataConfig.s3Uri"),
        (
            {"validationDataConfig": {"validators": [{"s3Uri": "s3://{bucket}/datasets/nope.jsonl"}]}},
            "validationDataConfig.validators[0].s3Uri",
        ),
        ({"outputDataConfig": {"s3Uri": "s3://no-such-output-bucket/out/"}}, "outputDataConfig.s3Uri"),
    ],
)
def test_missing_s3_data_fails_the_job(
    bedrock: Any, bucket: str, override: dict[str, Any], uri_field: str
) -> None:
    concrete = json.loads(json.dumps(override).replace("{bucket}", bucket))
    arn = bedrock.create_model_customization_job(**_job_args(bucket, **concrete))["jobArn"]
    job = _wait_for(bedrock, arn)
    assert job["status"] == "Failed"
    uri = re.findall(r"s3://[^\"]+", json.dumps(concrete))[0]
    assert uri in job["failureMessage"] and uri_field in job["failureMessage"]
    assert "does not exist" in job["failureMessage"]
    assert job["statusDetails"]["validationDetails"]["status"] == "Failed"
    assert job["statusDetails"]["trainingDetails"]["status"] == "NotStarted"


def test_training_data_prefix_is_accepted(s3: Any, bedrock: Any, bucket: str) -> None:
    for part in range(3):
        s3.put_object(Bucket=bucket, Key=f"sharded/part-{part}.jsonl", Body=RECORD * 20)
    args = _job_args(bucket, trainingDataConfig={"s3Uri": f"s3://{bucket}/sharded/"}, hyperParameters={})
    job = _wait_for(bedrock, bedrock.create_model_customization_job(**args)["jobArn"])
    assert job["status"] == "Completed"
    key = f"output/model-customization-job-{job['jobArn'].rsplit('/', 1)[1]}/training_artifacts/"
    _, rows = _read_csv(s3, bucket, key + "step_wise_training_metrics.csv")
    # 60 records, batch size 1 -> 60 steps per epoch; Titan Text Express trains 5 epochs by default.
    assert len(rows) == 300


# --------------------------------------------------------------------- stop


def test_stop_a_running_job(emu: BedrockEmulator, bedrock: Any, s3: Any, bucket: str) -> None:
    emu.job_duration = 30
    args = _job_args(bucket)
    arn = bedrock.create_model_customization_job(**args)["jobArn"]
    bedrock.stop_model_customization_job(jobIdentifier=args["jobName"])
    assert bedrock.get_model_customization_job(jobIdentifier=arn)["status"] == "Stopping"
    # Stopping again while it stops is harmless (a retried call after a lost answer).
    bedrock.stop_model_customization_job(jobIdentifier=arn)
    job = _wait_for(bedrock, arn, timeout=3)
    assert job["status"] == "Stopped"
    assert job["statusDetails"]["validationDetails"]["status"] == "Stopped"
    assert job["statusDetails"]["trainingDetails"]["status"] == "NotStarted"
    assert "outputModelArn" not in job
    with pytest.raises(ClientError) as exc_info:
        bedrock.stop_model_customization_job(jobIdentifier=arn)
    code, message, status = _error(exc_info)
    assert (code, status) == ("ValidationException", 400)
    assert "Stopped" in message


def test_stop_a_completed_job_is_refused(bedrock: Any, bucket: str) -> None:
    arn = bedrock.create_model_customization_job(**_job_args(bucket))["jobArn"]
    _wait_for(bedrock, arn)
    with pytest.raises(ClientError) as exc_info:
        bedrock.stop_model_customization_job(jobIdentifier=arn)
    code, message, _ = _error(exc_info)
    assert code == "ValidationException" and "Completed" in message


# --------------------------------------------------------------------- list


def test_list_jobs_pages_filters_and_sorts(emu: BedrockEmulator, bedrock: Any, bucket: str) -> None:
    emu.job_duration = 60
    prefix = _unique("listed")
    arns = [
        bedrock.create_model_customization_job(**_job_args(bucket, jobName=f"{prefix}-{i}"))["jobArn"]
        for i in range(7)
    ]
    bedrock.create_model_customization_job(**_job_args(bucket, jobName=_unique("other")))
    bedrock.stop_model_customization_job(jobIdentifier=arns[0])

    pages = []
    kwargs: dict[str, Any] = {"nameContains": prefix, "maxResults": 3}
    while True:
        page = bedrock.list_model_customization_jobs(**kwargs)
        pages.append([s["jobArn"] for s in page["modelCustomizationJobSummaries"]])
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [arn for p in pages for arn in p] == list(reversed(arns))

    paginator = bedrock.get_paginator("list_model_customization_jobs")
    ascending = [
        s["jobArn"]
        for page in paginator.paginate(
            nameContains=prefix.upper(),
            sortBy="CreationTime",
            sortOrder="Ascending",
            PaginationConfig={"PageSize": 2},
        )
        for s in page["modelCustomizationJobSummaries"]
    ]
    assert ascending == arns

    stopping = bedrock.list_model_customization_jobs(nameContains=prefix, statusEquals="Stopping")
    assert [s["jobArn"] for s in stopping["modelCustomizationJobSummaries"]] == [arns[0]]
    summary = stopping["modelCustomizationJobSummaries"][0]
    assert {"jobName", "baseModelArn", "creationTime", "statusDetails", "customModelName"} <= set(summary)

    times = {arn: bedrock.get_model_customization_job(jobIdentifier=arn)["creationTime"] for arn in arns}
    after = bedrock.list_model_customization_jobs(nameContains=prefix, creationTimeAfter=times[arns[3]])
    assert {s["jobArn"] for s in after["modelCustomizationJobSummaries"]} == {
        arn for arn in arns if times[arn] > times[arns[3]]
    }
    before = bedrock.list_model_customization_jobs(nameContains=prefix, creationTimeBefore=times[arns[3]])
    assert arns[3] not in {s["jobArn"] for s in before["modelCustomizationJobSummaries"]}

    with pytest.raises(ClientError) as exc_info:
        bedrock.list_model_customization_jobs(nextToken="garbage!")
    assert _error(exc_info)[0] == "ValidationException"


def test_list_jobs_pages_stay_right_while_jobs_are_created(
    emu: BedrockEmulator, bedrock: Any, bucket: str
) -> None:
    emu.job_duration = 60
    prefix = _unique("moving")
    arns = [
        bedrock.create_model_customization_job(**_job_args(bucket, jobName=f"{prefix}-{i}"))["jobArn"]
        for i in range(4)
    ]
    first = bedrock.list_model_customization_jobs(nameContains=prefix, maxResults=2)
    bedrock.create_model_customization_job(**_job_args(bucket, jobName=f"{prefix}-late"))
    second = bedrock.list_model_customization_jobs(
        nameContains=prefix, maxResults=2, nextToken=first["nextToken"]
    )
    seen = [
        s["jobArn"]
        for s in first["modelCustomizationJobSummaries"] + second["modelCustomizationJobSummaries"]
    ]
    assert seen == list(reversed(arns))


def test_custom_models_list_get_tag_delete(bedrock: Any, bucket: str) -> None:
    prefix = _unique("cm")
    arns = [
        bedrock.create_model_customization_job(**_job_args(bucket, customModelName=f"{prefix}-{i}"))["jobArn"]
        for i in range(3)
    ]
    model_arns = [_wait_for(bedrock, arn)["outputModelArn"] for arn in arns]
    listed = bedrock.list_custom_models(nameContains=prefix, sortOrder="Ascending", maxResults=2)
    assert [m["modelArn"] for m in listed["modelSummaries"]] == model_arns[:2]
    rest = bedrock.list_custom_models(
        nameContains=prefix, sortOrder="Ascending", nextToken=listed["nextToken"]
    )
    assert [m["modelArn"] for m in rest["modelSummaries"]] == model_arns[2:]
    assert listed["modelSummaries"][0]["baseModelName"] == BASE_MODEL

    bedrock.tag_resource(resourceARN=model_arns[0], tags=_tags(stage="prod", owner="ml"))
    bedrock.untag_resource(resourceARN=model_arns[0], tagKeys=["owner"])
    assert bedrock.list_tags_for_resource(resourceARN=model_arns[0])["tags"] == [
        {"key": "stage", "value": "prod"}
    ]

    bedrock.delete_custom_model(modelIdentifier=model_arns[0])
    with pytest.raises(ClientError) as exc_info:
        bedrock.get_custom_model(modelIdentifier=model_arns[0])
    assert _error(exc_info)[:1] == ("ResourceNotFoundException",)
    with pytest.raises(ClientError) as exc_info:
        bedrock.list_tags_for_resource(resourceARN=model_arns[0])
    assert _error(exc_info)[2] == 404


def test_job_tags(bedrock: Any, bucket: str) -> None:
    arn = bedrock.create_model_customization_job(**_job_args(bucket, jobTags=_tags(project="demo")))["jobArn"]
    bedrock.tag_resource(resourceARN=arn, tags=_tags(extra="1"))
    tags = bedrock.list_tags_for_resource(resourceARN=arn)["tags"]
    assert tags == [{"key": "project", "value": "demo"}, {"key": "extra", "value": "1"}]
    bedrock.untag_resource(resourceARN=arn, tagKeys=["project"])
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "extra", "value": "1"}]


@pytest.mark.parametrize("key", ["aws:team", "AWS:team", "Aws:Team"])
def test_tag_keys_reserved_for_aws_are_refused(
    emu: BedrockEmulator, bedrock: Any, bucket: str, key: str
) -> None:
    # Tag naming limits and requirements: the aws: prefix, in any case, is reserved for AWS use.
    reserved = [{"key": key, "value": "x"}]
    for field in ("jobTags", "customModelTags"):
        with pytest.raises(ClientError) as exc_info:
            bedrock.create_model_customization_job(**_job_args(bucket, **{field: reserved}))
        assert _error(exc_info)[0] == "ValidationException" and key in _error(exc_info)[1]
    assert emu.jobs_created() == 0
    arn = bedrock.create_model_customization_job(**_job_args(bucket))["jobArn"]
    with pytest.raises(ClientError) as exc_info:
        bedrock.tag_resource(resourceARN=arn, tags=reserved)
    assert _error(exc_info)[0] == "ValidationException"
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == []


@pytest.mark.parametrize(
    ("model", "region", "accepted"),
    [
        ("amazon.titan-image-generator-v1", "us-west-2", False),
        ("amazon.titan-image-generator-v1:0", "us-west-2", False),
        ("amazon.titan-image-generator-v1", "us-east-1", True),
        ("amazon.titan-image-generator-v2:0", "us-west-2", True),
    ],
)
def test_titan_image_generator_v1_is_fine_tuned_in_us_east_1_only(
    model: str, region: str, accepted: bool
) -> None:
    # custom-model-supported.html: Titan Image Generator G1 in us-east-1; G1 v2 in us-east-1, us-west-2.
    objects = _FakeObjects({("bkt", "train.jsonl"): RECORD}, {"bkt"})
    store = CustomizationBackend(region=region, account_id="123456789012", objects=objects)
    request = _backend_request("image-job", model, hyperParameters={"stepCount": "auto"})
    if accepted:
        store.create_job(request)
        return
    with pytest.raises(Exception, match="offered in us-east-1, not in us-west-2") as exc_info:
        store.create_job(request)
    assert getattr(exc_info.value, "code", None) == "ValidationException"


# --------------------------------------------------------------------- faults and counts


def test_counts_and_reset(emu: BedrockEmulator, bedrock: Any, bucket: str) -> None:
    args = _job_args(bucket)
    bedrock.create_model_customization_job(**args)
    for _ in range(3):
        bedrock.get_model_customization_job(jobIdentifier=args["jobName"])
    with pytest.raises(ClientError):
        bedrock.get_model_customization_job(jobIdentifier="missing-job")
    bedrock.list_model_customization_jobs()
    assert emu.counts() == {
        "CreateModelCustomizationJob": 1,
        "GetModelCustomizationJob": 4,
        "ListModelCustomizationJobs": 1,
    }
    assert emu.request_count("StopModelCustomizationJob") == 0
    emu.reset_counts()
    assert emu.counts() == {} and emu.request_count("GetModelCustomizationJob") == 0


@pytest.mark.parametrize(
    ("rates", "code", "status"),
    [
        ({"throttle": 0.3}, "ThrottlingException", 429),
        ({"server_error": 0.3}, "InternalServerException", 500),
    ],
)
def test_fault_injection_rates(
    emu: BedrockEmulator, bucket: str, s3: Any, rates: dict[str, float], code: str, status: int
) -> None:
    bedrock = _client(emu, "bedrock", NO_RETRY)
    emu.set_fault_rates(**rates)
    calls, faults = 300, 0
    for _ in range(calls):
        try:
            bedrock.list_model_customization_jobs(maxResults=1)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == code
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == status
            faults += 1
    assert 0.2 * calls < faults < 0.4 * calls
    assert emu.fault_count("ListModelCustomizationJobs") == faults
    assert emu.request_count("ListModelCustomizationJobs") == calls - faults
    # S3 is never faulted.
    for _ in range(20):
        s3.head_bucket(Bucket=bucket)


def test_throttle_answer_shape(emu: BedrockEmulator) -> None:
    bedrock = _client(emu, "bedrock", NO_RETRY)
    emu.set_fault_rates(throttle=1.0)
    with pytest.raises(ClientError) as exc_info:
        bedrock.get_model_customization_job(jobIdentifier="anything")
    response = exc_info.value.response
    assert response["Error"]["Message"] == "Too many requests, please wait before trying again."
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "ThrottlingException"


def test_connection_drop_loses_the_answer_not_the_job(emu: BedrockEmulator, bucket: str) -> None:
    bedrock = _client(emu, "bedrock", NO_RETRY)
    args = _job_args(bucket, clientRequestToken="lost-answer")
    emu.set_fault_rates(connection_drop=1.0)
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        bedrock.create_model_customization_job(**args)
    assert emu.fault_count("CreateModelCustomizationJob") == 1
    assert emu.request_count("CreateModelCustomizationJob") == 0
    assert emu.jobs_created() == 1
    emu.set_fault_rates()
    # The retry with the same token adopts the job the lost call created.
    arn = bedrock.create_model_customization_job(**args)["jobArn"]
    assert emu.jobs() == [{"jobArn": arn, "jobName": args["jobName"], "status": "InProgress"}]
    assert emu.jobs_created() == 1


def test_default_retries_ride_through_faults(bucket: str) -> None:
    # Its own emulator, so the seed alone decides which calls fail: the same faults every run.
    with BedrockEmulator(job_duration=0.3, seed=11) as emu:
        emu.set_fault_rates(throttle=0.1, server_error=0.1, connection_drop=0.1)
        retrying = _client(emu, "bedrock", Config(retries={"mode": "standard", "max_attempts": 10}))
        args = _job_args(bucket, clientRequestToken="retry-me")
        arn = retrying.create_model_customization_job(**args)["jobArn"]
        for _ in range(8):
            assert retrying.get_model_customization_job(jobIdentifier=arn)["jobArn"] == arn
        assert emu.jobs_created() == 1
        faults = emu.fault_counts()
        assert sum(faults.values()) >= 1, faults
        assert emu.request_count("GetModelCustomizationJob") == 8


def test_fault_rates_are_checked(emu: BedrockEmulator) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        emu.set_fault_rates(throttle=1.5)
    with pytest.raises(ValueError, match="more than 1"):
        emu.set_fault_rates(throttle=0.6, server_error=0.6)


def test_faults_are_reproducible_with_a_seed() -> None:
    def pattern() -> list[bool]:
        with BedrockEmulator(seed=7) as other:
            other.set_fault_rates(throttle=0.5)
            client = _client(other, "bedrock", NO_RETRY)
            outcome = []
            for _ in range(30):
                try:
                    client.list_custom_models()
                    outcome.append(True)
                except ClientError:
                    outcome.append(False)
            return outcome

    assert pattern() == pattern()


def test_an_operations_faults_do_not_depend_on_the_calls_of_other_operations(bucket: str) -> None:
    """Each operation draws from its own seeded stream: the Creates fail the same way whether or not
    other calls come between them, as when twenty tasks submit and poll at once."""

    def create_outcomes(interleave: bool) -> list[bool]:
        with BedrockEmulator(seed=3) as other:
            other.set_fault_rates(throttle=0.4)
            client = _client(other, "bedrock", NO_RETRY)
            outcomes = []
            for attempt in range(20):
                if interleave:
                    for _ in range(attempt % 3 + 1):
                        with contextlib.suppress(ClientError):
                            client.list_custom_models()
                try:
                    client.create_model_customization_job(
                        **_job_args(bucket, jobName=f"interleaved-{attempt}")
                    )
                    outcomes.append(True)
                except ClientError:
                    outcomes.append(False)
            return outcomes

    alone = create_outcomes(interleave=False)
    assert create_outcomes(interleave=True) == alone
    assert True in alone and False in alone


# --------------------------------------------------------------------- the rest of AWS, concurrency


def test_other_services_still_work(emu: BedrockEmulator, s3: Any) -> None:
    emu.set_fault_rates(throttle=1.0)
    name = _unique("plain")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="a/b.txt", Body=b"hello")
    assert s3.get_object(Bucket=name, Key="a/b.txt")["Body"].read() == b"hello"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["a/b.txt"]
    sqs = _client(emu, "sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hi")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "hi"
    assert _client(emu, "sts").get_caller_identity()["Account"] == "123456789012"
    assert _client(emu, "events").list_event_buses()["EventBuses"]
    assert emu.counts() == {}


def test_many_concurrent_clients(emu: BedrockEmulator, bucket: str) -> None:
    emu.job_duration = 0.4
    local = threading.local()
    prefix = _unique("many")

    def client() -> Any:
        if not hasattr(local, "bedrock"):
            local.bedrock = _client(emu, "bedrock")
        return local.bedrock

    def create(i: int) -> str:
        args = _job_args(bucket, jobName=f"{prefix}-{i}", clientRequestToken=f"tok-{i}")
        arn: str = client().create_model_customization_job(**args)["jobArn"]
        # Replaying the same request must not create a second job.
        assert client().create_model_customization_job(**args)["jobArn"] == arn
        return arn

    def poll(arn: str) -> str:
        while True:
            status: str = client().get_model_customization_job(jobIdentifier=arn)["status"]
            if status != "InProgress":
                return status
            time.sleep(0.05)

    with ThreadPoolExecutor(max_workers=32) as pool:
        arns = list(pool.map(create, range(150)))
        statuses = list(pool.map(poll, arns))
    assert len(set(arns)) == 150
    assert set(statuses) == {"Completed"}
    assert emu.jobs_created() == 150
    assert emu.request_count("CreateModelCustomizationJob") == 300
    models = _client(emu, "bedrock").list_custom_models(nameContains="model", maxResults=1000)[
        "modelSummaries"
    ]
    assert len(models) == 150


# --------------------------------------------------------------------- control surface and CLI


def test_emulator_client_in_process(emu: BedrockEmulator, bedrock: Any, bucket: str) -> None:
    client = EmulatorClient(emu.endpoint_url)
    assert client.health()["status"] == "ok"
    bedrock.create_model_customization_job(**_job_args(bucket))
    assert client.request_count("CreateModelCustomizationJob") == 1
    assert client.jobs_created() == 1
    client.set_fault_rates(throttle=0.25, server_error=0.5)
    assert emu.fault_rates() == {"throttle": 0.25, "server_error": 0.5, "connection_drop": 0.0}
    assert client.fault_rates() == emu.fault_rates()
    client.set_fault_rates()
    client.reset_counts()
    assert client.counts() == {} and emu.counts() == {}


def test_cli_starts_serves_and_stops_on_sigterm() -> None:
    bucket_name = _unique("seeded")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bedrock_provider.emulator",
            "--port",
            "0",
            "--job-duration",
            "0.3",
            "--seed-bucket",
            bucket_name,
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("bedrock-emulator listening on http://127.0.0.1:"), line
        endpoint = line.rsplit(" ", 1)[1].strip()
        client = EmulatorClient(endpoint)
        health = client.wait_until_ready(timeout=10)
        assert health["status"] == "ok" and health["job_duration"] == 0.3

        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        s3 = session.client("s3", endpoint_url=endpoint, region_name=REGION)
        s3.put_object(Bucket=bucket_name, Key="train.jsonl", Body=RECORD * 10)
        # The role a job names must exist in the emulator's IAM, created as on AWS.
        assert (
            ensure_service_role(
                session.client("iam", endpoint_url=endpoint, region_name=REGION), "bedrock-customization"
            )
            == ROLE
        )
        bedrock = session.client("bedrock", endpoint_url=endpoint, region_name=REGION)
        arn = bedrock.create_model_customization_job(
            **_job_args(
                bucket_name,
                trainingDataConfig={"s3Uri": f"s3://{bucket_name}/train.jsonl"},
                validationDataConfig={"validators": []},
            )
        )["jobArn"]
        assert _wait_for(bedrock, arn, timeout=5)["status"] == "Completed"
        assert client.request_count("CreateModelCustomizationJob") == 1
        assert client.jobs_created() == 1
        client.set_fault_rates(throttle=1.0)
        with pytest.raises(ClientError):
            session.client(
                "bedrock", endpoint_url=endpoint, region_name=REGION, config=NO_RETRY
            ).list_custom_models()
        assert client.fault_count("ListCustomModels") == 1

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        rest = proc.stdout.read()
        assert "stopped" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()


def test_two_emulators_start_on_distinct_ports() -> None:
    # How fast it starts is a benchmark's business: a timed assert only measures the machine's load.
    with BedrockEmulator() as first, BedrockEmulator() as second:
        assert first.endpoint_url != second.endpoint_url
        assert first.endpoint_url.startswith("http://127.0.0.1:")
        assert EmulatorClient(second.endpoint_url).health()["status"] == "ok"
    assert not first.running
    with pytest.raises(RuntimeError):
        _ = first.endpoint_url


# --------------------------------------------------------------------- store and metrics, no HTTP


class _FakeObjects:
    def __init__(self, objects: dict[tuple[str, str], bytes], buckets: set[str]) -> None:
        self.objects = objects
        self.buckets = buckets

    def bucket_exists(self, bucket: str) -> bool:
        return bucket in self.buckets

    def read_objects(self, bucket: str, key_or_prefix: str) -> list[bytes] | None:
        if bucket not in self.buckets:
            return None
        if key_or_prefix and not key_or_prefix.endswith("/"):
            return [self.objects[(bucket, key_or_prefix)]] if (bucket, key_or_prefix) in self.objects else []
        return [v for (b, k), v in self.objects.items() if b == bucket and k.startswith(key_or_prefix)]

    def put_object(self, bucket: str, key: str, body: bytes) -> None:
        self.objects[(bucket, key)] = body


def test_end_job_ends_a_job_now_with_its_tagged_outcome() -> None:
    now = [1_000_000.0]
    objects = _FakeObjects({("bkt", "train.jsonl"): RECORD * 10}, {"bkt"})
    store = CustomizationBackend(
        region=REGION, account_id="123456789012", objects=objects, job_duration=3600.0, clock=lambda: now[0]
    )
    statuses: list[str] = []
    store.add_listener(lambda job: statuses.append(job.status))
    arn, _ = store.create_job(
        _backend_request(
            "ended-early",
            jobTags=[
                {"key": "emulator:outcome", "value": "Failed"},
                {"key": "emulator:failure-message", "value": "Training data is invalid"},
            ],
        )
    )
    now[0] += 12.5
    assert store.get_job(arn)["status"] == "InProgress"
    store.end_job(arn)
    job = store.get_job(arn)
    assert (job["status"], job["failureMessage"]) == ("Failed", "Training data is invalid")
    assert job["endTime"] == "1970-01-12T13:46:52.500Z"
    assert statuses[-1] == "Failed" and statuses.count("Failed") == 1
    with pytest.raises(ValueError, match="ended-early is Failed; only an InProgress job can be ended"):
        store.end_job(arn)


def test_status_details_follow_the_stages() -> None:
    now = [1_000_000.0]
    objects = _FakeObjects({("bkt", "train.jsonl"): RECORD * 10}, {"bkt"})
    events: list[tuple[str, str]] = []
    store = CustomizationBackend(
        region=REGION, account_id="123456789012", objects=objects, job_duration=100.0, clock=lambda: now[0]
    )
    store.add_listener(lambda job: events.append((job.status, str(job.last_modified))))
    arn, created = store.create_job(_backend_request("staged"))
    assert created

    def stages() -> list[str]:
        details = store.get_job(arn)["statusDetails"]
        return [
            details[name]["status"]
            for name in ("validationDetails", "dataProcessingDetails", "trainingDetails")
        ]

    expected = {
        10: ["InProgress", "NotStarted", "NotStarted"],
        30: ["Completed", "InProgress", "NotStarted"],
        60: ["Completed", "Completed", "InProgress"],
        99: ["Completed", "Completed", "InProgress"],
        100: ["Completed", "Completed", "Completed"],
    }
    for offset, want in expected.items():
        now[0] = 1_000_000.0 + offset
        assert stages() == want, offset
    job = store.get_job(arn)
    assert job["status"] == "Completed"
    assert job["endTime"] == "1970-01-12T13:48:20.000Z"
    assert (
        "bkt",
        f"out/model-customization-job-{arn[-12:]}/training_artifacts/step_wise_training_metrics.csv",
    ) in (objects.objects)
    assert [status for status, _ in events] == ["InProgress", "InProgress", "InProgress", "Completed"]


def test_stop_while_validating_with_fake_clock() -> None:
    now = [500.0]
    store = CustomizationBackend(
        region=REGION,
        account_id="123456789012",
        objects=_FakeObjects({}, set()),
        job_duration=10.0,
        stop_delay=1.0,
        clock=lambda: now[0],
    )
    arn, _ = store.create_job(
        _backend_request(
            "halt", f"arn:aws:bedrock:us-east-1::foundation-model/{BASE_MODEL}", bucket="missing"
        )
    )
    now[0] += 1
    store.stop_job("halt")
    now[0] += 0.5
    assert store.get_job(arn)["status"] == "Stopping"
    now[0] += 0.6
    job = store.get_job(arn)
    # Stopped during validation, so the missing data never failed it.
    assert job["status"] == "Stopped" and "failureMessage" not in job
    assert job["statusDetails"]["validationDetails"]["status"] == "Stopped"


def test_metrics_are_deterministic_and_shaped() -> None:
    first = emulator_metrics.generate("arn:x", epochs=3, steps_per_epoch=7, with_validation=True)
    again = emulator_metrics.generate("arn:x", epochs=3, steps_per_epoch=7, with_validation=True)
    other = emulator_metrics.generate("arn:y", epochs=3, steps_per_epoch=7, with_validation=True)
    assert first == again and first != other
    assert len(first.training_rows) == 21
    assert first.training_rows[-1][2] == first.final_training_loss
    assert first.validation_rows[-1][2] == first.final_validation_loss
    assert first.final_validation_loss is not None and first.final_validation_loss > first.final_training_loss
    assert [r[1] for r in first.validation_rows] == sorted(r[1] for r in first.validation_rows)
    assert emulator_metrics.steps_per_epoch(3, 1) == 3
    assert emulator_metrics.steps_per_epoch(10_000, 2) == 5_000
    assert emulator_metrics.steps_per_epoch(100, 8) == 13
    assert emulator_metrics.steps_per_epoch(1, 1) == 1
    pinned = emulator_metrics.generate(
        "arn:z", epochs=1, steps_per_epoch=5, with_validation=False, final_training_loss=0.2
    )
    assert pinned.final_training_loss == 0.2 and pinned.validation_rows == []
    assert (
        pinned.training_csv().decode().splitlines()[0] == "step_number,epoch_number,training_loss,perplexity"
    )
