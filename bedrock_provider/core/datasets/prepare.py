"""Run the validator over sources into local output files: the part of the operator that needs no AWS.

The operator resolves its sources (S3 objects or local files) into names and openers, and uploads
what this writes; tests and the benchmark call it directly on local files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from bedrock_provider.core.datasets.plan import (
    REPORT_NAME,
    TRAINING_NAME,
    VALIDATION_NAME,
    DatasetPlan,
    is_data_file,
    plan_dataset,
)
from bedrock_provider.core.datasets.reader import BinaryReadable
from bedrock_provider.core.datasets.report import DatasetReport
from bedrock_provider.core.datasets.validator import DatasetValidator

Opener = Callable[[], AbstractContextManager[BinaryReadable]]
_WRITE_BUFFER = 1024 * 1024


@dataclass
class PreparedDataset:
    """The report and the local files written for it."""

    report: DatasetReport
    training_path: Path
    validation_path: Path | None
    report_path: Path


def local_opener(path: str | os.PathLike[str]) -> Opener:
    def open_file() -> AbstractContextManager[BinaryReadable]:
        # Unbuffered: the reader asks for megabytes at a time, a buffer would only add a copy.
        return open(path, "rb", buffering=0)

    return open_file


def local_files(directory: str, exclude: str | None = None) -> list[str]:
    """Data files under a directory, recursively, sorted by path; nothing under ``exclude``."""
    excluded = os.path.realpath(exclude) if exclude else None
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        if excluded and os.path.realpath(root).startswith(excluded):
            dirs[:] = []
            continue
        dirs.sort()
        found.extend(os.path.join(root, name) for name in files if is_data_file(name))
    return sorted(found)


def prepare_dataset(
    plan: DatasetPlan,
    sources: Iterable[tuple[str, Opener]],
    work_dir: str | os.PathLike[str],
    dataset_bucket: str | None = None,
    outputs: dict[str, str | None] | None = None,
) -> PreparedDataset:
    """Validate every source into ``work_dir``/train.jsonl (and validation.jsonl), write report.json.

    ``outputs`` names where the files will end up (their S3 URIs), for the report.
    """
    directory = Path(work_dir)
    training_path = directory / TRAINING_NAME
    validation_path = directory / VALIDATION_NAME if plan.validation_split > 0 else None
    validator = DatasetValidator(plan, dataset_bucket)
    with (
        open(training_path, "wb", buffering=_WRITE_BUFFER) as training,
        _maybe_open(validation_path) as validation,
    ):
        for name, opener in sources:
            with opener() as stream:
                validator.feed(name, stream, training, validation)
        report = validator.finish(training, validation)
    report.outputs = outputs or {
        "training_data_uri": str(training_path),
        "validation_data_uri": str(validation_path) if validation_path else None,
        "report_uri": str(directory / REPORT_NAME),
    }
    report_path = directory / REPORT_NAME
    report_path.write_bytes(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2))
    return PreparedDataset(report, training_path, validation_path, report_path)


def _maybe_open(path: Path | None) -> AbstractContextManager[IO[bytes] | None]:
    if path is None:
        return nullcontext(None)
    return open(path, "wb", buffering=_WRITE_BUFFER)


def validate_stream(
    stream: BinaryReadable, name: str = "<stream>", plan: DatasetPlan | None = None, **plan_kwargs: Any
) -> DatasetReport:
    """Validate one stream without writing anything (the split is counted, not written)."""
    validator = DatasetValidator(plan or plan_dataset(**plan_kwargs))
    validator.feed(name, stream)
    return validator.finish()


def validate_bytes(data: bytes, name: str = "<bytes>", **plan_kwargs: Any) -> DatasetReport:
    """Validate an in-memory file; for tests and notebooks."""
    import io

    return validate_stream(io.BytesIO(data), name, **plan_kwargs)
