"""The emulator runs reinforcement fine-tuning jobs and answers the model invocation logging calls."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bedrock_provider.emulator import BedrockEmulator
from tests.rft_support import allow_invoke, create_grader

REGION = "us-east-1"
NOVA2 = "amazon.nova-2-lite-v1:0:256k"
PROMPT = {"messages": [{"role": "user", "content": "2+2?"}], "reference_answer": "4"}


@pytest.fixture(scope="module")
def emu() -> Iterator[BedrockEmulator]:
    with BedrockEmulator(job_duration=0.3, tick_interval=0.05, max_concurrent_jobs=100) as emulator:
        yield emulator


def client(emu: BedrockEmulator, service: str) -> Any:
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=emu.endpoint_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def bucket(emu: BedrockEmulator) -> str:
    s3 = client(emu, "s3")
    name = f"rft-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="rft.jsonl", Body=(json.dumps(PROMPT) + "\n").encode() * 20)
    return name


@pytest.fixture
def role(emu: BedrockEmulator) -> tuple[str, str]:
    name = f"rft-role-{uuid.uuid4().hex[:8]}"
    return name, emu.create_service_role(name)


def rft_args(bucket: str, role_arn: str, lambda_arn: str, **hyperparameters: Any) -> dict[str, Any]:
    rft_config: dict[str, Any] = {"graderConfig": {"lambdaGrader": {"lambdaArn": lambda_arn}}}
    if hyperparameters:
        rft_config["hyperParameters"] = hyperparameters
    return {
        "jobName": f"rft-{uuid.uuid4().hex[:8]}",
        "customModelName": f"rft-model-{uuid.uuid4().hex[:8]}",
        "roleArn": role_arn,
        "baseModelIdentifier": NOVA2,
        "customizationType": "REINFORCEMENT_FINE_TUNING",
        "trainingDataConfig": {"s3Uri": f"s3://{bucket}/rft.jsonl"},
        "outputDataConfig": {"s3Uri": f"s3://{bucket}/output/"},
        "customizationConfig": {"rftConfig": rft_config},
    }


def wait_until_ended(bedrock: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        job = bedrock.get_model_customization_job(jobIdentifier=arn)
        if job["status"] not in ("InProgress", "Stopping"):
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job {arn} did not end within 20 s")


def refusal(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    return str(raised.value.response["Error"]["Message"])


def test_rft_job_with_an_invocable_grader_completes_and_writes_no_metric_files(emu, bucket, role):
    role_name, role_arn = role
    lambda_arn = create_grader(client(emu, "lambda"), f"grader-{uuid.uuid4().hex[:6]}", role_arn)
    allow_invoke(client(emu, "iam"), role_name, lambda_arn)
    bedrock = client(emu, "bedrock")
    args = rft_args(bucket, role_arn, lambda_arn, batchSize=16, learningRate=1e-5, reasoningEffort="low")

    job = wait_until_ended(bedrock, bedrock.create_model_customization_job(**args)["jobArn"])

    assert job["status"] == "Completed", job.get("failureMessage")
    assert job["customizationType"] == "REINFORCEMENT_FINE_TUNING"
    assert job["customizationConfig"] == args["customizationConfig"]
    # AWS documents RFT metrics as console graphs only: no files are written under the output.
    listed = client(emu, "s3").list_objects_v2(Bucket=bucket, Prefix="output/")
    assert listed.get("KeyCount", 0) == 0


def test_rft_job_with_a_missing_grader_is_refused(emu, bucket, role):
    _, role_arn = role
    missing = f"arn:aws:lambda:{REGION}:123456789012:function:no-such-grader"
    message = refusal(
        lambda: client(emu, "bedrock").create_model_customization_job(**rft_args(bucket, role_arn, missing))
    )
    assert "does not exist" in message and missing in message


def test_rft_job_whose_role_cannot_invoke_the_grader_is_refused(emu, bucket, role):
    _, role_arn = role
    lambda_arn = create_grader(client(emu, "lambda"), f"grader-{uuid.uuid4().hex[:6]}", role_arn)
    message = refusal(
        lambda: client(emu, "bedrock").create_model_customization_job(
            **rft_args(bucket, role_arn, lambda_arn)
        )
    )
    assert "not allowed to invoke" in message and "lambda:InvokeFunction" in message


def test_rft_hyperparameters_outside_botocores_bounds_are_refused(emu, bucket, role):
    role_name, role_arn = role
    lambda_arn = create_grader(client(emu, "lambda"), f"grader-{uuid.uuid4().hex[:6]}", role_arn)
    allow_invoke(client(emu, "iam"), role_name, lambda_arn)
    # botocore checks minimums client-side; maximums are the service's to refuse.
    args = rft_args(bucket, role_arn, lambda_arn, learningRate=0.01, batchSize=1024)
    message = refusal(lambda: client(emu, "bedrock").create_model_customization_job(**args))
    assert "learningRate" in message and "batchSize" in message


def test_rft_config_on_another_type_is_refused(emu, bucket, role):
    _, role_arn = role
    args = rft_args(bucket, role_arn, f"arn:aws:lambda:{REGION}:123456789012:function:g")
    args.update(customizationType="FINE_TUNING", baseModelIdentifier="amazon.nova-lite-v1:0:300k")
    assert "only valid when customizationType is REINFORCEMENT_FINE_TUNING" in refusal(
        lambda: client(emu, "bedrock").create_model_customization_job(**args)
    )


def test_invocation_logging_configuration_round_trips(emu, bucket):
    bedrock = client(emu, "bedrock")
    bedrock.delete_model_invocation_logging_configuration()
    before = emu.request_count("GetModelInvocationLoggingConfiguration")
    assert "loggingConfig" not in bedrock.get_model_invocation_logging_configuration()
    config = {"s3Config": {"bucketName": bucket, "keyPrefix": "logs"}, "textDataDeliveryEnabled": True}
    bedrock.put_model_invocation_logging_configuration(loggingConfig=config)
    assert bedrock.get_model_invocation_logging_configuration()["loggingConfig"] == config
    assert emu.request_count("GetModelInvocationLoggingConfiguration") == before + 2
    bedrock.delete_model_invocation_logging_configuration()
    assert "loggingConfig" not in bedrock.get_model_invocation_logging_configuration()


def test_logging_to_a_missing_bucket_is_refused(emu):
    missing = f"no-such-{uuid.uuid4().hex[:8]}"
    message = refusal(
        lambda: client(emu, "bedrock").put_model_invocation_logging_configuration(
            loggingConfig={"s3Config": {"bucketName": missing}}
        )
    )
    assert missing in message


def test_distillation_from_invocation_logs_runs_and_fails_on_a_missing_log_bucket(emu, bucket, role):
    _, role_arn = role
    bedrock = client(emu, "bedrock")
    teacher = {
        "distillationConfig": {"teacherModelConfig": {"teacherModelIdentifier": "amazon.nova-pro-v1:0"}}
    }

    def distill(logs_bucket: str) -> dict[str, Any]:
        arn = bedrock.create_model_customization_job(
            jobName=f"distill-{uuid.uuid4().hex[:8]}",
            customModelName=f"distilled-{uuid.uuid4().hex[:8]}",
            roleArn=role_arn,
            baseModelIdentifier="amazon.nova-lite-v1:0:300k",
            customizationType="DISTILLATION",
            trainingDataConfig={
                "invocationLogsConfig": {"invocationLogSource": {"s3Uri": f"s3://{logs_bucket}/logs/"}}
            },
            outputDataConfig={"s3Uri": f"s3://{bucket}/output/"},
            customizationConfig=teacher,
        )["jobArn"]
        return wait_until_ended(bedrock, arn)

    assert distill(bucket)["status"] == "Completed"
    failed = distill(f"no-such-{uuid.uuid4().hex[:8]}")
    assert failed["status"] == "Failed" and "invocation logs" in failed["failureMessage"]
