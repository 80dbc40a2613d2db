"""bedrock_provider.core.waiting.watch: what a shared snapshot or a queued event means for one waiting job."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_provider.core.waiting import watch as w
from bedrock_provider.core.waiting.job_events import error_event, job_event, timeout_event
from bedrock_provider.core.waiting.push_mode import (
    EVENT_DETAIL_TYPE,
    EVENT_SOURCE,
    MAX_UNCLAIMED_RECEIVES,
    StateChange,
    StateChanges,
    Watchers,
    disposition,
    parse_state_change,
    receive_wait_seconds,
)
from bedrock_provider.core.waiting.retry import MAX_BACKOFF_SECONDS
from bedrock_provider.core.waiting.snapshots import Snapshot

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ARN = (
    "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan-text-express-v1/abcdefabcdef"
)
OTHER = (
    "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan-text-express-v1/zzzzzzzzzzzz"
)


def summary(arn: str, name: str, status: str = "InProgress", **extra):
    return {"jobArn": arn, "jobName": name, "status": status, **extra}


def envelope(detail: dict, **overrides) -> str:
    event = {
        "version": "0",
        "id": "1",
        "detail-type": EVENT_DETAIL_TYPE,
        "source": EVENT_SOURCE,
        "account": "123456789012",
        "region": "us-east-1",
        "resources": [detail.get("jobArn")],
        "detail": detail,
    }
    event.update(overrides)
    return json.dumps(event)


# ------------------------------------------------------------------------------------ events


def test_job_event_fills_name_or_arn_from_the_identifier():
    by_name = job_event("Completed", None, "my-job")
    assert (by_name["job_name"], by_name["job_arn"]) == ("my-job", None)
    by_arn = job_event("Failed", {"failureMessage": "bad"}, ARN)
    assert (by_arn["job_arn"], by_arn["job_name"], by_arn["failure_message"]) == (ARN, None, "bad")
    assert set(by_arn) == {"status", "job_arn", "job_name", "failure_message", "custom_model_arn"}


def test_timeout_event_names_the_last_status_and_says_the_job_keeps_running():
    event = timeout_event("j", {"status": "InProgress", "jobName": "j"}, 60)
    assert event["status"] == "timeout"
    assert "still InProgress after max_wait=60 s" in event["message"]
    assert "keeps running" in event["message"]


# ------------------------------------------------------------------------------- snapshots


def test_snapshot_answers_for_running_jobs_by_arn_and_by_name():
    details = {"validationDetails": {"status": "Completed"}, "trainingDetails": {"status": "InProgress"}}
    snap = Snapshot.from_summaries(
        [summary(ARN, "a", statusDetails=details), summary(OTHER, "b", status="Completed")], taken_at=1.0
    )
    assert snap.progress is not None
    assert (
        snap.progress[ARN] == snap.progress["a"] == "InProgress (validation Completed, training InProgress)"
    )
    # A summary that is not InProgress (a list without the status filter) is not "running".
    assert OTHER not in snap.progress and "b" not in snap.progress
    assert len(Snapshot.unknown(2.0)) == 0


@pytest.mark.parametrize("identifier", [ARN, "a"])
def test_a_job_in_the_snapshot_keeps_waiting_and_logs_progress_once(identifier):
    watch = w.Watch(identifier, started_at=0.0)
    snap = Snapshot.from_summaries([summary(ARN, "a")], taken_at=1.0)
    assert watch.on_snapshot(snap) == (w.Step.WAIT, "InProgress")
    assert watch.on_snapshot(snap) == (w.Step.WAIT, None)


def test_a_job_missing_from_the_snapshot_or_an_unknown_snapshot_is_described():
    watch = w.Watch(ARN, started_at=0.0)
    assert watch.on_snapshot(Snapshot.from_summaries([summary(OTHER, "b")], 1.0))[0] is w.Step.DESCRIBE
    assert watch.on_snapshot(Snapshot.unknown(1.0))[0] is w.Step.DESCRIBE


def test_description_of_an_ended_job_is_the_event_and_of_a_running_one_is_not():
    watch = w.Watch("a", started_at=0.0)
    event, line = watch.on_description({"jobName": "a", "jobArn": ARN, "status": "InProgress"})
    assert (event, line) == (None, "InProgress")
    event, line = watch.on_description(
        {"jobName": "a", "jobArn": ARN, "status": "Failed", "failureMessage": "no data"}
    )
    assert event is not None
    assert (event["status"], event["failure_message"], event["job_arn"]) == ("Failed", "no data", ARN)
    assert line == "Failed"


def test_state_changes_for_other_jobs_are_ignored_and_an_end_is_confirmed():
    watch = w.Watch(ARN, started_at=0.0)
    other = StateChanges.of([StateChange(OTHER, "b", "Completed")], 1.0)
    assert watch.on_state_changes(other) == (w.Step.WAIT, None)
    mine = StateChanges.of([StateChange(ARN, "a", "Completed")], 1.0)
    assert watch.on_state_changes(mine) == (w.Step.DESCRIBE, None)
    # A status this code does not know is checked rather than trusted.
    odd = StateChanges.of([StateChange(ARN, "a", "Deleting")], 1.0)
    assert watch.on_state_changes(odd)[0] is w.Step.DESCRIBE


def test_running_notices_log_only_a_change_of_status():
    watch = w.Watch("a", started_at=0.0)
    watch.on_snapshot(Snapshot.from_summaries([summary(ARN, "a", statusDetails={})], 1.0))
    assert watch.on_state_changes(StateChanges.of([StateChange(ARN, "a", "InProgress")], 2.0)) == (
        w.Step.WAIT,
        None,
    )
    assert watch.on_state_changes(StateChanges.of([StateChange(ARN, "a", "Stopping")], 3.0)) == (
        w.Step.WAIT,
        "Stopping",
    )


def test_deadline_counts_from_started_at():
    watch = w.Watch("a", started_at=100.0, max_wait=10)
    assert watch.remaining(now=105.0) == 5.0
    assert not watch.expired(now=109.9)
    assert watch.expired(now=110.0)
    assert w.Watch("a", started_at=0.0).remaining(now=1e9) is None


# ------------------------------------------------------------------------------ list cadence


def test_list_cadence_counts_from_the_request_so_slow_lists_do_not_drift():
    schedule = w.ListSchedule(interval=5.0)
    assert schedule.listed(taken_at=100.0, now=101.5) == 3.5
    assert schedule.listed(taken_at=100.0, now=107.0) == 0.0


def test_transient_failures_back_off_with_jitter_up_to_the_cap():
    random.seed(1)
    schedule = w.ListSchedule(interval=5.0)
    delays = [schedule.transient_failure() for _ in range(12)]
    assert 2.5 <= delays[0] <= 5.0
    assert max(delays) <= MAX_BACKOFF_SECONDS
    assert max(delays[6:]) > 60
    assert schedule.listed(0.0, 0.0) == 5.0 and schedule.failures == 0


def test_a_refused_list_keeps_ticking_at_the_interval_and_retries_later():
    schedule = w.ListSchedule(interval=5.0)
    assert schedule.refused(now=1000.0) == 5.0
    assert schedule.denied
    assert not schedule.should_list(1000.0 + w.LIST_RETRY_WHEN_DENIED - 1)
    assert schedule.skipped(taken_at=1005.0, now=1005.2) == pytest.approx(4.8)
    assert schedule.should_list(1000.0 + w.LIST_RETRY_WHEN_DENIED)
    schedule.listed(2000.0, 2000.0)
    assert not schedule.denied


# ------------------------------------------------------------------------------ queue messages


def test_parse_state_change_reads_bedrocks_event():
    detail = {"version": "0.0", "jobName": "a", "jobArn": ARN, "roleArn": "r", "jobStatus": "Failed"}
    detail["failureMessage"] = "bad"
    change = parse_state_change(envelope(detail))
    assert change == StateChange(ARN, "a", "Failed", "bad")
    assert change.keys() == (ARN, "a")


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps([1, 2]),
        envelope({"jobArn": ARN, "jobStatus": "Completed"}, source="aws.sagemaker"),
        envelope(
            {"jobArn": ARN, "jobStatus": "Completed"}, **{"detail-type": "Batch Inference Job State Change"}
        ),
        envelope({"jobArn": ARN}),
        envelope({"jobStatus": "Completed"}),
        json.dumps({"source": EVENT_SOURCE, "detail-type": EVENT_DETAIL_TYPE, "detail": "x"}),
    ],
)
def test_anything_else_is_not_a_state_change(body):
    assert parse_state_change(body) is None


def test_status_is_accepted_in_place_of_job_status():
    assert parse_state_change(envelope({"jobName": "a", "status": "Stopped"})) == StateChange(
        None, "a", "Stopped"
    )


def test_disposition_delivers_claimed_releases_unclaimed_then_discards():
    watchers = Watchers()
    watchers.add("a")
    watchers.add("a")
    mine = StateChange(ARN, "a", "Completed")
    stranger = StateChange(OTHER, "b", "Completed")
    assert disposition(mine, watchers, receive_count=9) == "deliver"
    assert disposition(stranger, watchers, receive_count=1) == "release"
    assert disposition(stranger, watchers, receive_count=MAX_UNCLAIMED_RECEIVES) == "discard"
    assert disposition(None, watchers, receive_count=1) == "discard"
    # Nobody needs to hear that a job nobody here watches is running.
    assert disposition(StateChange(OTHER, "b", "InProgress"), watchers, receive_count=1) == "discard"
    assert disposition(StateChange(ARN, "a", "InProgress"), watchers, receive_count=1) == "deliver"
    watchers.remove("a")
    assert disposition(mine, watchers, receive_count=1) == "deliver"
    watchers.remove("a")
    assert len(watchers) == 0
    assert disposition(mine, watchers, receive_count=1) == "release"


def test_state_changes_index_by_arn_and_name():
    changes = StateChanges.of([StateChange(ARN, "a", "Completed"), StateChange(None, "b", "Failed")], 1.0)
    assert changes.statuses == {ARN: "Completed", "a": "Completed", "b": "Failed"}


@pytest.mark.parametrize(
    ("now", "next_list_at", "expected"), [(0, 100, 20), (0, 7.9, 8), (0, 0.1, 1), (5, 5, 0), (10, 5, 0)]
)
def test_receive_wait_never_outlasts_the_next_safety_list(now, next_list_at, expected):
    assert receive_wait_seconds(now, next_list_at) == expected


# ----------------------------------------------------------------- no completion is ever missed


@settings(max_examples=300, deadline=None)
@given(
    created=st.floats(0, 50),
    duration=st.floats(0, 50),
    join_delay=st.floats(0, 70),
    interval=st.floats(0.5, 10),
    list_lag=st.floats(0, 3),
    phase=st.floats(0, 1),
)
def test_the_first_snapshot_after_the_end_ends_the_wait(
    created, duration, join_delay, interval, list_lag, phase
):
    """Model: snapshots every interval; the list shows a job from list_lag after its creation until it
    ends; the wait joins any time after the job was created (while it runs, or after it ended). The
    wait never fires while the job runs, and fires at the first snapshot taken after the end."""
    ended = created + duration
    joined = created + join_delay
    watch = w.Watch("job", started_at=joined)
    fired_at = None
    t = phase * interval
    while t < 300 and fired_at is None:
        if t >= joined:
            running = [summary(ARN, "job")] if created + list_lag <= t < ended else []
            step, _ = watch.on_snapshot(Snapshot.from_summaries(running, taken_at=t))
            if step is w.Step.DESCRIBE:
                status = "InProgress" if t < ended else "Completed"
                event, _ = watch.on_description({"jobName": "job", "status": status})
                if event is not None:
                    fired_at = t
        t += interval
    assert fired_at is not None
    assert fired_at >= ended
    assert fired_at < max(ended, joined) + interval + 1e-9


def test_a_standalone_wait_polls_at_its_interval_backs_off_on_failures_and_stops_at_the_deadline():
    """Watch.next_poll is the cadence of both the worker's blocking wait and a trigger's own loop."""
    random.seed(3)
    state = w.Watch("job", started_at=1_000.0, max_wait=None)
    assert state.next_poll(60.0, failed=False) == 60.0
    first = state.next_poll(60.0, failed=True)
    assert 2.5 <= first <= 5.0  # the first retry comes soon, whatever the interval
    later = [state.next_poll(60.0, failed=True) for _ in range(10)]
    assert max(later) <= MAX_BACKOFF_SECONDS and state.failures == 11
    assert state.next_poll(60.0, failed=False) == 60.0 and state.failures == 0

    import time

    deadline = w.Watch("job", started_at=time.time(), max_wait=2.0)
    assert 0.0 < deadline.next_poll(60.0, failed=False) <= 2.0
    expired = w.Watch("job", started_at=time.time() - 10, max_wait=2.0)
    assert expired.next_poll(60.0, failed=True) == 0.0


def test_a_described_wait_keeps_only_what_its_later_events_read():
    """In push mode every wait describes its job when it starts; thousands of waits each holding a
    whole description (hyperparameters, data configs, stage details) cost more than the rest of a wait."""
    full = json.loads((FIXTURES / "get_model_customization_job.json").read_text())["response"]
    full = {**full, "status": "InProgress", "jobArn": ARN}
    watch = w.Watch(ARN, started_at=0.0, max_wait=60)
    assert watch.on_description(full)[0] is None
    assert watch.description is not None
    assert not {"hyperParameters", "trainingDataConfig", "outputDataConfig", "statusDetails"} & set(
        watch.description
    )
    # What it fires later is what the whole description would have given.
    assert watch.timeout_event() == timeout_event(ARN, full, 60)
    assert error_event(ARN, watch.description, "gone") == error_event(ARN, full, "gone")
    assert watch.last_status() == "InProgress"
