"""The trigger's shared streams under Airflow's real SharedStreamManager, with in-memory Bedrock and SQS.

The fakes answer like aiobotocore clients and are reached through the hook's own list, describe,
receive and delete code, so pagination and message handling are the production paths.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from airflow.triggers.shared_stream import SharedStreamManager
from botocore.exceptions import ClientError

from bedrock_provider.core.waiting import watch as w
from bedrock_provider.core.waiting.push_mode import EVENT_DETAIL_TYPE, EVENT_SOURCE, MAX_UNCLAIMED_RECEIVES
from bedrock_provider.hooks.customization import BedrockCustomizationHook
from bedrock_provider.hooks.events_queue import EventsQueueHook
from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger

ARN_PREFIX = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan-text-express-v1/"
QUEUE_URL = "http://127.0.0.1/123456789012/bedrock-job-events"
TEST_TIMEOUT = 10.0


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} (scripted)"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "Op",
    )


class FakeBedrock:
    """Jobs in memory; the list pages at ``page_size`` and hides ``unlisted`` jobs (list lag)."""

    def __init__(self, page_size: int = 1000) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.page_size = page_size
        self.unlisted: set[str] = set()
        self.calls: Counter[str] = Counter()
        self.list_errors: list[Exception] = []
        self.list_refusal: Exception | None = None
        self._ids = itertools.count()

    def add(self, name: str, status: str = "InProgress", **extra: Any) -> str:
        arn = f"{ARN_PREFIX}{next(self._ids):012d}"
        self.jobs[arn] = {"jobArn": arn, "jobName": name, "status": status, **extra}
        return arn

    def set(self, arn: str, status: str, **extra: Any) -> None:
        self.jobs[arn].update(status=status, **extra)

    async def list_model_customization_jobs(self, **request: Any) -> dict[str, Any]:
        self.calls["ListPage"] += 1
        if "nextToken" not in request:
            self.calls["List"] += 1
        if self.list_errors:
            raise self.list_errors.pop(0)
        if self.list_refusal is not None:
            raise self.list_refusal
        wanted = request.get("statusEquals")
        newest_first = [
            job
            for job in reversed(self.jobs.values())
            if (wanted is None or job["status"] == wanted) and job["jobArn"] not in self.unlisted
        ]
        start = int(request.get("nextToken") or 0)
        page = newest_first[start : start + min(self.page_size, request.get("maxResults", 100))]
        answer: dict[str, Any] = {
            "modelCustomizationJobSummaries": copy.deepcopy(page),
            "ResponseMetadata": {},
        }
        if start + len(page) < len(newest_first):
            answer["nextToken"] = str(start + len(page))
        return answer

    async def get_model_customization_job(self, jobIdentifier: str) -> dict[str, Any]:
        self.calls["Get"] += 1
        for job in self.jobs.values():
            if jobIdentifier in (job["jobArn"], job["jobName"]):
                return {**copy.deepcopy(job), "ResponseMetadata": {}}
        raise client_error("ResourceNotFoundException", 404)


class FakeSqs:
    """A queue with visibility timeouts and long polling, as SQS answers them."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.calls: Counter[str] = Counter()
        self.receive_error: Exception | None = None
        self._arrived = asyncio.Event()
        self._handles = itertools.count()

    def put(self, body: str) -> str:
        handle = f"handle-{next(self._handles)}"
        self.messages.append({"body": body, "handle": handle, "receives": 0, "visible_at": 0.0})
        self._arrived.set()
        return handle

    def put_change(self, arn: str, name: str, status: str) -> str:
        detail = {"version": "0.0", "jobName": name, "jobArn": arn, "jobStatus": status}
        return self.put(
            json.dumps({"source": EVENT_SOURCE, "detail-type": EVENT_DETAIL_TYPE, "detail": detail})
        )

    async def receive_message(self, **request: Any) -> dict[str, Any]:
        self.calls["Receive"] += 1
        if self.receive_error is not None:
            raise self.receive_error
        deadline = time.monotonic() + request["WaitTimeSeconds"]
        while True:
            now = time.monotonic()
            visible = [m for m in self.messages if m["visible_at"] <= now][: request["MaxNumberOfMessages"]]
            if visible or now >= deadline:
                break
            hidden = [m["visible_at"] for m in self.messages if m["visible_at"] > now]
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), min([deadline, *hidden]) - now)
            except TimeoutError:
                pass
        for message in visible:
            message["receives"] += 1
            message["visible_at"] = now + request["VisibilityTimeout"]
        return {
            "Messages": [
                {
                    "Body": m["body"],
                    "ReceiptHandle": m["handle"],
                    "Attributes": {"ApproximateReceiveCount": str(m["receives"])},
                }
                for m in visible
            ]
        }

    async def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        handles = {entry["ReceiptHandle"] for entry in Entries}
        self.messages = [m for m in self.messages if m["handle"] not in handles]
        self.deleted.extend(sorted(handles))
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries], "Failed": []}


class FakeHook:
    """The hook's real async code over a fake client; counts the leases of the shared client."""

    list_jobs_async = BedrockCustomizationHook.list_jobs_async
    describe_job_async = BedrockCustomizationHook.describe_job_async
    stop_job_async = BedrockCustomizationHook.stop_job_async
    receive_async = EventsQueueHook.receive_async
    delete_async = EventsQueueHook.delete_async

    aws_conn_id = "aws_default"

    def __init__(self, client: Any) -> None:
        self.client = client
        self.leases = 0
        self.reconnects = 0

    def reconnected(self) -> FakeHook:
        self.reconnects += 1
        return self

    @asynccontextmanager
    async def async_client(self) -> Any:
        self.leases += 1
        try:
            yield self.client
        finally:
            self.leases -= 1

    client_for_call = async_client


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> FakeBedrock:
    fake = FakeBedrock()
    hook = FakeHook(fake)
    monkeypatch.setattr(BedrockModelCustomizationTrigger, "make_hook", classmethod(lambda cls, kwargs: hook))
    fake.hook = hook  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> FakeSqs:
    fake = FakeSqs()
    hook = FakeHook(fake)
    monkeypatch.setattr(
        BedrockModelCustomizationTrigger, "make_queue_hook", classmethod(lambda cls, kwargs: hook)
    )
    return fake


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bedrock_provider.core.waiting.watch.retry_delay", lambda *a, **k: 0.01)
    monkeypatch.setattr("bedrock_provider.triggers.customization.retry_delay", lambda *a, **k: 0.01)


def trigger(job: str, **kwargs: Any) -> BedrockModelCustomizationTrigger:
    kwargs.setdefault("poll_interval", 0.02)
    return BedrockModelCustomizationTrigger(job_identifier=job, **kwargs)


class Triggerer:
    """Drives triggers as the triggerer's run_trigger does: subscribe, filter, unsubscribe."""

    def __init__(self) -> None:
        self.manager = SharedStreamManager()
        self.events: dict[int, list[dict[str, Any]]] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}

    def start(self, trigger_id: int, trig: BedrockModelCustomizationTrigger) -> asyncio.Task[None]:
        self.events[trigger_id] = []
        self.tasks[trigger_id] = asyncio.create_task(self._run(trigger_id, trig))
        return self.tasks[trigger_id]

    async def _run(self, trigger_id: int, trig: BedrockModelCustomizationTrigger) -> None:
        key = trig.shared_stream_key()
        stream = self.manager.subscribe(trigger_id=trigger_id, trigger=trig, key=key)
        try:
            async for event in trig.filter_shared_stream(stream):
                self.events[trigger_id].append(event.payload)
        finally:
            await self.manager.unsubscribe(trigger_id, key)

    async def finish(self, *trigger_ids: int) -> list[dict[str, Any]]:
        await asyncio.gather(*(self.tasks[i] for i in trigger_ids))
        for i in trigger_ids:
            assert len(self.events[i]) == 1, self.events[i]
        return [self.events[i][0] for i in trigger_ids]

    def groups(self) -> int:
        return len(self.manager._groups)


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), TEST_TIMEOUT))


def only_event(trig: BedrockModelCustomizationTrigger) -> dict[str, Any]:
    """The one event of a trigger that waits alone in its group."""

    async def scenario() -> dict[str, Any]:
        triggerer = Triggerer()
        triggerer.start(1, trig)
        (event,) = await triggerer.finish(1)
        return event

    return asyncio.run(asyncio.wait_for(scenario(), TEST_TIMEOUT))


# ------------------------------------------------------------------------------------ grouping


def test_the_group_is_the_connection_and_cadence_not_the_job():
    a = trigger("a", poll_interval=5)
    assert a.shared_stream_key() == trigger("b", poll_interval=5.0).shared_stream_key()
    assert a.shared_stream_key() != trigger("a", poll_interval=6).shared_stream_key()
    assert a.shared_stream_key() != trigger("a", poll_interval=5, region_name="eu-west-1").shared_stream_key()
    assert a.shared_stream_key() != trigger("a", poll_interval=5, aws_conn_id="other").shared_stream_key()
    assert (
        trigger("a", botocore_config={"retries": {"mode": "standard"}, "read_timeout": 5}).shared_stream_key()
        == trigger(
            "b", botocore_config={"read_timeout": 5, "retries": {"mode": "standard"}}
        ).shared_stream_key()
    )
    push = trigger("a", poll_interval=5, events_queue_url=QUEUE_URL)
    assert push.shared_stream_key() != a.shared_stream_key()
    assert (
        push.shared_stream_key()
        == trigger("b", poll_interval=9, events_queue_url=QUEUE_URL).shared_stream_key()
    )
    hash(push.shared_stream_key())


def test_waits_of_one_group_share_one_list_per_interval(bedrock: FakeBedrock):
    arns = [bedrock.add(f"job-{i}") for i in range(5)]

    async def scenario() -> None:
        triggerer = Triggerer()
        for i, arn in enumerate(arns):
            triggerer.start(i, trigger(arn))
        await until(lambda: bedrock.calls["List"] >= 5)
        assert bedrock.calls["Get"] == 0
        assert triggerer.groups() == 1
        for arn in arns:
            bedrock.set(arn, "Completed", outputModelArn=f"{arn}-model")
        events = await triggerer.finish(*range(5))
        assert [e["custom_model_arn"] for e in events] == [f"{arn}-model" for arn in arns]
        assert bedrock.calls["Get"] == 5
        lists = bedrock.calls["List"]
        await asyncio.sleep(0.1)
        assert bedrock.calls["List"] == lists, "the loop outlived its last subscriber"
        assert bedrock.hook.leases == 0  # type: ignore[attr-defined]

    run(scenario)


# --------------------------------------------------------------------- no completion is missed


def test_a_job_ending_between_two_polls_fires_with_its_failure_message(bedrock: FakeBedrock):
    ending = bedrock.add("ending")
    staying = bedrock.add("staying")

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(1, trigger(ending))
        triggerer.start(2, trigger("staying"))
        await until(lambda: bedrock.calls["List"] >= 2)
        bedrock.set(ending, "Failed", failureMessage="Training data is invalid")
        (event,) = await triggerer.finish(1)
        assert (event["status"], event["failure_message"], event["job_name"]) == (
            "Failed",
            "Training data is invalid",
            "ending",
        )
        assert bedrock.calls["Get"] == 1
        assert not triggerer.tasks[2].done()
        bedrock.set(staying, "Stopped")
        (event,) = await triggerer.finish(2)
        assert (event["status"], event["job_arn"]) == ("Stopped", staying)

    run(scenario)


def test_a_job_beyond_the_first_page_is_seen_running(bedrock: FakeBedrock):
    bedrock.page_size = 2
    oldest = bedrock.add("oldest")
    for i in range(6):
        bedrock.add(f"newer-{i}")

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(1, trigger(oldest))
        await until(lambda: bedrock.calls["List"] >= 3)
        # Four pages per list, and the oldest job found on the last one: never described.
        assert bedrock.calls["ListPage"] >= 4 * 2
        assert bedrock.calls["Get"] == 0
        bedrock.set(oldest, "Completed")
        (event,) = await triggerer.finish(1)
        assert event["status"] == "Completed"

    run(scenario)


def test_a_job_the_list_does_not_show_yet_is_described_and_kept_waiting(bedrock: FakeBedrock):
    # Created after the list was requested, or a list lagging behind: the describe says InProgress.
    fresh = bedrock.add("fresh")
    bedrock.unlisted.add(fresh)

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(1, trigger("fresh"))
        await until(lambda: bedrock.calls["Get"] >= 2)
        assert not triggerer.tasks[1].done()
        bedrock.unlisted.clear()
        gets = bedrock.calls["Get"]
        lists = bedrock.calls["List"]
        await until(lambda: bedrock.calls["List"] >= lists + 3)
        assert bedrock.calls["Get"] <= gets + 1, "a listed job is not described"
        bedrock.set(fresh, "Completed")
        (event,) = await triggerer.finish(1)
        assert event["status"] == "Completed"

    run(scenario)


def test_triggers_join_and_leave_a_running_group(bedrock: FakeBedrock):
    first = bedrock.add("first")
    second = bedrock.add("second")

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(1, trigger(first))
        await until(lambda: bedrock.calls["List"] >= 2)
        triggerer.start(2, trigger(second))
        await until(lambda: bedrock.calls["List"] >= 4)
        assert triggerer.groups() == 1
        # The first task is cleared by a user: its trigger leaves, the group goes on for the other.
        triggerer.tasks[1].cancel()
        with pytest.raises(asyncio.CancelledError):
            await triggerer.tasks[1]
        lists = bedrock.calls["List"]
        await until(lambda: bedrock.calls["List"] >= lists + 2)
        bedrock.set(second, "Completed")
        (event,) = await triggerer.finish(2)
        assert event["job_arn"] == second
        assert triggerer.groups() == 0
        # A trigger joining after the group ended starts a new one, and still sees its job end.
        bedrock.set(first, "Completed")
        triggerer.start(3, trigger(first))
        (event,) = await triggerer.finish(3)
        assert event["job_arn"] == first

    run(scenario)


# ----------------------------------------------------------------------------- errors and time


def test_throttled_and_failing_lists_back_off_and_never_fail_the_waits(bedrock: FakeBedrock):
    arn = bedrock.add("job")
    bedrock.list_errors = [
        client_error("ThrottlingException", 429),
        client_error("InternalServerException", 500),
        ConnectionResetError("connection reset"),
        client_error("ThrottlingException", 429),
    ]

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(1, trigger(arn))
        await until(lambda: not bedrock.list_errors and bedrock.calls["List"] >= 6)
        assert not triggerer.tasks[1].done()
        assert bedrock.calls["Get"] == 0, "a failed list is not an empty list"
        bedrock.set(arn, "Completed")
        (event,) = await triggerer.finish(1)
        assert event["status"] == "Completed"

    run(scenario)


def test_a_refused_list_falls_back_to_describing_each_job(
    bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(w, "LIST_RETRY_WHEN_DENIED", 0.1)
    a = bedrock.add("a")
    b = bedrock.add("b")
    bedrock.list_refusal = client_error("AccessDeniedException", 403)

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(1, trigger(a))
        triggerer.start(2, trigger(b))
        await until(lambda: bedrock.calls["Get"] >= 6)
        bedrock.set(a, "Completed")
        (event,) = await triggerer.finish(1)
        assert event["status"] == "Completed"
        # Permission granted: the list is tried again and the waits stop describing.
        bedrock.list_refusal = None
        lists = bedrock.calls["List"]
        await until(lambda: bedrock.calls["List"] >= lists + 3)
        gets = bedrock.calls["Get"]
        await until(lambda: bedrock.calls["List"] >= lists + 6)
        assert bedrock.calls["Get"] == gets
        bedrock.set(b, "Completed")
        await triggerer.finish(2)

    run(scenario)


def test_max_wait_ends_the_wait_while_the_list_keeps_failing(bedrock: FakeBedrock):
    arn = bedrock.add("job")
    bedrock.list_errors = [client_error("ThrottlingException", 429)] * 10_000

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(1, trigger(arn, max_wait=0.2))
        triggerer.start(2, trigger(arn, max_wait=None))
        (event,) = await triggerer.finish(1)
        assert event["status"] == "timeout"
        assert "keeps running" in event["message"]
        assert not triggerer.tasks[2].done()
        triggerer.tasks[2].cancel()

    run(scenario)


def test_max_wait_counts_from_started_at_across_restarts(bedrock: FakeBedrock):
    arn = bedrock.add("job")

    assert only_event(trigger(arn, max_wait=10, started_at=time.time() - 11))["status"] == "timeout"


@pytest.mark.parametrize(
    ("identifier", "error", "expected"),
    [
        ("ghost", None, "not found"),
        ("job", client_error("AccessDeniedException", 403), "AccessDeniedException"),
    ],
)
def test_jobs_that_cannot_be_described_end_with_an_error_event(
    bedrock: FakeBedrock,
    monkeypatch: pytest.MonkeyPatch,
    identifier: str,
    error: Exception | None,
    expected: str,
):
    bedrock.add("other")
    if error is not None:
        bedrock.add("job", status="Completed")

        async def refuse(jobIdentifier: str) -> dict[str, Any]:
            raise error

        monkeypatch.setattr(bedrock, "get_model_customization_job", refuse)

    event = only_event(trigger(identifier))
    assert event["status"] == "error"
    assert expected in event["message"]


def test_a_transient_describe_failure_waits_for_the_next_poll(
    bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
):
    arn = bedrock.add("job", status="Completed")
    real = bedrock.get_model_customization_job
    failures = [client_error("ThrottlingException", 429)]

    async def flaky(jobIdentifier: str) -> dict[str, Any]:
        if failures:
            bedrock.calls["Get"] += 1
            raise failures.pop()
        return await real(jobIdentifier)

    monkeypatch.setattr(bedrock, "get_model_customization_job", flaky)

    assert only_event(trigger(arn))["status"] == "Completed"
    assert bedrock.calls["Get"] == 2


# ------------------------------------------------------------------------------------- push mode


def push_trigger(job: str, **kwargs: Any) -> BedrockModelCustomizationTrigger:
    kwargs.setdefault("safety_poll_interval", 60)
    return trigger(job, events_queue_url=QUEUE_URL, **kwargs)


def test_push_wakes_on_the_event_and_deletes_only_the_messages_it_claims(
    bedrock: FakeBedrock, sqs: FakeSqs, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(w, "RELEASE_SECONDS", 0.02)
    mine = bedrock.add("mine")
    keeps_running = bedrock.add("keeps-running")
    stranger = bedrock.add("stranger")

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(1, push_trigger(mine))
        triggerer.start(2, push_trigger("keeps-running"))
        # One describe each on joining, one safety list for the group, then only the queue.
        await until(
            lambda: bedrock.calls["Get"] == 2 and bedrock.calls["List"] == 1 and sqs.calls["Receive"] >= 1
        )
        bedrock.set(mine, "Completed", outputModelArn="model")
        claimed = sqs.put_change(mine, "mine", "Completed")
        unclaimed = sqs.put_change(stranger, "stranger", "Completed")
        junk = sqs.put("{not an event")
        (event,) = await triggerer.finish(1)
        assert (event["status"], event["custom_model_arn"]) == ("Completed", "model")
        assert bedrock.calls["Get"] == 3 and bedrock.calls["List"] == 1
        await until(lambda: claimed in sqs.deleted and junk in sqs.deleted)
        # Nobody here watches the stranger: left for another triggerer, then dropped.
        await until(lambda: unclaimed in sqs.deleted)
        assert all(m["handle"] != unclaimed for m in sqs.messages)
        # A notice that the other job is still running needs no describe.
        sqs.put_change(keeps_running, "keeps-running", "InProgress")
        await until(lambda: not sqs.messages)
        assert bedrock.calls["Get"] == 3
        bedrock.set(keeps_running, "Stopped")
        sqs.put_change(keeps_running, "keeps-running", "Stopped")
        (event,) = await triggerer.finish(2)
        assert event["status"] == "Stopped"

    run(scenario)


def test_unclaimed_messages_are_received_a_bounded_number_of_times(
    bedrock: FakeBedrock, sqs: FakeSqs, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(w, "RELEASE_SECONDS", 0.02)
    bedrock.add("watched")

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(1, push_trigger("watched"))
        handle = sqs.put_change(f"{ARN_PREFIX}elsewhere", "elsewhere", "Completed")
        await until(lambda: handle in sqs.deleted)
        receives = sqs.calls["Receive"]
        assert receives >= MAX_UNCLAIMED_RECEIVES
        triggerer.tasks[1].cancel()

    run(scenario)


def test_push_trigger_whose_job_ended_before_it_subscribed_fires_at_once(bedrock: FakeBedrock, sqs: FakeSqs):
    arn = bedrock.add("done", status="Completed")

    assert only_event(push_trigger(arn))["status"] == "Completed"
    assert bedrock.calls["Get"] == 1


def test_a_lost_event_is_caught_by_the_safety_list(bedrock: FakeBedrock, sqs: FakeSqs):
    arn = bedrock.add("job")

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(1, push_trigger(arn, safety_poll_interval=0.2))
        await until(lambda: bedrock.calls["List"] >= 1 and sqs.calls["Receive"] >= 1)
        bedrock.set(arn, "Completed")  # and no event arrives
        (event,) = await triggerer.finish(1)
        assert event["status"] == "Completed"
        assert bedrock.calls["List"] >= 2

    run(scenario)


def test_an_unreadable_queue_never_fails_the_waits(
    bedrock: FakeBedrock, sqs: FakeSqs, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(w, "SAFETY_INTERVAL_WITHOUT_QUEUE", 0.1)
    sqs.receive_error = client_error("AWS.SimpleQueueService.NonExistentQueue", 400)
    arn = bedrock.add("job")

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(1, push_trigger(arn))
        await until(lambda: sqs.calls["Receive"] >= 3 and bedrock.calls["List"] >= 2)
        assert not triggerer.tasks[1].done()
        bedrock.set(arn, "Completed")
        (event,) = await triggerer.finish(1)
        assert event["status"] == "Completed"

    run(scenario)


def test_run_polls_on_its_own_when_shared_streams_are_not_used(bedrock: FakeBedrock):
    arn = bedrock.add("job")

    async def scenario() -> None:
        trig = push_trigger(arn)
        task = asyncio.create_task(anext(aiter(trig.run())))
        await until(lambda: bedrock.calls["Get"] >= 2)
        bedrock.set(arn, "Completed")
        event = await task
        assert event.payload["status"] == "Completed"
        assert bedrock.calls["List"] == 0

    run(scenario)


def test_a_burst_of_job_ends_reaches_the_group_in_one_broadcast_not_one_per_receive(
    bedrock: FakeBedrock, sqs: FakeSqs, monkeypatch: pytest.MonkeyPatch
):
    """Every broadcast wakes every wait of the group: thousands of waits each ran once per receive (ten
    messages at most) while a burst of jobs ended. The first end after a quiet spell goes at once; the
    ends that follow it are gathered, and every wait sees the burst once."""
    monkeypatch.setattr(w, "BROADCAST_INTERVAL", 1.0)
    first = bedrock.add("first")
    burst = [bedrock.add(f"burst-{i}") for i in range(25)]
    bedrock.add("bystander")
    seen: Counter[str] = Counter()
    on_state_changes = w.Watch.on_state_changes

    def counting(self: w.Watch, changes: w.StateChanges) -> Any:
        seen[self.job_identifier] += 1
        return on_state_changes(self, changes)

    monkeypatch.setattr(w.Watch, "on_state_changes", counting)

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(0, push_trigger("bystander"))
        triggerer.start(1, push_trigger(first))
        for i, arn in enumerate(burst, start=2):
            triggerer.start(i, push_trigger(arn))
        await until(lambda: bedrock.calls["Get"] == 27 and sqs.calls["Receive"] >= 1)
        bedrock.set(first, "Completed")
        sqs.put_change(first, "first", "Completed")
        (event,) = await triggerer.finish(1)
        assert event["status"] == "Completed"
        assert seen["bystander"] == 1
        # 25 ends right after: three receives (10, 10, 5), one broadcast.
        for i, arn in enumerate(burst):
            bedrock.set(arn, "Completed")
            sqs.put_change(arn, f"burst-{i}", "Completed")
        events = await triggerer.finish(*range(2, 27))
        assert {e["status"] for e in events} == {"Completed"}
        assert seen["bystander"] == 2
        assert sqs.calls["Receive"] >= 4
        triggerer.tasks[0].cancel()

    run(scenario)


def test_a_slow_delete_does_not_hold_back_the_next_receive(bedrock: FakeBedrock, sqs: FakeSqs):
    """A burst brings a Stopping and a Stopped message per job: with each delete awaited before the
    next receive, the queue drained at half the speed, and a hung delete stopped every event."""
    first, second = bedrock.add("first"), bedrock.add("second")
    bedrock.add("bystander")  # keeps the group, and its receive loop, running
    release = asyncio.Event()
    delete_message_batch = sqs.delete_message_batch

    async def hanging_delete(**request: Any) -> dict[str, Any]:
        await release.wait()
        return await delete_message_batch(**request)

    sqs.delete_message_batch = hanging_delete  # type: ignore[method-assign]

    async def scenario() -> None:
        triggerer = Triggerer()
        triggerer.start(0, push_trigger("bystander"))
        triggerer.start(1, push_trigger(first))
        triggerer.start(2, push_trigger(second))
        await until(lambda: bedrock.calls["Get"] == 3 and sqs.calls["Receive"] >= 1)
        bedrock.set(first, "Stopped")
        sqs.put_change(first, "first", "Stopped")
        assert (await triggerer.finish(1))[0]["status"] == "Stopped"
        bedrock.set(second, "Stopped")
        sqs.put_change(second, "second", "Stopped")
        assert (await triggerer.finish(2))[0]["status"] == "Stopped"
        assert not sqs.deleted  # both deletes still hang
        release.set()
        await until(lambda: len(sqs.deleted) == 2)
        triggerer.tasks[0].cancel()

    run(scenario)
