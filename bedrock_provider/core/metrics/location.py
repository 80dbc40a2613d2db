"""Where a completed job's metrics files are, and where their exports go.

Metrics exist only for a Completed job: ``require_completed`` says so, naming the status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_provider.core.names import job_id_from_arn
from bedrock_provider.core.waiting import states

# Layout of a job's output, from "Analyze the results of a model customization job":
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-analyze.html
#   {output}/model-customization-job-{job id}/training_artifacts/step_wise_training_metrics.csv
#   {output}/model-customization-job-{job id}/validation_artifacts/post_fine_tuning_validation/...
# The page's tree puts validation_metrics.csv directly under post_fine_tuning_validation/, while jobs
# write it one folder deeper, in validation/ (as AWS's own samples read it). Both are tried, deeper first.
TRAINING_METRICS_KEY = "training_artifacts/step_wise_training_metrics.csv"
VALIDATION_METRICS_KEYS = (
    "validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
    "validation_artifacts/post_fine_tuning_validation/validation_metrics.csv",
)


class JobNotCompletedError(RuntimeError):
    """The job has no metrics to read because it did not (yet) complete."""

    def __init__(self, message: str, status: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class MetricsLocations:
    """Where a completed job's metrics files are (S3 URIs)."""

    job_folder: str
    training: str
    validation_candidates: tuple[str, ...]


EXPORTED_FILES = {"summary": "summary.json", "metrics": "metrics.csv", "chart": "loss.png"}


def join_uri(base: str, *parts: str) -> str:
    """``s3://bucket/prefix`` or a local directory, joined with '/' whatever the trailing slash."""
    return "/".join([base.rstrip("/"), *(part.strip("/") for part in parts)])


def export_uris(destination: str, job_name: str, plot: bool) -> dict[str, str]:
    """Where a job's exports go: one folder per job, so a re-run overwrites rather than duplicates."""
    return {
        name: join_uri(destination, job_name, filename)
        for name, filename in EXPORTED_FILES.items()
        if plot or name != "chart"
    }


def require_completed(description: Mapping[str, Any]) -> None:
    """Metrics exist only for a Completed job; anything else is an error naming the status."""
    status = str(description.get("status"))
    if status == states.COMPLETED:
        return
    name = description.get("jobName") or description.get("jobArn")
    if status in states.FAILURE_STATES:
        reason = description.get("failureMessage") or "Bedrock gave no failure message"
        raise JobNotCompletedError(
            f"Bedrock job {name} is {status}, not Completed ({reason}): it wrote no metrics to export. "
            "Fix the job and run it again.",
            status,
        )
    raise JobNotCompletedError(
        f"Bedrock job {name} is {status}, not Completed: its metrics are written when it completes. "
        "Run this task after the job has completed (BedrockModelCustomizationOperator with "
        "wait_for_completion=True, or BedrockModelCustomizationSensor upstream).",
        status,
    )


def metrics_locations(description: Mapping[str, Any]) -> MetricsLocations:
    """The metrics files of a job, from its outputDataConfig.s3Uri and the job id in its ARN."""
    output = str((description.get("outputDataConfig") or {}).get("s3Uri") or "")
    job_arn = str(description.get("jobArn") or "")
    if not output or not job_arn:
        raise ValueError(
            f"The description of job {description.get('jobName')!r} has no "
            f"{'outputDataConfig.s3Uri' if not output else 'jobArn'}: cannot locate its metrics"
        )
    folder = f"{output.rstrip('/')}/model-customization-job-{job_id_from_arn(job_arn)}"
    return MetricsLocations(
        job_folder=folder,
        training=f"{folder}/{TRAINING_METRICS_KEY}",
        validation_candidates=tuple(f"{folder}/{key}" for key in VALIDATION_METRICS_KEYS),
    )
