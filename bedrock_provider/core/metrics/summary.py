"""A metrics file's summary numbers, computed in the same pass that parses it, and the merged per-step CSV."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from bedrock_provider.core.metrics.parsing import MetricsKind, parse_metrics
from bedrock_provider.core.metrics.series import (
    ChartSample,
    EpochBoundaries,
    MetricRow,
    RowSpool,
    merged_step_rows,
)


@dataclass
class _Accumulator:
    """A file's summary, built one row at a time so it never needs the rows twice."""

    count: int = 0
    final: MetricRow | None = None
    best: MetricRow | None = None
    epoch_totals: dict[int | float, list[float]] = field(default_factory=dict)

    def add(self, row: MetricRow) -> None:
        self.count += 1
        # The final row is the highest step (the later row on a tie), so a file out of order still
        # reports where training ended.
        if self.final is None or row.step >= self.final.step:
            self.final = row
        # The first time the minimum is reached is when the model was best.
        if self.best is None or row.loss < self.best.loss:
            self.best = row
        total = self.epoch_totals.setdefault(row.epoch, [0.0, 0])
        total[0] += row.loss
        total[1] += 1

    def summary(self) -> dict[str, Any]:
        assert self.final is not None and self.best is not None  # noqa: S101 - callers check count
        if self.final.perplexity is not None:
            perplexity: float | None = self.final.perplexity
            source = "file"
        else:
            perplexity = perplexity_of(self.final.loss)
            source = "exp(final_loss)"
        return {
            "final_loss": self.final.loss,
            "final_step": self.final.step,
            "min_loss": self.best.loss,
            "min_loss_step": self.best.step,
            "final_perplexity": _finite_or_none(perplexity),
            "perplexity_source": source,
            "steps": self.count,
            "epochs": len(self.epoch_totals),
            "epoch_means": {
                _epoch_key(epoch): total / count
                for epoch, (total, count) in sorted(self.epoch_totals.items())
            },
        }


@dataclass
class MetricsSeries:
    """One parsed metrics file, in memory bounded whatever its length (see metric_series): its
    summary, a sample of its rows for the chart (``rows``, in file order), its epoch boundaries, and
    all its rows spooled for the merged CSV. ``close()`` drops the spool."""

    kind: MetricsKind
    source: str
    rows: list[MetricRow]
    summary: dict[str, Any]
    epoch_boundaries: list[float] = field(default_factory=list)
    spool: RowSpool | None = None

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()


def perplexity_of(loss: float) -> float:
    """Perplexity is exp(cross-entropy loss); inf when the loss is too large for a float."""
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _epoch_key(epoch: int | float) -> str:
    # JSON object keys are strings; XCom and summary.json agree on "0", "1", ...
    return str(epoch)


def read_metrics(lines: Iterable[str], kind: MetricsKind, source: str) -> MetricsSeries:
    """Parse a metrics file and summarize it in the same pass, keeping a bounded sample for the chart
    and the rows spooled (memory, then disk) for the merged CSV."""
    accumulator = _Accumulator()
    sample = ChartSample()
    boundaries = EpochBoundaries()
    spool = RowSpool()
    try:
        for row in parse_metrics(lines, kind, source):
            accumulator.add(row)
            sample.add(row)
            boundaries.add(row)
            spool.add(row)
    except BaseException:
        spool.close()
        raise
    return MetricsSeries(
        kind=kind,
        source=source,
        rows=sample.rows,
        summary=accumulator.summary(),
        epoch_boundaries=boundaries.positions,
        spool=spool,
    )


# -- merged per-step CSV -----------------------------------------------------------------------------

MERGED_COLUMNS = (
    "step",
    "epoch",
    "training_loss",
    "training_perplexity",
    "validation_loss",
    "validation_perplexity",
)


def merged_rows(training: MetricsSeries, validation: MetricsSeries | None) -> Iterator[tuple[Any, ...]]:
    """One row per step of either file, in step order; blank where a file has no value at that step."""
    if training.spool is None:
        raise ValueError(f"the rows of {training.source} were not kept (read it with read_metrics)")
    return merged_step_rows(training.spool, validation.spool if validation is not None else None)


def write_merged_csv(training: MetricsSeries, validation: MetricsSeries | None, out: IO[str]) -> None:
    """The merged per-step CSV, written one row at a time."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MERGED_COLUMNS)
    writer.writerows(merged_rows(training, validation))


def merged_csv(training: MetricsSeries, validation: MetricsSeries | None) -> str:
    out = io.StringIO()
    write_merged_csv(training, validation, out)
    return out.getvalue()
