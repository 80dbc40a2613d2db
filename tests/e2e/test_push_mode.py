"""Push mode through the real triggerer: Bedrock's state change event wakes the deferred task."""

from __future__ import annotations

import time

import pytest

from bedrock_provider.emulator.events import create_events_queue
from demo.processes import wait_for

pytestmark = pytest.mark.e2e

DAG_ID = "e2e_push_mode"


def test_deferred_task_wakes_on_the_job_event_not_the_poll(stack, api, emulator, unique_name):
    wait_for(
        lambda: api.dag(DAG_ID), 120, f"{DAG_ID} to be parsed", 1.0, lambda: stack.log_tail("dag-processor")
    )
    api.set_paused(DAG_ID, False)
    name = unique_name("push")
    queue_url = create_events_queue(
        emulator.endpoint_url, queue_name=f"events-{name}", rule_name=f"rule-{name}"
    )
    gets_before = emulator.request_count("GetModelCustomizationJob")

    started = time.monotonic()
    run = api.trigger(DAG_ID, conf={"job_name": name, "duration": 6, "events_queue_url": queue_url})
    finished = api.wait_for_run(DAG_ID, str(run["dag_run_id"]), timeout=90)
    took = time.monotonic() - started

    assert finished["state"] == "success"
    # The trigger polls every 120 s: a run done well before that was woken by the event.
    assert took < 60, took
    gets = emulator.request_count("GetModelCustomizationJob") - gets_before
    assert gets < 12, gets
