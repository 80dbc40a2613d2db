"""Parsing Bedrock's metrics CSVs: the columns of each file, and its rows one at a time."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bedrock_provider.core.metrics.series import MetricRow


class MetricsFileError(ValueError):
    """A metrics CSV that cannot be read: names the file and, where there is one, the line and column."""

    def __init__(self, source: str, message: str, line: int | None = None, column: str | None = None):
        where = source
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line
        self.column = column


@dataclass(frozen=True)
class MetricsKind:
    """The columns of one of Bedrock's metrics files."""

    name: str
    filename: str
    loss_column: str
    perplexity_columns: tuple[str, ...]
    step_column: str = "step_number"
    epoch_column: str = "epoch_number"

    @property
    def required(self) -> tuple[str, ...]:
        return (self.step_column, self.epoch_column, self.loss_column)

    def describe_columns(self) -> str:
        return ", ".join(self.required) + f" (and optionally {self.perplexity_columns[0]})"


TRAINING = MetricsKind("training", "step_wise_training_metrics.csv", "training_loss", ("perplexity",))
# Bedrock names the validation file's perplexity column validation_perplexity; a plain "perplexity"
# column is accepted too, since the validation file otherwise mirrors the training file.
VALIDATION = MetricsKind(
    "validation", "validation_metrics.csv", "validation_loss", ("validation_perplexity", "perplexity")
)


def _number(text: str, source: str, line: int, column: str, allow_infinite: bool = False) -> float:
    value = text.strip()
    if not value:
        raise MetricsFileError(source, "empty value; every row needs a number here", line, column)
    try:
        number = float(value)
    except ValueError:
        raise MetricsFileError(source, f"{value!r} is not a number", line, column) from None
    if math.isnan(number) or (math.isinf(number) and not allow_infinite):
        raise MetricsFileError(source, f"{value!r} is not a finite number", line, column)
    return number


def _integral(number: float, text: str, source: str, line: int, column: str) -> int:
    if not number.is_integer():
        raise MetricsFileError(source, f"{text.strip()!r} is not a whole number", line, column)
    return int(number)


def _header_index(header: list[str], kind: MetricsKind, source: str) -> tuple[dict[str, int], int | None]:
    names = [cell.strip().lstrip("\ufeff").lower() for cell in header]
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(name, position)
    missing = [column for column in kind.required if column not in index]
    if missing:
        raise MetricsFileError(
            source,
            f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"found {', '.join(names) or 'no columns'}. A {kind.filename} needs {kind.describe_columns()}.",
            line=1,
        )
    perplexity = next((index[name] for name in kind.perplexity_columns if name in index), None)
    return index, perplexity


def parse_metrics(lines: Iterable[str], kind: MetricsKind, source: str) -> Iterator[MetricRow]:
    """Rows of a metrics CSV read from a text stream, one at a time.

    Columns are found by name (any order; extra columns ignored); a missing required column, an
    empty or non-numeric value, and a file with no rows are errors naming the file, line and column.
    Blank lines are skipped. An empty perplexity cell is None (the summary then uses exp(loss)).
    """
    reader = csv.reader(lines)
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        raise MetricsFileError(source, f"the file is empty; expected a header of {kind.describe_columns()}")
    index, perplexity_at = _header_index(header, kind, source)
    step_at, epoch_at, loss_at = (index[column] for column in kind.required)
    perplexity_name = header[perplexity_at].strip() if perplexity_at is not None else ""
    width = max([step_at, epoch_at, loss_at] + ([perplexity_at] if perplexity_at is not None else []))
    rows = 0
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        line = reader.line_num
        if len(cells) <= width:
            cells = cells + [""] * (width + 1 - len(cells))
        step_text, epoch_text = cells[step_at], cells[epoch_at]
        step = _integral(
            _number(step_text, source, line, kind.step_column), step_text, source, line, kind.step_column
        )
        epoch_value = _number(epoch_text, source, line, kind.epoch_column)
        epoch: int | float = int(epoch_value) if epoch_value.is_integer() else epoch_value
        loss = _number(cells[loss_at], source, line, kind.loss_column)
        if loss < 0:
            raise MetricsFileError(
                source,
                f"{cells[loss_at].strip()!r} is a negative loss; a cross-entropy loss is never below 0, so "
                "this is not a loss Bedrock wrote (the wrong file or column?)",
                line,
                kind.loss_column,
            )
        perplexity = None
        if perplexity_at is not None and cells[perplexity_at].strip():
            perplexity = _number(cells[perplexity_at], source, line, perplexity_name, allow_infinite=True)
            if perplexity < 0:
                raise MetricsFileError(
                    source,
                    f"{cells[perplexity_at].strip()!r} is a negative perplexity; perplexity is exp(loss), "
                    "never below 0",
                    line,
                    perplexity_name,
                )
        rows += 1
        yield MetricRow(step, epoch, loss, perplexity)
    if rows == 0:
        raise MetricsFileError(source, "the file has a header but no rows of metrics")
