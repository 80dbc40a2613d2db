"""The connection decides how Bedrock calls authenticate: never AWS_BEARER_TOKEN_BEDROCK from the
environment; a Bedrock API key only when the connection's extra names one, and then only for Bedrock.

Against an in-process BedrockEmulator, which counts the scheme of every call it receives and refuses
bearer keys Bedrock would refuse.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bedrock_provider.emulator import BedrockEmulator
from bedrock_provider.emulator.auth import INVALID_KEY_MESSAGE
from bedrock_provider.hooks.customization import BedrockCustomizationHook
from bedrock_provider.hooks.resources import BedrockResourceHook

REGION = "us-east-1"
ROLE_NAME = "bedrock-customization"
ENV_KEY = "ABSK-from-the-environment-" + "x" * 40
CONN_ACCESS_KEY = "connection-key-id"


@pytest.fixture(scope="module")
def emulator() -> Iterator[BedrockEmulator]:
    with BedrockEmulator(job_duration=0.5, tick_interval=0.05, max_concurrent_jobs=100) as emu:
        emu.create_service_role(ROLE_NAME)
        yield emu


@pytest.fixture
def emu(emulator: BedrockEmulator, monkeypatch: pytest.MonkeyPatch) -> BedrockEmulator:
    emulator.reset()
    # What a worker looks like when other code there uses a Bedrock API key.
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", ENV_KEY)
    return emulator


def connection(monkeypatch: pytest.MonkeyPatch, emu: BedrockEmulator, **extra: Any) -> str:
    conn_id = f"conn_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}",
        json.dumps(
            {
                "conn_type": "aws",
                "login": CONN_ACCESS_KEY,
                "password": "connection-secret",
                "extra": {"endpoint_url": emu.endpoint_url, "region_name": REGION, **extra},
            }
        ),
    )
    return conn_id


def bedrock_calls(emu: BedrockEmulator) -> dict[str, int]:
    return {scheme: n for scheme, n in emu.auth_counts().items() if scheme.startswith("bedrock:")}


async def list_async(hook: Any) -> None:
    async with hook.async_client() as client:
        await client.list_model_customization_jobs()


def s3_round_trip(conn_id: str) -> None:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    bucket = f"auth-{uuid.uuid4().hex[:10]}"
    s3 = S3Hook(aws_conn_id=conn_id)
    s3.create_bucket(bucket_name=bucket, region_name=REGION)
    s3.load_string("{}", key="k.json", bucket_name=bucket)
    assert s3.read_key("k.json", bucket) == "{}"


def test_the_environment_key_changes_nothing_for_a_connection_with_credentials(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sync and async clients of both Bedrock hooks sign with the connection's keys, S3 too."""
    conn_id = connection(monkeypatch, emu)
    hook = BedrockCustomizationHook(aws_conn_id=conn_id)
    hook.client.list_model_customization_jobs()
    asyncio.run(list_async(hook))
    BedrockResourceHook(aws_conn_id=conn_id).custom_models()
    s3_round_trip(conn_id)

    assert bedrock_calls(emu) == {"bedrock:sigv4": 3}
    assert emu.access_key_counts()[f"bedrock:{CONN_ACCESS_KEY}"] == 3
    assert emu.auth_counts().get("s3:sigv4", 0) >= 3
    assert emu.distinct_bearer_keys() == 0


def test_the_variable_is_logged_once_per_process_and_the_key_never(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bedrock_provider.hooks import auth

    monkeypatch.setattr(auth, "_ignored_variable_logged", auth.threading.Event())
    conn_id = connection(monkeypatch, emu)
    with caplog.at_level(logging.INFO, logger="bedrock_provider.hooks.auth"):
        for _ in range(3):
            BedrockCustomizationHook(aws_conn_id=conn_id).client.list_model_customization_jobs()
    said = [r.getMessage() for r in caplog.records if r.name == "bedrock_provider.hooks.auth"]
    assert len(said) == 1
    assert "AWS_BEARER_TOKEN_BEDROCK is set" in said[0] and "ignore" in said[0]
    assert all(ENV_KEY not in record.getMessage() for record in caplog.records)


def test_a_long_term_key_goes_to_bedrock_and_only_there(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = emu.issue_api_key()
    conn_id = connection(monkeypatch, emu, bedrock_api_key=key)
    hook = BedrockCustomizationHook(aws_conn_id=conn_id)
    hook.client.list_model_customization_jobs()
    asyncio.run(list_async(hook))
    s3_round_trip(conn_id)

    assert bedrock_calls(emu) == {"bedrock:bearer": 2}
    assert emu.distinct_bearer_keys() == 1  # the connection's key, not the environment's
    assert emu.auth_counts().get("s3:sigv4", 0) >= 3
    assert "s3:bearer" not in emu.auth_counts()


@pytest.mark.parametrize("which", ["unknown", "expired"])
def test_the_emulator_refuses_a_key_bedrock_would_refuse(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    key = "ABSK" + "bm90LWlzc3VlZA==" if which == "unknown" else emu.issue_api_key(lifetime=0)
    conn_id = connection(
        monkeypatch, emu, bedrock_api_key=key, config_kwargs={"retries": {"max_attempts": 1}}
    )
    with pytest.raises(ClientError) as raised:
        BedrockCustomizationHook(aws_conn_id=conn_id).client.list_model_customization_jobs()
    error = raised.value.response
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert error["Error"]["Message"] == INVALID_KEY_MESSAGE
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_short_term_key_is_renewed_during_a_wait_longer_than_its_life(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys of 2 s, a job of 5 s: the wait completes only if each key is replaced before it expires
    (the emulator refuses an expired one)."""
    conn_id = connection(monkeypatch, emu, bedrock_api_key="short_term", bedrock_short_term_key_duration=2)
    event = wait_for(create_job(emu, conn_id, seconds=5), conn_id)
    assert event["status"] == "Completed", event
    assert set(bedrock_calls(emu)) == {"bedrock:bearer"}
    assert emu.distinct_bearer_keys() >= 3


def test_short_term_keys_need_credentials_and_a_region(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn_id = f"conn_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}",
        json.dumps(
            {"conn_type": "aws", "extra": {"endpoint_url": emu.endpoint_url, "bedrock_api_key": "short_term"}}
        ),
    )
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(ValueError, match="valid in one Region; set region_name"):
        BedrockCustomizationHook(aws_conn_id=conn_id).client.list_model_customization_jobs()
    assert bedrock_calls(emu) == {}


def test_airflow_masks_the_key_in_task_logs_and_in_the_connection_view() -> None:
    """Airflow hides extras whose names contain "api_key": in task logs (the SDK masks a connection's
    extra when a task reads it) and in the REST API / UI's connection view."""
    from airflow.api_fastapi.core_api.datamodels.connections import ConnectionResponse
    from airflow.sdk import Connection
    from airflow.sdk._shared.secrets_masker import redact
    from airflow.sdk.log import mask_secret

    key = "ABSK" + uuid.uuid4().hex * 2
    extra = json.dumps(
        {"region_name": REGION, "bedrock_api_key": key, "bedrock_short_term_key_duration": 3600}
    )
    conn = Connection(conn_id="masked", conn_type="aws", extra=extra)
    assert conn.extra_dejson["bedrock_api_key"] == key  # what a hook reads; registers the mask
    mask_secret(conn.extra_dejson)
    assert key not in str(redact(f"the task logged {key}"))

    shown = ConnectionResponse.model_validate(
        {
            "connection_id": "masked",
            "conn_type": "aws",
            "description": None,
            "host": None,
            "login": None,
            "schema": None,
            "port": None,
            "password": None,
            "extra": extra,
            "team_name": None,
        }
    )
    assert shown.extra is not None and key not in shown.extra
    assert json.loads(shown.extra)["bedrock_api_key"] == "***"
    assert json.loads(shown.extra)["bedrock_short_term_key_duration"] == 3600  # not a secret


def create_job(emu: BedrockEmulator, conn_id: str, seconds: float) -> str:
    bucket = f"data-{uuid.uuid4().hex[:10]}"
    s3 = boto3.client("s3", endpoint_url=emu.endpoint_url, region_name=REGION)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="train.jsonl", Body=b'{"prompt": "2+2?", "completion": "4"}\n' * 40)
    return str(
        BedrockCustomizationHook(aws_conn_id=conn_id).client.create_model_customization_job(
            jobName=f"wait-{uuid.uuid4().hex[:8]}",
            customModelName=f"model-{uuid.uuid4().hex[:8]}",
            roleArn=f"arn:aws:iam::123456789012:role/{ROLE_NAME}",
            baseModelIdentifier="amazon.titan-text-express-v1",
            trainingDataConfig={"s3Uri": f"s3://{bucket}/train.jsonl"},
            outputDataConfig={"s3Uri": f"s3://{bucket}/output"},
            hyperParameters={"epochCount": "1", "batchSize": "1", "learningRate": "0.00001"},
            jobTags=[{"key": "emulator:duration", "value": str(seconds)}],
        )["jobArn"]
    )


def wait_for(arn: str, conn_id: str) -> dict[str, Any]:
    from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger

    trigger = BedrockModelCustomizationTrigger(
        arn, poll_interval=0.25, aws_conn_id=conn_id, max_failure_duration=1.5, max_wait=30
    )

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(first_event())


def test_an_assumed_role_is_refreshed_off_the_loop_during_a_wait_that_outlives_it(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection assumes a role (moto's STS) whose credentials last 2 s; the wait lasts 4 s and
    the emulator refuses expired session credentials. Each renewal calls STS in a worker thread, never
    on the event loop that every wait of the triggerer shares."""
    import threading

    from airflow.providers.amazon.aws.hooks.base_aws import BaseSessionFactory
    from moto.sts.models import sts_backends

    refreshed_on: list[bool] = []
    original = BaseSessionFactory._refresh_credentials

    def recording(self: Any) -> dict[str, Any]:
        refreshed_on.append(threading.current_thread() is threading.main_thread())
        credentials = original(self)
        # AssumeRole's shortest session is 900 s (botocore refuses less): shortened to 2 s on both
        # sides, as if 15 minutes went by in 2 seconds.
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
        role = sts_backends["222222222222"]["aws"].get_assumed_role_from_access_key(credentials["access_key"])
        assert role is not None
        role.expiration = expires.replace(tzinfo=None)
        return {**credentials, "expiry_time": expires.isoformat()}

    monkeypatch.setattr(BaseSessionFactory, "_refresh_credentials", recording)
    conn_id = connection(
        monkeypatch,
        emu,
        role_arn="arn:aws:iam::222222222222:role/waiter",
        service_config={"sts": {"endpoint_url": emu.endpoint_url}},
    )
    arn = create_job(emu, connection(monkeypatch, emu), seconds=4)
    emu.reset_counts()

    event = wait_for(arn, conn_id)
    assert event["status"] == "Completed", event
    signers = [entry for entry in emu.access_key_counts() if entry.startswith("bedrock:")]
    assert len(signers) >= 2, signers  # the wait signed with renewed credentials
    assert CONN_ACCESS_KEY not in {entry.split(":", 1)[1] for entry in signers}  # as the role
    assert len(refreshed_on) >= 3
    assert not any(refreshed_on), "an STS call ran on the event loop's thread"


def test_sessions_of_many_connections_parse_botocore_data_files_once(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each connection's client has a botocore session of its own, and a role connection one more for
    its STS client (kept for every refresh). botocore's loader caches per session, so endpoints.json
    was parsed into each: 1.6 MB as plain dicts, 6.8 MB as OrderedDicts, 27 MB of a push-mode
    triggerer waiting on five connections. The parsed files are now shared by every session."""
    import botocore

    from bedrock_provider.hooks.events_queue import EventsQueueHook

    endpoints_size = len((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    parses: list[int] = []
    original_loads = json.loads

    def counting_loads(payload: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(payload, str) and len(payload) == endpoints_size:
            parses.append(1)
        return original_loads(payload, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting_loads)
    role = {
        "role_arn": "arn:aws:iam::222222222222:role/waiter",
        "service_config": {"sts": {"endpoint_url": emu.endpoint_url}},
    }
    sessions = [
        hook_type(aws_conn_id=conn_id, region_name=REGION).get_session(deferrable=True)
        for conn_id in (connection(monkeypatch, emu), connection(monkeypatch, emu, **role))
        for hook_type in (BedrockCustomizationHook, EventsQueueHook)
    ]

    assert len(parses) <= 1, f"endpoints.json parsed {len(parses)} times for {len(sessions)} sessions"
    endpoints = {id(session.get_component("data_loader").load_data("endpoints")) for session in sessions}
    assert len(endpoints) == 1


def test_the_emulator_refuses_assumed_role_credentials_that_expired(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sts = boto3.client("sts", endpoint_url=emu.endpoint_url, region_name=REGION)
    from moto.sts.models import sts_backends

    monkeypatch.delenv("AWS_BEARER_TOKEN_BEDROCK")  # a plain boto3 client would send it
    credentials = sts.assume_role(RoleArn="arn:aws:iam::222222222222:role/r", RoleSessionName="session")[
        "Credentials"
    ]
    role = sts_backends["222222222222"]["aws"].get_assumed_role_from_access_key(credentials["AccessKeyId"])
    role.expiration = role.expiration - dt.timedelta(seconds=3600) + dt.timedelta(seconds=1)
    bedrock = boto3.client(
        "bedrock",
        endpoint_url=emu.endpoint_url,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    bedrock.list_model_customization_jobs()  # still valid

    deadline = time.monotonic() + 10
    while True:
        try:
            bedrock.list_model_customization_jobs()
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ExpiredTokenException"
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
            return
        assert time.monotonic() < deadline, "still served after the credentials expired"
        time.sleep(0.1)


def test_one_connection_refused_fails_only_its_own_waits(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Three connections in one triggerer (Airflow's SharedStreamManager): two Regions with their own
    keys, and one whose API key was revoked. Each is a group of its own; the revoked one's wait ends
    with an error event and the others complete."""
    from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger
    from tests.unit.test_shared_stream import Triggerer

    east = connection(monkeypatch, emu)
    west = connection(monkeypatch, emu, region_name="us-west-2")
    revoked = connection(monkeypatch, emu, bedrock_api_key="ABSK" + "cmV2b2tlZA==" * 4)
    arns = [create_job(emu, east, seconds=1.5) for _ in range(3)]

    async def scenario() -> list[dict[str, Any]]:
        triggerer = Triggerer()
        for index, conn_id in enumerate((east, west, revoked)):
            trigger = BedrockModelCustomizationTrigger(
                arns[index], poll_interval=0.2, aws_conn_id=conn_id, max_failure_duration=5, max_wait=30
            )
            triggerer.start(index, trigger)
        await asyncio.sleep(0)
        assert triggerer.groups() == 3
        return await triggerer.finish(0, 1, 2)

    with caplog.at_level(logging.INFO, logger="bedrock_provider.triggers.shared_list"):
        east_event, west_event, revoked_event = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert (east_event["status"], west_event["status"]) == ("Completed", "Completed")
    assert revoked_event["status"] == "error"
    assert INVALID_KEY_MESSAGE in revoked_event["message"]
    refusals = [r.getMessage() for r in caplog.records if "was refused" in r.getMessage()]
    assert refusals and all(f"connection {revoked!r}" in message for message in refusals)


def test_a_config_pinning_sigv4_on_an_api_key_connection_is_refused_before_any_call(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.config import Config

    conn_id = connection(monkeypatch, emu, bedrock_api_key=emu.issue_api_key())
    hook = BedrockCustomizationHook(aws_conn_id=conn_id, config=Config(signature_version="v4"))
    with pytest.raises(
        ValueError, match=r"extra bedrock_api_key asks for bearer auth.*signature_version='v4'"
    ):
        hook.client.list_model_customization_jobs()
    assert bedrock_calls(emu) == {}
