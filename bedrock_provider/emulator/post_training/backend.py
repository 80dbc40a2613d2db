"""The API of deployments, provisioned throughput and evaluation jobs, over one emulated account and region.

Shares the customization backend's lock, so "delete a custom model" and "deploy it" never race; what
Bedrock refuses across resources is in ``refusals``, how each resource moves along the clock in
``lifecycle``. An evaluation job writes its results as Bedrock documents them (see ``results``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from bedrock_provider.emulator.arns import (
    DEPLOYMENT_ARN_RE,
    EVALUATION_JOB_ARN_RE,
    PROVISIONED_ARN_RE,
)
from bedrock_provider.emulator.backend import CustomizationBackend
from bedrock_provider.emulator.errors import BedrockError, not_found, validation_error
from bedrock_provider.emulator.models import CustomModel
from bedrock_provider.emulator.paging import CreatedWindow, name_matches, page_answer, paginate, status_filter
from bedrock_provider.emulator.post_training import lifecycle, refusals
from bedrock_provider.emulator.post_training.creation import ResourceCreation
from bedrock_provider.emulator.post_training.models import (
    DEPLOYMENT_LISTING,
    EVALUATION_LISTING,
    THROUGHPUT_LISTING,
    Deployment,
    EvaluationJob,
    Lifecycle,
    Listing,
    ProvisionedThroughput,
)
from bedrock_provider.emulator.post_training.validation import check_evaluation_job
from bedrock_provider.emulator.store import ResourceTable
from bedrock_provider.emulator.tagging import add_tags, remove_tags
from bedrock_provider.emulator.training import ObjectStore

log = logging.getLogger(__name__)

_NOT_FOUND_HINT = "Check the name or ARN and the region."


class Listed(Protocol):
    """What a List operation reads of a resource."""

    arn: str
    name: str
    status: str
    seq: int
    life: Lifecycle

    def summary(self) -> dict[str, Any]: ...


L = TypeVar("L", bound=Listed)
R = TypeVar("R", Deployment, ProvisionedThroughput, EvaluationJob)


class PostTrainingBackend(ResourceCreation):
    """Deployments, provisioned throughput and evaluation jobs of one emulated account and region."""

    def __init__(
        self,
        customization: CustomizationBackend,
        objects: ObjectStore,
        *,
        deployment_duration: float = 2.0,
        evaluation_duration: float = 3.0,
        stop_delay: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.customization = customization
        self.objects = objects
        self.deployment_duration = deployment_duration
        self.evaluation_duration = evaluation_duration
        self.stop_delay = stop_delay
        self._clock = clock
        self.lock = customization.lock
        self._seq = 0
        self.deployments: ResourceTable[Deployment] = ResourceTable(
            "custom model deployment", _NOT_FOUND_HINT, arn_pattern=DEPLOYMENT_ARN_RE
        )
        # UpdateProvisionedModelThroughput renames, so names are searched rather than indexed.
        self.throughputs: ResourceTable[ProvisionedThroughput] = ResourceTable(
            "provisioned throughput", _NOT_FOUND_HINT, names="scanned", arn_pattern=PROVISIONED_ARN_RE
        )
        self.evaluation_jobs: ResourceTable[EvaluationJob] = ResourceTable(
            "evaluation job", "Check the ARN and the region.", arn_pattern=EVALUATION_JOB_ARN_RE
        )
        customization.add_delete_guard(self._refuse_model_in_use)

    # ----------------------------------------------------------------- housekeeping

    def reset(self) -> None:
        with self.lock:
            self.deployments.clear()
            self.throughputs.clear()
            self.evaluation_jobs.clear()

    def tick(self) -> None:
        with self.lock:
            self._advance_all()

    def created_counts(self) -> dict[str, int]:
        with self.lock:
            return {
                "deployments": len(self.deployments),
                "provisioned_throughputs": len(self.throughputs),
                "evaluation_jobs": len(self.evaluation_jobs),
            }

    def owns_arn(self, arn: str) -> bool:
        return bool(
            DEPLOYMENT_ARN_RE.match(arn) or PROVISIONED_ARN_RE.match(arn) or EVALUATION_JOB_ARN_RE.match(arn)
        )

    def tag_target(self, arn: str) -> dict[str, str]:
        """The tags of a resource kept here (TagResource, UntagResource, ListTagsForResource)."""
        with self.lock:
            for table in (self.deployments, self.throughputs, self.evaluation_jobs):
                if arn in table:
                    return table.require(arn).tags
        raise not_found(f"The resource {arn} was not found. Check the ARN and the region.")

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        with self.lock:
            add_tags(self.tag_target(arn), arn, tags)

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        with self.lock:
            remove_tags(self.tag_target(arn), keys)

    # ----------------------------------------------------------------- deployments

    def create_deployment(self, body: Mapping[str, Any]) -> str:
        """CreateCustomModelDeployment on a request that passed validation."""
        token = body.get("clientRequestToken")
        return self._create(self.deployments, token, lambda: self._new_deployment(body))

    def get_deployment(self, identifier: str) -> dict[str, Any]:
        with self.lock:
            return self._deployment(identifier).to_dict()

    def delete_deployment(self, identifier: str) -> None:
        # Gone at once: botocore's CustomModelDeploymentStatus has no Deleting (Creating, Active, Failed),
        # and DeleteCustomModelDeployment answers {} ("After deletion, the deployment ARN can no longer be
        # used for inference requests", API_DeleteCustomModelDeployment).
        with self.lock:
            self.deployments.remove(self._deployment(identifier))

    def update_deployment(self, identifier: str, body: Mapping[str, Any]) -> str:
        """UpdateCustomModelDeployment: updateDetails {modelArn, updateStatus} goes Updating ->
        UpdateCompleted over the deployment's duration while modelArn, the model that answers, stays the
        old one until then (botocore's CustomModelDeploymentUpdateDetails). Refused, as
        ValidationException (the only refusal botocore lists for the operation; no ConflictException):
        a deployment that is not Active or is updating already, and a model the deployment could not
        serve on demand (core/lifecycle/on_demand.py). AWS documents no rule that the new model share the
        old one's base model or customization method
        (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_UpdateCustomModelDeployment.html),
        so none is invented here."""
        with self.lock:
            deployment = self._deployment(identifier)
            if deployment.status != "Active" or deployment.update_status == "Updating":
                raise validation_error(
                    f"The custom model deployment {deployment.name} is {deployment.status}"
                    f"{' and updating' if deployment.update_status == 'Updating' else ''}: only an "
                    "Active deployment that is not updating can be updated."
                )
            model_arn = body.get("modelArn")
            if not isinstance(model_arn, str) or not model_arn:
                raise validation_error("modelArn is required and must be a non-empty string.")
            model = refusals.on_demand_model(self.customization, model_arn, "modelArn")
            deployment.next_model_arn = model.arn
            deployment.update_status = "Updating"
            lifecycle.restart(deployment.life, self._clock(), deployment.tags)
            return deployment.arn

    def list_deployments(self, params: Mapping[str, str]) -> dict[str, Any]:
        return self._list(self.deployments, params, DEPLOYMENT_LISTING)

    # ----------------------------------------------------------------- provisioned throughput

    def create_throughput(self, body: Mapping[str, Any]) -> str:
        """CreateProvisionedModelThroughput on a request that passed validation."""
        token = body.get("clientRequestToken")
        return self._create(self.throughputs, token, lambda: self._new_throughput(body))

    def get_throughput(self, identifier: str) -> dict[str, Any]:
        with self.lock:
            return self._throughput(identifier).to_dict()

    def update_throughput(self, identifier: str, body: Mapping[str, Any]) -> None:
        with self.lock:
            throughput = self._throughput(identifier)
            if throughput.status != "InService":
                raise validation_error(
                    f"The provisioned throughput {throughput.name} is {throughput.status}: only one that "
                    "is InService can be updated."
                )
            name = body.get("desiredProvisionedModelName")
            model_id = body.get("desiredModelId")
            if name is None and model_id is None:
                raise validation_error("Give desiredProvisionedModelName, desiredModelId or both.")
            if name is not None:
                throughput.desired_name = str(name)
            if model_id is not None:
                model_arn, foundation_arn = refusals.throughput_model(
                    self.customization, str(model_id), "desiredModelId"
                )
                if foundation_arn != throughput.foundation_model_arn:
                    raise validation_error(
                        f"desiredModelId {model_id} is built on {foundation_arn}, but provisioned "
                        f"throughput {throughput.name} serves {throughput.foundation_model_arn}: a "
                        "provisioned throughput can only move to a model of the same base model."
                    )
                throughput.next_model_arn = model_arn
            throughput.status = "Updating"
            lifecycle.restart(throughput.life, self._clock())

    def delete_throughput(self, identifier: str) -> None:
        with self.lock:
            throughput = self._throughput(identifier)
            expires = throughput.commitment_expiration()
            if expires is not None and self._clock() < expires:
                raise BedrockError(
                    "ConflictException",
                    f"The provisioned throughput {throughput.name} has a {throughput.commitment} "
                    "commitment that has not ended; it can be deleted once the commitment term is over.",
                    400,
                )
            self.throughputs.remove(throughput)

    def list_throughputs(self, params: Mapping[str, str]) -> dict[str, Any]:
        return self._list(self.throughputs, params, THROUGHPUT_LISTING)

    # ----------------------------------------------------------------- evaluation jobs

    def create_evaluation_job(self, body: Mapping[str, Any]) -> str:
        request = check_evaluation_job(body)
        return self._create(self.evaluation_jobs, request["token"], lambda: self._new_evaluation_job(request))

    def get_evaluation_job(self, identifier: str) -> dict[str, Any]:
        with self.lock:
            return self._evaluation_job(identifier).to_dict()

    def stop_evaluation_job(self, identifier: str) -> None:
        with self.lock:
            job = self._evaluation_job(identifier)
            if job.status != "InProgress":
                raise BedrockError(
                    "ConflictException",
                    f"The evaluation job {job.name} is {job.status}; only an InProgress job can be stopped.",
                    400,
                )
            now = self._clock()
            job.status = "Stopping"
            job.stop_requested = now
            job.life.last_modified = now

    def list_evaluation_jobs(self, params: Mapping[str, str]) -> dict[str, Any]:
        return self._list(self.evaluation_jobs, params, EVALUATION_LISTING)

    # ----------------------------------------------------------------- lifecycle and lookups

    def _advance_all(self) -> None:
        now = self._clock()
        for deployment in self.deployments:
            lifecycle.advance_deployment(deployment, now)
        for throughput in self.throughputs:
            lifecycle.advance_throughput(throughput, now)
        for job in self.evaluation_jobs:
            lifecycle.advance_evaluation(job, now, self.stop_delay, self.objects)

    def _refuse_model_in_use(self, model: CustomModel) -> None:
        refusals.refuse_model_in_use(model, self.deployments, self.throughputs)

    def _deployment(self, identifier: str) -> Deployment:
        self._advance_all()
        return self.deployments.require(identifier)

    def _throughput(self, identifier: str) -> ProvisionedThroughput:
        self._advance_all()
        return self.throughputs.require(identifier)

    def _evaluation_job(self, identifier: str) -> EvaluationJob:
        if not EVALUATION_JOB_ARN_RE.match(identifier):
            raise validation_error(
                f"Invalid jobIdentifier {identifier!r}: GetEvaluationJob takes the job's ARN "
                "(arn:aws:bedrock:REGION:ACCOUNT:evaluation-job/ID); find it by name with ListEvaluationJobs."
            )
        self._advance_all()
        return self.evaluation_jobs.require(identifier)

    def _create(self, table: ResourceTable[R], token: str | None, build: Callable[[], R]) -> str:
        """A Create: the ARN of the resource ``build`` makes, or of the one this token made before."""
        with self.lock:
            resource, created = table.create(token, build)
            if created:
                log.info("created %s %s (%s)", table.kind, resource.name, resource.arn)
            return resource.arn

    def _list(self, table: ResourceTable[L], params: Mapping[str, str], listing: Listing) -> dict[str, Any]:
        """A List operation: the resources that pass its filters, a page of their summaries."""
        status = status_filter(params, listing.statuses)
        created = CreatedWindow.of(params, listing.created_after, listing.created_before)
        equals = [(params.get(param), attribute) for param, attribute in listing.equals]
        with self.lock:
            self._advance_all()
            items = [
                item
                for item in table
                if (status is None or item.status == status)
                and name_matches(item.name, params)
                and all(wanted in (None, getattr(item, attribute)) for wanted, attribute in equals)
                and created.holds(item.life.created)
            ]
            page, token = paginate(items, params, key=lambda item: (item.life.created, item.seq))
            return page_answer(listing.answer_key, [item.summary() for item in page], token)
