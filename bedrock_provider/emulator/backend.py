"""The emulated Bedrock model-customization control plane: the API's jobs and custom models.

Everything here is plain Python behind one lock; S3 is reached through the small ``ObjectStore``
protocol so the backend does not depend on how the objects are kept. Requests reach it already
checked against the API's constraints (``validation``); what Create checks beyond them is in
``create_checks`` and ``refusals``; answers are rendered by the resources themselves (``models``); the
clock moves the jobs along (``lifecycle``).
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bedrock_provider.emulator.accounts import AccountServices, PermissiveAccount
from bedrock_provider.emulator.arns import CUSTOM_MODEL_ARN_RE, JOB_ARN_RE, ArnMinter
from bedrock_provider.emulator.create_checks import (
    check_grader,
    check_names_free,
    check_quota,
    check_role,
    checked_base_model,
    kms_key_arn,
)
from bedrock_provider.emulator.errors import not_found, validation_error
from bedrock_provider.emulator.lifecycle import JobLifecycle, JobListener
from bedrock_provider.emulator.models import JOB_STATUSES, TAG_DURATION, CustomModel, Job
from bedrock_provider.emulator.paging import CreatedWindow, name_matches, page_answer, paginate, status_filter
from bedrock_provider.emulator.store import ResourceTable
from bedrock_provider.emulator.tagging import add_tags, remove_tags, tag_list
from bedrock_provider.emulator.training import ObjectStore
from bedrock_provider.emulator.validation import check_emulator_tags, float_tag, parse_bool, tag_dict

log = logging.getLogger(__name__)

# Jobs InProgress or Stopping at once, per account and Region: the default of the Amazon Bedrock service
# quota on concurrent model customization jobs, listed in Service Quotas and in
# https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock (an account's own value may be
# higher or lower: `aws service-quotas list-service-quotas --service-code bedrock` shows it).
DEFAULT_MAX_CONCURRENT_JOBS = 2


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
        self.arns = ArnMinter(region, account_id)
        self.partition = self.arns.partition
        self.objects = objects
        self.account = account or PermissiveAccount(self.partition, region, account_id)
        self.max_concurrent_jobs = max_concurrent_jobs
        self.job_duration = job_duration
        self.clock = clock
        # Re-entrant so listeners may read the backend while a transition is being announced.
        self.lock = threading.RLock()
        self._jobs: ResourceTable[Job] = ResourceTable(
            "model customization job", f"Check the job name or ARN and the region ({region})."
        )
        self._models: ResourceTable[CustomModel] = ResourceTable(
            "custom model", f"Check the model name or ARN and the region ({region})."
        )
        self.lifecycle = JobLifecycle(objects, clock, stop_delay, self._keep_custom_model)
        self._seq = 0
        self._jobs_created = 0
        self._delete_guards: list[Callable[[CustomModel], None]] = []
        # The account's model invocation logging (PutModelInvocationLoggingConfiguration); None: off,
        # which is AWS's default (https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html).
        self._logging_config: dict[str, Any] | None = None

    # ----------------------------------------------------------------- housekeeping

    def add_listener(self, listener: JobListener) -> None:
        """Call ``listener(job)`` on every change of a job (under the lock)."""
        self.lifecycle.listeners.append(listener)

    def jobs_created(self) -> int:
        with self.lock:
            return self._jobs_created

    def job_summaries(self) -> list[dict[str, Any]]:
        with self.lock:
            self.lifecycle.advance_all()
            return [
                {"jobArn": j.arn, "jobName": j.name, "status": j.status}
                for j in sorted(self._jobs, key=lambda j: j.seq)
            ]

    def reset(self) -> None:
        with self.lock:
            self._jobs.clear()
            self.lifecycle.running.clear()
            self._models.clear()
            self._jobs_created = 0
            self._logging_config = None

    # ----------------------------------------------------------------- invocation logging

    def get_logging_config(self) -> dict[str, Any]:
        """GetModelInvocationLoggingConfiguration's answer: no loggingConfig while logging is off."""
        with self.lock:
            return {"loggingConfig": copy.deepcopy(self._logging_config)} if self._logging_config else {}

    def put_logging_config(self, config: Mapping[str, Any]) -> None:
        """PutModelInvocationLoggingConfiguration: the destinations must exist ("Before you can enable
        invocation logging, you need to set up an Amazon S3 or CloudWatch Logs destination")."""
        bucket = (config.get("s3Config") or {}).get("bucketName")
        if bucket is not None and not self.objects.bucket_exists(bucket):
            raise validation_error(
                f"The S3 bucket {bucket} (loggingConfig.s3Config.bucketName) does not exist. Create it "
                "before turning on model invocation logging to it."
            )
        with self.lock:
            self._logging_config = copy.deepcopy(dict(config))

    def delete_logging_config(self) -> None:
        with self.lock:
            self._logging_config = None

    def tick(self) -> None:
        """Advance every running job; the ticker thread calls this so jobs end unobserved."""
        with self.lock:
            self.lifecycle.advance_all()

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
            self.lifecycle.advance_all(now)
            # "If this token matches a previous request, Amazon Bedrock ignores the request, but does not
            # return an error" (CreateModelCustomizationJob, clientRequestToken): whatever else changed.
            job, created = self._jobs.create(
                request.get("clientRequestToken"), lambda: self._new_job(request, tags, now)
            )
            if created:
                self._jobs_created += 1
                log.info("created job %s (%s, %.2fs)", job.name, job.arn, job.duration)
                self.lifecycle.start(job, now)
            return job.arn, created

    def get_job(self, identifier: str) -> dict[str, Any]:
        with self.lock:
            job = self._jobs.require(identifier)
            self.lifecycle.advance(job)
            return job.to_dict(self.clock())

    def stop_job(self, identifier: str) -> None:
        with self.lock:
            job = self._jobs.require(identifier)
            now = self.clock()
            self.lifecycle.advance(job, now)
            if job.status == "Stopping":
                return
            if job.status != "InProgress":
                raise validation_error(
                    f"Model customization job {job.name} cannot be stopped because its status is "
                    f"{job.status}. Only a job in InProgress status can be stopped."
                )
            self.lifecycle.stop(job, now)

    def end_job(self, identifier: str) -> None:
        """End an InProgress job now, with the outcome its tags ask for (an emulator control).

        The job's duration becomes the time it has run so far, so it ends exactly as if it had been
        created with that duration: the same checks, artifacts, custom model and events. Tests use a
        long ``emulator:duration`` and this to decide when a job ends, instead of racing a short one.
        """
        with self.lock:
            job = self._jobs.require(identifier)
            now = self.clock()
            self.lifecycle.advance(job, now)
            if job.status != "InProgress":
                raise ValueError(f"job {job.name} is {job.status}; only an InProgress job can be ended")
            job.duration = max(now - job.created, 0.0)
            self.lifecycle.advance(job, now)

    def list_jobs(self, params: Mapping[str, str]) -> dict[str, Any]:
        status = status_filter(params, JOB_STATUSES)
        created = CreatedWindow.of(params, "creationTimeAfter", "creationTimeBefore")
        with self.lock:
            self.lifecycle.advance_all()
            now = self.clock()
            jobs = [
                j
                for j in self._jobs
                if (status is None or j.status == status)
                and name_matches(j.name, params)
                and created.holds(j.created)
            ]
            page, token = paginate(jobs, params, key=lambda j: (j.created, j.seq))
            return page_answer("modelCustomizationJobSummaries", [j.summary(now) for j in page], token)

    # ----------------------------------------------------------------- custom models

    def get_custom_model(self, identifier: str) -> dict[str, Any]:
        with self.lock:
            self.lifecycle.advance_all()
            return self._models.require(identifier).to_dict()

    def delete_custom_model(self, identifier: str) -> None:
        with self.lock:
            self.lifecycle.advance_all()
            model = self._models.require(identifier)
            for guard in self._delete_guards:
                # Bedrock refuses to delete a model that something still serves (a deployment).
                guard(model)
            self._models.remove(model)

    def set_custom_model_status(
        self, identifier: str, status: str, failure_message: str | None = None
    ) -> None:
        """Give a custom model another ModelStatus (an emulator control): Bedrock also lists models that
        are Creating or Failed (models created by CreateCustomModel), which a trained one never is here."""
        if status not in ("Active", "Creating", "Failed"):
            raise ValueError(f"status={status!r}: Bedrock's ModelStatus is Active, Creating or Failed")
        with self.lock:
            model = self._models.require(identifier)
            model.status = status
            model.failure_message = failure_message if status == "Failed" else None

    def add_delete_guard(self, guard: Callable[[CustomModel], None]) -> None:
        """Call ``guard(model)`` under the lock before a custom model is deleted; it raises to refuse."""
        self._delete_guards.append(guard)

    def find_custom_model(self, identifier: str) -> CustomModel | None:
        """The custom model of that name or ARN, or None (for the other resources that refer to one)."""
        with self.lock:
            self.lifecycle.advance_all()
            return self._models.find(identifier)

    def list_custom_models(self, params: Mapping[str, str]) -> dict[str, Any]:
        base_arn = params.get("baseModelArnEquals")
        foundation_arn = params.get("foundationModelArnEquals")
        model_status = params.get("modelStatus")
        # Every custom model here belongs to this account: none is shared from another one.
        owned = parse_bool(params, "isOwned")
        created = CreatedWindow.of(params, "creationTimeAfter", "creationTimeBefore")
        with self.lock:
            self.lifecycle.advance_all()
            models = [
                m
                for m in self._models
                if name_matches(m.name, params)
                and (base_arn is None or m.job.base_model_arn == base_arn)
                and (foundation_arn is None or m.job.base_model_arn == foundation_arn)
                and (model_status is None or model_status == m.status)
                and owned is not False
                and created.holds(m.created)
            ]
            page, token = paginate(models, params, key=lambda m: (m.created, m.seq))
            return page_answer("modelSummaries", [m.summary() for m in page], token)

    # ----------------------------------------------------------------- tags

    @staticmethod
    def owns_arn(arn: str) -> bool:
        """Whether the ARN names a resource kept here (and not by moto's own Bedrock backend)."""
        return bool(JOB_ARN_RE.match(arn) or CUSTOM_MODEL_ARN_RE.match(arn))

    def tag_resource(self, arn: str, tags: Any) -> None:
        new_tags = tag_dict(tags, "tags")
        with self.lock:
            # A job's lifecycle tags must still make sense once merged.
            check = check_emulator_tags if JOB_ARN_RE.match(arn) else None
            add_tags(self._tag_target(arn), arn, new_tags, check)

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        with self.lock:
            remove_tags(self._tag_target(arn), keys)

    def list_tags(self, arn: str) -> dict[str, Any]:
        with self.lock:
            return tag_list(self._tag_target(arn))

    def _tag_target(self, arn: str) -> dict[str, str]:
        if arn in self._jobs:
            return self._jobs.require(arn).tags
        self.lifecycle.advance_all()
        if arn in self._models:
            return self._models.require(arn).tags
        raise not_found(f"The resource {arn} was not found. Check the ARN and the region.")

    # ----------------------------------------------------------------- creation

    def _keep_custom_model(self, job: Job, when: float) -> str:
        """The custom model of a job that completed, kept under the job's customModelName; its ARN."""
        model_id = self.arns.new_id(self._models.arns())
        self._seq += 1
        model = CustomModel(
            seq=self._seq,
            arn=self.arns.arn("custom-model", f"{job.base_model_id}/{model_id}"),
            name=job.custom_model_name,
            job=job,
            created=when,
            owner_account_id=self.account_id,
            tags=dict(job.custom_model_tags),
        )
        self._models.add(model)
        return model.arn

    def _new_job(self, request: Mapping[str, Any], tags: dict[str, str], now: float) -> Job:
        """A job for a new request, once everything Bedrock checks at Create passed (create_checks.py)."""
        check_names_free(
            self._jobs,
            self._models,
            self.lifecycle.running.values(),
            request["jobName"],
            request["customModelName"],
        )
        base_model_id = checked_base_model(request, self._models, self.region)
        check_role(self.account, request["roleArn"])
        check_grader(request, self.account)
        kms = kms_key_arn(request.get("customModelKmsKeyId"), self.account, self.region)
        check_quota(len(self.lifecycle.running), self.max_concurrent_jobs, self.region)
        job_id = self.arns.new_id(self._jobs.arns())
        duration = float_tag(tags, TAG_DURATION)
        self._seq += 1
        return Job(
            seq=self._seq,
            arn=self.arns.arn("model-customization-job", f"{base_model_id}/{job_id}"),
            job_id=job_id,
            name=request["jobName"],
            custom_model_name=request["customModelName"],
            role_arn=request["roleArn"],
            client_request_token=request.get("clientRequestToken"),
            base_model_id=base_model_id,
            base_model_arn=self.arns.foundation_model_arn(base_model_id),
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
