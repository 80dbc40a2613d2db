"""Waiting: the triggerer's event loop is never blocked by client creation, deadlines hold on every
path, wait settings are refused where the DAG is parsed, and long runs of failures end the wait."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bedrock_provider.core.waiting.snapshots import ListFailure, Snapshot


def test_a_client_is_created_without_reading_any_data_file_on_the_event_loop(monkeypatch):
    """botocore read its endpoints and service model on the loop when aiobotocore created the client:
    0.3-0.7 s that the triggerer reported as "async thread was blocked"."""
    from botocore.loaders import JSONFileLoader

    from bedrock_provider.hooks.customization import BedrockCustomizationHook

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    reads: list[tuple[str, str]] = []
    original = JSONFileLoader.load_file

    def load_file(self, file_path):
        reads.append((file_path.rsplit("/", 2)[-1], threading.current_thread().name))
        return original(self, file_path)

    monkeypatch.setattr(JSONFileLoader, "load_file", load_file)

    async def lease() -> str:
        async with BedrockCustomizationHook(
            aws_conn_id=None, region_name="us-east-1"
        ).async_client() as client:
            assert client.meta.service_model.service_name == "bedrock"
        return threading.current_thread().name

    loop_thread = asyncio.run(lease())
    # (When an earlier test of the process left these files cached, nothing is read at all.)
    on_loop = [name for name, thread in reads if thread == loop_thread]
    assert not on_loop, f"read on the event loop: {on_loop}"


# -- wait settings are refused where the DAG is parsed ----------------------------------------------------

NOT_FINITE = [float("nan"), float("inf"), float("-inf")]
OPERATOR_FIELDS = {
    "task_id": "t",
    "job_name": "j",
    "custom_model_name": "m",
    "role_arn": "arn:aws:iam::123456789012:role/R",
    "base_model_id": "amazon.titan-text-express-v1",
    "training_data_uri": "s3://b/t.jsonl",
    "output_data_uri": "s3://b/o/",
}


@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
@pytest.mark.parametrize(
    "setting", ["poll_interval", "max_wait", "safety_poll_interval", "max_failure_duration"]
)
def test_the_operator_refuses_non_finite_wait_settings(setting, value):
    from bedrock_provider.operators.customization import BedrockModelCustomizationOperator

    with pytest.raises(ValueError, match=rf"{setting}=.*finite"):
        BedrockModelCustomizationOperator(**OPERATOR_FIELDS, **{setting: value})


@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
@pytest.mark.parametrize(
    "setting", ["poke_interval", "timeout", "safety_poll_interval", "max_failure_duration"]
)
def test_the_sensor_refuses_non_finite_wait_settings(setting, value):
    from bedrock_provider.sensors.customization import BedrockModelCustomizationSensor

    try:
        BedrockModelCustomizationSensor(task_id="s", job_identifier="j", **{setting: value})
    except ValueError as error:  # Airflow's own check, or ours naming the setting
        assert setting in str(error) or "poke_interval" in str(error)
    else:
        pytest.fail(f"{setting}={value} was accepted")


@pytest.mark.parametrize(
    ("value", "ok"),
    [(0.5, True), (3, True), (None, True), (0, False), (-1, False), (True, False), ("5", False)],
)
def test_max_wait_takes_positive_finite_seconds_or_none(value, ok):
    from bedrock_provider.core.waiting.settings import check_wait_settings

    if ok:
        check_wait_settings(1, value)
    else:
        with pytest.raises(ValueError, match="max_wait"):
            check_wait_settings(1, value)


# -- blocking wait: the deadline holds on every path -------------------------------------------------------


class Clock:
    """time.time and time.sleep of a wait, without waiting: sleeping advances the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def server_error():
    from botocore.exceptions import ClientError

    return ClientError(
        {
            "Error": {"Code": "InternalServerException", "Message": "boom"},
            "ResponseMetadata": {"HTTPStatusCode": 500},
        },
        "GetModelCustomizationJob",
    )


def credentials_refused():
    from botocore.exceptions import ClientError

    return ClientError(
        {
            "Error": {"Code": "UnrecognizedClientException", "Message": "bad token"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        "GetModelCustomizationJob",
    )


@pytest.fixture
def blocking(monkeypatch):
    """A hook whose describes follow a script, on a fake clock; returns (hook, clock, script)."""
    from bedrock_provider.hooks import customization

    clock = Clock()
    monkeypatch.setattr(customization.time, "time", clock.time)
    monkeypatch.setattr(customization.time, "sleep", clock.sleep)
    monkeypatch.setattr("bedrock_provider.core.waiting.watch.time.time", clock.time)
    script: list = []
    hooks: list = []

    class Scripted(customization.BedrockCustomizationHook):
        def describe_job(self, job_identifier):
            step = script.pop(0) if len(script) > 1 else script[0]
            if isinstance(step, BaseException):
                raise step
            return step

        def reconnected(self):
            hooks.append("reconnected")
            return self

    return Scripted(aws_conn_id=None), clock, script, hooks


def test_blocking_wait_ends_at_max_wait_while_every_describe_fails(blocking):
    hook, clock, script, _ = blocking
    script.append(server_error())
    with pytest.raises(TimeoutError, match=r"max_wait=5 s"):
        hook.wait_for_job("job", poll_interval=30, max_wait=5, started_at=clock.now)
    assert clock.now - 1000.0 == pytest.approx(5.0), "no sleep ran past the deadline"


def test_blocking_wait_never_sleeps_a_poll_interval_past_max_wait(blocking):
    hook, clock, script, _ = blocking
    script.append({"status": "InProgress", "jobName": "job"})
    with pytest.raises(TimeoutError, match=r"still InProgress after max_wait=3 s \(its last known status\)"):
        hook.wait_for_job("job", poll_interval=30, max_wait=3, started_at=clock.now)
    assert clock.sleeps == [3.0]


def test_blocking_wait_reconnects_on_refused_credentials_and_gives_up_after_max_failure_duration(blocking):
    from bedrock_provider.core.errors import JobWaitError

    hook, clock, script, reconnects = blocking
    script.append(credentials_refused())
    with pytest.raises(JobWaitError, match=r"failed for \d+ s .*max_failure_duration=600 s.*bad token"):
        hook.wait_for_job("job", poll_interval=60, max_failure_duration=600)
    assert 600 <= clock.now - 1000.0 < 600 + 300
    assert reconnects, "the connection was read again while calls kept failing"


def test_blocking_wait_recovers_when_the_connection_is_fixed(blocking):
    hook, clock, script, reconnects = blocking
    script.extend([server_error()] * 4 + [{"status": "Completed", "jobName": "job"}])
    assert hook.wait_for_job("job", poll_interval=1)["status"] == "Completed"
    assert reconnects == ["reconnected"]


# -- deferred wait: failure runs, reconnects, last known status ---------------------------------------------


def test_deferred_wait_against_a_broken_endpoint_ends_with_an_error_event(monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger
    from tests.unit.test_trigger import ScriptedHook, run_trigger

    hook = ScriptedHook([EndpointConnectionError(endpoint_url="http://127.0.0.1:9")])
    trigger = BedrockModelCustomizationTrigger(
        job_identifier="job", poll_interval=0.01, max_failure_duration=0.2
    )
    event = run_trigger(trigger, hook, monkeypatch)
    assert event["status"] == "error"
    assert "max_failure_duration=0.2 s" in event["message"] and "127.0.0.1:9" in event["message"]
    assert hook.reconnects >= 1


def test_a_timeout_names_the_status_a_shared_list_showed():
    from bedrock_provider.core.waiting import watch as w

    state = w.Watch("job", started_at=0.0, max_wait=10)
    state.on_snapshot(Snapshot.from_summaries([{"jobName": "job", "status": "InProgress"}], 1.0))
    assert "still InProgress after max_wait=10 s" in state.timeout_event()["message"]
    assert "unknown" not in state.timeout_event()["message"]


def test_shared_list_failures_end_a_wait_after_its_max_failure_duration():
    import time

    from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger

    trigger = BedrockModelCustomizationTrigger(job_identifier="job", max_failure_duration=60)

    async def stream():
        yield ListFailure(time.time() - 30, 3, "connection refused")
        yield ListFailure(time.time() - 61, 9, "connection refused")

    class Hook:
        aws_conn_id = "c"

        def async_client(self):
            import contextlib

            return contextlib.nullcontext()

    trigger.hook = lambda: Hook()  # type: ignore[method-assign]

    async def first():
        return [event.payload async for event in trigger.filter_shared_stream(stream())]

    events = asyncio.run(first())
    assert len(events) == 1 and events[0]["status"] == "error"
    assert "connection refused" in events[0]["message"]


def test_the_trigger_imports_its_hook_modules_off_the_event_loop(monkeypatch):
    """Importing the hooks loads boto3 and the Amazon provider: 0.3-0.7 s the triggerer reported as a
    blocked event loop when the first trigger made its hook."""
    import sys

    from bedrock_provider.triggers import customization as triggers

    loaded = {name: sys.modules[name] for name in triggers._HOOK_MODULES}
    imported_in: list[str] = []

    def import_module(name):
        imported_in.append(threading.current_thread().name)
        return loaded[name]

    for name in loaded:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(triggers.importlib, "import_module", import_module)

    async def load() -> str:
        await triggers.load_hook_modules()
        return threading.current_thread().name

    loop_thread = asyncio.run(load())
    assert imported_in and loop_thread not in imported_in
