"""What a job does at its stage boundaries: read the input data (validation), write the metrics (training).

The validation stage checks what Bedrock's does before it trains: the training and validation data
exist, and the output bucket exists. Completion writes the metrics CSVs where Bedrock writes them.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from bedrock_provider.core.s3 import split_s3_uri
from bedrock_provider.emulator import metrics
from bedrock_provider.emulator.models import TAG_FINAL_LOSS, TAG_FINAL_VALIDATION_LOSS, Job
from bedrock_provider.emulator.validation import float_tag

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


def _count_records(body: bytes) -> int:
    return sum(1 for line in body.splitlines() if line.strip())


def check_inputs(job: Job, objects: ObjectStore) -> str | None:
    """Check the input data and output bucket as Bedrock's validation stage does; the failure message."""
    training_uri = job.training_data_config.get("s3Uri")
    if training_uri:
        bodies, problem = _read_input(objects, training_uri, "training data", "trainingDataConfig.s3Uri")
        if problem is not None:
            return problem
        job.training_records = sum(_count_records(b) for b in bodies)
        job.data_digest = _digest(bodies)
        if job.training_records == 0:
            return (
                f"The training data at {training_uri} (trainingDataConfig.s3Uri) contains no records. "
                "Provide a JSONL file with one training record per line."
            )
    else:
        job.training_records = INVOCATION_LOG_RECORDS
    for i, validator in enumerate(job.validators):
        field_name = f"validationDataConfig.validators[{i}].s3Uri"
        _, problem = _read_input(objects, validator["s3Uri"], "validation data", field_name)
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


def _int_hyper(hyper: dict[str, str], name: str, default: int) -> int:
    try:
        return int(float(hyper[name]))
    except (KeyError, ValueError):
        return default


def write_artifacts(job: Job, objects: ObjectStore) -> None:
    """Write the metrics CSVs where Bedrock writes them and record the final losses on the job."""
    epochs = _int_hyper(job.hyper_parameters, "epochCount", 2)
    batch = _int_hyper(job.hyper_parameters, "batchSize", 1)
    generated = metrics.generate(
        job.arn,
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
