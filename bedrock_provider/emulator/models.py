"""The emulator's resources (customization jobs, custom models) and their response shapes.

As in moto, a resource renders itself: ``to_dict`` is what Get answers, ``summary`` one entry of
what List answers, both in the shapes of Bedrock's API reference:
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetModelCustomizationJob.html
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetCustomModel.html
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TAG_PREFIX = "emulator:"
TAG_OUTCOME = "emulator:outcome"
TAG_DURATION = "emulator:duration"
TAG_FAILURE_MESSAGE = "emulator:failure-message"
TAG_FINAL_LOSS = "emulator:final-loss"
TAG_FINAL_VALIDATION_LOSS = "emulator:final-validation-loss"

OUTCOMES = ("Completed", "Failed", "Stopped")
TERMINAL = frozenset(OUTCOMES)
JOB_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
STAGE_NAMES = ("validationDetails", "dataProcessingDetails", "trainingDetails")
# Start of each stage, then the end of the job, as fractions of the job's duration.
STAGE_BOUNDS = (0.0, 0.2, 0.4, 1.0)
VALIDATION_STAGE, DATA_PROCESSING_STAGE, TRAINING_STAGE = 0, 1, 2

DEFAULT_FAILURE_MESSAGE = (
    "An internal error occurred while training the model. Retry the job; "
    "if the problem persists, contact AWS Support."
)


def iso(ts: float) -> str:
    """Bedrock's timestamp form: ISO 8601, UTC, milliseconds."""
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


@dataclass
class Job:
    """One model customization job, as CreateModelCustomizationJob accepted it, and its progress."""

    seq: int
    arn: str
    job_id: str
    name: str
    custom_model_name: str
    role_arn: str
    client_request_token: str | None
    base_model_id: str
    base_model_arn: str
    customization_type: str
    kms_key_arn: str | None
    hyper_parameters: dict[str, str]
    training_data_config: dict[str, Any]
    validation_data_config: dict[str, Any] | None
    output_data_config: dict[str, Any]
    vpc_config: dict[str, Any] | None
    customization_config: dict[str, Any] | None
    tags: dict[str, str]
    custom_model_tags: dict[str, str]
    created: float
    duration: float
    status: str = "InProgress"
    last_modified: float = 0.0
    end_time: float | None = None
    failure_message: str | None = None
    # Stage in which the job ended or is stopping (index into STAGE_NAMES).
    final_stage: int | None = None
    stop_requested: float | None = None
    data_checked: bool = False
    training_records: int = 0
    # A digest of the training data, so the metrics follow the data (set by the validation stage).
    data_digest: str = ""
    output_model_arn: str | None = None
    training_loss: float | None = None
    validation_loss: float | None = None

    def bounds(self) -> list[float]:
        return [self.created + f * self.duration for f in STAGE_BOUNDS]

    def stage_at(self, when: float) -> int:
        bounds = self.bounds()
        for stage in (TRAINING_STAGE, DATA_PROCESSING_STAGE):
            if when >= bounds[stage]:
                return stage
        return VALIDATION_STAGE

    @property
    def validators(self) -> list[dict[str, Any]]:
        validators: list[dict[str, Any]] = (self.validation_data_config or {}).get("validators") or []
        return validators

    # ----------------------------------------------------------------- shapes

    def to_dict(self, now: float) -> dict[str, Any]:
        """GetModelCustomizationJob's answer."""
        out: dict[str, Any] = {
            "jobArn": self.arn,
            "jobName": self.name,
            "outputModelName": self.custom_model_name,
            "roleArn": self.role_arn,
            "status": self.status,
            "creationTime": iso(self.created),
            "lastModifiedTime": iso(self.last_modified),
            "baseModelArn": self.base_model_arn,
            "hyperParameters": dict(self.hyper_parameters),
            "trainingDataConfig": copy.deepcopy(self.training_data_config),
            "validationDataConfig": copy.deepcopy(self.validation_data_config or {"validators": []}),
            "outputDataConfig": copy.deepcopy(self.output_data_config),
            "customizationType": self.customization_type,
            "statusDetails": self.status_details(now),
        }
        if self.client_request_token is not None:
            out["clientRequestToken"] = self.client_request_token
        if self.output_model_arn is not None:
            out["outputModelArn"] = self.output_model_arn
        if self.failure_message is not None:
            out["failureMessage"] = self.failure_message
        if self.end_time is not None:
            out["endTime"] = iso(self.end_time)
        if self.kms_key_arn is not None:
            out["outputModelKmsKeyArn"] = self.kms_key_arn
        if self.vpc_config is not None:
            out["vpcConfig"] = copy.deepcopy(self.vpc_config)
        if self.customization_config is not None:
            out["customizationConfig"] = copy.deepcopy(self.customization_config)
        if self.status == "Completed":
            out.update(self.metric_fields())
        return out

    def summary(self, now: float) -> dict[str, Any]:
        """One entry of ListModelCustomizationJobs."""
        out: dict[str, Any] = {
            "jobArn": self.arn,
            "baseModelArn": self.base_model_arn,
            "jobName": self.name,
            "status": self.status,
            "statusDetails": self.status_details(now),
            "lastModifiedTime": iso(self.last_modified),
            "creationTime": iso(self.created),
            "customModelName": self.custom_model_name,
            "customizationType": self.customization_type,
        }
        if self.end_time is not None:
            out["endTime"] = iso(self.end_time)
        if self.output_model_arn is not None:
            out["customModelArn"] = self.output_model_arn
        return out

    def metric_fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.training_loss is not None:
            out["trainingMetrics"] = {"trainingLoss": self.training_loss}
        if self.validation_loss is not None:
            out["validationMetrics"] = [{"validationLoss": self.validation_loss} for _ in self.validators]
        return out

    def status_details(self, now: float) -> dict[str, Any]:
        bounds = self.bounds()
        details: dict[str, Any] = {}
        for stage, name in enumerate(STAGE_NAMES):
            start, end = bounds[stage], bounds[stage + 1]
            status, created, modified = "NotStarted", self.created, self.created
            if self.status == "Completed":
                status, created, modified = "Completed", start, min(end, self.end_time or end)
            elif self.status in ("Failed", "Stopped", "Stopping"):
                final_stage = self.final_stage if self.final_stage is not None else TRAINING_STAGE
                if stage < final_stage:
                    status, created, modified = "Completed", start, end
                elif stage == final_stage:
                    status, created, modified = self.status, start, self.last_modified
            elif now >= end:
                status, created, modified = "Completed", start, end
            elif now >= start:
                status, created, modified = "InProgress", start, start
            details[name] = {
                "status": status,
                "creationTime": iso(created),
                "lastModifiedTime": iso(modified),
            }
        return details


@dataclass
class CustomModel:
    """A custom model a completed job created."""

    seq: int
    arn: str
    name: str
    job: Job
    created: float
    owner_account_id: str
    tags: dict[str, str] = field(default_factory=dict)
    # botocore bedrock ModelStatus: Active | Creating | Failed. A trained model is Active; a test sets
    # another status through BedrockEmulator.set_custom_model_status.
    status: str = "Active"
    failure_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """GetCustomModel's answer."""
        job = self.job
        out: dict[str, Any] = {
            "modelArn": self.arn,
            "modelName": self.name,
            "jobName": job.name,
            "jobArn": job.arn,
            "baseModelArn": job.base_model_arn,
            "customizationType": job.customization_type,
            "hyperParameters": dict(job.hyper_parameters),
            "trainingDataConfig": copy.deepcopy(job.training_data_config),
            "validationDataConfig": copy.deepcopy(job.validation_data_config or {"validators": []}),
            "outputDataConfig": copy.deepcopy(job.output_data_config),
            "creationTime": iso(self.created),
            "modelStatus": self.status,
        }
        if self.failure_message is not None:
            out["failureMessage"] = self.failure_message
        if job.kms_key_arn is not None:
            out["modelKmsKeyArn"] = job.kms_key_arn
        if job.customization_config is not None:
            out["customizationConfig"] = copy.deepcopy(job.customization_config)
        out.update(job.metric_fields())
        return out

    def summary(self) -> dict[str, Any]:
        """One entry of ListCustomModels."""
        return {
            "modelArn": self.arn,
            "modelName": self.name,
            "creationTime": iso(self.created),
            "baseModelArn": self.job.base_model_arn,
            "baseModelName": self.job.base_model_id.split(":")[0],
            "customizationType": self.job.customization_type,
            "ownerAccountId": self.owner_account_id,
            "modelStatus": self.status,
        }
