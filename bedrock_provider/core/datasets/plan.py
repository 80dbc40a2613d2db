"""What to prepare: the operator's parameters checked and resolved before any file is read.

Everything here is decided from the parameters alone, so bad input fails the task before any AWS
call, with every problem listed at once.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from bedrock_provider.core.catalog import check_base_model
from bedrock_provider.core.datasets.formats import (
    CONSERVATIVE_CHARS_PER_TOKEN,
    CONTINUED_PRE_TRAINING,
    DISTILLATION,
    FINE_TUNING,
    FORMATS,
    Limits,
    ModelProfile,
    format_for,
    limits_for,
    profile_for,
)
from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.request import S3_URI_PATTERN
from bedrock_provider.core.s3 import is_s3_uri, split_s3_uri

SUPPORTED_TYPES = (FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION)
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


def _number(value: object, name: str, problems: list[Problem]) -> float | None:
    """A number, or the text a template renders one to ("0.1")."""
    if isinstance(value, bool):
        problems.append(Problem(name, value, "must be a number, got a boolean"))
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            problems.append(Problem(name, value, "must be a number"))
            return None
    else:
        problems.append(Problem(name, value, f"must be a number, got {type(value).__name__}"))
        return None
    if not math.isfinite(number):
        problems.append(Problem(name, value, "must be a finite number"))
        return None
    return number


def _integer(value: object, name: str, problems: list[Problem], minimum: int | None = None) -> int | None:
    number = _number(value, name, problems)
    if number is None:
        return None
    if not number.is_integer():
        problems.append(Problem(name, value, "must be a whole number"))
        return None
    if minimum is not None and number < minimum:
        problems.append(Problem(name, value, f"must be at least {minimum}"))
        return None
    return int(number)


def _flag(value: object, name: str, problems: list[Problem]) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    problems.append(Problem(name, value, "must be True or False"))
    return False


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
    if customization_type not in SUPPORTED_TYPES:
        problems.append(
            Problem(
                "customization_type",
                customization_type,
                f"must be one of {', '.join(SUPPORTED_TYPES)} (reinforcement fine-tuning data is not "
                "prepared by this operator)",
            )
        )
    model: str | None = None
    if base_model_id is not None and base_model_id != "":
        if not isinstance(base_model_id, str) or not base_model_id.strip():
            problems.append(Problem("base_model_id", base_model_id, "must be a Bedrock model id or ARN"))
        else:
            model = base_model_id.strip()
    chosen: str | None = None
    if format is not None and format != "":
        if format not in FORMATS:
            problems.append(
                Problem("format", format, f"must be one of {', '.join(FORMATS)}, or None to choose")
            )
        else:
            chosen = str(format)

    split = _number(validation_split, "validation_split", problems)
    if split is not None and not 0.0 <= split < MAX_VALIDATION_SPLIT:
        problems.append(
            Problem(
                "validation_split",
                validation_split,
                f"must be at least 0 and below {MAX_VALIDATION_SPLIT} (the fraction of records held out for "
                "validation; 0 for none)",
            )
        )
        split = None
    seed_value = _integer(seed, "seed", problems)
    fraction = _number(max_invalid_fraction, "max_invalid_fraction", problems)
    if fraction is not None and not 0.0 <= fraction <= 1.0:
        problems.append(
            Problem(
                "max_invalid_fraction",
                max_invalid_fraction,
                "must be between 0 (any invalid record fails the task) and 1",
            )
        )
        fraction = None
    listed = _integer(max_errors_listed, "max_errors_listed", problems, minimum=0)
    per_token = _number(chars_per_token, "chars_per_token", problems)
    if per_token is not None and per_token <= 0:
        problems.append(Problem("chars_per_token", chars_per_token, "must be greater than 0"))
        per_token = None
    dedupe = _flag(remove_duplicates, "remove_duplicates", problems)

    kind = str(customization_type)
    if model is not None and kind in SUPPORTED_TYPES:
        # The same check as the request validator's, so prep and submission agree on every model.
        _, model_problem = check_base_model(model, kind)
        if model_problem is not None:
            blamed = kind if model_problem.field == "customization_type" else model
            problems.append(Problem(model_problem.field, blamed, model_problem.message))
            model = None
    profile = profile_for(model)
    limits = limits_for(profile, kind)
    resolved = chosen or format_for(kind, profile)
    if chosen is not None:
        source = "the format parameter"
    elif resolved is None:
        source = "detected from the first record"
    elif kind == FINE_TUNING and profile is not None:
        source = f"fine-tuning {profile.title}"
    else:
        source = kind.lower().replace("_", " ")
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
