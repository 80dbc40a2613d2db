"""BedrockExportMetricsOperator's parameters, checked before any AWS call, and what it writes.

Pure logic: the operator renders its templates, hands the values here, and does the I/O.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.metrics.gate import CHAMPION_POLICIES, ON_GATE_FAILURE_CHOICES, parse_data_date
from bedrock_provider.core.metrics.summary import MetricsSeries
from bedrock_provider.core.names import job_id_from_arn
from bedrock_provider.core.s3 import is_s3_uri, local_path, split_s3_uri
from bedrock_provider.core.values import number_or_nan

ON_INVALID_BASELINE_CHOICES = ("fail", "ignore")
DEFAULT_CHAMPION_TAG = {"stage": "champion"}
# What an Asset event of the export carries: the job's identity, its numbers, the verdict.
ASSET_EVENT_KEYS = (
    "job_arn",
    "job_name",
    "custom_model_arn",
    "training",
    "validation",
    "artifacts",
    "passed",
    "promoted",
)
_URI_FIELDS = ("destination_uri", "baseline_uri", "champion_uri")


@dataclass(frozen=True)
class ExportSettings:
    """The operator's rendered parameters, checked."""

    job_identifier: str
    destination_uri: str | None
    max_training_loss: float | None
    max_validation_loss: float | None
    baseline_uri: str | None
    champion_uri: str | None
    champion_tag: dict[str, str]


def check_export_settings(
    *,
    job_identifier: object,
    destination_uri: object,
    baseline_uri: object,
    champion_uri: object,
    max_training_loss: object,
    max_validation_loss: object,
    on_gate_failure: object,
    champion_policy: object,
    data_date: object,
    champion_tag: object,
    plot: bool,
    promote: bool,
) -> ExportSettings:
    """The rendered parameters, every problem reported at once (InvalidInputError)."""
    problems: list[Problem] = []
    if not isinstance(job_identifier, str) or not job_identifier.strip():
        problems.append(Problem("job_identifier", job_identifier, "must be a job name or ARN"))
    uris = _checked_uris(
        {"destination_uri": destination_uri, "baseline_uri": baseline_uri, "champion_uri": champion_uri},
        problems,
    )
    max_training = _loss_limit("max_training_loss", max_training_loss, problems)
    max_validation = _loss_limit("max_validation_loss", max_validation_loss, problems)
    _check_choices(on_gate_failure, champion_policy, data_date, problems)
    if plot and uris["destination_uri"] is None:
        problems.append(Problem("destination_uri", None, "plot=True needs a destination_uri for loss.png"))
    target = uris["champion_uri"] or uris["baseline_uri"]
    if promote and target is None:
        problems.append(
            Problem("champion_uri", None, "promote=True needs champion_uri or baseline_uri to write to")
        )
    if not _is_tag_set(champion_tag):
        problems.append(
            Problem("champion_tag", champion_tag, "must be a non-empty dict of string keys and values")
        )
    if problems:
        raise InvalidInputError("BedrockExportMetricsOperator", problems)
    assert isinstance(job_identifier, str) and isinstance(champion_tag, dict)  # noqa: S101 - checked above
    return ExportSettings(
        job_identifier=job_identifier.strip(),
        destination_uri=uris["destination_uri"],
        max_training_loss=max_training,
        max_validation_loss=max_validation,
        baseline_uri=uris["baseline_uri"],
        champion_uri=target,
        champion_tag=dict(champion_tag),
    )


# The operator's parameters check_export_settings reads, by name: the operator hands over each one.
EXPORT_PARAMETERS = tuple(inspect.signature(check_export_settings).parameters)


def _checked_uris(values: Mapping[str, object], problems: list[Problem]) -> dict[str, str | None]:
    """Each URI parameter as given, None when left empty; a bad one is a problem."""
    uris: dict[str, str | None] = {}
    for name in _URI_FIELDS:
        value = values[name]
        if value in (None, ""):
            uris[name] = None
            continue
        problem = uri_problem(name, value)
        if problem:
            problems.append(problem)
        uris[name] = value  # type: ignore[assignment]  # a str whenever there is no problem
    return uris


def uri_problem(field: str, value: object) -> Problem | None:
    """An s3://bucket/prefix URI or an absolute local path is fine; anything else is a problem."""
    if not isinstance(value, str) or not value.strip():
        return Problem(field, value, "must be an s3://bucket/prefix URI or an absolute local path")
    if is_s3_uri(value):
        if not split_s3_uri(value)[0]:
            return Problem(field, value, "names no bucket; use s3://bucket/prefix")
        return None
    if value.startswith("file://") or value.startswith("/"):
        return None if local_path(value).is_absolute() else Problem(field, value, "must be absolute")
    return Problem(
        field,
        value,
        "must be an s3://bucket/prefix URI or an absolute local path (a relative path would depend on "
        "the worker's working directory)",
    )


def on_gate_failure_problem(value: object) -> Problem | None:
    if value in ON_GATE_FAILURE_CHOICES:
        return None
    return Problem("on_gate_failure", value, f"must be one of {', '.join(ON_GATE_FAILURE_CHOICES)}")


def _check_choices(
    on_gate_failure: object, champion_policy: object, data_date: object, problems: list[Problem]
) -> None:
    problem = on_gate_failure_problem(on_gate_failure)
    if problem:
        problems.append(problem)
    if champion_policy not in CHAMPION_POLICIES:
        problems.append(
            Problem("champion_policy", champion_policy, f"must be one of {', '.join(CHAMPION_POLICIES)}")
        )
    try:
        parse_data_date(data_date)
    except ValueError as error:
        problems.append(Problem("data_date", data_date, str(error).split(": ", 1)[-1]))


def _loss_limit(field: str, value: object, problems: list[Problem]) -> float | None:
    """A loss threshold: a positive number, or its text when it came from a template."""
    if value is None or value == "":
        return None
    number = number_or_nan(value)
    if not math.isfinite(number) or number <= 0:
        problems.append(Problem(field, value, "must be a positive number (a loss), or None for no limit"))
        return None
    return number


def _is_tag_set(tag: object) -> bool:
    return (
        isinstance(tag, dict)
        and bool(tag)
        and all(isinstance(key, str) and key and isinstance(value, str) for key, value in tag.items())
    )


def check_on_invalid_baseline(value: str) -> str:
    """Checked when the DAG is parsed: the parameter is not templated."""
    if value not in ON_INVALID_BASELINE_CHOICES:
        raise ValueError(
            f"on_invalid_baseline={value!r}: must be one of {', '.join(ON_INVALID_BASELINE_CHOICES)}"
        )
    return value


def job_result(
    description: Mapping[str, Any], training: MetricsSeries, validation: MetricsSeries | None
) -> dict[str, Any]:
    """The start of the operator's result: the job's identity, both summaries and where they came from."""
    job_arn = str(description["jobArn"])
    return {
        "job_arn": job_arn,
        "job_name": str(description.get("jobName") or job_id_from_arn(job_arn)),
        "custom_model_arn": description.get("outputModelArn"),
        "custom_model_name": description.get("outputModelName"),
        "training": training.summary,
        "validation": validation.summary if validation else None,
        "sources": {"training": training.source, "validation": validation.source if validation else None},
    }


def run_data_date(given: object, logical_date: object, run_after: object) -> str | None:
    """The data_date given, or the run's logical date, or (a run without one) its run date."""
    parsed = parse_data_date(given)
    if parsed is not None:
        return parsed
    return parse_data_date(logical_date if logical_date is not None else run_after)


def summary_json(value: Any) -> bytes:
    """A summary or champion file: stable key order, and no nan (JSON has none)."""
    return (json.dumps(value, indent=2, sort_keys=True, allow_nan=False) + "\n").encode()


def asset_event_extra(result: Mapping[str, Any]) -> dict[str, Any]:
    return {key: result.get(key) for key in ASSET_EVENT_KEYS}
