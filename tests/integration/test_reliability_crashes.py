"""A worker killed right after the Create call, 20 times over: every retry adopts its job, none is doubled.

Each of 20 mapped task instances submits its job and dies before deferring on its first try; the
retry knows nothing but its task instance, from which it derives the token that finds the job.
"""

from __future__ import annotations

import pytest

from tests.integration.reliability import mapped_tries, run_many_jobs

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CREATE = "CreateModelCustomizationJob"
TRIALS = 20


def test_twenty_crashes_after_submit_create_no_duplicate_job(run_dag, emulator, unique_name):
    creates_before = emulator.request_count(CREATE)
    run = run_many_jobs(run_dag, emulator, "reliability_many_crashes", unique_name("rel-crash"))

    run.assert_every_task_succeeded()
    assert mapped_tries(run.result, "train") == dict.fromkeys(range(TRIALS), 2)
    # One Create per first try; every second try adopted the job instead of calling Create again.
    assert emulator.request_count(CREATE) - creates_before == TRIALS
    run.assert_one_completed_job_per_task()
    for index in range(TRIALS):
        assert run.result.xcom("train", map_index=index)["job_name"] == f"{run.prefix}-{index}"
