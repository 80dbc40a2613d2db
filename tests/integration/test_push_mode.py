"""Shared polling and push mode against the emulator, through Airflow's real SharedStreamManager.

The emulator publishes Bedrock's job state-change events on moto's EventBridge; a rule routes them to
an SQS queue, exactly as docs/push-mode.md sets it up on AWS.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from airflow.triggers.shared_stream import SharedStreamManager

from bedrock_provider.core.waiting.push_mode import (
    ALL_STATE_CHANGES_PATTERN,
    EVENT_DETAIL_TYPE,
    EVENT_PATTERN,
    EVENT_SOURCE,
    StateChange,
    parse_state_change,
)
from bedrock_provider.emulator import BedrockEmulator
from bedrock_provider.emulator.events import create_events_queue
from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger
from tests.integration.conftest import DEMO_BUCKET, ROLE_ARN, TRAINING_KEY

pytestmark = pytest.mark.integration

LIST = "ListModelCustomizationJobs"
GET = "GetModelCustomizationJob"


def submit(bedrock: Any, name: str, duration: float, outcome: str = "Completed") -> str:
    arn: str = bedrock.create_model_customization_job(
        jobName=name,
        customModelName=f"{name}-model",
        roleArn=ROLE_ARN,
        baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": f"s3://{DEMO_BUCKET}/{TRAINING_KEY}"},
        outputDataConfig={"s3Uri": f"s3://{DEMO_BUCKET}/output/{name}/"},
        jobTags=[
            {"key": "emulator:duration", "value": str(duration)},
            {"key": "emulator:outcome", "value": outcome},
            {"key": "emulator:failure-message", "value": "Training data is invalid"},
        ],
    )["jobArn"]
    return arn


# Jobs that run until the test ends them (BedrockEmulator.end_job): a job racing the triggers' start-up
# ends before they join on a loaded machine, and the test then proves nothing or fails.
UNTIL_ENDED = 3600.0
# Long enough for a loaded machine; far below any poll interval the push-mode tests give their triggers.
DEADLINE = 20.0


async def until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        await asyncio.sleep(0.02)


@contextmanager
def ended_at_exit(emulator: BedrockEmulator, arns: list[str]) -> Iterator[None]:
    """End whatever the test left running, so no hour-long job outlives it in the session's emulator."""
    try:
        yield
    finally:
        for arn in arns:
            if emulator.describe_job(arn)["status"] == "InProgress":
                emulator.end_job(arn)


@contextmanager
def routed_queue(emulator: BedrockEmulator, pattern: dict[str, Any]) -> Iterator[str]:
    """A queue fed by its own rule on the default bus; the rule is removed afterwards so later tests'
    jobs stop landing in it."""
    suffix = uuid.uuid4().hex[:8]
    rule = f"bedrock-jobs-{suffix}"
    url = create_events_queue(
        emulator.endpoint_url, queue_name=f"bedrock-jobs-{suffix}", rule_name=rule, event_pattern=pattern
    )
    try:
        yield url
    finally:
        events = boto3.client("events", endpoint_url=emulator.endpoint_url, region_name="us-east-1")
        events.remove_targets(Rule=rule, Ids=["bedrock-job-events-queue"])
        events.delete_rule(Name=rule)


@pytest.fixture
def events_queue(emulator: BedrockEmulator) -> Iterator[str]:
    with routed_queue(emulator, EVENT_PATTERN) as url:
        yield url


class Triggerer:
    """Runs triggers as the triggerer's run_trigger does, and notes when each one fired."""

    def __init__(self, emulator: BedrockEmulator | None = None) -> None:
        self.manager = SharedStreamManager()
        self.fired: dict[int, tuple[float, dict[str, Any]]] = {}
        # The emulator's list count when each trigger fired: how many lists its job's end took.
        self.lists_when_fired: dict[int, int] = {}
        self.emulator = emulator
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, trigger_id: int, trigger: BedrockModelCustomizationTrigger) -> None:
        self.tasks.append(asyncio.create_task(self._run(trigger_id, trigger)))

    async def _run(self, trigger_id: int, trigger: BedrockModelCustomizationTrigger) -> None:
        key = trigger.shared_stream_key()
        stream = self.manager.subscribe(trigger_id=trigger_id, trigger=trigger, key=key)
        try:
            async for event in trigger.filter_shared_stream(stream):
                assert trigger_id not in self.fired, "a trigger fired twice"
                self.fired[trigger_id] = (time.time(), event.payload)
                if self.emulator is not None:
                    self.lists_when_fired[trigger_id] = self.emulator.request_count(LIST)
        finally:
            await self.manager.unsubscribe(trigger_id, key)

    async def finish(self, timeout: float = 20.0) -> None:
        await asyncio.wait_for(asyncio.gather(*self.tasks), timeout)


def run(scenario: Callable[[], Any]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 120))


def received_for(emulator: BedrockEmulator, queue_url: str, arn: str, count: int) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", endpoint_url=emulator.endpoint_url, region_name="us-east-1")
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(seen) < count and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            event = json.loads(message["Body"])
            if event["detail"].get("jobArn") == arn:
                seen.append(event)
    return seen


def test_emulator_publishes_one_event_per_status_change(emulator, bedrock, unique_name):
    with (
        routed_queue(emulator, ALL_STATE_CHANGES_PATTERN) as every_change,
        routed_queue(emulator, EVENT_PATTERN) as recommended,
    ):
        arn = submit(bedrock, unique_name("push-events"), duration=0.3)
        seen = received_for(emulator, every_change, arn, 2)
        assert [e["detail"]["jobStatus"] for e in seen] == ["InProgress", "Completed"]
        # The recommended rule leaves the start out.
        assert [e["detail"]["jobStatus"] for e in received_for(emulator, recommended, arn, 1)] == [
            "Completed"
        ]
    done = seen[-1]
    assert (done["source"], done["detail-type"], done["resources"]) == (
        EVENT_SOURCE,
        EVENT_DETAIL_TYPE,
        [arn],
    )
    assert done["detail"]["outputModelArn"].startswith("arn:aws:bedrock:us-east-1:123456789012:custom-model/")
    assert parse_state_change(json.dumps(done)) == StateChange(arn, done["detail"]["jobName"], "Completed")


def test_several_triggers_share_one_list_against_the_emulator(emulator, bedrock, unique_name):
    interval = 0.3
    jobs = [
        (submit(bedrock, unique_name("shared-ok"), UNTIL_ENDED), "Completed"),
        (submit(bedrock, unique_name("shared-failed"), UNTIL_ENDED, "Failed"), "Failed"),
        (submit(bedrock, unique_name("shared-stopped"), UNTIL_ENDED, "Stopped"), "Stopped"),
    ]
    lists, gets = emulator.request_count(LIST), emulator.request_count(GET)
    lists_at_end: dict[int, int] = {}

    async def scenario() -> tuple[float, Triggerer]:
        started = time.monotonic()
        triggerer = Triggerer(emulator)
        for i, (arn, _) in enumerate(jobs):
            triggerer.start(i, BedrockModelCustomizationTrigger(arn, poll_interval=interval))
        await until(lambda: emulator.request_count(LIST) > lists, "the group's first list")
        # A job created after the loop started, whose trigger joins the running group.
        late = submit(bedrock, unique_name("shared-late"), UNTIL_ENDED)
        jobs.append((late, "Completed"))
        triggerer.start(3, BedrockModelCustomizationTrigger(late, poll_interval=interval))
        joined = emulator.request_count(LIST)
        await until(lambda: emulator.request_count(LIST) >= joined + 2, "a list with the late job in it")
        assert not triggerer.fired, "a trigger fired before its job ended"
        for i, (arn, _) in enumerate(jobs):
            lists_at_end[i] = emulator.request_count(LIST)
            emulator.end_job(arn)
            await until(lambda i=i: i in triggerer.fired, f"trigger {i} firing after its job ended")
        await triggerer.finish()
        return time.monotonic() - started, triggerer

    with ended_at_exit(emulator, [arn for arn, _ in jobs]):
        elapsed, triggerer = asyncio.run(asyncio.wait_for(scenario(), 120))
    # One list per interval for the group, not per trigger; a describe per end, and one for the late
    # job if the list running when it was created missed it.
    assert emulator.request_count(LIST) - lists <= elapsed / interval + 2
    assert emulator.request_count(GET) - gets <= len(jobs) + 1
    for i, (arn, outcome) in enumerate(jobs):
        event = triggerer.fired[i][1]
        assert (event["status"], event["job_arn"]) == (outcome, arn)
        # Noticed by a list that ran after the end (not a describe of its own), within the deadline.
        assert triggerer.lists_when_fired[i] > lists_at_end[i]
    assert triggerer.fired[1][1]["failure_message"] == "Training data is invalid"


def test_push_mode_end_to_end(emulator, bedrock, events_queue, unique_name):
    # Poll and safety intervals far beyond the deadline: only the events can end these waits in time.
    poll_interval, safety_interval = 60.0, 600.0
    assert DEADLINE < poll_interval
    arns = [submit(bedrock, unique_name("push"), UNTIL_ENDED) for _ in range(3)]
    lists, gets = emulator.request_count(LIST), emulator.request_count(GET)

    async def scenario() -> None:
        triggerer = Triggerer(emulator)
        for i, arn in enumerate(arns):
            triggerer.start(
                i,
                BedrockModelCustomizationTrigger(
                    arn,
                    poll_interval=poll_interval,
                    events_queue_url=events_queue,
                    safety_poll_interval=safety_interval,
                ),
            )
        # Every trigger has joined (its describe on joining) before any job ends: an event for a job
        # nobody here watches yet is left for another triggerer.
        await until(
            lambda: emulator.request_count(GET) - gets >= len(arns) and emulator.request_count(LIST) > lists,
            "every trigger joining and the group's first safety list",
        )
        assert emulator.request_count(GET) - gets == len(arns), "one describe on joining, not per job poll"
        for i, arn in enumerate(arns):
            assert i not in triggerer.fired, "a trigger fired before its job ended"
            ended_at = time.time()
            emulator.end_job(arn)
            await until(lambda i=i: i in triggerer.fired, f"trigger {i} firing on its job's event")
            fired_at, event = triggerer.fired[i]
            assert (event["status"], event["job_arn"]) == ("Completed", arn)
            # Measured from the end this test caused, within a deadline a third of the poll interval.
            assert fired_at - ended_at < DEADLINE
            assert set(triggerer.fired) == set(range(i + 1)), "another job's event fired a trigger"
        await triggerer.finish()
        assert emulator.request_count(LIST) - lists == 1, "only the group's first safety list"
        assert emulator.request_count(GET) - gets == 2 * len(arns), "one describe on joining, one to confirm"

    with ended_at_exit(emulator, arns):
        run(scenario)


def test_push_mode_safety_list_catches_a_lost_event(emulator, bedrock, unique_name):
    # A queue no rule feeds: every event is lost.
    sqs = boto3.client("sqs", endpoint_url=emulator.endpoint_url, region_name="us-east-1")
    silent = sqs.create_queue(QueueName=f"silent-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = submit(bedrock, unique_name("push-lost"), UNTIL_ENDED)
    lists, gets = emulator.request_count(LIST), emulator.request_count(GET)

    async def scenario() -> None:
        triggerer = Triggerer(emulator)
        triggerer.start(
            1, BedrockModelCustomizationTrigger(arn, events_queue_url=silent, safety_poll_interval=0.5)
        )
        await until(
            lambda: emulator.request_count(GET) > gets and emulator.request_count(LIST) > lists,
            "the trigger joining and the group's first safety list",
        )
        lists_at_end = emulator.request_count(LIST)
        emulator.end_job(arn)
        await until(lambda: 1 in triggerer.fired, "the safety list noticing the job's end")
        await triggerer.finish(timeout=DEADLINE)
        event = triggerer.fired[1][1]
        assert event["status"] == "Completed"
        # No event came: a safety list after the end noticed it, and the trigger did not poll its job.
        assert triggerer.lists_when_fired[1] > lists_at_end
        assert emulator.request_count(GET) - gets == 2, "one describe on joining, one to confirm"

    with ended_at_exit(emulator, [arn]):
        run(scenario)


def test_run_without_shared_streams_still_completes_in_push_mode(
    emulator, bedrock, events_queue, unique_name
):
    # dag.test() and Airflow before 3.3 call run(): the trigger polls on its own.
    arn = submit(bedrock, unique_name("push-run"), 0.5)
    trigger = BedrockModelCustomizationTrigger(arn, poll_interval=0.2, events_queue_url=events_queue)

    async def first_event() -> dict[str, Any]:
        return (await anext(aiter(trigger.run()))).payload

    assert asyncio.run(asyncio.wait_for(first_event(), 15))["status"] == "Completed"


def test_the_waiting_benchmark_runs(tmp_path):
    """benchmarks/bench_waiting.py end to end at N=2 with short phases: children, emulator, table."""
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_waiting.py"
    out = tmp_path / "results.json"
    command = [sys.executable, str(script), "--sizes", "2", "--impls", "amazon,ours-push"]
    command += ["--interval", "0.5", "--steady", "0.5", "--spread", "0.5", "--json", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "completion noticed, push, p95" in completed.stdout
    results = json.loads(out.read_text())
    assert [(r["impl"], r["fired"], r["missed"]) for r in results] == [("amazon", 2, 0), ("ours-push", 2, 0)]
