"""Deployments, provisioned throughput and evaluation jobs, and the shapes Bedrock answers with.

Each resource's status follows the clock like a customization job's: it is in its pending status
(Creating, InProgress) until its duration has passed, then in the outcome its tags asked for.
Shapes follow botocore's service model (GetCustomModelDeployment, GetProvisionedModelThroughput,
GetEvaluationJob and their List summaries).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from bedrock_provider.emulator.models import iso

# An evaluation job's score for one metric: "emulator:score:Builtin.Accuracy" = "0.82".
TAG_SCORE_PREFIX = "emulator:score:"

DEPLOYMENT_STATUSES = ("Creating", "Active", "Failed")
THROUGHPUT_STATUSES = ("Creating", "InService", "Updating", "Failed")
EVALUATION_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting")


@dataclass(frozen=True)
class Listing:
    """What a resource kind's List operation filters on, and the member its page is answered under."""

    statuses: tuple[str, ...]
    created_after: str
    created_before: str
    answer_key: str
    # (query parameter, attribute): the "...Equals" filters, each matching one attribute exactly.
    equals: tuple[tuple[str, str], ...]


DEPLOYMENT_LISTING = Listing(
    DEPLOYMENT_STATUSES,
    "createdAfter",
    "createdBefore",
    "modelDeploymentSummaries",
    (("modelArnEquals", "model_arn"),),
)
THROUGHPUT_LISTING = Listing(
    THROUGHPUT_STATUSES,
    "creationTimeAfter",
    "creationTimeBefore",
    "provisionedModelSummaries",
    (("modelArnEquals", "model_arn"),),
)
EVALUATION_LISTING = Listing(
    EVALUATION_STATUSES,
    "creationTimeAfter",
    "creationTimeBefore",
    "jobSummaries",
    (("applicationTypeEquals", "application_type"),),
)
COMMITMENTS = ("OneMonth", "SixMonths")
# Seconds of each commitment term, for commitmentExpirationTime.
COMMITMENT_SECONDS = {"OneMonth": 30 * 86400, "SixMonths": 182 * 86400}


@dataclass
class Lifecycle:
    """When a resource started its current transition, how long it takes, and how it ends."""

    created: float
    duration: float
    succeeds: bool = True
    failure_message: str | None = None
    last_modified: float = 0.0
    # Start of the transition in progress (creation, or an update).
    started: float = 0.0
    done: bool = False

    def due(self, now: float) -> bool:
        return not self.done and now >= self.started + self.duration

    def ends_at(self) -> float:
        return self.started + self.duration


@dataclass(kw_only=True)
class PostTrainingResource:
    """What every resource after training has: its identity, the token that created it, its lifecycle."""

    seq: int
    arn: str
    name: str
    client_request_token: str | None
    life: Lifecycle
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class ServingResource(PostTrainingResource):
    """A resource that serves a model: a custom model deployment or a provisioned throughput."""

    model_arn: str
    status: str = "Creating"
    # An update in progress: the model it moves to.
    next_model_arn: str | None = None

    def served_model_arns(self) -> tuple[str, str | None]:
        """The model served, and the one an update in progress moves to."""
        return self.model_arn, self.next_model_arn


@dataclass(kw_only=True)
class Deployment(ServingResource):
    description: str | None
    update_status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "customModelDeploymentArn": self.arn,
            "modelDeploymentName": self.name,
            "modelArn": self.model_arn,
            "createdAt": iso(self.life.created),
            "status": self.status,
            "lastUpdatedAt": iso(self.life.last_modified or self.life.created),
        }
        if self.description:
            out["description"] = self.description
        if self.update_status is not None:
            out["updateDetails"] = {
                "modelArn": self.next_model_arn or self.model_arn,
                "updateStatus": self.update_status,
            }
        if self.status == "Failed" and self.life.failure_message:
            out["failureMessage"] = self.life.failure_message
        return out

    def summary(self) -> dict[str, Any]:
        out = {
            "customModelDeploymentArn": self.arn,
            "customModelDeploymentName": self.name,
            "modelArn": self.model_arn,
            "createdAt": iso(self.life.created),
            "status": self.status,
            "lastUpdatedAt": iso(self.life.last_modified or self.life.created),
        }
        if self.status == "Failed" and self.life.failure_message:
            out["failureMessage"] = self.life.failure_message
        return out


@dataclass(kw_only=True)
class ProvisionedThroughput(ServingResource):
    foundation_model_arn: str
    model_units: int
    commitment: str | None
    desired_name: str | None = None

    def commitment_expiration(self) -> float | None:
        if self.commitment is None:
            return None
        return self.life.created + COMMITMENT_SECONDS[self.commitment]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "modelUnits": self.model_units,
            "desiredModelUnits": self.model_units,
            "provisionedModelName": self.name,
            "provisionedModelArn": self.arn,
            "modelArn": self.model_arn,
            "desiredModelArn": self.next_model_arn or self.model_arn,
            "foundationModelArn": self.foundation_model_arn,
            "status": self.status,
            "creationTime": iso(self.life.created),
            "lastModifiedTime": iso(self.life.last_modified or self.life.created),
        }
        if self.commitment is not None:
            out["commitmentDuration"] = self.commitment
            out["commitmentExpirationTime"] = iso(self.commitment_expiration() or self.life.created)
        if self.status == "Failed" and self.life.failure_message:
            out["failureMessage"] = self.life.failure_message
        return out

    def summary(self) -> dict[str, Any]:
        out = self.to_dict()
        out.pop("failureMessage", None)
        return out


@dataclass(kw_only=True)
class EvaluationJob(PostTrainingResource):
    job_id: str
    description: str | None
    role_arn: str
    kms_key_id: str | None
    evaluation_config: dict[str, Any]
    inference_config: dict[str, Any]
    output_data_config: dict[str, Any]
    application_type: str
    status: str = "InProgress"
    failure_messages: list[str] = field(default_factory=list)
    stop_requested: float | None = None
    end_outcome: str = "Completed"

    @property
    def dataset_metric_configs(self) -> list[dict[str, Any]]:
        automated = self.evaluation_config.get("automated") or {}
        return list(automated.get("datasetMetricConfigs") or [])

    @property
    def model_identifiers(self) -> list[str]:
        """The Bedrock models the job invokes (bedrockModel.modelIdentifier)."""
        return self._model_config_values("bedrockModel", "modelIdentifier")

    @property
    def inference_source_identifiers(self) -> list[str]:
        """The labels of your own inference responses (precomputedInferenceSource)."""
        return self._model_config_values("precomputedInferenceSource", "inferenceSourceIdentifier")

    @property
    def evaluator_model_identifiers(self) -> list[str]:
        automated = self.evaluation_config.get("automated") or {}
        judges = (automated.get("evaluatorModelConfig") or {}).get("bedrockEvaluatorModels") or []
        return [str(judge["modelIdentifier"]) for judge in judges]

    def _model_config_values(self, kind: str, member: str) -> list[str]:
        return [
            str(model[kind][member])
            for model in self.inference_config.get("models") or []
            if isinstance(model, dict) and isinstance(model.get(kind), dict)
        ]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "jobName": self.name,
            "status": self.status,
            "jobArn": self.arn,
            "roleArn": self.role_arn,
            "jobType": "Automated" if "automated" in self.evaluation_config else "Human",
            "applicationType": self.application_type,
            "evaluationConfig": copy.deepcopy(self.evaluation_config),
            "inferenceConfig": copy.deepcopy(self.inference_config),
            "outputDataConfig": copy.deepcopy(self.output_data_config),
            "creationTime": iso(self.life.created),
            "lastModifiedTime": iso(self.life.last_modified or self.life.created),
        }
        if self.description:
            out["jobDescription"] = self.description
        if self.kms_key_id:
            out["customerEncryptionKeyId"] = self.kms_key_id
        if self.failure_messages:
            out["failureMessages"] = list(self.failure_messages)
        return out

    def summary(self) -> dict[str, Any]:
        models: dict[str, Any] = {"bedrockModelIdentifiers": self.model_identifiers}
        if self.inference_source_identifiers:
            models["precomputedInferenceSourceIdentifiers"] = self.inference_source_identifiers
        out: dict[str, Any] = {
            "jobArn": self.arn,
            "jobName": self.name,
            "status": self.status,
            "creationTime": iso(self.life.created),
            "jobType": "Automated" if "automated" in self.evaluation_config else "Human",
            "evaluationTaskTypes": [str(c.get("taskType")) for c in self.dataset_metric_configs],
            "modelIdentifiers": self.model_identifiers,
            "inferenceConfigSummary": {"modelConfigSummary": models},
            "applicationType": self.application_type,
        }
        if self.evaluator_model_identifiers:
            out["evaluatorModelIdentifiers"] = self.evaluator_model_identifiers
        return out
