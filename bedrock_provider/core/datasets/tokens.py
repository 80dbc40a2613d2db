"""A training file's tokens, counted as BedrockPrepareDatasetOperator counts them, for the cost estimate."""

from __future__ import annotations

from typing import Any

from bedrock_provider.core.catalog.cost import TokenCount
from bedrock_provider.core.datasets.plan import plan_dataset
from bedrock_provider.core.datasets.prepare import validate_stream
from bedrock_provider.core.errors import InvalidInputError


def count_training_tokens(
    stream: Any, name: str, customization_type: str, base_model_id: str | None
) -> tuple[TokenCount, tuple[str, ...]]:
    """Count a training file's tokens as BedrockPrepareDatasetOperator does: the same streaming reader
    and record checks (memory holds one chunk, whatever the file's size), the same characters per
    token. Returns the count and what the reader noticed (invalid records are not counted)."""
    notes: list[str] = []
    try:
        plan = plan_dataset(customization_type=customization_type, base_model_id=base_model_id)
    except InvalidInputError as error:
        # Only a catalog refusal gets here (the request passed with model_checks="warn"): count the
        # records in the format they show, as for a model the catalog does not know.
        if not set(error.fields) <= {"base_model_id", "customization_type"}:
            raise
        plan = plan_dataset(customization_type=customization_type, base_model_id=None)
        notes.append(f"{name}: counted without the model catalog's row for {base_model_id}")
    report = validate_stream(stream, name, plan)
    if report.invalid_records or report.dataset_errors:
        notes.append(
            f"{name}: {report.invalid_records:,} of {report.records:,} records are invalid and were not "
            "counted (run BedrockPrepareDatasetOperator for the details); Bedrock may fail the job on them"
            + (f": {'; '.join(report.dataset_errors)}" if report.dataset_errors else "")
        )
    basis = f"counted in {name}, {report.counts['valid']:,} records: {report.tokens_basis}"
    return TokenCount(report.training_tokens, basis), tuple(notes)
