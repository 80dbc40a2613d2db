"""RFT and invocation logs as training data, end to end with dag.test() on the emulator."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.integration.dags.rft_dags import RFT_DATA_KEY
from tests.integration.job_args import BUCKET, JOB_ARGS
from tests.rft_support import allow_invoke, create_grader

pytestmark = pytest.mark.integration

CREATE = "CreateModelCustomizationJob"
ROLE_ARN = str(JOB_ARGS["role_arn"])
PROMPT = {"messages": [{"role": "user", "content": "What is 2+2?"}], "reference_answer": "4"}
LOGS_BUCKET = "bedrock-it-invocation-logs"


def _client(emulator: Any, service: str) -> Any:
    factory: Any = boto3.client
    return factory(service, endpoint_url=emulator.endpoint_url, region_name="us-east-1")


@pytest.fixture
def grader(emulator: Any, s3: Any) -> str:
    """A grader the service role may invoke, and the RFT prompts in the bucket."""
    s3.put_object(Bucket=BUCKET, Key=RFT_DATA_KEY, Body=(json.dumps(PROMPT) + "\n").encode() * 50)
    lambda_arn = create_grader(_client(emulator, "lambda"), "it-rft-grader", ROLE_ARN)
    allow_invoke(_client(emulator, "iam"), ROLE_ARN.rsplit("/", 1)[1], lambda_arn)
    return lambda_arn


@pytest.fixture
def logs_bucket(s3: Any, bedrock: Any) -> Any:
    s3.create_bucket(Bucket=LOGS_BUCKET)
    yield f"s3://{LOGS_BUCKET}/bedrock/"
    bedrock.delete_model_invocation_logging_configuration()


def test_nova2_lite_rft_with_an_existing_grader_submits_and_completes(
    run_dag, emulator, unique_name, bedrock, grader
):
    name = unique_name("it-rft")
    before = emulator.request_count(CREATE)
    result = run_dag(
        "it_rft_nova2",
        conf={
            "job_name": name,
            "grader_lambda_arn": grader,
            "hyperparameters": {"batchSize": 16, "epochCount": 1},
        },
    )

    assert result.state == "success", result.task_states()
    xcom = result.xcom("train")
    assert xcom["status"] == "Completed"
    assert emulator.request_count(CREATE) == before + 1
    job = bedrock.get_model_customization_job(jobIdentifier=name)
    assert job["customizationType"] == "REINFORCEMENT_FINE_TUNING"
    assert job["customizationConfig"]["rftConfig"] == {
        "graderConfig": {"lambdaGrader": {"lambdaArn": grader}},
        "hyperParameters": {"batchSize": 16, "epochCount": 1},
    }
    assert "hyperParameters" not in job or not job["hyperParameters"]
    assert xcom["estimated_cost"]["usd"] is None


def test_nova2_lite_rft_with_a_missing_grader_is_refused(
    run_dag, emulator, unique_name, bedrock, grader, capsys
):
    name = unique_name("it-rft-missing")
    missing = "arn:aws:lambda:us-east-1:123456789012:function:it-no-such-grader"
    result = run_dag("it_rft_nova2", conf={"job_name": name, "grader_lambda_arn": missing})

    assert result.task_states() == {"train": "failed"}
    assert "does not exist" in capsys.readouterr().out
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_model_customization_job(jobIdentifier=name)


def test_rft_hyperparameters_out_of_bounds_are_refused_before_any_call(
    run_dag, emulator, unique_name, grader, capsys
):
    before = emulator.request_count(CREATE)
    result = run_dag(
        "it_rft_nova2",
        conf={
            "job_name": unique_name("it-rft-hp"),
            "grader_lambda_arn": grader,
            "hyperparameters": {"batchSize": 8},
        },
    )

    assert result.task_states() == {"train": "failed"}
    assert "batchSize must be a whole number from 16 to 512" in capsys.readouterr().out
    assert emulator.request_count(CREATE) == before


def test_distillation_from_invocation_logs_submits_invocation_logs_config(
    run_dag, emulator, unique_name, bedrock, logs_bucket
):
    bedrock.put_model_invocation_logging_configuration(
        loggingConfig={
            "s3Config": {"bucketName": LOGS_BUCKET, "keyPrefix": "bedrock"},
            "textDataDeliveryEnabled": True,
        }
    )
    name = unique_name("it-logs")
    result = run_dag("it_distill_from_logs", conf={"job_name": name, "logs_uri": logs_bucket})

    assert result.state == "success", result.task_states()
    job = bedrock.get_model_customization_job(jobIdentifier=name)
    assert job["trainingDataConfig"] == {
        "invocationLogsConfig": {"invocationLogSource": {"s3Uri": logs_bucket}, "usePromptResponse": True}
    }


@pytest.mark.parametrize("logging", [None, {"s3Config": {"bucketName": BUCKET}}])
def test_invocation_logs_when_logging_is_off_or_elsewhere_are_refused_with_no_create(
    run_dag, emulator, unique_name, bedrock, logs_bucket, logging, capsys
):
    if logging is not None:
        bedrock.put_model_invocation_logging_configuration(loggingConfig=logging)
    before = emulator.request_count(CREATE)
    result = run_dag(
        "it_distill_from_logs", conf={"job_name": unique_name("it-logs-off"), "logs_uri": logs_bucket}
    )

    assert result.task_states() == {"train": "failed"}
    out = capsys.readouterr().out
    assert ("is off" if logging is None else f"delivers to s3://{BUCKET}/") in out
    assert emulator.request_count(CREATE) == before
