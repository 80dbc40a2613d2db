from __future__ import annotations

import pytest

from bedrock_provider.core.errors import JobConflictError
from bedrock_provider.core.names import TaskIdentity
from bedrock_provider.core.submission import plan_submission

ME = TaskIdentity("dag", "train", "manual__2024-01-01", -1)
STRANGER = TaskIdentity("dag", "train", "manual__2024-02-02", -1)


def jobs(*entries):
    """Fake GetModelCustomizationJob by name: entries of (name, status, identity, attempt)."""
    table = {
        name: {
            "jobName": name,
            "jobArn": f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/m.x/{name[:12]}",
            "status": status,
            "clientRequestToken": owner.client_request_token(attempt),
        }
        for name, status, owner, attempt in entries
    }
    return table.get


def test_no_job_submits_attempt_one():
    plan = plan_submission("job", ME, "reattach", jobs())
    assert (plan.action, plan.attempt, plan.job_name) == ("submit", 1, "job")


@pytest.mark.parametrize("status", ["InProgress", "Completed"])
def test_own_running_or_completed_job_is_adopted(status):
    plan = plan_submission("job", ME, "reattach", jobs(("job", status, ME, 1)))
    assert (plan.action, plan.job_name) == ("adopt", "job")
    assert plan.existing["status"] == status


@pytest.mark.parametrize("status", ["Failed", "Stopped", "Stopping"])
def test_own_failed_job_is_retried_under_the_next_suffix(status):
    plan = plan_submission("job", ME, "reattach", jobs(("job", status, ME, 1)))
    assert (plan.action, plan.attempt, plan.job_name) == ("submit", 2, "job-r2")


def test_crash_after_submitting_r2_adopts_r2():
    find = jobs(("job", "Failed", ME, 1), ("job-r2", "InProgress", ME, 2))
    plan = plan_submission("job", ME, "reattach", find)
    assert (plan.action, plan.job_name, plan.attempt) == ("adopt", "job-r2", 2)


def test_third_attempt_after_two_failures():
    find = jobs(("job", "Failed", ME, 1), ("job-r2", "Stopped", ME, 2))
    assert plan_submission("job", ME, "reattach", find).job_name == "job-r3"


def test_a_strangers_job_is_an_error_that_names_it():
    with pytest.raises(
        JobConflictError, match=r"'job'.*not submitted by this task instance.*run_id=manual__2024-01-01"
    ):
        plan_submission("job", ME, "reattach", jobs(("job", "Completed", STRANGER, 1)))


def test_token_of_another_attempt_is_not_ours():
    # Our attempt-1 token on a job named as attempt 2 means someone copied names, not that it is ours.
    with pytest.raises(JobConflictError):
        plan_submission(
            "job", ME, "reattach", jobs(("job", "Failed", ME, 1), ("job-r2", "InProgress", ME, 1))
        )


def test_rename_always_submits_the_next_suffix():
    plan = plan_submission("job", ME, "rename", jobs(("job", "Completed", ME, 1)))
    assert (plan.action, plan.job_name) == ("submit", "job-r2")


def test_fail_raises_when_the_name_is_taken():
    with pytest.raises(JobConflictError, match="if_job_exists='fail'"):
        plan_submission("job", ME, "fail", jobs(("job", "InProgress", ME, 1)))
    assert plan_submission("job", ME, "fail", jobs()).action == "submit"


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="if_job_exists"):
        plan_submission("job", ME, "replace", jobs())


# -- reattach_or_rename: what the Amazon-named operator's ensure_unique_job_name=True means ----------


def test_reattach_or_rename_steps_around_a_strangers_job():
    plan = plan_submission("job", ME, "reattach_or_rename", jobs(("job", "Completed", STRANGER, 1)))
    assert (plan.action, plan.attempt, plan.job_name) == ("submit", 2, "job-r2")
    assert "not this task instance's" in plan.reason


@pytest.mark.parametrize("status", ["InProgress", "Completed"])
def test_reattach_or_rename_adopts_our_own_job_behind_a_strangers(status):
    """A retry after we stepped around a stranger finds our job and is not renamed again, even when a
    newer stranger's job follows ours in the family."""
    find = jobs(
        ("job", "Completed", STRANGER, 1), ("job-r2", status, ME, 2), ("job-r3", "InProgress", STRANGER, 3)
    )
    plan = plan_submission("job", ME, "reattach_or_rename", find)
    assert (plan.action, plan.attempt, plan.job_name) == ("adopt", 2, "job-r2")


def test_reattach_or_rename_adopts_our_first_job():
    plan = plan_submission("job", ME, "reattach_or_rename", jobs(("job", "InProgress", ME, 1)))
    assert (plan.action, plan.job_name) == ("adopt", "job")


def test_reattach_or_rename_retries_our_failed_job_under_the_next_free_suffix():
    find = jobs(("job", "Failed", ME, 1), ("job-r2", "Completed", STRANGER, 2))
    plan = plan_submission("job", ME, "reattach_or_rename", find)
    assert (plan.action, plan.attempt, plan.job_name) == ("submit", 3, "job-r3")
    assert "did not complete" in plan.reason
