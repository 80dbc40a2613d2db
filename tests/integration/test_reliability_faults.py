"""Transient faults: 20 jobs at once while the emulator throttles, errors, or drops connections.

Whatever the faults, every task ends successful and exactly one job exists per task: a Create whose
answer was lost is retried with the same clientRequestToken and returns the job it created.
"""

from __future__ import annotations

import pytest

from tests.integration.reliability import mapped_tries, run_many_jobs

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CREATE = "CreateModelCustomizationJob"
GET = "GetModelCustomizationJob"


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param({"throttle": 0.3, "server_error": 0.1}, id="throttle-30pct-http500-10pct"),
        pytest.param({"connection_drop": 0.25}, id="connection-drop-25pct"),
    ],
)
def test_twenty_jobs_under_faults_all_succeed_with_exactly_twenty_jobs(
    run_dag, emulator, unique_name, faults, record_property
):
    faults_before = emulator.fault_counts()
    emulator.set_fault_rates(**faults)
    try:
        run = run_many_jobs(run_dag, emulator, "reliability_many_jobs", unique_name("rel-faults"))
    finally:
        emulator.set_fault_rates()

    run.assert_every_task_succeeded()
    run.assert_one_completed_job_per_task()
    injected = {op: n - faults_before.get(op, 0) for op, n in emulator.fault_counts().items()}
    # The faults really hit both the submission and the wait.
    assert injected.get(CREATE, 0) > 0, injected
    assert injected.get(GET, 0) > 0, injected
    tries = mapped_tries(run.result, "train")
    record_property("injected_faults", injected)
    record_property("tries_per_task", tries)
