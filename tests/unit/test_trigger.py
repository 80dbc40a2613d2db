"""BedrockModelCustomizationTrigger's loop with a scripted hook: retries, deadlines, events, on_kill."""

from __future__ import annotations

import asyncio
import contextlib
import importlib

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger

ARN = (
    "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan-text-express-v1/abcdefabcdef"
)


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Get"
    )


def job(status: str, **extra):
    return {"jobArn": ARN, "jobName": "job", "status": status, **extra}


class ScriptedHook:
    aws_conn_id = "aws_default"

    def __init__(self, script):
        self.script = list(script)
        self.calls = 0
        self.stopped = []
        self.reconnects = 0

    def reconnected(self):
        """The same script goes on: what changes on a reconnect is counted."""
        self.reconnects += 1
        return self

    def async_client(self):
        return contextlib.nullcontext()

    async def describe_job_async(self, identifier):
        self.calls += 1
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, BaseException):
            raise step
        return step

    async def stop_job_async(self, identifier):
        self.stopped.append(identifier)
        return True


def run_trigger(trigger, hook, monkeypatch):
    monkeypatch.setattr(trigger, "hook", lambda: hook)
    monkeypatch.setattr("bedrock_provider.core.waiting.watch.retry_delay", lambda *a, **k: 0.001)

    async def first_event():
        events = [event async for event in trigger.run()]
        assert len(events) == 1
        return events[0].payload

    return asyncio.run(first_event())


def test_serialize_round_trips():
    trigger = BedrockModelCustomizationTrigger(
        job_identifier=ARN,
        poll_interval=5,
        max_wait=60,
        stop_job_on_kill=False,
        aws_conn_id="c",
        region_name="eu-west-1",
        verify=False,
        botocore_config={"retries": {"mode": "standard"}},
        started_at=100.0,
        events_queue_url="https://sqs.eu-west-1.amazonaws.com/123456789012/bedrock-job-events",
        safety_poll_interval=300,
    )
    classpath, kwargs = trigger.serialize()
    module, name = classpath.rsplit(".", 1)
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert rebuilt.shared_stream_key() == trigger.shared_stream_key()
    assert kwargs["started_at"] == 100.0
    assert kwargs["safety_poll_interval"] == 300


def test_it_is_a_shared_stream_trigger_that_still_follows_the_tasks_queue():
    from airflow.triggers.base import BaseEventTrigger

    trigger = BedrockModelCustomizationTrigger(job_identifier=ARN)
    assert isinstance(trigger, BaseEventTrigger)
    assert trigger.shared_stream_key() is not None
    # BaseEventTrigger opts out of triggerer queues (asset watchers have no task); a deferred task's
    # trigger must keep running on its task's queue.
    assert trigger.supports_triggerer_queue is True


def test_completes_through_throttling_server_errors_and_dropped_connections(monkeypatch):
    hook = ScriptedHook(
        [
            job("InProgress"),
            client_error("ThrottlingException", 429),
            client_error("InternalServerException", 500),
            EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
            job("Completed", outputModelArn="arn:model"),
        ]
    )
    trigger = BedrockModelCustomizationTrigger(job_identifier=ARN, poll_interval=0.001)
    event = run_trigger(trigger, hook, monkeypatch)
    assert event == {
        "status": "Completed",
        "job_arn": ARN,
        "job_name": "job",
        "failure_message": None,
        "custom_model_arn": "arn:model",
    }
    assert hook.calls == 5


@pytest.mark.parametrize("status", ["Failed", "Stopped"])
def test_failure_carries_the_message(monkeypatch, status):
    hook = ScriptedHook([job(status, failureMessage="bad data")])
    event = run_trigger(
        BedrockModelCustomizationTrigger(job_identifier=ARN, poll_interval=0.001), hook, monkeypatch
    )
    assert (event["status"], event["failure_message"]) == (status, "bad data")


def test_caller_errors_end_the_wait_with_an_error_event(monkeypatch):
    hook = ScriptedHook([client_error("AccessDeniedException", 403)])
    event = run_trigger(
        BedrockModelCustomizationTrigger(job_identifier="job", poll_interval=0.001), hook, monkeypatch
    )
    assert event["status"] == "error"
    assert "AccessDeniedException" in event["message"]
    assert event["job_name"] == "job"


def test_unknown_job_is_an_error_event(monkeypatch):
    hook = ScriptedHook([client_error("ResourceNotFoundException", 404)])
    event = run_trigger(
        BedrockModelCustomizationTrigger(job_identifier="ghost", poll_interval=0.001), hook, monkeypatch
    )
    assert event["status"] == "error"
    assert "not found" in event["message"]


def test_max_wait_times_out_and_says_the_job_keeps_running(monkeypatch):
    hook = ScriptedHook([job("InProgress")])
    trigger = BedrockModelCustomizationTrigger(job_identifier=ARN, poll_interval=0.01, max_wait=0.05)
    event = run_trigger(trigger, hook, monkeypatch)
    assert event["status"] == "timeout"
    assert "keeps running" in event["message"]


def test_max_wait_counts_from_started_at_across_restarts(monkeypatch):
    import time

    hook = ScriptedHook([job("InProgress")])
    trigger = BedrockModelCustomizationTrigger(
        job_identifier=ARN, poll_interval=60, max_wait=10, started_at=time.time() - 11
    )
    assert run_trigger(trigger, hook, monkeypatch)["status"] == "timeout"
    assert hook.calls == 1


@pytest.mark.parametrize(
    ("stop", "state", "expected"),
    [
        (True, "failed", [ARN]),  # marked failed: the user gave up on the work
        (True, None, []),  # cleared: the next try adopts the job
        (True, "scheduled", []),  # cleared, and already scheduled again
        (True, "success", []),  # marked succeeded: the job is left to finish
        (True, "deferred", []),  # not a user action: the trigger moved to another triggerer
        (True, LookupError, []),  # the state cannot be read: stopping cannot be undone
        (False, "failed", []),
        (["mark_failed", "clear", "mark_success"], None, [ARN]),
        (["mark_failed", "clear", "mark_success"], "success", [ARN]),
        ({"clear"}, "failed", []),
    ],
)
def test_on_kill_stops_the_job_only_for_the_actions_asked(monkeypatch, stop, state, expected):
    from types import SimpleNamespace

    from airflow.sdk.execution_time import task_runner

    class Comms:
        async def asend(self, request):
            assert request.dag_id == "dag" and request.run_ids == ["run"] and request.task_ids == ["train"]
            if state is LookupError:
                raise LookupError("no such task instance")
            return SimpleNamespace(task_states={"run": {"train": state}})

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", Comms(), raising=False)
    hook = ScriptedHook([job("InProgress")])
    trigger = BedrockModelCustomizationTrigger(job_identifier=ARN, stop_job_on_kill=stop)
    trigger.task_instance = SimpleNamespace(dag_id="dag", task_id="train", run_id="run", map_index=-1)
    monkeypatch.setattr(trigger, "hook", lambda: hook)
    asyncio.run(trigger.on_kill())
    assert hook.stopped == expected


class FakeComms:
    """The triggerer's channel to its supervisor: answers GetTaskStates with one state."""

    def __init__(self, state: str | None, fail: bool = False) -> None:
        self.state, self.fail, self.asked = state, fail, []

    async def asend(self, message):
        self.asked.append(message)
        if self.fail:
            raise ConnectionError("supervisor gone")
        from types import SimpleNamespace

        key = "customize" if message.map_index < 0 else f"customize_{message.map_index}"
        return SimpleNamespace(task_states={message.run_ids[0]: {key: self.state}})


@pytest.mark.parametrize(
    ("state", "map_index", "fail", "expected"),
    [
        # The trigger moved to another triggerer: the task still waits there.
        ("deferred", -1, False, []),
        ("deferred", 3, False, []),
        # A user marked the task failed.
        ("failed", -1, False, [ARN]),
        ("failed", 3, False, [ARN]),
        # The state cannot be read: a stop cannot be undone, so the job is left running (and logged).
        (None, -1, True, []),
    ],
)
def test_on_kill_keeps_the_job_of_a_trigger_that_moved_between_triggerers(
    monkeypatch, state, map_index, fail, expected
):
    from types import SimpleNamespace

    from airflow.sdk.execution_time import task_runner

    comms = FakeComms(state, fail)
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", comms, raising=False)
    hook = ScriptedHook([job("InProgress")])
    trigger = BedrockModelCustomizationTrigger(job_identifier=ARN)
    trigger.task_instance = SimpleNamespace(dag_id="d", run_id="r", task_id="customize", map_index=map_index)
    monkeypatch.setattr(trigger, "hook", lambda: hook)
    asyncio.run(trigger.on_kill())
    assert hook.stopped == expected
    assert [(m.dag_id, m.task_ids, m.run_ids, m.map_index) for m in comms.asked] == [
        ("d", ["customize"], ["r"], map_index)
    ]


def test_a_mapped_task_instance_is_looked_up_by_its_map_index(monkeypatch):
    from types import SimpleNamespace

    from airflow.sdk.execution_time import task_runner

    from bedrock_provider.triggers.user_action import user_action_async

    class Comms:
        async def asend(self, request):
            assert request.map_index == 3
            return SimpleNamespace(task_states={"run": {"train_3": "failed", "train_4": "success"}})

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", Comms(), raising=False)
    ti = SimpleNamespace(dag_id="dag", task_id="train", run_id="run", map_index=3)
    assert asyncio.run(user_action_async(ti)) == "mark_failed"
    assert asyncio.run(user_action_async(None)) is None


def test_stop_job_on_kill_survives_serialization_as_a_list():
    trigger = BedrockModelCustomizationTrigger(job_identifier=ARN, stop_job_on_kill={"clear", "mark_failed"})
    assert trigger.serialize()[1]["stop_job_on_kill"] == ["clear", "mark_failed"]
