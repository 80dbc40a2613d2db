"""The XCom results the operators return, built from Bedrock's job description."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bedrock_provider.core.names import job_id_from_arn, parse_attempt


def _iso(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if value else None


def job_result(description: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """JSON-safe summary of a job: what downstream tasks need, never credentials."""
    job_arn = str(description.get("jobArn") or "")
    validators = (description.get("validationDataConfig") or {}).get("validators") or []
    result = {
        "job_arn": job_arn,
        "job_name": description.get("jobName"),
        "job_id": job_id_from_arn(job_arn) if job_arn else None,
        "attempt": parse_attempt(str(description.get("jobName") or ""))[1],
        "status": description.get("status"),
        "custom_model_arn": description.get("outputModelArn"),
        "custom_model_name": description.get("outputModelName"),
        "output_data_uri": (description.get("outputDataConfig") or {}).get("s3Uri"),
        "training_data_uri": (description.get("trainingDataConfig") or {}).get("s3Uri"),
        "validation_data_uris": [v.get("s3Uri") for v in validators if isinstance(v, dict)],
        "base_model_arn": description.get("baseModelArn"),
        "customization_type": description.get("customizationType"),
        "hyperparameters": dict(description.get("hyperParameters") or {}),
        "failure_message": description.get("failureMessage"),
        "creation_time": _iso(description.get("creationTime")),
        "end_time": _iso(description.get("endTime")),
    }
    result.update(extra)
    return result


def json_safe(value: Any) -> Any:
    """A describe response as XCom can store it: datetimes as ISO strings, nothing else changed."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items() if key != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
