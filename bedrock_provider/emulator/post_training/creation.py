"""Create's checks and the new resource, for deployments, provisioned throughput and evaluation jobs.

Mixed into ``PostTrainingBackend``, which calls these under its lock through ``ResourceTable.create``
once a clientRequestToken turned out to be new.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from bedrock_provider.emulator.arns import CUSTOM_MODEL_ARN_RE
from bedrock_provider.emulator.backend import CustomizationBackend
from bedrock_provider.emulator.create_checks import check_role
from bedrock_provider.emulator.errors import BedrockError, validation_error
from bedrock_provider.emulator.models import TAG_OUTCOME
from bedrock_provider.emulator.post_training import lifecycle, refusals
from bedrock_provider.emulator.post_training.models import (
    Deployment,
    EvaluationJob,
    ProvisionedThroughput,
)
from bedrock_provider.emulator.post_training.results import check_score_tags
from bedrock_provider.emulator.store import ResourceTable
from bedrock_provider.emulator.validation import tag_dict


class ResourceCreation(ABC):
    """The Create half of the post-training backend: what it checks, and what it builds."""

    customization: CustomizationBackend
    deployments: ResourceTable[Deployment]
    throughputs: ResourceTable[ProvisionedThroughput]
    evaluation_jobs: ResourceTable[EvaluationJob]
    deployment_duration: float
    evaluation_duration: float
    _seq: int
    _clock: Callable[[], float]

    @abstractmethod
    def _advance_all(self) -> None:
        """Bring every resource up to the clock: an evaluation names models as they are now."""

    def _new_deployment(self, body: Mapping[str, Any]) -> Deployment:
        name, model_arn = str(body["modelDeploymentName"]), str(body["modelArn"])
        model = refusals.served_custom_model(self.customization, model_arn, "modelArn")
        if not CUSTOM_MODEL_ARN_RE.match(model_arn):
            raise validation_error(
                f"Invalid modelArn {model_arn!r}: expected the ARN of a custom model (such as {model.arn})."
            )
        refusals.on_demand_model(self.customization, model_arn, "modelArn")
        _refuse_name_in_use(self.deployments, name, "modelDeploymentName", "deployment")
        return Deployment(
            **self._new_served_model_fields("custom-model-deployment", body),
            name=name,
            model_arn=model.arn,
            description=body.get("description"),
        )

    def _new_throughput(self, body: Mapping[str, Any]) -> ProvisionedThroughput:
        name = str(body["provisionedModelName"])
        model_arn, foundation_arn = refusals.throughput_model(
            self.customization, str(body["modelId"]), "modelId"
        )
        _refuse_name_in_use(self.throughputs, name, "provisionedModelName", "provisioned throughput")
        return ProvisionedThroughput(
            **self._new_served_model_fields("provisioned-model", body),
            name=name,
            model_arn=model_arn,
            foundation_model_arn=foundation_arn,
            model_units=int(body["modelUnits"]),
            commitment=body.get("commitmentDuration"),
        )

    def _new_evaluation_job(self, request: Mapping[str, Any]) -> EvaluationJob:
        if self.evaluation_jobs.named(request["name"]) is not None:
            raise BedrockError(
                "ConflictException",
                f"An evaluation job named {request['name']} already exists. Choose another jobName.",
                400,
            )
        check_role(self.customization.account, request["role"])
        self._advance_all()
        for index, model in enumerate(request["inference_config"]["models"], start=1):
            if "bedrockModel" in model:
                refusals.check_evaluated_model(
                    model["bedrockModel"]["modelIdentifier"],
                    f"inferenceConfig.models.{index}.member.bedrockModel.modelIdentifier",
                    self.throughputs,
                    self.customization,
                )
        judges = (request["evaluation_config"]["automated"].get("evaluatorModelConfig") or {}).get(
            "bedrockEvaluatorModels"
        ) or []
        for index, judge in enumerate(judges, start=1):
            refusals.foundation_model_arn(
                self.customization,
                str(judge["modelIdentifier"]),
                f"evaluationConfig.automated.evaluatorModelConfig.bedrockEvaluatorModels.{index}.member.modelIdentifier",
            )
        tags = request["tags"]
        check_score_tags(tags)
        life = lifecycle.new_lifecycle(
            tags,
            self._clock(),
            lifecycle.EVALUATION_OUTCOMES,
            lifecycle.DEFAULT_EVALUATION_FAILURE,
            self.evaluation_duration,
        )
        job_id = self._new_id()
        return EvaluationJob(
            seq=self._next_seq(),
            arn=self.customization.arns.arn("evaluation-job", job_id),
            job_id=job_id,
            name=request["name"],
            description=request["description"],
            role_arn=request["role"],
            client_request_token=request["token"],
            kms_key_id=request["kms_key_id"],
            evaluation_config=request["evaluation_config"],
            inference_config=request["inference_config"],
            output_data_config=dict(request["output"]),
            application_type=request["application"],
            life=life,
            tags=tags,
            end_outcome=tags.get(TAG_OUTCOME, "Completed"),
        )

    def _new_served_model_fields(self, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """What a new deployment or provisioned throughput has of every resource, its tags asking how
        it ends and when."""
        tags = tag_dict(body.get("tags"), "tags")
        return {
            "seq": self._next_seq(),
            "arn": self._new_arn(kind),
            "client_request_token": body.get("clientRequestToken"),
            "life": lifecycle.new_lifecycle(
                tags,
                self._clock(),
                lifecycle.DEPLOYMENT_OUTCOMES,
                lifecycle.DEFAULT_DEPLOYMENT_FAILURE,
                self.deployment_duration,
            ),
            "tags": tags,
        }

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _new_id(self) -> str:
        return self.customization.arns.new_id(
            [*self.deployments.arns(), *self.throughputs.arns(), *self.evaluation_jobs.arns()]
        )

    def _new_arn(self, kind: str) -> str:
        return self.customization.arns.arn(kind, self._new_id())


def _refuse_name_in_use(
    table: ResourceTable[Deployment] | ResourceTable[ProvisionedThroughput],
    name: str,
    field_name: str,
    what: str,
) -> None:
    if table.named(name) is not None:
        raise validation_error(
            f"A {table.kind} named {name} already exists. Choose another {field_name} or delete that {what}."
        )
