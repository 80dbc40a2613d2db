"""The emulated Bedrock model-customization control plane: jobs, custom models, tags.

Everything here is plain Python behind one lock; S3 is reached through the small
``ObjectStore`` protocol so the store does not depend on how the objects are kept.

Status is derived from the clock: a job is InProgress until its duration has passed, its
stages (validation, data processing, training) taking the first 20 %, the next 20 % and the
rest of it. Whatever crosses a boundary (a request that looks at the job, or the emulator's
ticker thread) advances the job under the lock, so the side effects of a boundary (checking
the input data, writing the metrics, creating the custom model) run exactly once, and a
client that sees ``Completed`` can already read the metrics and get the custom model.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import logging
import math
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from bedrock_provider.emulator import metrics
from bedrock_provider.emulator.errors import BedrockError, not_found, validation_error

log = logging.getLogger(__name__)

TAG_OUTCOME = "emulator:outcome"
TAG_DURATION = "emulator:duration"
TAG_FAILURE_MESSAGE = "emulator:failure-message"
TAG_FINAL_LOSS = "emulator:final-loss"
TAG_FINAL_VALIDATION_LOSS = "emulator:final-validation-loss"

OUTCOMES = ("Completed", "Failed", "Stopped")
TERMINAL = frozenset(OUTCOMES)
JOB_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
CUSTOMIZATION_TYPES = (
    "FINE_TUNING",
    "CONTINUED_PRE_TRAINING",
    "DISTILLATION",
    "REINFORCEMENT_FINE_TUNING",
    "IMPORTED",
)
STAGE_NAMES = ("validationDetails", "dataProcessingDetails", "trainingDetails")
# Start of each stage, then the end of the job, as fractions of the job's duration.
STAGE_BOUNDS = (0.0, 0.2, 0.4, 1.0)
VALIDATION_STAGE, DATA_PROCESSING_STAGE, TRAINING_STAGE = 0, 1, 2

DEFAULT_FAILURE_MESSAGE = (
    "An internal error occurred while training the model. Retry the job; "
    "if the problem persists, contact AWS Support."
)
DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_LIMIT = 1000

# Patterns from Bedrock's API model (botocore service-2.json), anchored.
JOB_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*$")
CUSTOM_MODEL_NAME_RE = re.compile(r"^([0-9a-zA-Z][_-]?){1,63}$")
ROLE_ARN_RE = re.compile(r"^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$")
TOKEN_RE = re.compile(r"^[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?$")
S3_URI_RE = re.compile(r"^s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-zA-Z0-9]+)*/?$")
KMS_KEY_RE = re.compile(
    r"^(?:(arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:((key/[a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9_/-]+)))"
    r"|([a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9_/-]+))$"
)
TAG_KEY_RE = re.compile(r"^[a-zA-Z0-9\s._:/=+@-]{1,128}$")
TAG_VALUE_RE = re.compile(r"^[a-zA-Z0-9\s._:/=+@-]{0,256}$")
MODEL_ID_RE = re.compile(r"^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63}){1,3}(:[a-z0-9-]{1,63}){0,2}$")
FOUNDATION_MODEL_ARN_RE = re.compile(
    r"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}::foundation-model/(?P<model>[^/]+)$"
)
JOB_ARN_RE = re.compile(
    r"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-customization-job/[^/]+/[a-z0-9]{12}$"
)
CUSTOM_MODEL_ARN_RE = re.compile(
    r"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model/(?P<base>[^/]+)/[a-z0-9]{12}$"
)

_ID_ALPHABET = string.ascii_lowercase + string.digits


class ObjectStore(Protocol):
    """The S3 operations the control plane needs."""

    def bucket_exists(self, bucket: str) -> bool: ...

    def read_objects(self, bucket: str, key_or_prefix: str) -> list[bytes] | None:
        """Bodies of the object at ``key``, or of every object under a prefix ending in ``/``.

        None when the bucket does not exist; an empty list when no object matches.
        """
        ...

    def put_object(self, bucket: str, key: str, body: bytes) -> None: ...


class ArtifactWriteError(Exception):
    """The job's artifacts could not be written (the output bucket disappeared)."""


@dataclass
class Job:
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


@dataclass
class CustomModel:
    seq: int
    arn: str
    name: str
    job: Job
    created: float
    tags: dict[str, str] = field(default_factory=dict)


T = TypeVar("T")
JobListener = Callable[[dict[str, Any]], None]


def iso(ts: float) -> str:
    """Bedrock's timestamp form: ISO 8601, UTC, milliseconds."""
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def split_s3_uri(uri: str) -> tuple[str, str]:
    rest = uri[len("s3://") :]
    bucket, _, key = rest.partition("/")
    return bucket, key


class CustomizationStore:
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
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.partition = _partition(region)
        self.objects = objects
        self.job_duration = job_duration
        self.stop_delay = stop_delay
        self._clock = clock
        # Re-entrant so listeners may read the store while a transition is being announced.
        self.lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._jobs_by_name: dict[str, Job] = {}
        self._active: dict[str, Job] = {}
        self._models: dict[str, CustomModel] = {}
        self._models_by_name: dict[str, CustomModel] = {}
        self._seq = 0
        self._jobs_created = 0
        self._listeners: list[JobListener] = []

    # ----------------------------------------------------------------- housekeeping

    def add_listener(self, listener: JobListener) -> None:
        """Call ``listener(job_description)`` on every job status change (under the lock)."""
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
            self._active.clear()
            self._models.clear()
            self._models_by_name.clear()
            self._jobs_created = 0

    def tick(self) -> None:
        """Advance every running job; the ticker thread calls this so jobs end unobserved."""
        with self.lock:
            self._advance_all()

    # ----------------------------------------------------------------- jobs

    def create_job(self, body: Mapping[str, Any]) -> tuple[str, bool]:
        """CreateModelCustomizationJob. Returns (job ARN, whether a job was created)."""
        request = self._validate_create(body)
        with self.lock:
            # Whole milliseconds, as rendered: a creationTime read back filters exactly.
            now = math.floor(self._clock() * 1000) / 1000
            # A job past its end no longer holds its custom model name: settle them all first.
            self._advance_all(now)
            name = request["jobName"]
            token = request.get("clientRequestToken")
            existing = self._jobs_by_name.get(name)
            if existing is not None:
                if token is not None and existing.client_request_token == token:
                    return existing.arn, False
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
            job = self._new_job(request, now)
            self._jobs[job.arn] = job
            self._jobs_by_name[job.name] = job
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
            return self._describe_job(job)

    def stop_job(self, identifier: str) -> None:
        with self.lock:
            job = self._find_job(identifier)
            now = self._clock()
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

    def list_jobs(self, params: Mapping[str, str]) -> dict[str, Any]:
        status = params.get("statusEquals")
        if status is not None and status not in JOB_STATUSES:
            raise validation_error(
                f"Invalid statusEquals {status!r}: expected one of {', '.join(JOB_STATUSES)}."
            )
        name_contains = params.get("nameContains")
        after = _parse_time(params, "creationTimeAfter")
        before = _parse_time(params, "creationTimeBefore")
        with self.lock:
            self._advance_all()
            jobs = [
                j
                for j in self._jobs.values()
                if (status is None or j.status == status)
                and (not name_contains or name_contains.lower() in j.name.lower())
                and (after is None or j.created > after)
                and (before is None or j.created < before)
            ]
            page, token = _paginate(jobs, params, key=lambda j: (j.created, j.seq))
            result: dict[str, Any] = {
                "modelCustomizationJobSummaries": [self._summarize_job(j) for j in page]
            }
        if token is not None:
            result["nextToken"] = token
        return result

    # ----------------------------------------------------------------- custom models

    def get_custom_model(self, identifier: str) -> dict[str, Any]:
        with self.lock:
            self._advance_all()
            return self._describe_model(self._find_model(identifier))

    def delete_custom_model(self, identifier: str) -> None:
        with self.lock:
            self._advance_all()
            model = self._find_model(identifier)
            del self._models[model.arn]
            del self._models_by_name[model.name]

    def list_custom_models(self, params: Mapping[str, str]) -> dict[str, Any]:
        name_contains = params.get("nameContains")
        base_arn = params.get("baseModelArnEquals")
        foundation_arn = params.get("foundationModelArnEquals")
        model_status = params.get("modelStatus")
        after = _parse_time(params, "creationTimeAfter")
        before = _parse_time(params, "creationTimeBefore")
        with self.lock:
            self._advance_all()
            models = [
                m
                for m in self._models.values()
                if (not name_contains or name_contains.lower() in m.name.lower())
                and (base_arn is None or m.job.base_model_arn == base_arn)
                and (foundation_arn is None or m.job.base_model_arn == foundation_arn)
                and (model_status is None or model_status == "Active")
                and (after is None or m.created > after)
                and (before is None or m.created < before)
            ]
            page, token = _paginate(models, params, key=lambda m: (m.created, m.seq))
            result: dict[str, Any] = {"modelSummaries": [self._summarize_model(m) for m in page]}
        if token is not None:
            result["nextToken"] = token
        return result

    # ----------------------------------------------------------------- tags

    @staticmethod
    def owns_arn(arn: str) -> bool:
        """Whether the ARN names a resource kept here (and not by moto's own Bedrock backend)."""
        return bool(JOB_ARN_RE.match(arn) or CUSTOM_MODEL_ARN_RE.match(arn))

    def tag_resource(self, arn: str, tags: Any) -> None:
        new_tags = _tag_dict(tags, "tags")
        with self.lock:
            target = self._tag_target(arn)
            merged = {**target, **new_tags}
            if len(merged) > 200:
                raise BedrockError(
                    "TooManyTagsException", f"Resource {arn} would have more than 200 tags.", 400
                )
            if JOB_ARN_RE.match(arn):
                _check_emulator_tags(merged)
            target.update(new_tags)

    def untag_resource(self, arn: str, keys: Any) -> None:
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise validation_error("tagKeys must be a list of tag keys.")
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
        now = self._clock() if now is None else now
        for job in list(self._active.values()):
            self._advance(job, now)

    def _advance(self, job: Job, now: float | None = None) -> None:
        if job.status in TERMINAL:
            return
        now = self._clock() if now is None else now
        if job.status == "Stopping":
            requested = job.stop_requested if job.stop_requested is not None else now
            stopped_at = requested + self.stop_delay
            if now >= stopped_at:
                self._finish(job, "Stopped", job.stage_at(requested), stopped_at)
            return
        bounds = job.bounds()
        if not job.data_checked and now >= bounds[DATA_PROCESSING_STAGE]:
            job.data_checked = True
            problem = self._check_inputs(job)
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
            message = job.tags.get(TAG_FAILURE_MESSAGE) or DEFAULT_FAILURE_MESSAGE
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
            self._write_artifacts(job)
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
            tags=dict(job.custom_model_tags),
        )
        self._models[model.arn] = model
        self._models_by_name[model.name] = model
        job.output_model_arn = model_arn
        self._finish(job, "Completed", TRAINING_STAGE, when)

    def _check_inputs(self, job: Job) -> str | None:
        """Check the input data and output bucket as Bedrock's validation stage does."""
        training_uri = job.training_data_config.get("s3Uri")
        if training_uri:
            bodies, problem = self._read_input(training_uri, "training data", "trainingDataConfig.s3Uri")
            if problem is not None:
                return problem
            job.training_records = sum(_count_records(b) for b in bodies)
            if job.training_records == 0:
                return (
                    f"The training data at {training_uri} (trainingDataConfig.s3Uri) contains no records. "
                    "Provide a JSONL file with one training record per line."
                )
        else:
            # Distillation from invocation logs: no file to count, assume a modest dataset.
            job.training_records = 100
        for i, validator in enumerate((job.validation_data_config or {}).get("validators", [])):
            field_name = f"validationDataConfig.validators[{i}].s3Uri"
            _, problem = self._read_input(validator["s3Uri"], "validation data", field_name)
            if problem is not None:
                return problem
        output_uri = job.output_data_config["s3Uri"]
        bucket, _ = split_s3_uri(output_uri)
        if not self.objects.bucket_exists(bucket):
            return (
                f"The provided S3 output location {output_uri} (outputDataConfig.s3Uri) does not exist: "
                f"bucket {bucket} was not found. Create the bucket or correct the URI."
            )
        return None

    def _read_input(self, uri: str, what: str, field_name: str) -> tuple[list[bytes], str | None]:
        bucket, key = split_s3_uri(uri)
        bodies = self.objects.read_objects(bucket, key)
        if bodies is None:
            return [], (
                f"The provided S3 location for {what} {uri} ({field_name}) does not exist: bucket {bucket} "
                "was not found. Create the bucket and upload the data, or correct the URI."
            )
        if not bodies:
            where = (
                "no object under that prefix" if (not key or key.endswith("/")) else "no object at that key"
            )
            return [], (
                f"The provided S3 location for {what} {uri} ({field_name}) does not exist: {where}. "
                "Upload the data or correct the URI."
            )
        return bodies, None

    def _write_artifacts(self, job: Job) -> None:
        epochs = _int_hyper(job.hyper_parameters, "epochCount", 2)
        batch = _int_hyper(job.hyper_parameters, "batchSize", 1)
        validators = (job.validation_data_config or {}).get("validators") or []
        generated = metrics.generate(
            job.arn,
            epochs=epochs,
            steps_per_epoch=metrics.steps_per_epoch(job.training_records, batch),
            with_validation=bool(validators),
            final_training_loss=_float_tag(job.tags, TAG_FINAL_LOSS),
            final_validation_loss=_float_tag(job.tags, TAG_FINAL_VALIDATION_LOSS),
        )
        output_uri = job.output_data_config["s3Uri"]
        bucket, prefix = split_s3_uri(output_uri)
        base = f"{prefix.rstrip('/')}/" if prefix.strip("/") else ""
        base += f"model-customization-job-{job.job_id}"
        if not self.objects.bucket_exists(bucket):
            raise ArtifactWriteError(
                f"Could not write the training artifacts to {output_uri} (outputDataConfig.s3Uri): "
                f"bucket {bucket} was not found. Create the bucket or correct the URI."
            )
        self.objects.put_object(
            bucket, f"{base}/training_artifacts/step_wise_training_metrics.csv", generated.training_csv()
        )
        if validators:
            self.objects.put_object(
                bucket,
                f"{base}/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
                generated.validation_csv(),
            )
        job.training_loss = generated.final_training_loss
        job.validation_loss = generated.final_validation_loss

    def _notify(self, job: Job) -> None:
        if not self._listeners:
            return
        description = self._describe_job(job)
        for listener in list(self._listeners):
            try:
                listener(description)
            except Exception:
                log.exception("job listener %r failed", listener)

    # ----------------------------------------------------------------- shapes

    def _describe_job(self, job: Job) -> dict[str, Any]:
        out: dict[str, Any] = {
            "jobArn": job.arn,
            "jobName": job.name,
            "outputModelName": job.custom_model_name,
            "roleArn": job.role_arn,
            "status": job.status,
            "creationTime": iso(job.created),
            "lastModifiedTime": iso(job.last_modified),
            "baseModelArn": job.base_model_arn,
            "hyperParameters": dict(job.hyper_parameters),
            "trainingDataConfig": copy.deepcopy(job.training_data_config),
            "validationDataConfig": copy.deepcopy(job.validation_data_config or {"validators": []}),
            "outputDataConfig": copy.deepcopy(job.output_data_config),
            "customizationType": job.customization_type,
            "statusDetails": self._status_details(job),
        }
        if job.client_request_token is not None:
            out["clientRequestToken"] = job.client_request_token
        if job.output_model_arn is not None:
            out["outputModelArn"] = job.output_model_arn
        if job.failure_message is not None:
            out["failureMessage"] = job.failure_message
        if job.end_time is not None:
            out["endTime"] = iso(job.end_time)
        if job.kms_key_arn is not None:
            out["outputModelKmsKeyArn"] = job.kms_key_arn
        if job.vpc_config is not None:
            out["vpcConfig"] = copy.deepcopy(job.vpc_config)
        if job.customization_config is not None:
            out["customizationConfig"] = copy.deepcopy(job.customization_config)
        if job.status == "Completed":
            out.update(self._metric_fields(job))
        return out

    def _metric_fields(self, job: Job) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if job.training_loss is not None:
            out["trainingMetrics"] = {"trainingLoss": job.training_loss}
        if job.validation_loss is not None:
            validators = (job.validation_data_config or {}).get("validators") or []
            out["validationMetrics"] = [{"validationLoss": job.validation_loss} for _ in validators]
        return out

    def _summarize_job(self, job: Job) -> dict[str, Any]:
        out: dict[str, Any] = {
            "jobArn": job.arn,
            "baseModelArn": job.base_model_arn,
            "jobName": job.name,
            "status": job.status,
            "statusDetails": self._status_details(job),
            "lastModifiedTime": iso(job.last_modified),
            "creationTime": iso(job.created),
            "customModelName": job.custom_model_name,
            "customizationType": job.customization_type,
        }
        if job.end_time is not None:
            out["endTime"] = iso(job.end_time)
        if job.output_model_arn is not None:
            out["customModelArn"] = job.output_model_arn
        return out

    def _status_details(self, job: Job) -> dict[str, Any]:
        bounds = job.bounds()
        now = self._clock()
        details: dict[str, Any] = {}
        for stage, name in enumerate(STAGE_NAMES):
            start, end = bounds[stage], bounds[stage + 1]
            status, created, modified = "NotStarted", job.created, job.created
            if job.status == "Completed":
                status, created, modified = "Completed", start, min(end, job.end_time or end)
            elif job.status in ("Failed", "Stopped", "Stopping"):
                final_stage = job.final_stage if job.final_stage is not None else TRAINING_STAGE
                if stage < final_stage:
                    status, created, modified = "Completed", start, end
                elif stage == final_stage:
                    status, created, modified = job.status, start, job.last_modified
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

    def _describe_model(self, model: CustomModel) -> dict[str, Any]:
        job = model.job
        out: dict[str, Any] = {
            "modelArn": model.arn,
            "modelName": model.name,
            "jobName": job.name,
            "jobArn": job.arn,
            "baseModelArn": job.base_model_arn,
            "customizationType": job.customization_type,
            "hyperParameters": dict(job.hyper_parameters),
            "trainingDataConfig": copy.deepcopy(job.training_data_config),
            "validationDataConfig": copy.deepcopy(job.validation_data_config or {"validators": []}),
            "outputDataConfig": copy.deepcopy(job.output_data_config),
            "creationTime": iso(model.created),
            "modelStatus": "Active",
        }
        if job.kms_key_arn is not None:
            out["modelKmsKeyArn"] = job.kms_key_arn
        if job.customization_config is not None:
            out["customizationConfig"] = copy.deepcopy(job.customization_config)
        out.update(self._metric_fields(job))
        return out

    def _summarize_model(self, model: CustomModel) -> dict[str, Any]:
        return {
            "modelArn": model.arn,
            "modelName": model.name,
            "creationTime": iso(model.created),
            "baseModelArn": model.job.base_model_arn,
            "baseModelName": model.job.base_model_id.split(":")[0],
            "customizationType": model.job.customization_type,
            "ownerAccountId": self.account_id,
            "modelStatus": "Active",
        }

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

    def _new_job(self, request: dict[str, Any], now: float) -> Job:
        base_model_id = self._resolve_base_model(request["baseModelIdentifier"])
        job_id = self._new_id(self._jobs)
        tags = _tag_dict(request.get("jobTags"), "jobTags")
        duration = _float_tag(tags, TAG_DURATION)
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
            kms_key_arn=self._kms_arn(request.get("customModelKmsKeyId")),
            hyper_parameters=dict(request.get("hyperParameters") or {}),
            training_data_config=copy.deepcopy(request["trainingDataConfig"]),
            validation_data_config=copy.deepcopy(request.get("validationDataConfig")),
            output_data_config=copy.deepcopy(request["outputDataConfig"]),
            vpc_config=copy.deepcopy(request.get("vpcConfig")),
            customization_config=copy.deepcopy(request.get("customizationConfig")),
            tags=tags,
            custom_model_tags=_tag_dict(request.get("customModelTags"), "customModelTags"),
            created=now,
            duration=duration if duration is not None else self.job_duration,
            last_modified=now,
        )

    def _resolve_base_model(self, identifier: str) -> str:
        match = FOUNDATION_MODEL_ARN_RE.match(identifier)
        if match:
            return match.group("model")
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
        if key.startswith("arn:"):
            return key
        if key.startswith("alias/"):
            return f"arn:{self.partition}:kms:{self.region}:{self.account_id}:{key}"
        return f"arn:{self.partition}:kms:{self.region}:{self.account_id}:key/{key}"

    def _arn(self, kind: str, rest: str) -> str:
        return f"arn:{self.partition}:bedrock:{self.region}:{self.account_id}:{kind}/{rest}"

    @staticmethod
    def _new_id(taken: Mapping[str, Any]) -> str:
        while True:
            candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
            if not any(arn.endswith("/" + candidate) for arn in taken):
                return candidate

    # ----------------------------------------------------------------- validation

    def _validate_create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        request = dict(body)
        for name in ("jobName", "customModelName", "roleArn", "baseModelIdentifier"):
            value = request.get(name)
            if not isinstance(value, str) or not value:
                raise validation_error(f"{name} is required and must be a non-empty string.")
        for name in ("trainingDataConfig", "outputDataConfig"):
            if not isinstance(request.get(name), dict):
                raise validation_error(f"{name} is required and must be an object.")
        job_name = request["jobName"]
        if len(job_name) > 63 or not JOB_NAME_RE.match(job_name):
            raise validation_error(
                f"Invalid jobName {job_name!r}: 1 to 63 characters, letters, digits, '-', '+' and '.', "
                "starting with a letter or digit."
            )
        model_name = request["customModelName"]
        if len(model_name) > 63 or not CUSTOM_MODEL_NAME_RE.match(model_name):
            raise validation_error(
                f"Invalid customModelName {model_name!r}: at most 63 characters, letters and digits, "
                "each optionally followed by a single '-' or '_'."
            )
        role = request["roleArn"]
        if len(role) > 2048 or not ROLE_ARN_RE.match(role):
            raise validation_error(
                f"Invalid roleArn {role!r}: expected an IAM role ARN like "
                "arn:aws:iam::123456789012:role/name."
            )
        token = request.get("clientRequestToken")
        if token is not None and (not isinstance(token, str) or not TOKEN_RE.match(token)):
            raise validation_error(
                f"Invalid clientRequestToken {token!r}: 1 to 256 letters, digits and '-', "
                "starting and ending with a letter or digit."
            )
        ctype = request.get("customizationType")
        if ctype is not None and ctype not in CUSTOMIZATION_TYPES:
            raise validation_error(
                f"Invalid customizationType {ctype!r}: expected one of {', '.join(CUSTOMIZATION_TYPES)}."
            )
        kms = request.get("customModelKmsKeyId")
        if kms is not None and (not isinstance(kms, str) or not KMS_KEY_RE.match(kms)):
            raise validation_error(
                f"Invalid customModelKmsKeyId {kms!r}: expected a KMS key id, alias or ARN."
            )
        training = request["trainingDataConfig"]
        if "s3Uri" in training or "invocationLogsConfig" not in training:
            _check_s3_uri(training.get("s3Uri"), "trainingDataConfig.s3Uri")
        _check_s3_uri(request["outputDataConfig"].get("s3Uri"), "outputDataConfig.s3Uri")
        validation = request.get("validationDataConfig")
        if validation is not None:
            validators = validation.get("validators") if isinstance(validation, dict) else None
            if not isinstance(validators, list) or len(validators) > 10:
                raise validation_error(
                    "validationDataConfig.validators must be a list of at most 10 validators."
                )
            for i, validator in enumerate(validators):
                uri = validator.get("s3Uri") if isinstance(validator, dict) else None
                _check_s3_uri(uri, f"validationDataConfig.validators[{i}].s3Uri")
        hyper = request.get("hyperParameters")
        if hyper is not None:
            if not isinstance(hyper, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in hyper.items()
            ):
                raise validation_error("hyperParameters must map names to string values.")
            for name in ("epochCount", "batchSize"):
                _int_hyper(hyper, name, 1)
            if "learningRate" in hyper:
                try:
                    rate = float(hyper["learningRate"])
                except ValueError:
                    rate = -1.0
                if not rate > 0 or math.isinf(rate):
                    raise validation_error(
                        f"Invalid hyperparameter learningRate {hyper['learningRate']!r}: "
                        "expected a positive number."
                    )
        vpc = request.get("vpcConfig")
        if vpc is not None and (
            not isinstance(vpc, dict) or not vpc.get("subnetIds") or not vpc.get("securityGroupIds")
        ):
            raise validation_error("vpcConfig needs non-empty subnetIds and securityGroupIds.")
        job_tags = _tag_dict(request.get("jobTags"), "jobTags")
        _tag_dict(request.get("customModelTags"), "customModelTags")
        _check_emulator_tags(job_tags)
        return request


# --------------------------------------------------------------------- helpers


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _check_s3_uri(uri: Any, field_name: str) -> None:
    if not isinstance(uri, str) or len(uri) > 1024 or not S3_URI_RE.match(uri):
        raise validation_error(
            f"Invalid {field_name} {uri!r}: expected s3://bucket/key, with a lowercase bucket name and key "
            "segments of letters, digits and -!_*'()."
        )


def _tag_dict(tags: Any, field_name: str) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, list) or len(tags) > 200:
        raise validation_error(f"{field_name} must be a list of at most 200 {{key, value}} tags.")
    out: dict[str, str] = {}
    for tag in tags:
        if (
            not isinstance(tag, dict)
            or not isinstance(tag.get("key"), str)
            or not isinstance(tag.get("value"), str)
        ):
            raise validation_error(
                f"{field_name}: every tag needs a string key and a string value, got {tag!r}."
            )
        key, value = tag["key"], tag["value"]
        # The emulator's own tags may carry any text (a failure message has punctuation).
        if not key.startswith("emulator:") and (not TAG_KEY_RE.match(key) or not TAG_VALUE_RE.match(value)):
            raise validation_error(
                f"{field_name}: invalid tag {key!r}={value!r}: keys of 1-128 and values of up to 256 "
                "letters, digits, spaces and ._:/=+@-"
            )
        out[key] = value
    return out


def _check_emulator_tags(tags: Mapping[str, str]) -> None:
    outcome = tags.get(TAG_OUTCOME)
    if outcome is not None and outcome not in OUTCOMES:
        raise validation_error(
            f"Invalid tag {TAG_OUTCOME}={outcome!r}: expected one of {', '.join(OUTCOMES)}."
        )
    for key in (TAG_DURATION, TAG_FINAL_LOSS, TAG_FINAL_VALIDATION_LOSS):
        _float_tag(tags, key)


def _float_tag(tags: Mapping[str, str], key: str) -> float | None:
    raw = tags.get(key)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if math.isnan(value) or math.isinf(value) or value < 0 or (key != TAG_DURATION and value == 0):
        raise validation_error(f"Invalid tag {key}={raw!r}: expected a positive number.")
    return value


def _int_hyper(hyper: Mapping[str, str], name: str, default: int) -> int:
    raw = hyper.get(name)
    if raw is None:
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if value < 1:
        raise validation_error(f"Invalid hyperparameter {name} {raw!r}: expected a positive integer.")
    return value


def _count_records(body: bytes) -> int:
    return sum(1 for line in body.splitlines() if line.strip())


def _parse_time(params: Mapping[str, str], name: str) -> float | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise validation_error(f"Invalid {name} {raw!r}: expected an ISO 8601 timestamp.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _paginate(
    items: Iterable[T], params: Mapping[str, str], *, key: Callable[[T], tuple[float, int]]
) -> tuple[list[T], str | None]:
    """Keyset pagination: a token names the last item served, so pages stay right while jobs appear."""
    sort_by = params.get("sortBy", "CreationTime")
    if sort_by != "CreationTime":
        raise validation_error(f"Invalid sortBy {sort_by!r}: expected CreationTime.")
    order = params.get("sortOrder", "Descending")
    if order not in ("Ascending", "Descending"):
        raise validation_error(f"Invalid sortOrder {order!r}: expected Ascending or Descending.")
    raw_max = params.get("maxResults")
    try:
        max_results = DEFAULT_MAX_RESULTS if raw_max is None else int(raw_max)
    except ValueError:
        max_results = 0
    if not 1 <= max_results <= MAX_RESULTS_LIMIT:
        raise validation_error(f"Invalid maxResults {raw_max!r}: expected 1 to {MAX_RESULTS_LIMIT}.")
    descending = order == "Descending"
    ordered = sorted(items, key=key, reverse=descending)
    token = params.get("nextToken")
    if token:
        last = _decode_token(token)
        ordered = [i for i in ordered if (key(i) < last if descending else key(i) > last)]
    page = ordered[:max_results]
    if len(ordered) > max_results:
        created, seq = key(page[-1])
        return page, base64.urlsafe_b64encode(json.dumps([created, seq]).encode()).decode()
    return page, None


def _decode_token(token: str) -> tuple[float, int]:
    try:
        created, seq = json.loads(base64.urlsafe_b64decode(token.encode()))
        return float(created), int(seq)
    except (ValueError, TypeError, binascii.Error):
        raise validation_error(
            f"Invalid nextToken {token!r}: pass the nextToken of the previous page."
        ) from None
