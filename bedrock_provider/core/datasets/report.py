"""The dataset report: what the validator found, as the JSON written next to the outputs and as the
message of a failed task."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from bedrock_provider.core.datasets.formats import DOCUMENTED_CHARS_PER_TOKEN, PREPARE_URL
from bedrock_provider.core.datasets.plan import DatasetPlan
from bedrock_provider.core.datasets.reader import StreamStats


@dataclass
class SourceSummary:
    """Counts for one source file."""

    name: str
    stats: StreamStats
    lines: int = 0
    records: int = 0
    valid: int = 0
    invalid: int = 0
    blank_lines: int = 0
    duplicates: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "uri": self.name,
            "bytes": self.stats.bytes_read,
            "bytes_decoded": self.stats.bytes_decoded,
            "gzip": self.stats.gzip,
            "lines": self.lines,
            "records": self.records,
            "valid": self.valid,
            "invalid": self.invalid,
            "blank_lines": self.blank_lines,
            "duplicates": self.duplicates,
        }
        notes = list(self.stats.notes)
        if self.stats.bytes_read == 0 and self.error is None:
            notes.append("the file is empty (0 bytes)")
        if self.stats.ends_without_newline:
            notes.append("the last line had no line end (the output adds one)")
        if notes:
            result["notes"] = notes
        if self.error:
            result["error"] = self.error
        return result


@dataclass
class DatasetReport:
    """Everything the validator found; ``to_dict`` is the JSON report written next to the outputs."""

    plan: DatasetPlan
    format: str | None
    format_source: str
    sources: list[SourceSummary]
    counts: dict[str, int]
    errors: list[dict[str, Any]]
    error_counts: dict[str, int]
    errors_total: int
    dataset_errors: list[str]
    warnings: list[str]
    limits: list[dict[str, Any]]
    characters: int
    validation_characters: int
    max_record_characters: int
    bytes_written: dict[str, int]
    duplicates: list[dict[str, Any]]
    outputs: dict[str, str | None] = field(default_factory=dict)

    @property
    def records(self) -> int:
        return self.counts["records"]

    @property
    def invalid_records(self) -> int:
        return self.counts["invalid"]

    @property
    def invalid_fraction(self) -> float:
        return self.invalid_records / self.records if self.records else 0.0

    @property
    def too_many_invalid(self) -> bool:
        return self.invalid_records > 0 and self.invalid_fraction > self.plan.max_invalid_fraction

    @property
    def passed(self) -> bool:
        return not self.dataset_errors and not self.too_many_invalid

    @property
    def estimated_tokens(self) -> int:
        return self.tokens(self.characters)

    @property
    def training_tokens(self) -> int:
        """Estimated tokens of the training split: what Bedrock bills, once per epoch."""
        return self.tokens(self.characters - self.validation_characters)

    @property
    def validation_tokens(self) -> int:
        return self.tokens(self.validation_characters)

    def tokens(self, characters: int) -> int:
        return math.ceil(characters / self.plan.chars_per_token)

    @property
    def tokens_basis(self) -> str:
        """How the token counts were estimated."""
        plan = self.plan
        return (
            f"characters of the records' text / {plan.chars_per_token:g}: no tokenizer ships with Bedrock; "
            f"Bedrock's own estimate is {DOCUMENTED_CHARS_PER_TOKEN} characters per token ({PREPARE_URL}), "
            f"{plan.chars_per_token:g} errs towards more tokens"
        )

    def to_dict(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "passed": self.passed,
            "format": self.format,
            "format_source": self.format_source,
            "customization_type": plan.customization_type,
            "base_model_id": plan.base_model_id,
            "outputs": self.outputs,
            "counts": self.counts,
            "invalid_fraction": round(self.invalid_fraction, 6),
            "max_invalid_fraction": plan.max_invalid_fraction,
            "bytes": {
                "read": sum(source.stats.bytes_read for source in self.sources),
                "decoded": sum(source.stats.bytes_decoded for source in self.sources),
                **self.bytes_written,
            },
            "characters": self.characters,
            "max_record_characters": self.max_record_characters,
            "estimated_tokens": self.estimated_tokens,
            "training_tokens": self.training_tokens,
            "validation_tokens": self.validation_tokens,
            "estimated_tokens_basis": self.tokens_basis,
            "split": {
                "validation_split": plan.validation_split,
                "seed": plan.seed,
                "method": "seeded CRC-32 of each record's bytes; the fraction holds on average",
            },
            "remove_duplicates": plan.remove_duplicates,
            "sources": [source.to_dict() for source in self.sources],
            "dataset_errors": self.dataset_errors,
            "errors_total": self.errors_total,
            "error_counts": self.error_counts,
            "errors": self.errors,
            "duplicates": self.duplicates,
            "warnings": self.warnings,
            "limits": self.limits,
        }

    def failure_message(self, report_uri: str | None = None) -> str:
        """Why the dataset was rejected, with the first errors and where the full report is."""
        parts = []
        if self.dataset_errors:
            parts.append("Dataset rejected:\n" + "\n".join(f"  - {error}" for error in self.dataset_errors))
        if self.too_many_invalid:
            parts.append(
                f"{self.invalid_records:,} of {self.records:,} records are invalid "
                f"({self.invalid_fraction:.2%}; max_invalid_fraction={self.plan.max_invalid_fraction:g})."
            )
        if self.errors:
            shown = "\n".join(f"  - {_describe(error)}" for error in self.errors)
            parts.append(f"First {len(self.errors)} of {self.errors_total:,} errors:\n{shown}")
        if report_uri:
            parts.append(f"Full report: {report_uri}")
        return "\n".join(parts)


def _describe(error: dict[str, Any]) -> str:
    where = f"{error['source']} line {error['line']}"
    if error.get("field"):
        where += f", {error['field']}"
    return f"{where}: {error['message']}"
