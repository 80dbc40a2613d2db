"""What to prepare: the operator's parameters checked and resolved before any file is read.

Everything here is decided from the parameters alone, so bad input fails the task before any AWS
call, with every problem listed at once.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from bedrock_provider.core.catalog import check_base_model
from bedrock_provider.core.datasets.formats import (
    CONSERVATIVE_CHARS_PER_TOKEN,
    CONTINUED_PRE_TRAINING,
    DISTILLATION,
    FINE_TUNING,
    FORMATS,
    REINFORCEMENT_FINE_TUNING,
    Limits,
    ModelProfile,
    format_for,
    limits_for,
    profile_for,
)
from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.s3 import S3_URI_PATTERN, is_s3_uri, split_s3_uri
from bedrock_provider.core.values import parse_flag, parse_integer, parse_number

SUPPORTED_TYPES = (FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION, REINFORCEMENT_FINE_TUNING)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
MAX_VALIDATION_SPLIT = 0.5
# Suffixes of the files read from a prefix or directory; others (a _SUCCESS marker, a manifest)
# are skipped. Compression is recognised by content, so ".gz" is only a naming convention.
DATA_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz")
TRAINING_NAME = "train.jsonl"
VALIDATION_NAME = "validation.jsonl"
REPORT_NAME = "report.json"


@dataclass(frozen=True)
class Location:
    """A source or output: an S3 object or prefix, or a local file or directory."""

    uri: str
    bucket: str = ""
    key: str = ""

    @property
    def is_s3(self) -> bool:
        return is_s3_uri(self.uri)

    @property
    def is_prefix(self) -> bool:
        """An S3 prefix ends in '/' (or is a bare bucket); a local path is a directory if it is one."""
        if self.is_s3:
            return self.key == "" or self.key.endswith("/")
        return os.path.isdir(self.uri)

    def child(self, name: str) -> str:
        """The URI (or path) of a file directly under this prefix or directory."""
        if self.is_s3:
            return f"{self.uri.rstrip('/')}/{name}"
        return os.path.join(self.uri, name)

    def child_key(self, name: str) -> str:
        prefix = self.key.rstrip("/")
        return f"{prefix}/{name}" if prefix else name


def parse_location(uri: str) -> Location:
    if is_s3_uri(uri):
        return Location(uri, *split_s3_uri(uri))
    return Location(uri)


@dataclass(frozen=True)
class DatasetPlan:
    """The checked parameters and what they resolve to."""

    customization_type: str
    base_model_id: str | None
    format: str | None  # None: detect it from the first record
    format_source: str
    profile: ModelProfile | None
    limits: Limits | None
    validation_split: float
    seed: int
    max_invalid_fraction: float
    remove_duplicates: bool
    max_errors_listed: int
    chars_per_token: float


def plan_dataset(
    customization_type: object = FINE_TUNING,
    base_model_id: object = None,
    format: object = None,
    validation_split: object = 0.0,
    seed: object = 0,
    max_invalid_fraction: object = 0.0,
    remove_duplicates: object = False,
    max_errors_listed: object = 20,
    chars_per_token: object = CONSERVATIVE_CHARS_PER_TOKEN,
) -> DatasetPlan:
    """Check the parameters; raise InvalidInputError listing every problem, or return the plan."""
    problems: list[Problem] = []
    kind = _check_customization_type(customization_type, problems)
    model = _check_model_id(base_model_id, problems)
    chosen = _check_format(format, problems)
    split = _in_range(
        validation_split,
        "validation_split",
        problems,
        lambda number: 0.0 <= number < MAX_VALIDATION_SPLIT,
        f"must be at least 0 and below {MAX_VALIDATION_SPLIT} (the fraction of records held out for "
        "validation; 0 for none)",
    )
    seed_value = parse_integer(seed, "seed", problems)
    fraction = _in_range(
        max_invalid_fraction,
        "max_invalid_fraction",
        problems,
        lambda number: 0.0 <= number <= 1.0,
        "must be between 0 (any invalid record fails the task) and 1",
    )
    listed = parse_integer(max_errors_listed, "max_errors_listed", problems, minimum=0)
    per_token = _in_range(
        chars_per_token, "chars_per_token", problems, lambda number: number > 0, "must be greater than 0"
    )
    dedupe = parse_flag(remove_duplicates, "remove_duplicates", problems)
    model = _check_model_for_type(model, kind, problems)

    profile = profile_for(model)
    limits = limits_for(profile, kind)
    resolved, source = _resolve_format(chosen, kind, profile)
    if limits is not None and not limits.validation_supported and split:
        problems.append(
            Problem(
                "validation_split",
                validation_split,
                f"{profile.title if profile else base_model_id} takes no validation dataset; use 0",
            )
        )
    if problems:
        raise InvalidInputError("Dataset preparation", problems)
    return DatasetPlan(
        customization_type=kind,
        base_model_id=model,
        format=resolved,
        format_source=source,
        profile=profile,
        limits=limits,
        validation_split=split or 0.0,
        seed=seed_value or 0,
        max_invalid_fraction=fraction or 0.0,
        remove_duplicates=dedupe,
        max_errors_listed=listed if listed is not None else 20,
        chars_per_token=per_token or CONSERVATIVE_CHARS_PER_TOKEN,
    )


# The operator's parameters plan_dataset reads, by name: the operator hands over each one, so a
# parameter added here cannot be silently left at its default.
PLAN_PARAMETERS = tuple(inspect.signature(plan_dataset).parameters)


def _check_customization_type(value: object, problems: list[Problem]) -> str:
    if value not in SUPPORTED_TYPES:
        problems.append(
            Problem(
                "customization_type",
                value,
                f"must be one of {', '.join(SUPPORTED_TYPES)}",
            )
        )
    return str(value)


def _check_model_id(value: object, problems: list[Problem]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem("base_model_id", value, "must be a Bedrock model id or ARN"))
        return None
    return value.strip()


def _check_model_for_type(model: str | None, kind: str, problems: list[Problem]) -> str | None:
    """The same check as the request validator's, so prep and submission agree on every model."""
    if model is None or kind not in SUPPORTED_TYPES:
        return model
    _, model_problem = check_base_model(model, kind)
    if model_problem is None:
        return model
    blamed = kind if model_problem.field == "customization_type" else model
    problems.append(Problem(model_problem.field, blamed, model_problem.message))
    return None


def _check_format(value: object, problems: list[Problem]) -> str | None:
    if value is None or value == "":
        return None
    if value not in FORMATS:
        problems.append(Problem("format", value, f"must be one of {', '.join(FORMATS)}, or None to choose"))
        return None
    return str(value)


def _in_range(
    value: object, name: str, problems: list[Problem], within: Callable[[float], bool], message: str
) -> float | None:
    number = parse_number(value, name, problems)
    if number is not None and not within(number):
        problems.append(Problem(name, value, message))
        return None
    return number


def _resolve_format(chosen: str | None, kind: str, profile: ModelProfile | None) -> tuple[str | None, str]:
    """The format the records must have, and where that choice came from (for the log)."""
    if chosen is not None:
        return chosen, "the format parameter"
    resolved = format_for(kind, profile)
    if resolved is None:
        return None, "detected from the first record"
    if kind == FINE_TUNING and profile is not None:
        return resolved, f"fine-tuning {profile.title}"
    return resolved, kind.lower().replace("_", " ")


def check_locations(source_uri: object, output_uri: object) -> tuple[list[Location], Location]:
    """The sources (one URI or a list) and the output prefix, checked; InvalidInputError otherwise.

    S3 URIs must be ones Bedrock accepts, because the output files' URIs go straight into the
    customization job: a run id with ':' or '+' in the output prefix would fail there, an hour
    later, so it fails here.
    """
    problems: list[Problem] = []
    sources: list[Location] = []
    items = [source_uri] if isinstance(source_uri, str) else source_uri
    if not isinstance(items, list | tuple) or not items:
        problems.append(
            Problem("source_uri", source_uri, "must be an S3 URI or local path, or a non-empty list of them")
        )
        items = []
    for index, item in enumerate(items):
        name = "source_uri" if isinstance(source_uri, str) else f"source_uri[{index}]"
        location = _check_location(item, name, problems, bedrock_reads=False)
        if location is not None:
            sources.append(location)
    output = _check_location(output_uri, "output_uri", problems, bedrock_reads=True)
    if problems or output is None:
        raise InvalidInputError("Dataset preparation", problems)
    return sources, output


def _check_location(
    value: object, name: str, problems: list[Problem], bedrock_reads: bool
) -> Location | None:
    """A location, or a problem. Only what Bedrock reads (the outputs) must match Bedrock's S3 URI
    pattern; sources are read here, through S3's own API, and may hold any key (``dt=2024-01-01/``)."""
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(name, value, "must be an S3 URI (s3://bucket/key) or a local path"))
        return None
    if value != value.strip():
        problems.append(Problem(name, value, "has leading or trailing white space; remove it"))
        return None
    if "://" in value and not is_s3_uri(value):
        problems.append(Problem(name, value, "only s3:// URIs and local paths are supported"))
        return None
    location = parse_location(value)
    if location.is_s3 and not _BUCKET.fullmatch(location.bucket):
        problems.append(
            Problem(name, value, "the bucket name must be 3-63 lowercase letters, digits, '.' and '-'")
        )
        return None
    if bedrock_reads and location.is_s3 and S3_URI_PATTERN.fullmatch(value) is None:
        problems.append(
            Problem(
                name,
                value,
                "is not an S3 URI Bedrock accepts: a key of letters, digits and -!_*'(). separated by '/' "
                "(use ds_nodash or the bedrock_name filter for run ids)",
            )
        )
        return None
    return location


def is_data_file(name: str) -> bool:
    return name.lower().endswith(DATA_SUFFIXES)


# Listed in full up to this many; beyond, the first and last few with the count.
_PARTITIONS_LISTED = 8


def counted(count: int, noun: str) -> str:
    """'1 duplicate', '2 duplicates', '1,204 records'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def partition_parent(key: str) -> str:
    """The prefix that holds a partition: 'raw/support/' for 'raw/support/20261126/'."""
    trimmed = key.rstrip("/")
    return trimmed[: trimmed.rfind("/") + 1] if "/" in trimmed else ""


def missing_partition_message(source_uri: str, parent_uri: str, partitions: list[str]) -> str:
    """Why a source has no data, and which partitions beside it do exist (e.g. the dates a DAG can run)."""
    message = f"source_uri {source_uri}: no .jsonl, .jsonl.gz or .json files there."
    existing = sorted(name for name in partitions if name)
    if not existing:
        return message + f" Nothing is under {parent_uri} either."
    if len(existing) > _PARTITIONS_LISTED:
        half = _PARTITIONS_LISTED // 2
        shown = ", ".join(existing[:half]) + ", ..., " + ", ".join(existing[-half:])
    else:
        shown = ", ".join(existing)
    return (
        f"{message} {parent_uri} holds {counted(len(existing), 'partition')}: "
        f"{shown}. Run for one of these (for a DAG: a logical date among them, or a backfill over them)."
    )
