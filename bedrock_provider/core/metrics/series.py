"""What a metrics file keeps while it is read, in memory bounded whatever its length.

A job's step-wise metrics can run to millions of rows. Reading one keeps: its summary (built row by
row, see metrics._Accumulator), a sample of at most MAX_CHART_POINTS rows for the chart, its epoch
boundaries, and its rows as compact CSV in a spooled temporary file (memory up to SPOOL_MEMORY_BYTES,
disk beyond) from which the merged per-step CSV is written, one row at a time.
"""

from __future__ import annotations

import heapq
import itertools
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

# A chart 1,200 px wide shows no more than this many distinct points per line.
MAX_CHART_POINTS = 2000
MAX_EPOCH_BOUNDARIES = 1000
SPOOL_MEMORY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class MetricRow:
    step: int
    epoch: int | float
    loss: float
    perplexity: float | None


@dataclass
class ChartSample:
    """Every ``stride``-th row, the stride doubling whenever the sample reaches twice its limit: at most
    2 * limit rows, evenly spread over the file, in one pass of unknown length."""

    limit: int = MAX_CHART_POINTS
    stride: int = 1
    seen: int = 0
    rows: list[MetricRow] = field(default_factory=list)

    def add(self, row: MetricRow) -> None:
        if self.seen % self.stride == 0:
            self.rows.append(row)
            if len(self.rows) >= 2 * self.limit:
                self.rows = self.rows[::2]
                self.stride *= 2
        self.seen += 1


@dataclass
class EpochBoundaries:
    """x positions between the last step of one epoch and the first step of the next (file order)."""

    positions: list[float] = field(default_factory=list)
    previous: MetricRow | None = None

    def add(self, row: MetricRow) -> None:
        before = self.previous
        if before is not None and row.epoch != before.epoch and len(self.positions) < MAX_EPOCH_BOUNDARIES:
            self.positions.append((before.step + row.step) / 2)
        self.previous = row


class RowSpool:
    """The rows of one file as compact CSV in a spooled temporary file, and whether they came in step
    order (Bedrock writes them so), which lets two files be merged by step in one streaming pass."""

    def __init__(self) -> None:
        self.file: IO[str] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close()
            max_size=SPOOL_MEMORY_BYTES, mode="w+", newline="", encoding="utf-8"
        )
        self.in_step_order = True
        self._last_step: int | None = None

    def add(self, row: MetricRow) -> None:
        if self._last_step is not None and row.step < self._last_step:
            self.in_step_order = False
        self._last_step = row.step
        # Numbers only: plain comma-separated text needs no CSV quoting, and is faster to write.
        perplexity = "" if row.perplexity is None else repr(row.perplexity)
        self.file.write(f"{row.step},{row.epoch!r},{row.loss!r},{perplexity}\n")

    def rows(self) -> Iterator[MetricRow]:
        self.file.flush()
        self.file.seek(0)
        for line in self.file:
            step, epoch, loss, perplexity = line.rstrip("\n").split(",")
            epoch_value = float(epoch)
            yield MetricRow(
                int(step),
                int(epoch_value) if epoch_value.is_integer() else epoch_value,
                float(loss),
                float(perplexity) if perplexity else None,
            )

    def close(self) -> None:
        self.file.close()


def _merged_in_step_order(training: RowSpool, validation: RowSpool | None) -> Iterator[tuple[Any, ...]]:
    """Both files in step order: one streaming merge, a row per step (training first on a tie)."""
    sources = [((row.step, 0, row) for row in training.rows())]
    if validation is not None:
        sources.append((row.step, 1, row) for row in validation.rows())
    ordered = heapq.merge(*sources, key=lambda item: (item[0], item[1]))
    for step, group in itertools.groupby(ordered, key=lambda item: item[0]):
        merged: list[Any] = []
        for _, which, row in group:
            if not merged:
                merged = [row.epoch, "", "", "", ""]
            merged[1 + 2 * which] = row.loss
            merged[2 + 2 * which] = "" if row.perplexity is None else row.perplexity
        yield (step, *merged)


def merged_step_rows(training: RowSpool, validation: RowSpool | None) -> Iterator[tuple[Any, ...]]:
    """One row per step of either file, in step order; blank where a file has no value at that step.

    Files out of step order (not what Bedrock writes) are merged in memory instead.
    """
    if training.in_step_order and (validation is None or validation.in_step_order):
        yield from _merged_in_step_order(training, validation)
        return
    by_step: dict[int, list[Any]] = {}
    for offset, spool in ((0, training), (2, validation)):
        if spool is None:
            continue
        for row in spool.rows():
            merged = by_step.setdefault(row.step, [row.epoch, "", "", "", ""])
            merged[1 + offset] = row.loss
            merged[2 + offset] = "" if row.perplexity is None else row.perplexity
    for step in sorted(by_step):
        yield (step, *by_step[step])
