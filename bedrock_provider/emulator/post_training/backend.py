"""The lifecycle of deployments, provisioned throughput and evaluation jobs, and Bedrock's refusals.

Shares the customization backend's lock, so "delete a custom model" and "deploy it" never race: a
custom model that a deployment or a provisioned throughput still serves cannot be deleted
(ConflictException), and only a deployed model (an Active deployment, an InService provisioned
throughput) or a foundation model can be evaluated.

An evaluation job writes its results as Bedrock documents them (see ``results``).
"""

from __future__ import annotations

import logging
import secrets
import string
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from bedrock_provider.emulator.backend import (
    CUSTOM_MODEL_ARN_RE,
    FOUNDATION_MODEL_ARN_RE,
    MODEL_ID_RE,
    CustomizationBackend,
)
from bedrock_provider.emulator.errors import BedrockError, not_found, validation_error
from bedrock_provider.emulator.models import TAG_DURATION, TAG_FAILURE_MESSAGE, TAG_OUTCOME, CustomModel
from bedrock_provider.emulator.paging import paginate
from bedrock_provider.emulator.post_training import validation as checks
from bedrock_provider.emulator.post_training.models import (
    DEPLOYMENT_STATUSES,
    EVALUATION_STATUSES,
    THROUGHPUT_STATUSES,
    Deployment,
    EvaluationJob,
    Lifecycle,
    ProvisionedThroughput,
)
from bedrock_provider.emulator.post_training.results import check_score_tags, write_results
from bedrock_provider.emulator.training import ObjectStore
from bedrock_provider.emulator.validation import MAX_TAGS, decode_tag_value, float_tag, parse_time

log = logging.getLogger(__name__)

DEPLOYMENT_OUTCOMES = ("Completed", "Active", "InService", "Failed")
EVALUATION_OUTCOMES = ("Completed", "Failed", "Stopped")
DEFAULT_DEPLOYMENT_FAILURE = "The deployment could not be created because of an internal error. Try again."
DEFAULT_EVALUATION_FAILURE = "An internal error occurred while running the evaluation job. Retry the job."
_ID_ALPHABET = string.ascii_lowercase + string.digits

R = TypeVar("R", Deployment, ProvisionedThroughput, EvaluationJob)


class PostTrainingBackend:
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
        self.deployments: dict[str, Deployment] = {}
        self.throughputs: dict[str, ProvisionedThroughput] = {}
        self.evaluation_jobs: dict[str, EvaluationJob] = {}
        self._tokens: dict[tuple[str, str], str] = {}
        customization.add_delete_guard(self._refuse_model_in_use)

    # ----------------------------------------------------------------- housekeeping

    def reset(self) -> None:
        with self.lock:
            self.deployments.clear()
            self.throughputs.clear()
            self.evaluation_jobs.clear()
            self._tokens.clear()

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
            checks.DEPLOYMENT_ARN_RE.match(arn)
            or checks.PROVISIONED_ARN_RE.match(arn)
            or checks.EVALUATION_JOB_ARN_RE.match(arn)
        )

    def tag_target(self, arn: str) -> dict[str, str]:
        """The tags of a resource kept here (TagResource, UntagResource, ListTagsForResource)."""
        with self.lock:
            for table in (self.deployments, self.throughputs, self.evaluation_jobs):
                resource = table.get(arn)
                if resource is not None:
                    return resource.tags
        raise not_found(f"The resource {arn} was not found. Check the ARN and the region.")

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        with self.lock:
            target = self.tag_target(arn)
            if len({**target, **tags}) > MAX_TAGS:
                raise BedrockError(
                    "TooManyTagsException", f"Resource {arn} would have more than {MAX_TAGS} tags.", 400
                )
            target.update(tags)

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        with self.lock:
            target = self.tag_target(arn)
            for key in keys:
                target.pop(key, None)

    # ----------------------------------------------------------------- deployments

    def create_deployment(self, body: Mapping[str, Any]) -> str:
        request = checks.check_deployment(body)
        with self.lock:
            replay = self._replay("deployment", request["token"], self.deployments)
            if replay is not None:
                return replay
            model = self._custom_model(request["model_arn"], "modelArn")
            if not CUSTOM_MODEL_ARN_RE.match(request["model_arn"]):
                raise validation_error(
                    f"Invalid modelArn {request['model_arn']!r}: expected the ARN of a custom model "
                    f"(such as {model.arn})."
                )
            if any(d.name == request["name"] for d in self.deployments.values()):
                raise validation_error(
                    f"A custom model deployment named {request['name']} already exists. Choose another "
                    "modelDeploymentName or delete that deployment."
                )
            now = self._clock()
            deployment = Deployment(
                seq=self._next_seq(),
                arn=self._arn("custom-model-deployment", self._new_id()),
                name=request["name"],
                model_arn=model.arn,
                description=request["description"],
                client_request_token=request["token"],
                life=self._life(request["tags"], now, DEPLOYMENT_OUTCOMES, DEFAULT_DEPLOYMENT_FAILURE),
                tags=request["tags"],
            )
            self.deployments[deployment.arn] = deployment
            self._remember("deployment", request["token"], deployment.arn)
            log.info("created deployment %s of %s", deployment.name, model.arn)
            return deployment.arn

    def get_deployment(self, identifier: str) -> dict[str, Any]:
        with self.lock:
            return self._deployment(identifier).to_dict()

    def delete_deployment(self, identifier: str) -> None:
        with self.lock:
            deployment = self._deployment(identifier)
            del self.deployments[deployment.arn]

    def update_deployment(self, identifier: str, body: Mapping[str, Any]) -> str:
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
            model = self._custom_model(model_arn, "modelArn")
            now = self._clock()
            deployment.pending_model_arn = model.arn
            deployment.update_status = "Updating"
            deployment.life.started = now
            deployment.life.done = False
            deployment.life.last_modified = now
            return deployment.arn

    def list_deployments(self, params: Mapping[str, str]) -> dict[str, Any]:
        status = self._status_filter(params, DEPLOYMENT_STATUSES)
        with self.lock:
            self._advance_all()
            items = [
                d
                for d in self.deployments.values()
                if (status is None or d.status == status)
                and _name_matches(d.name, params)
                and params.get("modelArnEquals") in (None, d.model_arn)
                and _created_between(d.life.created, params, "createdAfter", "createdBefore")
            ]
            page, token = paginate(items, params, key=lambda d: (d.life.created, d.seq))
            return _page("modelDeploymentSummaries", [d.summary() for d in page], token)

    # ----------------------------------------------------------------- provisioned throughput

    def create_throughput(self, body: Mapping[str, Any]) -> str:
        request = checks.check_throughput(body)
        with self.lock:
            replay = self._replay("throughput", request["token"], self.throughputs)
            if replay is not None:
                return replay
            model_arn, foundation_arn = self._throughput_model(request["model_id"], "modelId")
            if any(t.name == request["name"] for t in self.throughputs.values()):
                raise validation_error(
                    f"A provisioned throughput named {request['name']} already exists. Choose another "
                    "provisionedModelName or delete that provisioned throughput."
                )
            now = self._clock()
            throughput = ProvisionedThroughput(
                seq=self._next_seq(),
                arn=self._arn("provisioned-model", self._new_id()),
                name=request["name"],
                model_arn=model_arn,
                foundation_model_arn=foundation_arn,
                model_units=request["units"],
                commitment=request["commitment"],
                client_request_token=request["token"],
                life=self._life(request["tags"], now, DEPLOYMENT_OUTCOMES, DEFAULT_DEPLOYMENT_FAILURE),
                tags=request["tags"],
            )
            self.throughputs[throughput.arn] = throughput
            self._remember("throughput", request["token"], throughput.arn)
            log.info("created provisioned throughput %s of %s", throughput.name, model_arn)
            return throughput.arn

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
                model_arn, foundation_arn = self._throughput_model(str(model_id), "desiredModelId")
                if foundation_arn != throughput.foundation_model_arn:
                    raise validation_error(
                        f"desiredModelId {model_id} is built on {foundation_arn}, but provisioned "
                        f"throughput {throughput.name} serves {throughput.foundation_model_arn}: a "
                        "provisioned throughput can only move to a model of the same base model."
                    )
                throughput.desired_model_arn = model_arn
            now = self._clock()
            throughput.status = "Updating"
            throughput.life.started = now
            throughput.life.done = False
            throughput.life.last_modified = now

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
            del self.throughputs[throughput.arn]

    def list_throughputs(self, params: Mapping[str, str]) -> dict[str, Any]:
        status = self._status_filter(params, THROUGHPUT_STATUSES)
        with self.lock:
            self._advance_all()
            items = [
                t
                for t in self.throughputs.values()
                if (status is None or t.status == status)
                and _name_matches(t.name, params)
                and params.get("modelArnEquals") in (None, t.model_arn)
                and _created_between(t.life.created, params, "creationTimeAfter", "creationTimeBefore")
            ]
            page, token = paginate(items, params, key=lambda t: (t.life.created, t.seq))
            return _page("provisionedModelSummaries", [t.summary() for t in page], token)

    # ----------------------------------------------------------------- evaluation jobs

    def create_evaluation_job(self, body: Mapping[str, Any]) -> str:
        request = checks.check_evaluation_job(body)
        with self.lock:
            replay = self._replay("evaluation", request["token"], self.evaluation_jobs)
            if replay is not None:
                return replay
            if any(j.name == request["name"] for j in self.evaluation_jobs.values()):
                raise BedrockError(
                    "ConflictException",
                    f"An evaluation job named {request['name']} already exists. Choose another jobName.",
                    400,
                )
            role_problem = self.customization.account.role_problem(request["role"])
            if role_problem is not None:
                raise validation_error(role_problem)
            models = request["inference_config"]["models"]
            for index, model in enumerate(models):
                self._check_evaluated_model(
                    model["bedrockModel"]["modelIdentifier"],
                    f"inferenceConfig.models[{index}].bedrockModel.modelIdentifier",
                )
            tags = request["tags"]
            check_score_tags(tags)
            now = self._clock()
            job_id = self._new_id()
            job = EvaluationJob(
                seq=self._next_seq(),
                arn=self._arn("evaluation-job", job_id),
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
                life=self._life(tags, now, EVALUATION_OUTCOMES, DEFAULT_EVALUATION_FAILURE, evaluation=True),
                tags=tags,
                end_outcome=tags.get(TAG_OUTCOME, "Completed"),
            )
            self.evaluation_jobs[job.arn] = job
            self._remember("evaluation", request["token"], job.arn)
            log.info("created evaluation job %s", job.name)
            return job.arn

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
        status = self._status_filter(params, EVALUATION_STATUSES)
        with self.lock:
            self._advance_all()
            items = [
                j
                for j in self.evaluation_jobs.values()
                if (status is None or j.status == status)
                and _name_matches(j.name, params)
                and params.get("applicationTypeEquals") in (None, j.application_type)
                and _created_between(j.life.created, params, "creationTimeAfter", "creationTimeBefore")
            ]
            page, token = paginate(items, params, key=lambda j: (j.life.created, j.seq))
            return _page("jobSummaries", [j.summary() for j in page], token)

    # ----------------------------------------------------------------- lifecycle

    def _advance_all(self) -> None:
        now = self._clock()
        for deployment in self.deployments.values():
            self._advance_deployment(deployment, now)
        for throughput in self.throughputs.values():
            self._advance_throughput(throughput, now)
        for job in self.evaluation_jobs.values():
            self._advance_evaluation(job, now)

    def _advance_deployment(self, deployment: Deployment, now: float) -> None:
        life = deployment.life
        if not life.due(now):
            return
        life.done = True
        life.last_modified = life.ends_at()
        if deployment.update_status == "Updating":
            deployment.model_arn = deployment.pending_model_arn or deployment.model_arn
            deployment.update_status = "UpdateCompleted"
            return
        deployment.status = "Active" if life.succeeds else "Failed"

    def _advance_throughput(self, throughput: ProvisionedThroughput, now: float) -> None:
        life = throughput.life
        if not life.due(now):
            return
        life.done = True
        life.last_modified = life.ends_at()
        if throughput.status == "Updating":
            throughput.model_arn = throughput.desired_model_arn or throughput.model_arn
            throughput.name = throughput.desired_name or throughput.name
            throughput.desired_model_arn = throughput.desired_name = None
            throughput.status = "InService"
            return
        throughput.status = "InService" if life.succeeds else "Failed"

    def _advance_evaluation(self, job: EvaluationJob, now: float) -> None:
        if job.status == "Stopping":
            requested = job.stop_requested if job.stop_requested is not None else now
            if now >= requested + self.stop_delay:
                job.status = "Stopped"
                job.life.done = True
                job.life.last_modified = requested + self.stop_delay
            return
        if job.status != "InProgress" or not job.life.due(now):
            return
        job.life.done = True
        job.life.last_modified = job.life.ends_at()
        if job.end_outcome == "Stopped":
            job.status = "Stopped"
            return
        problem = None if job.life.succeeds else (job.life.failure_message or DEFAULT_EVALUATION_FAILURE)
        if problem is None:
            try:
                problem = write_results(job, self.objects)
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

    # ----------------------------------------------------------------- refusals and lookups

    def _refuse_model_in_use(self, model: CustomModel) -> None:
        for deployment in self.deployments.values():
            if model.arn in (deployment.model_arn, deployment.pending_model_arn):
                raise BedrockError(
                    "ConflictException",
                    f"The custom model {model.name} can't be deleted because custom model deployment "
                    f"{deployment.name} ({deployment.arn}) uses it. Delete the deployment first.",
                    400,
                )
        for throughput in self.throughputs.values():
            if model.arn in (throughput.model_arn, throughput.desired_model_arn):
                raise BedrockError(
                    "ConflictException",
                    f"The custom model {model.name} can't be deleted because provisioned throughput "
                    f"{throughput.name} ({throughput.arn}) uses it. Delete the provisioned throughput first.",
                    400,
                )

    def _check_evaluated_model(self, identifier: str, field_name: str) -> None:
        self._advance_all()
        if checks.DEPLOYMENT_ARN_RE.match(identifier):
            deployment = self.deployments.get(identifier)
            if deployment is None:
                raise not_found(f"The custom model deployment {identifier} ({field_name}) was not found.")
            if deployment.status != "Active":
                raise validation_error(
                    f"The custom model deployment {deployment.name} ({field_name}) is {deployment.status}; "
                    "a model can be evaluated once its deployment is Active."
                )
            return
        if checks.PROVISIONED_ARN_RE.match(identifier):
            throughput = self.throughputs.get(identifier)
            if throughput is None:
                raise not_found(f"The provisioned throughput {identifier} ({field_name}) was not found.")
            if throughput.status not in ("InService", "Updating"):
                raise validation_error(
                    f"The provisioned throughput {throughput.name} ({field_name}) is {throughput.status}; "
                    "a model can be evaluated once its provisioned throughput is InService."
                )
            return
        model = self.customization.find_custom_model(identifier)
        if model is not None or CUSTOM_MODEL_ARN_RE.match(identifier):
            raise validation_error(
                f"{field_name} {identifier} is a custom model, which cannot be invoked until it is "
                "deployed. Create a custom model deployment (or a provisioned throughput) for it and "
                "evaluate the deployment's ARN."
            )
        if not (FOUNDATION_MODEL_ARN_RE.match(identifier) or MODEL_ID_RE.match(identifier)):
            raise validation_error(
                f"Invalid {field_name} {identifier!r}: expected a foundation model id or ARN, a custom model "
                "deployment ARN or a provisioned throughput ARN."
            )

    def _custom_model(self, identifier: str, field_name: str) -> CustomModel:
        model = self.customization.find_custom_model(identifier)
        if model is None:
            raise not_found(
                f"The custom model {identifier} ({field_name}) was not found. Check the model name or ARN "
                f"and the region ({self.customization.region})."
            )
        return model

    def _throughput_model(self, identifier: str, field_name: str) -> tuple[str, str]:
        """(model ARN, foundation model ARN) of what a provisioned throughput serves."""
        match = FOUNDATION_MODEL_ARN_RE.match(identifier)
        if match or (
            MODEL_ID_RE.match(identifier) and self.customization.find_custom_model(identifier) is None
        ):
            model_id = match.group("model") if match else identifier
            home = self.customization
            arn = f"arn:{home.partition}:bedrock:{home.region}::foundation-model/{model_id}"
            return arn, arn
        model = self._custom_model(identifier, field_name)
        return model.arn, model.job.base_model_arn

    def _deployment(self, identifier: str) -> Deployment:
        self._advance_all()
        return _lookup(self.deployments, identifier, "custom model deployment", checks.DEPLOYMENT_ARN_RE)

    def _throughput(self, identifier: str) -> ProvisionedThroughput:
        self._advance_all()
        return _lookup(self.throughputs, identifier, "provisioned throughput", checks.PROVISIONED_ARN_RE)

    def _evaluation_job(self, identifier: str) -> EvaluationJob:
        if not checks.EVALUATION_JOB_ARN_RE.match(identifier):
            raise validation_error(
                f"Invalid jobIdentifier {identifier!r}: GetEvaluationJob takes the job's ARN "
                "(arn:aws:bedrock:REGION:ACCOUNT:evaluation-job/ID); find it by name with ListEvaluationJobs."
            )
        self._advance_all()
        job = self.evaluation_jobs.get(identifier)
        if job is None:
            raise not_found(f"The evaluation job {identifier} was not found. Check the ARN and the region.")
        return job

    @staticmethod
    def _status_filter(params: Mapping[str, str], statuses: tuple[str, ...]) -> str | None:
        status = params.get("statusEquals")
        if status is not None and status not in statuses:
            raise validation_error(f"Invalid statusEquals {status!r}: expected one of {', '.join(statuses)}.")
        return status

    # ----------------------------------------------------------------- creation helpers

    def _life(
        self,
        tags: Mapping[str, str],
        now: float,
        outcomes: tuple[str, ...],
        default_failure: str,
        evaluation: bool = False,
    ) -> Lifecycle:
        outcome = tags.get(TAG_OUTCOME)
        if outcome is not None and outcome not in outcomes:
            raise validation_error(
                f"Invalid tag {TAG_OUTCOME}={outcome!r}: expected one of {', '.join(outcomes)}."
            )
        duration = float_tag(tags, TAG_DURATION)
        if duration is None:
            duration = self.evaluation_duration if evaluation else self.deployment_duration
        failed = outcome == "Failed"
        return Lifecycle(
            created=now,
            duration=duration,
            succeeds=not failed,
            failure_message=(decode_tag_value(tags.get(TAG_FAILURE_MESSAGE) or "") or default_failure)
            if failed
            else None,
            last_modified=now,
            started=now,
        )

    def _replay(self, kind: str, token: str | None, table: Mapping[str, Any]) -> str | None:
        """A Create whose clientRequestToken was seen before returns the earlier resource, as AWS does."""
        if token is None:
            return None
        arn = self._tokens.get((kind, token))
        return arn if arn is not None and arn in table else None

    def _remember(self, kind: str, token: str | None, arn: str) -> None:
        if token is not None:
            self._tokens[(kind, token)] = arn

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _arn(self, kind: str, resource_id: str) -> str:
        home = self.customization
        return f"arn:{home.partition}:bedrock:{home.region}:{home.account_id}:{kind}/{resource_id}"

    def _new_id(self) -> str:
        taken = {*self.deployments, *self.throughputs, *self.evaluation_jobs}
        while True:
            candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
            if not any(arn.endswith("/" + candidate) for arn in taken):
                return candidate


def _lookup(table: Mapping[str, R], identifier: str, what: str, arn_pattern: Any) -> R:
    found = table.get(identifier)
    if found is None and not arn_pattern.match(identifier):
        found = next((item for item in table.values() if item.name == identifier), None)
    if found is None:
        raise not_found(f"The {what} {identifier} was not found. Check the name or ARN and the region.")
    return found


def _name_matches(name: str, params: Mapping[str, str]) -> bool:
    contains = params.get("nameContains")
    return not contains or contains.lower() in name.lower()


def _created_between(created: float, params: Mapping[str, str], after: str, before: str) -> bool:
    low, high = parse_time(params, after), parse_time(params, before)
    return (low is None or created > low) and (high is None or created < high)


def _page(key: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {key: items}
    if token is not None:
        out["nextToken"] = token
    return out
