"""What a job does at its stage boundaries: read the input data (validation), write the metrics (training).

The validation stage checks what Bedrock's does before it trains: the training and validation data
exist and are datasets Bedrock can read (the project's own dataset checks: format, record rules and
the model's limits, from the model catalog), and the output bucket exists. Completion writes the
metrics CSVs where Bedrock writes them, with as many steps as the data, epochs and batch size make,
and a loss curve that is the same for the same data and hyperparameters.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from typing import Protocol

from bedrock_provider.core.catalog import REINFORCEMENT_FINE_TUNING, resolve
from bedrock_provider.core.datasets.plan import plan_dataset
from bedrock_provider.core.datasets.validator import DatasetValidator
from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.s3 import split_s3_uri
from bedrock_provider.emulator import metrics
from bedrock_provider.emulator.models import TAG_FINAL_LOSS, TAG_FINAL_VALIDATION_LOSS, Job
from bedrock_provider.emulator.validation import float_tag

# Errors quoted in a failure message; the rest are counted.
ERRORS_QUOTED = 3

# Distillation from invocation logs has no file to count: a modest dataset is assumed.
INVOCATION_LOG_RECORDS = 100


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


def check_inputs(job: Job, objects: ObjectStore) -> str | None:
    """Check the input data and output bucket as Bedrock's validation stage does; the failure message."""
    training_uri = job.training_data_config.get("s3Uri")
    if training_uri:
        bodies, problem = _read_input(objects, training_uri, "training data", "trainingDataConfig.s3Uri")
        if problem is not None:
            return problem
        records, problem = _check_dataset(job, training_uri, "trainingDataConfig.s3Uri", bodies)
        if problem is not None:
            return problem
        job.training_records = records
        job.data_digest = _digest(bodies)
        if job.training_records == 0:
            return (
                f"The training data at {training_uri} (trainingDataConfig.s3Uri) contains no records. "
                "Provide a JSONL file with one training record per line."
            )
    else:
        logs_uri = job.training_data_config["invocationLogsConfig"]["invocationLogSource"]["s3Uri"]
        logs_bucket, _ = split_s3_uri(logs_uri)
        if not objects.bucket_exists(logs_bucket):
            return (
                f"The provided S3 location for invocation logs {logs_uri} (trainingDataConfig."
                f"invocationLogsConfig.invocationLogSource.s3Uri) does not exist: bucket {logs_bucket} was "
                "not found. Point it at the bucket model invocation logging delivers to."
            )
        job.training_records = INVOCATION_LOG_RECORDS
        job.data_digest = _digest([json.dumps(job.training_data_config, sort_keys=True).encode()])
    for i, validator in enumerate(job.validators):
        field_name = f"validationDataConfig.validators[{i}].s3Uri"
        bodies, problem = _read_input(objects, validator["s3Uri"], "validation data", field_name)
        if problem is not None:
            return problem
        _, problem = _check_dataset(job, validator["s3Uri"], field_name, bodies)
        if problem is not None:
            return problem
    output_uri = job.output_data_config["s3Uri"]
    bucket, _ = split_s3_uri(output_uri)
    if not objects.bucket_exists(bucket):
        return (
            f"The provided S3 output location {output_uri} (outputDataConfig.s3Uri) does not exist: "
            f"bucket {bucket} was not found. Create the bucket or correct the URI."
        )
    return None


def _check_dataset(job: Job, uri: str, field_name: str, bodies: list[bytes]) -> tuple[int, str | None]:
    """(records, failure message) of one input, checked as the project's dataset prep checks it."""
    ref = resolve(job.base_model_id)
    try:
        plan = plan_dataset(
            customization_type=job.customization_type,
            base_model_id=ref.versioned_id if ref is not None else None,
        )
    except InvalidInputError as error:
        return (
            0,
            f"The input data at {uri} ({field_name}) cannot be used for this job: "
            + error.problems[0].message,
        )
    bucket, _ = split_s3_uri(uri)
    validator = DatasetValidator(plan, dataset_bucket=bucket)
    for index, body in enumerate(bodies):
        validator.feed(uri if len(bodies) == 1 else f"{uri} (object {index + 1})", io.BytesIO(body))
    report = validator.finish()
    if report.passed:
        return report.records, None
    reasons = list(report.dataset_errors)
    for record_error in report.errors[:ERRORS_QUOTED]:
        where = f"line {record_error['line']}"
        if record_error.get("field"):
            where += f", {record_error['field']}"
        reasons.append(f"{where}: {record_error['message']}")
    more = report.errors_total - min(len(report.errors), ERRORS_QUOTED)
    if more > 0:
        reasons.append(f"and {more:,} more invalid records")
    return report.records, (
        f"Validation of the input data at {uri} ({field_name}) failed: {report.invalid_records:,} of "
        f"{report.records:,} records are invalid for {plan.format or 'any known format'}. "
        + "; ".join(reasons)
    )


def _digest(bodies: list[bytes]) -> str:
    digest = hashlib.sha256()
    for body in bodies:
        digest.update(body)
    return digest.hexdigest()


def _read_input(objects: ObjectStore, uri: str, what: str, field_name: str) -> tuple[list[bytes], str | None]:
    bucket, key = split_s3_uri(uri)
    bodies = objects.read_objects(bucket, key)
    if bodies is None:
        return [], (
            f"The provided S3 location for {what} {uri} ({field_name}) does not exist: bucket {bucket} "
            "was not found. Create the bucket and upload the data, or correct the URI."
        )
    if not bodies:
        where = "no object under that prefix" if (not key or key.endswith("/")) else "no object at that key"
        return [], (
            f"The provided S3 location for {what} {uri} ({field_name}) does not exist: {where}. "
            "Upload the data or correct the URI."
        )
    return bodies, None


def _count(job: Job, name: str, fallback: int) -> int:
    """A count hyperparameter as the job was given it, else the catalog's default for the model."""
    raw = job.hyper_parameters.get(name)
    if raw is None:
        ref = resolve(job.base_model_id)
        spec = ref.family.hyperparameters.get(name) if ref is not None else None
        raw = str(spec.default) if spec is not None and spec.default is not None else None
    try:
        value = float(raw) if raw is not None else math.nan
    except ValueError:
        value = math.nan
    return int(value) if math.isfinite(value) and value >= 1 else fallback


def metrics_seed(job: Job) -> str:
    """The same data, model and hyperparameters give the same curve; any change gives another."""
    hyper = json.dumps(job.hyper_parameters, sort_keys=True)
    return f"{job.data_digest}|{job.base_model_id}|{job.customization_type}|{hyper}"


def write_artifacts(job: Job, objects: ObjectStore) -> None:
    """Write the metrics CSVs where Bedrock writes them and record the final losses on the job.

    A reinforcement fine-tuning job writes none: AWS documents its metrics (rewards, training loss,
    accuracy) as graphs in the console only ("Monitor your RFT training job",
    https://docs.aws.amazon.com/bedrock/latest/userguide/rft-submit-job.html), not as files under the
    output location, so none are invented here.
    """
    if job.customization_type == REINFORCEMENT_FINE_TUNING:
        return
    epochs = _count(job, "epochCount", 1)
    batch = _count(job, "batchSize", 1)
    generated = metrics.generate(
        metrics_seed(job),
        epochs=epochs,
        steps_per_epoch=metrics.steps_per_epoch(job.training_records, batch),
        with_validation=bool(job.validators),
        final_training_loss=float_tag(job.tags, TAG_FINAL_LOSS),
        final_validation_loss=float_tag(job.tags, TAG_FINAL_VALIDATION_LOSS),
    )
    output_uri = job.output_data_config["s3Uri"]
    bucket, prefix = split_s3_uri(output_uri)
    base = f"{prefix.rstrip('/')}/" if prefix.strip("/") else ""
    base += f"model-customization-job-{job.job_id}"
    if not objects.bucket_exists(bucket):
        raise ArtifactWriteError(
            f"Could not write the training artifacts to {output_uri} (outputDataConfig.s3Uri): "
            f"bucket {bucket} was not found. Create the bucket or correct the URI."
        )
    objects.put_object(
        bucket, f"{base}/training_artifacts/step_wise_training_metrics.csv", generated.training_csv()
    )
    if job.validators:
        objects.put_object(
            bucket,
            f"{base}/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
            generated.validation_csv(),
        )
    job.training_loss = generated.final_training_loss
    job.validation_loss = generated.final_validation_loss
