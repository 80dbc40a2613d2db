"""The emulated Bedrock model-customization control plane: the lifecycle of jobs and custom models.

Everything here is plain Python behind one lock; S3 is reached through the small ``ObjectStore``
protocol so the backend does not depend on how the objects are kept. Requests reach it already
checked against the API's constraints (``validation``); their answers are rendered by the
resources themselves (``models``).

Status is derived from the clock: a job is InProgress until its duration has passed, its stages
(validation, data processing, training) taking the first 20 %, the next 20 % and the rest of it.
Whatever crosses a boundary (a request that looks at the job, or the emulator's ticker thread)
advances the job under the lock, so the side effects of a boundary (checking the input data,
writing the metrics, creating the custom model) run exactly once, and a client that sees
``Completed`` can already read the metrics and get the custom model.
"""

from __future__ import annotations

import copy
import logging
import math
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bedrock_provider.emulator import refusals, training
from bedrock_provider.emulator.accounts import AccountServices, PermissiveAccount
from bedrock_provider.emulator.errors import BedrockError, not_found, quota_exceeded, validation_error
from bedrock_provider.emulator.models import (
    DATA_PROCESSING_STAGE,
    DEFAULT_FAILURE_MESSAGE,
    JOB_STATUSES,
    TAG_DURATION,
    TAG_FAILURE_MESSAGE,
    TAG_OUTCOME,
    TERMINAL,
    TRAINING_STAGE,
    VALIDATION_STAGE,
    CustomModel,
    Job,
)
from bedrock_provider.emulator.paging import paginate
from bedrock_provider.emulator.training import ArtifactWriteError, ObjectStore
from bedrock_provider.emulator.validation import (
    check_emulator_tags,
    decode_tag_value,
    float_tag,
    parse_bool,
    parse_time,
    tag_dict,
)

log = logging.getLogger(__name__)

# Jobs InProgress or Stopping at once, per account and Region: the default of the Amazon Bedrock service
# quota on concurrent model customization jobs, listed in Service Quotas and in
# https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock (an account's own value may be
# higher or lower: `aws service-quotas list-service-quotas --service-code bedrock` shows it).
DEFAULT_MAX_CONCURRENT_JOBS = 2

FOUNDATION_MODEL_ARN_RE = re.compile(
    r"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}::foundation-model/(?P<model>[^/]+)$"
)
JOB_ARN_RE = re.compile(
    r"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-customization-job/[^/]+/[a-z0-9]{12}$"
)
CUSTOM_MODEL_ARN_RE = re.compile(
    r"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model/(?P<base>[^/]+)/[a-z0-9]{12}$"
)
MODEL_ID_RE = re.compile(r"^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63}){1,3}(:[a-z0-9-]{1,63}){0,2}$")

_ID_ALPHABET = string.ascii_lowercase + string.digits

JobListener = Callable[[Job], None]


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class CustomizationBackend:
    """Jobs and custom models of one emulated account and region. Thread-safe."""

    def __init__(
        self,
        *,
        region: str,
        account_id: str,
        objects: ObjectStore,
        job_duration: float = 5.0,
        stop_delay: float = 0.5,
        clock: Callable[[], float] = time.time,
        account: AccountServices | None = None,
        max_concurrent_jobs: int = DEFAULT_MAX_CONCURRENT_JOBS,
    ) -> None:
        if max_concurrent_jobs < 1:
            raise ValueError(f"max_concurrent_jobs must be at least 1, got {max_concurrent_jobs}")
        self.region = region
        self.account_id = account_id
        self.partition = partition_of(region)
        self.objects = objects
        self.account = account or PermissiveAccount(self.partition, region, account_id)
        self.max_concurrent_jobs = max_concurrent_jobs
        self.job_duration = job_duration
        self.stop_delay = stop_delay
        self.clock = clock
        # Re-entrant so listeners may read the backend while a transition is being announced.
        self.lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._jobs_by_name: dict[str, Job] = {}
        self._jobs_by_token: dict[str, Job] = {}
        self._active: dict[str, Job] = {}
        self._models: dict[str, CustomModel] = {}
        self._models_by_name: dict[str, CustomModel] = {}
        self._seq = 0
        self._jobs_created = 0
        self._listeners: list[JobListener] = []
        self._delete_guards: list[Callable[[CustomModel], None]] = []

    # ----------------------------------------------------------------- housekeeping

    def add_listener(self, listener: JobListener) -> None:
        """Call ``listener(job)`` on every change of a job (under the lock)."""
        self._listeners.append(listener)

    def jobs_created(self) -> int:
        with self.lock:
            return self._jobs_created

    def job_summaries(self) -> list[dict[str, Any]]:
        with self.lock:
            self._advance_all()
            return [
                {"jobArn": j.arn, "jobName": j.name, "status": j.status}
                for j in sorted(self._jobs.values(), key=lambda j: j.seq)
            ]

    def reset(self) -> None:
        with self.lock:
            self._jobs.clear()
            self._jobs_by_name.clear()
            self._jobs_by_token.clear()
            self._active.clear()
            self._models.clear()
            self._models_by_name.clear()
            self._jobs_created = 0

    def tick(self) -> None:
        """Advance every running job; the ticker thread calls this so jobs end unobserved."""
        with self.lock:
            self._advance_all()

    # ----------------------------------------------------------------- jobs

    def create_job(self, request: Mapping[str, Any]) -> tuple[str, bool]:
        """CreateModelCustomizationJob on a request that passed validation.

        Returns (job ARN, whether a job was created).
        """
        tags = tag_dict(request.get("jobTags"), "jobTags")
        tag_dict(request.get("customModelTags"), "customModelTags")
        check_emulator_tags(tags)
        with self.lock:
            # Whole milliseconds, as rendered: a creationTime read back filters exactly.
            now = math.floor(self.clock() * 1000) / 1000
            # A job past its end no longer holds its custom model name: settle them all first.
            self._advance_all(now)
            name = request["jobName"]
            token = request.get("clientRequestToken")
            # "If this token matches a previous request, Amazon Bedrock ignores the request, but does not
            # return an error" (CreateModelCustomizationJob, clientRequestToken): whatever else changed.
            replayed = self._jobs_by_token.get(token) if token is not None else None
            if replayed is not None:
                return replayed.arn, False
            if name in self._jobs_by_name:
                raise validation_error("The provided job name is currently in use.")
            model_name = request["customModelName"]
            if model_name in self._models_by_name:
                raise validation_error(
                    f"The provided custom model name {model_name} is currently in use by an existing "
                    "custom model. Choose another customModelName or delete that model."
                )
            for job in self._active.values():
                if job.custom_model_name == model_name:
                    raise validation_error(
                        f"The provided custom model name {model_name} is currently in use by the "
                        f"model customization job {job.name}, which is {job.status}. Choose another "
                        "customModelName."
                    )
            base_model_id = self._check_model(request)
            role_problem = self.account.role_problem(request["roleArn"])
            if role_problem is not None:
                raise validation_error(role_problem)
            kms_key_arn = self._kms_arn(request.get("customModelKmsKeyId"))
            running = len(self._active)
            if running >= self.max_concurrent_jobs:
                raise quota_exceeded(
                    f"You have reached the quota of {self.max_concurrent_jobs} concurrent model "
                    f"customization jobs for this account in {self.region} ({running} running). Wait for "
                    "a job to end, or request a quota increase through Service Quotas."
                )
            job = self._new_job(request, tags, now, base_model_id, kms_key_arn)
            self._jobs[job.arn] = job
            self._jobs_by_name[job.name] = job
            if token is not None:
                self._jobs_by_token[token] = job
            self._active[job.arn] = job
            self._jobs_created += 1
            log.info("created job %s (%s, %.2fs)", job.name, job.arn, job.duration)
            self._notify(job)
            self._advance(job, now)
            return job.arn, True

    def get_job(self, identifier: str) -> dict[str, Any]:
        with self.lock:
            job = self._find_job(identifier)
            self._advance(job)
            return job.to_dict(self.clock())

    def stop_job(self, identifier: str) -> None:
        with self.lock:
            job = self._find_job(identifier)
            now = self.clock()
            self._advance(job, now)
            if job.status == "Stopping":
                return
            if job.status != "InProgress":
                raise validation_error(
                    f"Model customization job {job.name} cannot be stopped because its status is "
                    f"{job.status}. Only a job in InProgress status can be stopped."
                )
            job.status = "Stopping"
            job.stop_requested = now
            job.last_modified = now
            job.final_stage = job.stage_at(now)
            self._notify(job)
            self._advance(job, now)

    def end_job(self, identifier: str) -> None:
        """End an InProgress job now, with the outcome its tags ask for (an emulator control).

        The job's duration becomes the time it has run so far, so it ends exactly as if it had been
        created with that duration: the same checks, artifacts, custom model and events. Tests use a
        long ``emulator:duration`` and this to decide when a job ends, instead of racing a short one.
        """
        with self.lock:
            job = self._find_job(identifier)
            now = self.clock()
            self._advance(job, now)
            if job.status != "InProgress":
                raise ValueError(f"job {job.name} is {job.status}; only an InProgress job can be ended")
            job.duration = max(now - job.created, 0.0)
            self._advance(job, now)

    def list_jobs(self, params: Mapping[str, str]) -> dict[str, Any]:
        status = params.get("statusEquals")
        if status is not None and status not in JOB_STATUSES:
            raise validation_error(
                f"Invalid statusEquals {status!r}: expected one of {', '.join(JOB_STATUSES)}."
            )
        name_contains = params.get("nameContains")
        after = parse_time(params, "creationTimeAfter")
        before = parse_time(params, "creationTimeBefore")
        with self.lock:
            self._advance_all()
            now = self.clock()
            jobs = [
                j
                for j in self._jobs.values()
                if (status is None or j.status == status)
                and (not name_contains or name_contains.lower() in j.name.lower())
                and (after is None or j.created > after)
                and (before is None or j.created < before)
            ]
            page, token = paginate(jobs, params, key=lambda j: (j.created, j.seq))
            result: dict[str, Any] = {"modelCustomizationJobSummaries": [j.summary(now) for j in page]}
        if token is not None:
            result["nextToken"] = token
        return result

    # ----------------------------------------------------------------- custom models

    def get_custom_model(self, identifier: str) -> dict[str, Any]:
        with self.lock:
            self._advance_all()
            return self._find_model(identifier).to_dict()

    def delete_custom_model(self, identifier: str) -> None:
        with self.lock:
            self._advance_all()
            model = self._find_model(identifier)
            for guard in self._delete_guards:
                # Bedrock refuses to delete a model that something still serves (a deployment).
                guard(model)
            del self._models[model.arn]
            del self._models_by_name[model.name]

    def add_delete_guard(self, guard: Callable[[CustomModel], None]) -> None:
        """Call ``guard(model)`` under the lock before a custom model is deleted; it raises to refuse."""
        self._delete_guards.append(guard)

    def find_custom_model(self, identifier: str) -> CustomModel | None:
        """The custom model of that name or ARN, or None (for the other resources that refer to one)."""
        with self.lock:
            self._advance_all()
            return self._models.get(identifier) or self._models_by_name.get(identifier)

    def list_custom_models(self, params: Mapping[str, str]) -> dict[str, Any]:
        name_contains = params.get("nameContains")
        base_arn = params.get("baseModelArnEquals")
        foundation_arn = params.get("foundationModelArnEquals")
        model_status = params.get("modelStatus")
        # Every custom model here belongs to this account: none is shared from another one.
        owned = parse_bool(params, "isOwned")
        after = parse_time(params, "creationTimeAfter")
        before = parse_time(params, "creationTimeBefore")
        with self.lock:
            self._advance_all()
            models = [
                m
                for m in self._models.values()
                if (not name_contains or name_contains.lower() in m.name.lower())
                and (base_arn is None or m.job.base_model_arn == base_arn)
                and (foundation_arn is None or m.job.base_model_arn == foundation_arn)
                and (model_status is None or model_status == "Active")
                and owned is not False
                and (after is None or m.created > after)
                and (before is None or m.created < before)
            ]
            page, token = paginate(models, params, key=lambda m: (m.created, m.seq))
            result: dict[str, Any] = {"modelSummaries": [m.summary() for m in page]}
        if token is not None:
            result["nextToken"] = token
        return result

    # ----------------------------------------------------------------- tags

    @staticmethod
    def owns_arn(arn: str) -> bool:
        """Whether the ARN names a resource kept here (and not by moto's own Bedrock backend)."""
        return bool(JOB_ARN_RE.match(arn) or CUSTOM_MODEL_ARN_RE.match(arn))

    def tag_resource(self, arn: str, tags: Any) -> None:
        new_tags = tag_dict(tags, "tags")
        with self.lock:
            target = self._tag_target(arn)
            merged = {**target, **new_tags}
            if len(merged) > 200:
                raise BedrockError(
                    "TooManyTagsException", f"Resource {arn} would have more than 200 tags.", 400
                )
            if JOB_ARN_RE.match(arn):
                check_emulator_tags(merged)
            target.update(new_tags)

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        with self.lock:
            target = self._tag_target(arn)
            for key in keys:
                target.pop(key, None)

    def list_tags(self, arn: str) -> dict[str, Any]:
        with self.lock:
            target = self._tag_target(arn)
            return {"tags": [{"key": k, "value": v} for k, v in target.items()]}

    def _tag_target(self, arn: str) -> dict[str, str]:
        if arn in self._jobs:
            return self._jobs[arn].tags
        self._advance_all()
        if arn in self._models:
            return self._models[arn].tags
        raise not_found(f"The resource {arn} was not found. Check the ARN and the region.")

    # ----------------------------------------------------------------- lifecycle

    def _advance_all(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        for job in list(self._active.values()):
            self._advance(job, now)

    def _advance(self, job: Job, now: float | None = None) -> None:
        if job.status in TERMINAL:
            return
        now = self.clock() if now is None else now
        if job.status == "Stopping":
            requested = job.stop_requested if job.stop_requested is not None else now
            stopped_at = requested + self.stop_delay
            if now >= stopped_at:
                self._finish(job, "Stopped", job.stage_at(requested), stopped_at)
            return
        bounds = job.bounds()
        if not job.data_checked and now >= bounds[DATA_PROCESSING_STAGE]:
            job.data_checked = True
            problem = training.check_inputs(job, self.objects)
            if problem is not None:
                self._finish(job, "Failed", VALIDATION_STAGE, bounds[DATA_PROCESSING_STAGE], problem)
                return
        if now < bounds[-1]:
            previous = job.last_modified
            job.last_modified = max(b for b in bounds[:-1] if b <= now)
            if job.last_modified != previous:
                self._notify(job)
            return
        ended = bounds[-1]
        outcome = job.tags.get(TAG_OUTCOME, "Completed")
        if outcome == "Failed":
            message = decode_tag_value(job.tags.get(TAG_FAILURE_MESSAGE) or "") or DEFAULT_FAILURE_MESSAGE
            self._finish(job, "Failed", TRAINING_STAGE, ended, message)
        elif outcome == "Stopped":
            self._finish(job, "Stopped", TRAINING_STAGE, ended)
        else:
            self._complete(job, ended)

    def _finish(self, job: Job, status: str, stage: int, when: float, message: str | None = None) -> None:
        job.status = status
        job.final_stage = stage
        job.end_time = when
        job.last_modified = when
        job.failure_message = message if status == "Failed" else None
        self._active.pop(job.arn, None)
        log.info("job %s %s%s", job.name, status, f": {message}" if message else "")
        self._notify(job)

    def _complete(self, job: Job, when: float) -> None:
        try:
            training.write_artifacts(job, self.objects)
        except ArtifactWriteError as exc:
            self._finish(job, "Failed", TRAINING_STAGE, when, str(exc))
            return
        except Exception as exc:
            # A bug here must not kill the ticker and leave every job InProgress forever.
            log.exception("writing the artifacts of job %s failed", job.arn)
            self._finish(
                job, "Failed", TRAINING_STAGE, when, f"Internal error writing the job's artifacts: {exc}"
            )
            return
        model_arn = self._arn("custom-model", f"{job.base_model_id}/{self._new_id(self._models)}")
        self._seq += 1
        model = CustomModel(
            seq=self._seq,
            arn=model_arn,
            name=job.custom_model_name,
            job=job,
            created=when,
            owner_account_id=self.account_id,
            tags=dict(job.custom_model_tags),
        )
        self._models[model.arn] = model
        self._models_by_name[model.name] = model
        job.output_model_arn = model_arn
        self._finish(job, "Completed", TRAINING_STAGE, when)

    def _notify(self, job: Job) -> None:
        for listener in list(self._listeners):
            try:
                listener(job)
            except Exception:
                log.exception("job listener %r failed", listener)

    # ----------------------------------------------------------------- lookups

    def _find_job(self, identifier: str) -> Job:
        job = self._jobs.get(identifier) or self._jobs_by_name.get(identifier)
        if job is None:
            raise not_found(
                f"The model customization job {identifier} was not found. Check the job name or ARN and "
                f"the region ({self.region})."
            )
        return job

    def _find_model(self, identifier: str) -> CustomModel:
        model = self._models.get(identifier) or self._models_by_name.get(identifier)
        if model is None:
            raise not_found(
                f"The custom model {identifier} was not found. Check the model name or ARN and the "
                f"region ({self.region})."
            )
        return model

    # ----------------------------------------------------------------- creation

    def _new_job(
        self,
        request: Mapping[str, Any],
        tags: dict[str, str],
        now: float,
        base_model_id: str,
        kms: str | None,
    ) -> Job:
        job_id = self._new_id(self._jobs)
        duration = float_tag(tags, TAG_DURATION)
        self._seq += 1
        return Job(
            seq=self._seq,
            arn=self._arn("model-customization-job", f"{base_model_id}/{job_id}"),
            job_id=job_id,
            name=request["jobName"],
            custom_model_name=request["customModelName"],
            role_arn=request["roleArn"],
            client_request_token=request.get("clientRequestToken"),
            base_model_id=base_model_id,
            base_model_arn=f"arn:{self.partition}:bedrock:{self.region}::foundation-model/{base_model_id}",
            customization_type=request.get("customizationType") or "FINE_TUNING",
            kms_key_arn=kms,
            hyper_parameters=dict(request.get("hyperParameters") or {}),
            training_data_config=copy.deepcopy(request["trainingDataConfig"]),
            validation_data_config=copy.deepcopy(request.get("validationDataConfig")),
            output_data_config=copy.deepcopy(request["outputDataConfig"]),
            vpc_config=copy.deepcopy(request.get("vpcConfig")),
            customization_config=copy.deepcopy(request.get("customizationConfig")),
            tags=tags,
            custom_model_tags=tag_dict(request.get("customModelTags"), "customModelTags"),
            created=now,
            duration=duration if duration is not None else self.job_duration,
            last_modified=now,
        )

    def _check_model(self, request: Mapping[str, Any]) -> str:
        """The base model id the job trains, once model, type and hyperparameters pass Bedrock's checks."""
        refusals.check_customization_type(request)
        base_model_id = self._resolve_base_model(request["baseModelIdentifier"])
        return refusals.check_customization(request, base_model_id, self.region)

    def _resolve_base_model(self, identifier: str) -> str:
        """The foundation model id (as given) of a model id or ARN, or of the custom model named."""
        match = FOUNDATION_MODEL_ARN_RE.match(identifier)
        if match:
            return identifier
        match = CUSTOM_MODEL_ARN_RE.match(identifier)
        if match:
            model = self._models.get(identifier)
            if model is None:
                raise not_found(f"The base model {identifier} (baseModelIdentifier) was not found.")
            return model.job.base_model_id
        if MODEL_ID_RE.match(identifier):
            return identifier
        model = self._models_by_name.get(identifier)
        if model is not None:
            return model.job.base_model_id
        raise not_found(
            f"The base model {identifier} (baseModelIdentifier) was not found. Use a foundation model id "
            "such as amazon.titan-text-express-v1, its ARN, or a custom model's name or ARN."
        )

    def _kms_arn(self, key: str | None) -> str | None:
        if not key:
            return None
        arn = self.account.kms_key_arn(key)
        if arn is None:
            raise validation_error(
                f"The provided KMS key {key} (customModelKmsKeyId) was not found in {self.region}. Check the "
                "key id, alias or ARN and that the key is in this Region."
            )
        return arn

    def _arn(self, kind: str, rest: str) -> str:
        return f"arn:{self.partition}:bedrock:{self.region}:{self.account_id}:{kind}/{rest}"

    @staticmethod
    def _new_id(taken: Mapping[str, Any]) -> str:
        while True:
            candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
            if not any(arn.endswith("/" + candidate) for arn in taken):
                return candidate
