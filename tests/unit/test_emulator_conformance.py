"""Every row of docs/emulator.md, driven through plain boto3 against the emulator.

The rows are read from the document: a row without a check here, or a check without a row, fails.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bedrock_provider.core.request.roles import ensure_service_role
from bedrock_provider.emulator import BedrockEmulator
from bedrock_provider.emulator.client import EmulatorClient, EmulatorError
from tests.unit.post_training import NOVA_RECORD

DOC = Path(__file__).resolve().parents[2] / "docs" / "emulator.md"
REGION = "us-east-1"
ROLE_NAME = "conformance-role"
BASE_MODEL = "amazon.titan-text-express-v1"
RECORD = b'{"prompt": "what is AWS", "completion": "Amazon Web Services"}\n'
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def doc_rows() -> list[str]:
    rows = re.findall(r"^\| ([a-z][a-z-]*) \|", DOC.read_text(), flags=re.MULTILINE)
    return [row for row in rows if row != "id"]


class Ctx:
    """The emulator, plain boto3 clients on it, a bucket with data and a role."""

    def __init__(self, emu: BedrockEmulator) -> None:
        self.emu = emu
        self.bedrock = self.client("bedrock", NO_RETRY)
        self.s3 = self.client("s3")
        self.bucket = f"conf-{uuid.uuid4().hex[:10]}"
        self.s3.create_bucket(Bucket=self.bucket)
        self.put("train.jsonl", RECORD * 10)
        self.role = ensure_service_role(self.client("iam"), ROLE_NAME)

    def client(self, service: str, config: Config | None = None) -> Any:
        factory: Any = boto3.client
        return factory(
            service,
            endpoint_url=self.emu.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        )

    def put(self, key: str, body: bytes) -> str:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        return f"s3://{self.bucket}/{key}"

    def args(self, **overrides: Any) -> dict[str, Any]:
        name = f"conf-{uuid.uuid4().hex[:10]}"
        args: dict[str, Any] = {
            "jobName": name,
            "customModelName": f"{name}-model",
            "roleArn": self.role,
            "baseModelIdentifier": BASE_MODEL,
            "trainingDataConfig": {"s3Uri": f"s3://{self.bucket}/train.jsonl"},
            "outputDataConfig": {"s3Uri": f"s3://{self.bucket}/out/"},
            "hyperParameters": {"epochCount": "1", "batchSize": "1", "learningRate": ".0005"},
        }
        args.update(overrides)
        return args

    def create(self, **overrides: Any) -> str:
        return str(self.bedrock.create_model_customization_job(**self.args(**overrides))["jobArn"])

    def refused(self, call: Callable[[], Any], code: str = "ValidationException", status: int = 400) -> str:
        with pytest.raises(ClientError) as caught:
            call()
        error = caught.value.response
        assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), error
        return str(error["Error"]["Message"])

    def create_refused(self, code: str = "ValidationException", **overrides: Any) -> str:
        created = self.emu.jobs_created()
        message = self.refused(lambda: self.create(**overrides), code)
        assert self.emu.jobs_created() == created, "a refused Create must create nothing"
        return message

    def wait(self, identifier: str, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.bedrock.get_model_customization_job(jobIdentifier=identifier)
            if job["status"] in ("Completed", "Failed", "Stopped"):
                return job
            assert time.monotonic() < deadline, f"{identifier} still {job['status']}"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def emulator() -> Iterator[BedrockEmulator]:
    with BedrockEmulator(
        job_duration=0.4, stop_delay=0.1, tick_interval=0.05, max_concurrent_jobs=1000
    ) as emu:
        yield emu


@pytest.fixture
def ctx(emulator: BedrockEmulator) -> Ctx:
    emulator.set_fault_rates()
    emulator.max_concurrent_jobs = 1000
    return Ctx(emulator)


# --------------------------------------------------------------------- Create


def check_create(ctx: Ctx) -> None:
    response = ctx.bedrock.create_model_customization_job(**ctx.args())
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert ctx.bedrock.get_model_customization_job(jobIdentifier=response["jobArn"])["status"] == "InProgress"
    assert ctx.wait(response["jobArn"])["status"] == "Completed"


def check_create_token(ctx: Ctx) -> None:
    first = ctx.create(clientRequestToken="conformance-token-" + uuid.uuid4().hex)
    token = ctx.bedrock.get_model_customization_job(jobIdentifier=first)["clientRequestToken"]
    created = ctx.emu.jobs_created()
    again = ctx.create(clientRequestToken=token, hyperParameters={"epochCount": "2"})
    assert again == first and ctx.emu.jobs_created() == created


def check_create_name_in_use(ctx: Ctx) -> None:
    args = ctx.args()
    ctx.bedrock.create_model_customization_job(**args)
    message = ctx.create_refused(jobName=args["jobName"])
    assert message == "The provided job name is currently in use."


def check_create_constraints(ctx: Ctx) -> None:
    message = ctx.create_refused(jobName="bad_name!", outputDataConfig={"s3Uri": "s3://Bad_Bucket/out"})
    assert message.startswith("2 validation errors detected: Value 'bad_name!' at 'jobName'")
    assert "outputDataConfig.s3Uri" in message
    assert "jobName" in ctx.create_refused(jobName="x" * 64)


def check_create_unknown_model(ctx: Ctx) -> None:
    assert "amazon.no-such-model-v9" in ctx.create_refused(baseModelIdentifier="amazon.no-such-model-v9")


def check_create_not_customizable(ctx: Ctx) -> None:
    message = ctx.create_refused(baseModelIdentifier="anthropic.claude-3-5-sonnet-20240620-v1:0")
    assert "cannot be customized" in message
    assert "FINE_TUNING" in ctx.create_refused(
        baseModelIdentifier="amazon.nova-lite-v1:0:300k", customizationType="CONTINUED_PRE_TRAINING"
    )


def check_create_region(ctx: Ctx) -> None:
    # Claude 3 Haiku is fine-tuned in us-west-2 only.
    message = ctx.create_refused(
        baseModelIdentifier="anthropic.claude-3-haiku-20240307-v1:0:200k", hyperParameters={}
    )
    assert "us-west-2" in message
    arn = f"arn:aws:bedrock:us-west-2::foundation-model/{BASE_MODEL}"
    assert "us-west-2" in ctx.create_refused(baseModelIdentifier=arn)


def check_create_hyperparameters(ctx: Ctx) -> None:
    assert "epochs" in ctx.create_refused(hyperParameters={"epochs": "2"})
    assert "epochCount" in ctx.create_refused(hyperParameters={"epochCount": "1000"})
    assert "learningRate" in ctx.create_refused(hyperParameters={"learningRate": "5"})
    assert "batchSize" in ctx.create_refused(hyperParameters={"batchSize": "100000"})


def check_create_imported(ctx: Ctx) -> None:
    assert "IMPORTED" in ctx.create_refused(customizationType="IMPORTED")


def check_create_distillation_teacher(ctx: Ctx) -> None:
    student = {"baseModelIdentifier": "amazon.nova-micro-v1:0:128k", "customizationType": "DISTILLATION"}
    assert "teacherModelIdentifier" in ctx.create_refused(hyperParameters={}, **student)
    wrong = {"distillationConfig": {"teacherModelConfig": {"teacherModelIdentifier": BASE_MODEL}}}
    assert "teacher" in ctx.create_refused(hyperParameters={}, customizationConfig=wrong, **student)


def check_create_role(ctx: Ctx) -> None:
    missing = "arn:aws:iam::123456789012:role/no-such-role"
    assert "Could not assume provided IAM role" in ctx.create_refused(roleArn=missing)
    iam = ctx.client("iam")
    name = f"untrusting-{uuid.uuid4().hex[:8]}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    untrusting = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(policy))["Role"]["Arn"]
    assert "trust policy" in ctx.create_refused(roleArn=untrusting)
    # check_roles=False (the CLI's --no-role-check) takes any role.
    with BedrockEmulator(job_duration=0.2, check_roles=False) as relaxed:
        relaxed_ctx = Ctx(relaxed)
        relaxed_ctx.wait(relaxed_ctx.create(roleArn=missing))


def check_create_quota(ctx: Ctx) -> None:
    from bedrock_provider.emulator.__main__ import _parser
    from bedrock_provider.emulator.backend import DEFAULT_MAX_CONCURRENT_JOBS

    assert BedrockEmulator().max_concurrent_jobs == DEFAULT_MAX_CONCURRENT_JOBS
    assert _parser().parse_args(["--max-concurrent-jobs", "7", "--no-role-check"]).max_concurrent_jobs == 7
    # Another process sets it through the control surface (the CLI's emulator: EmulatorClient).
    from bedrock_provider.emulator import EmulatorClient

    client = EmulatorClient(ctx.emu.endpoint_url)
    client.max_concurrent_jobs = 1
    assert ctx.emu.max_concurrent_jobs == client.max_concurrent_jobs == 1
    long_running = [{"key": "emulator:duration", "value": "30"}]
    try:
        running = ctx.create(jobTags=long_running)
        message = ctx.create_refused("ServiceQuotaExceededException")
        assert "quota of 1 concurrent" in message
        ctx.bedrock.stop_model_customization_job(jobIdentifier=running)
        assert ctx.wait(running)["status"] == "Stopped"
        ctx.wait(ctx.create())
    finally:
        ctx.emu.max_concurrent_jobs = 1000


def check_create_kms(ctx: Ctx) -> None:
    kms = ctx.client("kms")
    key = kms.create_key()["KeyMetadata"]
    alias = f"alias/conf-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    job = ctx.bedrock.get_model_customization_job(jobIdentifier=ctx.create(customModelKmsKeyId=alias))
    assert job["outputModelKmsKeyArn"] == key["Arn"]
    assert "KMS" in ctx.create_refused(customModelKmsKeyId="alias/no-such-key")


def check_create_tags(ctx: Ctx) -> None:
    bad = [{"key": "emulator:failure-message", "value": "Out of capacity, sorry!"}]
    assert "jobTags" in ctx.create_refused(jobTags=bad)
    assert "reserved for AWS use" in ctx.create_refused(customModelTags=[{"key": "AWS:team", "value": "ml"}])
    encoded = "base64:" + base64.b64encode(b"Out of capacity, sorry!").decode()
    tags = [
        {"key": "emulator:outcome", "value": "Failed"},
        {"key": "emulator:failure-message", "value": encoded},
    ]
    job = ctx.wait(ctx.create(jobTags=tags))
    assert (job["status"], job["failureMessage"]) == ("Failed", "Out of capacity, sorry!")


# --------------------------------------------------------------------- the job's stages


def _failed_in_validation(ctx: Ctx, args: dict[str, Any], *fragments: str) -> None:
    job = ctx.wait(ctx.bedrock.create_model_customization_job(**args)["jobArn"])
    assert job["status"] == "Failed", job
    for fragment in fragments:
        assert fragment in job["failureMessage"], job["failureMessage"]
    assert job["statusDetails"]["validationDetails"]["status"] == "Failed"
    assert "outputModelArn" not in job
    name = args["customModelName"]
    ctx.refused(lambda: ctx.bedrock.get_custom_model(modelIdentifier=name), "ResourceNotFoundException", 404)


def check_validation_stage_data(ctx: Ctx) -> None:
    garbage = ctx.put(f"garbage-{uuid.uuid4().hex[:6]}.jsonl", b"this is not json\n")
    _failed_in_validation(ctx, ctx.args(trainingDataConfig={"s3Uri": garbage}), garbage, "line 1")
    # Claude's message records are not Titan's prompt/completion records.
    schema = ctx.put(
        f"schema-{uuid.uuid4().hex[:6]}.jsonl", b'{"messages": [{"role": "user", "content": "hi"}]}\n'
    )
    _failed_in_validation(ctx, ctx.args(trainingDataConfig={"s3Uri": schema}), schema, "line 1")
    # Nova takes at least 8 records (fine-tune-prepare-data-understanding.html).
    one = ctx.put(f"one-{uuid.uuid4().hex[:6]}.jsonl", json.dumps(NOVA_RECORD).encode() + b"\n")
    nova = {"baseModelIdentifier": "amazon.nova-lite-v1:0:300k", "hyperParameters": {}}
    _failed_in_validation(ctx, ctx.args(trainingDataConfig={"s3Uri": one}, **nova), one, "8")


def check_validation_stage_missing(ctx: Ctx) -> None:
    uri = f"s3://{ctx.bucket}/nothing-here.jsonl"
    job = ctx.wait(ctx.create(trainingDataConfig={"s3Uri": uri}))
    assert (
        job["status"] == "Failed"
        and "does not exist" in job["failureMessage"]
        and uri in job["failureMessage"]
    )


def _training_rows(ctx: Ctx, job: dict[str, Any]) -> list[dict[str, str]]:
    job_dir = f"out/model-customization-job-{job['jobArn'].rsplit('/', 1)[1]}"
    key = f"{job_dir}/training_artifacts/step_wise_training_metrics.csv"
    text = ctx.s3.get_object(Bucket=ctx.bucket, Key=key)["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(text)))


def check_metrics(ctx: Ctx) -> None:
    hyper = {"epochCount": "3", "batchSize": "4", "learningRate": "0.0001"}
    first = _training_rows(ctx, ctx.wait(ctx.create(hyperParameters=hyper)))
    # 10 records, batch 4: 3 steps per epoch, 3 epochs.
    assert len(first) == 9 and first[-1]["epoch_number"] == "2"
    again = _training_rows(ctx, ctx.wait(ctx.create(hyperParameters=hyper)))
    assert [row["training_loss"] for row in again] == [row["training_loss"] for row in first]
    other = _training_rows(ctx, ctx.wait(ctx.create(hyperParameters=dict(hyper, learningRate="0.001"))))
    assert [row["training_loss"] for row in other] != [row["training_loss"] for row in first]


# --------------------------------------------------------------------- Get, List, Stop


def check_get_job(ctx: Ctx) -> None:
    args = ctx.args()
    arn = ctx.bedrock.create_model_customization_job(**args)["jobArn"]
    by_name = ctx.bedrock.get_model_customization_job(jobIdentifier=args["jobName"])
    assert by_name["jobArn"] == arn
    assert set(by_name["statusDetails"]) == {"validationDetails", "dataProcessingDetails", "trainingDetails"}


def check_identifier_malformed(ctx: Ctx) -> None:
    ctx.refused(lambda: ctx.bedrock.get_model_customization_job(jobIdentifier="bad_name!"))
    ctx.refused(lambda: ctx.bedrock.stop_model_customization_job(jobIdentifier="bad_name!"))
    ctx.refused(lambda: ctx.bedrock.get_custom_model(modelIdentifier="Not A Model!"))
    ctx.refused(lambda: ctx.bedrock.delete_custom_model(modelIdentifier="Not A Model!"))


def check_identifier_unknown(ctx: Ctx) -> None:
    ctx.refused(
        lambda: ctx.bedrock.get_model_customization_job(jobIdentifier="no-such-job"),
        "ResourceNotFoundException",
        404,
    )
    ctx.refused(
        lambda: ctx.bedrock.get_custom_model(modelIdentifier="no-such-model"),
        "ResourceNotFoundException",
        404,
    )


def check_list_jobs(ctx: Ctx) -> None:
    marker = f"list{uuid.uuid4().hex[:6]}"
    arns = [ctx.create(jobName=f"{marker}-{i}") for i in range(3)]
    page = ctx.bedrock.list_model_customization_jobs(nameContains=marker, sortOrder="Ascending", maxResults=2)
    rest = ctx.bedrock.list_model_customization_jobs(
        nameContains=marker, sortOrder="Ascending", nextToken=page["nextToken"]
    )
    listed = [
        s["jobArn"] for s in page["modelCustomizationJobSummaries"] + rest["modelCustomizationJobSummaries"]
    ]
    assert listed == arns


def check_stop_job(ctx: Ctx) -> None:
    arn = ctx.create(jobTags=[{"key": "emulator:duration", "value": "30"}])
    ctx.bedrock.stop_model_customization_job(jobIdentifier=arn)
    assert ctx.wait(arn)["status"] == "Stopped"
    ctx.refused(lambda: ctx.bedrock.stop_model_customization_job(jobIdentifier=arn))


def check_custom_models(ctx: Ctx) -> None:
    args = ctx.args()
    model_arn = ctx.wait(ctx.bedrock.create_model_customization_job(**args)["jobArn"])["outputModelArn"]
    assert ctx.bedrock.get_custom_model(modelIdentifier=args["customModelName"])["modelArn"] == model_arn
    owned = ctx.bedrock.list_custom_models(nameContains=args["customModelName"], isOwned=True)[
        "modelSummaries"
    ]
    assert [m["modelArn"] for m in owned] == [model_arn]
    assert (
        ctx.bedrock.list_custom_models(nameContains=args["customModelName"], isOwned=False)["modelSummaries"]
        == []
    )
    ctx.bedrock.delete_custom_model(modelIdentifier=model_arn)
    ctx.refused(
        lambda: ctx.bedrock.get_custom_model(modelIdentifier=model_arn), "ResourceNotFoundException", 404
    )


def check_custom_model_tags(ctx: Ctx) -> None:
    args = ctx.args(customModelTags=[{"key": "airflow:model-family", "value": "conf"}])
    model_arn = ctx.wait(ctx.bedrock.create_model_customization_job(**args)["jobArn"])["outputModelArn"]
    tags = ctx.bedrock.list_tags_for_resource(resourceARN=model_arn)["tags"]
    assert tags == [{"key": "airflow:model-family", "value": "conf"}]


def check_model_status(ctx: Ctx) -> None:
    args = ctx.args()
    model_arn = ctx.wait(ctx.bedrock.create_model_customization_job(**args)["jobArn"])["outputModelArn"]
    name = args["customModelName"]
    assert ctx.bedrock.get_custom_model(modelIdentifier=model_arn)["modelStatus"] == "Active"
    ctx.emu.set_custom_model_status(model_arn, "Failed", "artifacts unreadable")
    failed = ctx.bedrock.get_custom_model(modelIdentifier=model_arn)
    assert (failed["modelStatus"], failed["failureMessage"]) == ("Failed", "artifacts unreadable")
    assert ctx.bedrock.list_custom_models(nameContains=name, modelStatus="Active")["modelSummaries"] == []
    listed = ctx.bedrock.list_custom_models(nameContains=name, modelStatus="Failed")["modelSummaries"]
    assert [(m["modelArn"], m["modelStatus"]) for m in listed] == [(model_arn, "Failed")]
    with pytest.raises(ValueError, match="ModelStatus"):
        ctx.emu.set_custom_model_status(model_arn, "Deleting")


def check_tags(ctx: Ctx) -> None:
    arn = ctx.create(jobTags=[{"key": "team", "value": "ml"}])
    ctx.bedrock.tag_resource(resourceARN=arn, tags=[{"key": "stage", "value": "dev"}])
    ctx.bedrock.untag_resource(resourceARN=arn, tagKeys=["team"])
    assert ctx.bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "stage", "value": "dev"}]


def check_events(ctx: Ctx) -> None:
    from bedrock_provider.emulator.events import create_events_queue

    queue_url = create_events_queue(
        ctx.emu.endpoint_url,
        queue_name=f"conf-{uuid.uuid4().hex[:8]}",
        rule_name=f"conf-{uuid.uuid4().hex[:8]}",
        region=REGION,
    )
    arn = ctx.create()
    ctx.wait(arn)
    sqs = ctx.client("sqs")
    deadline = time.monotonic() + 15
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        events = [json.loads(m["Body"]) for m in messages]
        ours = [e for e in events if e["detail"]["jobArn"] == arn]
        if ours:
            break
        assert time.monotonic() < deadline, "no state-change event arrived"
    event = ours[0]
    assert (event["source"], event["detail-type"]) == ("aws.bedrock", "Model Customization Job State Change")
    assert event["detail"]["version"] == "0.0" and event["detail"]["jobStatus"] == "Completed"


def _bearer_client(ctx: Ctx, key: str) -> Any:
    """A bedrock client that sends ``key`` as its bearer token: botocore reads it from the environment
    when the client is made, and signs every call with it (signature version pinned to bearer)."""
    previous = os.environ.get("AWS_BEARER_TOKEN_BEDROCK")
    os.environ["AWS_BEARER_TOKEN_BEDROCK"] = key
    try:
        config = NO_RETRY.merge(Config(signature_version="bearer"))
        return boto3.client("bedrock", endpoint_url=ctx.emu.endpoint_url, region_name=REGION, config=config)
    finally:
        if previous is None:
            os.environ.pop("AWS_BEARER_TOKEN_BEDROCK", None)
        else:
            os.environ["AWS_BEARER_TOKEN_BEDROCK"] = previous


def check_bearer(ctx: Ctx) -> None:
    assert "modelSummaries" in _bearer_client(ctx, ctx.emu.issue_api_key()).list_custom_models()
    message = ctx.refused(
        lambda: _bearer_client(ctx, "ABSKbm90LWlzc3VlZA==").list_custom_models(), "AccessDeniedException", 403
    )
    assert message == "Authentication failed: Please make sure your API Key is valid."
    expired = _bearer_client(ctx, ctx.emu.issue_api_key(lifetime=0))
    ctx.refused(lambda: expired.list_custom_models(), "AccessDeniedException", 403)


def check_bearer_short_term(ctx: Ctx) -> None:
    from botocore.credentials import ReadOnlyCredentials

    from bedrock_provider.core.request.api_keys import mint_short_term_key

    credentials = ReadOnlyCredentials("AKIAEXAMPLE", "secret", None)
    fresh = mint_short_term_key(credentials, REGION, 3600).token
    assert "modelSummaries" in _bearer_client(ctx, fresh).list_custom_models()
    short = mint_short_term_key(credentials, REGION, 1).token
    deadline = time.monotonic() + 5
    while True:  # valid for one second from the second it was signed in
        try:
            _bearer_client(ctx, short).list_custom_models()
        except ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDeniedException"
            break
        assert time.monotonic() < deadline, "an expired short-term key was still taken"
        time.sleep(0.1)
    not_presigned = "bedrock-api-key-" + base64.b64encode(b"example.com/?Action=CallWithBearerToken").decode()
    ctx.refused(lambda: _bearer_client(ctx, not_presigned).list_custom_models(), "AccessDeniedException", 403)


def check_expired_session(ctx: Ctx) -> None:
    from moto.sts.models import sts_backends

    sts = boto3.client("sts", endpoint_url=ctx.emu.endpoint_url, region_name=REGION)
    credentials = sts.assume_role(RoleArn="arn:aws:iam::222222222222:role/r", RoleSessionName="session")[
        "Credentials"
    ]
    role = sts_backends["222222222222"]["aws"].get_assumed_role_from_access_key(credentials["AccessKeyId"])
    role.expiration = role.expiration.replace(year=2000)
    bedrock = boto3.client(
        "bedrock",
        endpoint_url=ctx.emu.endpoint_url,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=NO_RETRY,
    )
    message = ctx.refused(lambda: bedrock.list_custom_models(), "ExpiredTokenException", 403)
    assert message == "The security token included in the request is expired"


def check_auth_counts(ctx: Ctx) -> None:
    ctx.emu.reset_counts()
    ctx.bedrock.list_custom_models()
    _bearer_client(ctx, ctx.emu.issue_api_key()).list_custom_models()
    boto3.client("s3", endpoint_url=ctx.emu.endpoint_url, region_name=REGION).list_buckets()
    counts = EmulatorClient(ctx.emu.endpoint_url).auth_counts()
    assert counts == {"bedrock:sigv4": 1, "bedrock:bearer": 1, "s3:sigv4": 1}, counts
    assert ctx.emu.distinct_bearer_keys() == 1


def check_faults(ctx: Ctx) -> None:
    ctx.emu.set_fault_rates(throttle=1.0)
    try:
        ctx.refused(lambda: ctx.bedrock.list_custom_models(), "ThrottlingException", 429)
    finally:
        ctx.emu.set_fault_rates()


def check_end_job(ctx: Ctx) -> None:
    tags = [{"key": "emulator:duration", "value": "3600"}]
    job = ctx.bedrock.create_model_customization_job(**ctx.args(jobTags=tags))["jobArn"]
    assert ctx.bedrock.get_model_customization_job(jobIdentifier=job)["status"] == "InProgress"
    before_end = time.time()
    EmulatorClient(ctx.emu.endpoint_url).end_job(job)
    ended = ctx.bedrock.get_model_customization_job(jobIdentifier=job)
    assert ended["status"] == "Completed"
    assert ended["endTime"].timestamp() >= before_end - 0.001
    ctx.bedrock.get_custom_model(modelIdentifier=ended["outputModelArn"])
    with pytest.raises(EmulatorError, match="only an InProgress job can be ended"):
        EmulatorClient(ctx.emu.endpoint_url).end_job(job)


# --------------------------------------------------------------------- after training


# A model AWS deploys on demand (deploy-custom-model-on-demand.html), trained on records in its format.
NOVA_MICRO = "amazon.nova-micro-v1:0:128k"


def _trained_model(ctx: Ctx, base_model: str = NOVA_MICRO) -> str:
    if base_model == BASE_MODEL:
        return str(ctx.wait(ctx.create())["outputModelArn"])
    data = ctx.put("nova-train.jsonl", (json.dumps(NOVA_RECORD) + "\n").encode() * 8)
    job = ctx.create(baseModelIdentifier=base_model, hyperParameters={}, trainingDataConfig={"s3Uri": data})
    return str(ctx.wait(job)["outputModelArn"])


def _provisioned(ctx: Ctx, model: str, **extra: Any) -> str:
    name = f"pt-{uuid.uuid4().hex[:10]}"
    return str(
        ctx.bedrock.create_provisioned_model_throughput(
            provisionedModelName=name, modelId=model, modelUnits=1, **extra
        )["provisionedModelArn"]
    )


def _throughput(ctx: Ctx, arn: str) -> Callable[[], dict[str, Any]]:
    return lambda: dict(ctx.bedrock.get_provisioned_model_throughput(provisionedModelId=arn))


def _until_status(describe: Callable[[], dict[str, Any]], status: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = describe()
        if found["status"] == status:
            return found
        assert time.monotonic() < deadline, f"still {found['status']}, not {status}"
        time.sleep(0.05)


def _deploy(ctx: Ctx, model: str, duration: str = "0.3") -> str:
    name = f"dep-{uuid.uuid4().hex[:10]}"
    tags = [{"key": "emulator:duration", "value": duration}]
    return str(
        ctx.bedrock.create_custom_model_deployment(modelDeploymentName=name, modelArn=model, tags=tags)[
            "customModelDeploymentArn"
        ]
    )


def _deployment(ctx: Ctx, arn: str) -> Callable[[], dict[str, Any]]:
    return lambda: dict(ctx.bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn))


def _evaluation_args(ctx: Ctx, model: str, **tags: str) -> dict[str, Any]:
    dataset = ctx.put("prompts.jsonl", b'{"prompt": "What is AWS?", "referenceResponse": "A cloud."}\n' * 3)
    return {
        "jobName": f"eval-{uuid.uuid4().hex[:10]}",
        "roleArn": ctx.role,
        "jobTags": [{"key": k, "value": v} for k, v in {"emulator:duration": "0.3", **tags}.items()],
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {"name": "prompts", "datasetLocation": {"s3Uri": dataset}},
                        "metricNames": ["Builtin.Accuracy"],
                    }
                ]
            }
        },
        "inferenceConfig": {"models": [{"bedrockModel": {"modelIdentifier": model}}]},
        "outputDataConfig": {"s3Uri": f"s3://{ctx.bucket}/evaluations/"},
    }


def check_deployments(ctx: Ctx) -> None:
    model = _trained_model(ctx)
    token = uuid.uuid4().hex
    name = f"dep-{token[:10]}"
    created = ctx.bedrock.create_custom_model_deployment(
        modelDeploymentName=name, modelArn=model, clientRequestToken=token
    )["customModelDeploymentArn"]
    again = ctx.bedrock.create_custom_model_deployment(
        modelDeploymentName=name, modelArn=model, clientRequestToken=token
    )["customModelDeploymentArn"]
    assert again == created
    ctx.refused(lambda: ctx.bedrock.create_custom_model_deployment(modelDeploymentName=name, modelArn=model))
    _until_status(_deployment(ctx, created), "Active")
    listed = ctx.bedrock.list_custom_model_deployments(modelArnEquals=model)["modelDeploymentSummaries"]
    assert [d["customModelDeploymentArn"] for d in listed] == [created]
    ctx.bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=created)
    ctx.refused(lambda: _deployment(ctx, created)(), "ResourceNotFoundException", 404)


def check_provisioned_throughput(ctx: Ctx) -> None:
    model = _trained_model(ctx)
    name = f"pt-{uuid.uuid4().hex[:10]}"
    arn = ctx.bedrock.create_provisioned_model_throughput(
        provisionedModelName=name, modelId=model, modelUnits=1
    )["provisionedModelArn"]

    def describe() -> dict[str, Any]:
        return dict(ctx.bedrock.get_provisioned_model_throughput(provisionedModelId=arn))

    _until_status(describe, "InService")
    ctx.bedrock.update_provisioned_model_throughput(
        provisionedModelId=arn, desiredProvisionedModelName=name + "-b"
    )
    assert _until_status(describe, "InService")["provisionedModelName"] == name + "-b"
    ctx.bedrock.delete_provisioned_model_throughput(provisionedModelId=arn)
    committed = ctx.bedrock.create_provisioned_model_throughput(
        provisionedModelName=name + "-c", modelId=model, modelUnits=1, commitmentDuration="OneMonth"
    )["provisionedModelArn"]
    ctx.refused(
        lambda: ctx.bedrock.delete_provisioned_model_throughput(provisionedModelId=committed),
        "ConflictException",
    )


def check_served_model_delete(ctx: Ctx) -> None:
    model = _trained_model(ctx)
    deployment = _deploy(ctx, model)
    message = ctx.refused(lambda: ctx.bedrock.delete_custom_model(modelIdentifier=model), "ConflictException")
    assert deployment in message
    ctx.bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=deployment)
    ctx.bedrock.delete_custom_model(modelIdentifier=model)


def check_evaluation_job(ctx: Ctx) -> None:
    served = _provisioned(ctx, _trained_model(ctx), tags=[{"key": "emulator:duration", "value": "0.3"}])
    _until_status(_throughput(ctx, served), "InService")
    args = _evaluation_args(ctx, served, **{"emulator:score:Builtin.Accuracy": "0.75"})
    job = ctx.bedrock.create_evaluation_job(**args)["jobArn"]
    _until_status(lambda: dict(ctx.bedrock.get_evaluation_job(jobIdentifier=job)), "Completed")
    prefix = f"evaluations/{args['jobName']}/{job.rsplit('/', 1)[-1]}/models/"
    keys = [o["Key"] for o in ctx.s3.list_objects_v2(Bucket=ctx.bucket, Prefix=prefix)["Contents"]]
    assert (
        len(keys) == 1
        and keys[0].endswith("_output.jsonl")
        and "/taskTypes/QuestionAndAnswer/datasets/prompts/" in keys[0]
    )
    lines = ctx.s3.get_object(Bucket=ctx.bucket, Key=keys[0])["Body"].read().decode().splitlines()
    scores = [json.loads(line)["automatedEvaluationResult"]["scores"] for line in lines]
    assert scores == [[{"metricName": "Accuracy", "result": 0.75}]] * 3
    summaries = ctx.bedrock.list_evaluation_jobs(nameContains=args["jobName"])["jobSummaries"]
    assert [s["jobArn"] for s in summaries] == [job]


def check_evaluation_refusals(ctx: Ctx) -> None:
    model = _trained_model(ctx)
    ctx.refused(lambda: ctx.bedrock.create_evaluation_job(**_evaluation_args(ctx, model)))
    creating = _provisioned(ctx, model, tags=[{"key": "emulator:duration", "value": "30"}])
    message = ctx.refused(lambda: ctx.bedrock.create_evaluation_job(**_evaluation_args(ctx, creating)))
    assert "Creating" in message
    args = _evaluation_args(ctx, BASE_MODEL)
    ctx.bedrock.create_evaluation_job(**args)
    ctx.refused(lambda: ctx.bedrock.create_evaluation_job(**args), "ConflictException")
    ctx.refused(lambda: ctx.bedrock.get_evaluation_job(jobIdentifier=args["jobName"]))


def check_evaluation_own_responses(ctx: Ctx) -> None:
    record = {
        "prompt": "What is AWS?",
        "modelResponses": [{"response": "A cloud.", "modelIdentifier": "bot"}],
    }
    dataset = ctx.put("own.jsonl", (json.dumps(record) + "\n").encode() * 2)
    args = _evaluation_args(ctx, BASE_MODEL)
    args["inferenceConfig"] = {
        "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": "bot"}}]
    }
    args["evaluationConfig"]["automated"]["datasetMetricConfigs"][0].update(
        taskType="Generation",
        dataset={"name": "own", "datasetLocation": {"s3Uri": dataset}},
        metricNames=["Builtin.Helpfulness"],
    )
    assert "evaluatorModelConfig" in ctx.refused(lambda: ctx.bedrock.create_evaluation_job(**args))
    judges = {"bedrockEvaluatorModels": [{"modelIdentifier": "amazon.nova-pro-v1:0"}]}
    args["evaluationConfig"]["automated"]["evaluatorModelConfig"] = judges
    job = ctx.bedrock.create_evaluation_job(**args)["jobArn"]
    _until_status(lambda: dict(ctx.bedrock.get_evaluation_job(jobIdentifier=job)), "Completed")
    job_dir = f"evaluations/{args['jobName']}/{job.rsplit('/', 1)[-1]}"
    prefix = f"{job_dir}/models/bot/taskTypes/Generation/datasets/own/"
    key = ctx.s3.list_objects_v2(Bucket=ctx.bucket, Prefix=prefix)["Contents"][0]["Key"]
    line = json.loads(ctx.s3.get_object(Bucket=ctx.bucket, Key=key)["Body"].read().splitlines()[0])
    assert line["modelResponses"] == record["modelResponses"]
    assert line["automatedEvaluationResult"]["scores"][0]["metricName"] == "Helpfulness"


def check_evaluation_model_identifier(ctx: Ctx) -> None:
    deployment = _deploy(ctx, _trained_model(ctx))
    _until_status(_deployment(ctx, deployment), "Active")
    message = ctx.refused(lambda: ctx.bedrock.create_evaluation_job(**_evaluation_args(ctx, deployment)))
    assert "bedrockModel.modelIdentifier" in message and "regular expression" in message


def check_deployment_on_demand(ctx: Ctx) -> None:
    titan = _trained_model(ctx, BASE_MODEL)
    message = ctx.refused(lambda: _deploy(ctx, titan))
    assert BASE_MODEL in message and "deploy-custom-model-on-demand.html" in message
    nova = _deploy(ctx, _trained_model(ctx))
    _until_status(_deployment(ctx, nova), "Active")
    ctx.refused(
        lambda: ctx.bedrock.update_custom_model_deployment(
            customModelDeploymentIdentifier=nova, modelArn=titan
        )
    )


def check_unknown_model_after_training(ctx: Ctx) -> None:
    missing = "amazon.no-such-model-v9"
    ctx.refused(lambda: _provisioned(ctx, missing), "ResourceNotFoundException", 404)
    ctx.refused(
        lambda: ctx.bedrock.create_evaluation_job(**_evaluation_args(ctx, missing)),
        "ResourceNotFoundException",
        404,
    )


def check_evaluation_stop(ctx: Ctx) -> None:
    job = ctx.bedrock.create_evaluation_job(
        **_evaluation_args(ctx, BASE_MODEL, **{"emulator:duration": "30"})
    )["jobArn"]
    ctx.bedrock.stop_evaluation_job(jobIdentifier=job)
    _until_status(lambda: dict(ctx.bedrock.get_evaluation_job(jobIdentifier=job)), "Stopped")
    ctx.refused(lambda: ctx.bedrock.stop_evaluation_job(jobIdentifier=job), "ConflictException")


# --------------------------------------------------------------------- bedrock-runtime


def _converse(ctx: Ctx, model_id: str, text: str = "What is AWS?") -> dict[str, Any]:
    runtime = ctx.client("bedrock-runtime", NO_RETRY)
    return dict(runtime.converse(modelId=model_id, messages=[{"role": "user", "content": [{"text": text}]}]))


def check_runtime(ctx: Ctx) -> None:
    from bedrock_provider.emulator.answers import emulated_answer

    deployment = _deploy(ctx, _trained_model(ctx))
    _until_status(_deployment(ctx, deployment), "Active")
    before = ctx.emu.request_count("Converse")
    answer = _converse(ctx, deployment)
    served = _deployment(ctx, deployment)()["modelArn"]
    assert answer["output"]["message"]["content"] == [{"text": emulated_answer(served, "What is AWS?")}]
    assert answer["usage"]["inputTokens"] == 3 and answer["stopReason"] == "end_turn"
    assert ctx.emu.request_count("Converse") == before + 1
    body = {"messages": [{"role": "user", "content": [{"text": "What is AWS?"}]}]}
    runtime = ctx.client("bedrock-runtime", NO_RETRY)
    native = json.loads(runtime.invoke_model(modelId=deployment, body=json.dumps(body))["body"].read())
    assert native["output"] == answer["output"]


def check_runtime_refusals(ctx: Ctx) -> None:
    model = _trained_model(ctx)
    creating = _deploy(ctx, model, duration="30")
    assert "Creating" in ctx.refused(lambda: _converse(ctx, creating))
    ctx.refused(lambda: _converse(ctx, model))
    ctx.refused(lambda: _converse(ctx, "amazon.no-such-model-v9"), "ResourceNotFoundException", 404)


CHECKS: dict[str, Callable[[Ctx], None]] = {
    name.removeprefix("check_").replace("_", "-"): check
    for name, check in dict(globals()).items()
    if name.startswith("check_") and callable(check)
}


def test_every_row_has_a_check_and_every_check_a_row() -> None:
    assert sorted(doc_rows()) == sorted(CHECKS)


@pytest.mark.parametrize("row", doc_rows())
def test_row(row: str, ctx: Ctx) -> None:
    CHECKS[row](ctx)
