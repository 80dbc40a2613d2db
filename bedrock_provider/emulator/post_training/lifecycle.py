"""How deployments, provisioned throughput and evaluation jobs move along the clock.

Each is in its pending status (Creating, Updating, InProgress) until its transition's duration has
passed (``emulator:duration``, else the backend's default), then in the outcome its tags asked for
(``emulator:outcome``, ``emulator:failure-message``). A completing evaluation job writes its results
(``results``); a job whose results cannot be written fails with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bedrock_provider.emulator.errors import validation_error
from bedrock_provider.emulator.models import TAG_DURATION, TAG_FAILURE_MESSAGE, TAG_OUTCOME
from bedrock_provider.emulator.post_training.models import (
    Deployment,
    EvaluationJob,
    Lifecycle,
    ProvisionedThroughput,
)
from bedrock_provider.emulator.post_training.results import write_results
from bedrock_provider.emulator.training import ObjectStore
from bedrock_provider.emulator.validation import decode_tag_value, float_tag

log = logging.getLogger(__name__)

DEPLOYMENT_OUTCOMES = ("Completed", "Active", "InService", "Failed")
EVALUATION_OUTCOMES = ("Completed", "Failed", "Stopped")
DEFAULT_DEPLOYMENT_FAILURE = "The deployment could not be created because of an internal error. Try again."
DEFAULT_EVALUATION_FAILURE = "An internal error occurred while running the evaluation job. Retry the job."


def new_lifecycle(
    tags: Mapping[str, str],
    now: float,
    outcomes: tuple[str, ...],
    default_failure: str,
    default_duration: float,
) -> Lifecycle:
    """The lifecycle a new resource's tags ask for; an outcome the resource cannot have is refused."""
    outcome = tags.get(TAG_OUTCOME)
    if outcome is not None and outcome not in outcomes:
        raise validation_error(
            f"Invalid tag {TAG_OUTCOME}={outcome!r}: expected one of {', '.join(outcomes)}."
        )
    duration = float_tag(tags, TAG_DURATION)
    failed = outcome == "Failed"
    return Lifecycle(
        created=now,
        duration=default_duration if duration is None else duration,
        succeeds=not failed,
        failure_message=(decode_tag_value(tags.get(TAG_FAILURE_MESSAGE) or "") or default_failure)
        if failed
        else None,
        last_modified=now,
        started=now,
    )


def restart(life: Lifecycle, now: float, tags: Mapping[str, str] | None = None) -> None:
    """An update begins: the resource's transition starts again from now, taking as long as its
    ``emulator:duration`` tag says now (a test tags a deployment to slow its next update down)."""
    duration = float_tag(tags or {}, TAG_DURATION)
    if duration is not None:
        life.duration = duration
    life.started = now
    life.done = False
    life.last_modified = now


def _end_transition(life: Lifecycle, now: float) -> bool:
    """Whether the transition in progress ended by ``now``; if so it is marked done, when it ended."""
    if not life.due(now):
        return False
    life.done = True
    life.last_modified = life.ends_at()
    return True


def advance_deployment(deployment: Deployment, now: float) -> None:
    if not _end_transition(deployment.life, now):
        return
    if deployment.update_status == "Updating":
        deployment.model_arn = deployment.next_model_arn or deployment.model_arn
        deployment.update_status = "UpdateCompleted"
        return
    deployment.status = "Active" if deployment.life.succeeds else "Failed"


def advance_throughput(throughput: ProvisionedThroughput, now: float) -> None:
    if not _end_transition(throughput.life, now):
        return
    if throughput.status == "Updating":
        throughput.model_arn = throughput.next_model_arn or throughput.model_arn
        throughput.name = throughput.desired_name or throughput.name
        throughput.next_model_arn = throughput.desired_name = None
        throughput.status = "InService"
        return
    throughput.status = "InService" if throughput.life.succeeds else "Failed"


def advance_evaluation(job: EvaluationJob, now: float, stop_delay: float, objects: ObjectStore) -> None:
    if job.status == "Stopping":
        requested = job.stop_requested if job.stop_requested is not None else now
        if now >= requested + stop_delay:
            job.status = "Stopped"
            job.life.done = True
            job.life.last_modified = requested + stop_delay
        return
    if job.status != "InProgress" or not _end_transition(job.life, now):
        return
    if job.end_outcome == "Stopped":
        job.status = "Stopped"
        return
    problem = None if job.life.succeeds else (job.life.failure_message or DEFAULT_EVALUATION_FAILURE)
    if problem is None:
        try:
            problem = write_results(job, objects)
        except Exception as exc:
            log.exception("writing the results of evaluation job %s failed", job.arn)
            problem = f"Internal error writing the evaluation results: {exc}"
    if problem is not None:
        job.status = "Failed"
        job.failure_messages = [problem]
        log.info("evaluation job %s Failed: %s", job.name, problem)
        return
    job.status = "Completed"
    log.info("evaluation job %s Completed", job.name)
