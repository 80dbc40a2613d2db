"""Exactly-once submission: what to do when the job name a task asks for is already taken.

Every try of one task instance derives the same clientRequestToken per attempt (see
``TaskIdentity``), so a retry, a cleared task or a re-run backfill can tell its own earlier job from a
stranger's by the token Bedrock returns in GetModelCustomizationJob.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bedrock_provider.core.errors import JobConflictError
from bedrock_provider.core.names import TaskIdentity, attempt_name
from bedrock_provider.core.states import ADOPTABLE_STATES

IF_JOB_EXISTS_CHOICES = ("reattach", "rename", "fail", "reattach_or_rename")
MAX_ATTEMPTS = 100

Description = dict[str, Any]


@dataclass(frozen=True)
class SubmissionPlan:
    """Adopt an existing job, or submit attempt ``attempt`` under ``job_name``."""

    action: Literal["adopt", "submit"]
    attempt: int
    job_name: str
    reason: str
    existing: Description | None = None


def check_if_job_exists(value: object) -> None:
    if value not in IF_JOB_EXISTS_CHOICES:
        raise ValueError(f"if_job_exists={value!r}: must be one of {', '.join(IF_JOB_EXISTS_CHOICES)}")


def _job_label(description: Description) -> str:
    return f"'{description.get('jobName')}' ({description.get('jobArn')}, status {description.get('status')})"


def plan_submission(
    base_job_name: str,
    identity: TaskIdentity,
    if_job_exists: str,
    find_job: Callable[[str], Description | None],
) -> SubmissionPlan:
    """Decide between adopting and submitting, from the jobs that exist under the name's family.

    ``find_job(name)`` returns the GetModelCustomizationJob description, or None when no job has
    that name. The family is probed in order (name, name-r2, name-r3, ...) so the next attempt is
    derived from what exists, never from try_number: a worker that died right after submitting
    attempt N has its job found, and adopted, by the next try.
    """
    check_if_job_exists(if_job_exists)

    family: list[Description] = []
    attempt = 1
    while attempt <= MAX_ATTEMPTS:
        found = find_job(attempt_name(base_job_name, attempt))
        if found is None:
            break
        family.append(found)
        attempt += 1
    else:
        raise JobConflictError(
            f"Jobs '{base_job_name}' to '{attempt_name(base_job_name, MAX_ATTEMPTS)}' all exist; "
            "choose a new job_name."
        )

    if not family:
        return SubmissionPlan("submit", 1, base_job_name, "no job of this name exists")
    latest = family[-1]
    latest_attempt = attempt - 1

    if if_job_exists == "fail":
        raise JobConflictError(
            f"Job {_job_label(latest)} already exists and if_job_exists='fail'. Use "
            "if_job_exists='reattach' to adopt this task's own job, 'rename' to submit under a new "
            "suffix, or give the task a unique job_name such as "
            "'{{ dag.dag_id | bedrock_name }}-{{ ts_nodash }}'."
        )
    if if_job_exists == "rename":
        return SubmissionPlan(
            "submit",
            attempt,
            attempt_name(base_job_name, attempt),
            f"if_job_exists='rename' and {_job_label(latest)} exists",
        )

    if if_job_exists == "reattach_or_rename":
        return _reattach_or_rename(base_job_name, identity, family)

    ours = latest.get("clientRequestToken") == identity.client_request_token(latest_attempt)
    if not ours:
        raise JobConflictError(
            f"Job {_job_label(latest)} exists but was not submitted by this task instance "
            f"(dag_id={identity.dag_id}, task_id={identity.task_id}, run_id={identity.run_id}, "
            f"map_index={identity.map_index}), so it is not adopted. Give each run its own job_name, "
            "e.g. '{{ dag.dag_id | bedrock_name }}-{{ ts_nodash }}', or set if_job_exists='rename'."
        )
    if latest.get("status") in ADOPTABLE_STATES:
        return _adopt(latest, latest_attempt)
    return SubmissionPlan(
        "submit",
        attempt,
        attempt_name(base_job_name, attempt),
        f"this task instance's earlier job {_job_label(latest)} did not complete; trying again",
    )


def _reattach_or_rename(
    base_job_name: str, identity: TaskIdentity, family: list[Description]
) -> SubmissionPlan:
    """Adopt this task instance's own job wherever it is in the family; submit under the next suffix
    when the only jobs are someone else's, or when ours did not complete."""
    attempt = len(family) + 1
    ours = [
        (number, job)
        for number, job in enumerate(family, start=1)
        if job.get("clientRequestToken") == identity.client_request_token(number)
    ]
    if ours:
        number, job = ours[-1]
        if job.get("status") in ADOPTABLE_STATES:
            return _adopt(job, number)
        reason = f"this task instance's earlier job {_job_label(job)} did not complete; trying again"
    else:
        reason = f"job {_job_label(family[-1])} is not this task instance's; submitting under a new suffix"
    return SubmissionPlan("submit", attempt, attempt_name(base_job_name, attempt), reason)


def _adopt(job: Description, attempt: int) -> SubmissionPlan:
    return SubmissionPlan(
        "adopt",
        attempt,
        str(job.get("jobName")),
        f"this task instance's job {_job_label(job)} is adopted instead of submitting again",
        existing=job,
    )
