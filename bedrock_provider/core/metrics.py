"""Bedrock's training and validation metrics: where they are, parsing, summaries, the gate, the chart.

Pure Python (csv, math); matplotlib is imported only by ``render_loss_chart``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any

from bedrock_provider.core import states
from bedrock_provider.core.metric_series import (
    ChartSample,
    EpochBoundaries,
    MetricRow,
    RowSpool,
    merged_step_rows,
)
from bedrock_provider.core.results import job_id_from_arn

# Layout of a job's output, from "Analyze the results of a model customization job":
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-analyze.html
#   {output}/model-customization-job-{job id}/training_artifacts/step_wise_training_metrics.csv
#   {output}/model-customization-job-{job id}/validation_artifacts/post_fine_tuning_validation/...
# The page's tree puts validation_metrics.csv directly under post_fine_tuning_validation/, while jobs
# write it one folder deeper, in validation/ (as AWS's own samples read it). Both are tried, deeper first.
TRAINING_METRICS_KEY = "training_artifacts/step_wise_training_metrics.csv"
VALIDATION_METRICS_KEYS = (
    "validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
    "validation_artifacts/post_fine_tuning_validation/validation_metrics.csv",
)

PLOTS_EXTRA_HINT = "pip install 'airflow-provider-bedrock[plots]'"


class JobNotCompletedError(RuntimeError):
    """The job has no metrics to read because it did not (yet) complete."""

    def __init__(self, message: str, status: str):
        super().__init__(message)
        self.status = status


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


class MissingPlotsExtraError(ImportError):
    """plot=True without matplotlib installed."""


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


@dataclass(frozen=True)
class MetricsLocations:
    """Where a completed job's metrics files are (S3 URIs)."""

    job_folder: str
    training: str
    validation_candidates: tuple[str, ...]


EXPORTED_FILES = {"summary": "summary.json", "metrics": "metrics.csv", "chart": "loss.png"}


def join_uri(base: str, *parts: str) -> str:
    """``s3://bucket/prefix`` or a local directory, joined with '/' whatever the trailing slash."""
    return "/".join([base.rstrip("/"), *(part.strip("/") for part in parts)])


def export_uris(destination: str, job_name: str, plot: bool) -> dict[str, str]:
    """Where a job's exports go: one folder per job, so a re-run overwrites rather than duplicates."""
    return {
        name: join_uri(destination, job_name, filename)
        for name, filename in EXPORTED_FILES.items()
        if plot or name != "chart"
    }


def require_completed(description: Mapping[str, Any]) -> None:
    """Metrics exist only for a Completed job; anything else is an error naming the status."""
    status = str(description.get("status"))
    if status == states.COMPLETED:
        return
    name = description.get("jobName") or description.get("jobArn")
    if status in states.FAILURE_STATES:
        reason = description.get("failureMessage") or "Bedrock gave no failure message"
        raise JobNotCompletedError(
            f"Bedrock job {name} is {status}, not Completed ({reason}): it wrote no metrics to export. "
            "Fix the job and run it again.",
            status,
        )
    raise JobNotCompletedError(
        f"Bedrock job {name} is {status}, not Completed: its metrics are written when it completes. "
        "Run this task after the job has completed (BedrockModelCustomizationOperator with "
        "wait_for_completion=True, or BedrockModelCustomizationSensor upstream).",
        status,
    )


def metrics_locations(description: Mapping[str, Any]) -> MetricsLocations:
    """The metrics files of a job, from its outputDataConfig.s3Uri and the job id in its ARN."""
    output = str((description.get("outputDataConfig") or {}).get("s3Uri") or "")
    job_arn = str(description.get("jobArn") or "")
    if not output or not job_arn:
        raise ValueError(
            f"The description of job {description.get('jobName')!r} has no "
            f"{'outputDataConfig.s3Uri' if not output else 'jobArn'}: cannot locate its metrics"
        )
    folder = f"{output.rstrip('/')}/model-customization-job-{job_id_from_arn(job_arn)}"
    return MetricsLocations(
        job_folder=folder,
        training=f"{folder}/{TRAINING_METRICS_KEY}",
        validation_candidates=tuple(f"{folder}/{key}" for key in VALIDATION_METRICS_KEYS),
    )


# -- parsing -----------------------------------------------------------------------------------------


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


# -- the gate ----------------------------------------------------------------------------------------


# What a failed gate does to the task: fail it, skip it (and its downstream tasks), or only record it.
ON_GATE_FAILURE_CHOICES = ("fail", "skip", "record")


@dataclass(frozen=True)
class GateOutcome:
    """Whether the model passed, why not, and every check that was made."""

    passed: bool
    reasons: list[str]
    checks: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "reasons": list(self.reasons), "checks": list(self.checks)}


# Who wins against the champion. "newest_data": a model trained on data older than the champion's
# never replaces it (a backfill of an old week must not dethrone this week's model), whatever its
# loss; on data as new or newer it must beat the champion's loss. "best_loss": the loss alone decides.
CHAMPION_POLICIES = ("newest_data", "best_loss")


def parse_data_date(value: object, field_name: str = "data_date") -> str | None:
    """The date (or datetime) of the data a model was trained on, as ISO 8601; None when not given."""
    if value is None or value == "":
        return None
    text = value.isoformat() if isinstance(value, datetime | date) else str(value)
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{field_name}={value!r}: must be an ISO 8601 date such as '2025-01-05' (e.g. '{{{{ ds }}}}')"
        ) from None
    return text


def _as_datetime(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def champion_record(result: Mapping[str, Any]) -> dict[str, Any]:
    """The few numbers of a summary that a later comparison needs."""
    validation = result.get("validation") or {}
    return {
        "job_arn": result.get("job_arn"),
        "job_name": result.get("job_name"),
        "custom_model_arn": result.get("custom_model_arn"),
        "data_date": result.get("data_date"),
        "training": {"final_loss": (result.get("training") or {}).get("final_loss")},
        "validation": {"final_loss": validation.get("final_loss")} if validation else None,
    }


class InvalidBaselineError(ValueError):
    """The champion's summary holds a loss no model could have (nan, infinite, negative): a model can
    never beat it, and its numbers cannot go to XCom (JSON has no nan)."""


def check_baseline(baseline: object, source: str) -> dict[str, Any]:
    """A champion summary must at least carry the training final loss; anything else is an error."""
    if not isinstance(baseline, dict):
        raise ValueError(f"baseline {source} is not a JSON object of a metrics summary")
    validation = baseline.get("validation")
    for part, summary in (("training", baseline.get("training")), ("validation", validation)):
        if part == "validation" and validation is None:
            continue
        final = summary.get("final_loss") if isinstance(summary, dict) else None
        if isinstance(final, bool) or not isinstance(final, int | float):
            raise ValueError(
                f"baseline {source} has no number at {part}.final_loss: it must be a summary JSON "
                "written by BedrockExportMetricsOperator (summary.json or the champion file)"
            )
        if not math.isfinite(final) or final < 0:
            raise InvalidBaselineError(
                f"baseline {source} is broken: {part}.final_loss is {final!r}, which no model can have (a "
                "loss is a finite number, at least 0), so no model could ever beat it. Fix or delete the "
                "file, or set on_invalid_baseline='ignore' to compare against no champion until one is "
                "promoted."
            )
    return baseline


def comparison_baseline(baseline: Mapping[str, Any] | None, job_arn: str) -> Mapping[str, Any] | None:
    """The summary to beat: when this very job is already the champion (a re-run after promotion), the
    champion it replaced, so a re-run reaches the same verdict instead of failing against itself."""
    if baseline is not None and job_arn and baseline.get("job_arn") == job_arn:
        previous = baseline.get("previous_champion")
        return previous if isinstance(previous, Mapping) else None
    return baseline


def _limit_check(name: str, label: str, value: float, limit: float) -> tuple[dict[str, Any], str | None]:
    passed = value <= limit
    check = {"check": name, "value": value, "limit": limit, "passed": passed}
    return check, None if passed else f"{label} {value:.6g} is above {name}={limit:.6g}"


def evaluate_gate(
    training: Mapping[str, Any],
    validation: Mapping[str, Any] | None,
    *,
    max_training_loss: float | None = None,
    max_validation_loss: float | None = None,
    baseline: Mapping[str, Any] | None = None,
    baseline_uri: str | None = None,
    data_date: str | None = None,
    champion_policy: str = "newest_data",
    no_baseline_note: str = "no champion yet",
) -> GateOutcome:
    """Apply the thresholds and the champion comparison to a job's summaries.

    A threshold on validation loss fails when the job has no validation metrics: the check that was
    asked for cannot be made. Against a champion the model must be strictly better on validation final
    loss when both have validation metrics, on training final loss otherwise. No champion (first run)
    is not a failure. With ``champion_policy="newest_data"`` (the default) a model whose ``data_date``
    is older than the champion's never passes (see CHAMPION_POLICIES).
    """
    checks: list[dict[str, Any]] = []
    reasons: list[str] = []

    def record(check: dict[str, Any], reason: str | None) -> None:
        checks.append(check)
        if reason:
            reasons.append(reason)

    if max_training_loss is not None:
        record(
            *_limit_check(
                "max_training_loss", "training final loss", training["final_loss"], max_training_loss
            )
        )
    if max_validation_loss is not None:
        if validation is None:
            record(
                {
                    "check": "max_validation_loss",
                    "value": None,
                    "limit": max_validation_loss,
                    "passed": False,
                },
                f"max_validation_loss={max_validation_loss:.6g} is set but the job has no validation "
                "metrics (give it validation data, or drop max_validation_loss)",
            )
        else:
            record(
                *_limit_check(
                    "max_validation_loss",
                    "validation final loss",
                    validation["final_loss"],
                    max_validation_loss,
                )
            )
    if baseline_uri:
        if baseline is None:
            checks.append(
                {"check": "baseline", "uri": baseline_uri, "passed": True, "note": no_baseline_note}
            )
        else:
            champion_validation = baseline.get("validation")
            if validation is not None and champion_validation:
                metric, value, champion = (
                    "validation",
                    validation["final_loss"],
                    champion_validation["final_loss"],
                )
            else:
                metric, value, champion = (
                    "training",
                    training["final_loss"],
                    baseline["training"]["final_loss"],
                )
            champion_date = baseline.get("data_date")
            if champion_policy == "newest_data" and data_date and isinstance(champion_date, str):
                newer = _as_datetime(data_date) >= _as_datetime(champion_date)
                record(
                    {
                        "check": "data_date",
                        "value": data_date,
                        "champion": champion_date,
                        "policy": champion_policy,
                        "passed": newer,
                    },
                    None
                    if newer
                    else f"trained on data of {data_date}, older than the champion's ({champion_date}, job "
                    f"{baseline.get('job_name')}): a model trained on older data never replaces one trained "
                    "on newer data (champion_policy='best_loss' compares the loss alone)",
                )
            passed = value < champion
            record(
                {
                    "check": "baseline",
                    "uri": baseline_uri,
                    "metric": f"{metric}.final_loss",
                    "value": value,
                    "champion": champion,
                    "champion_job_name": baseline.get("job_name"),
                    "passed": passed,
                },
                None
                if passed
                else f"{metric} final loss {value:.6g} does not beat the champion's {champion:.6g} "
                f"(job {baseline.get('job_name')}, {baseline_uri})",
            )
    return GateOutcome(passed=not reasons, reasons=reasons, checks=checks)


# -- the chart ---------------------------------------------------------------------------------------


def render_loss_chart(
    training: MetricsSeries,
    validation: MetricsSeries | None,
    out: IO[bytes],
    *,
    title: str,
    width_px: int = 1200,
    height_px: int = 600,
    dpi: int = 100,
) -> None:
    """Training (and validation) loss over steps as a PNG of exactly width_px x height_px.

    A Figure with its own Agg canvas, never pyplot: no global state, safe in a worker's threads.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise MissingPlotsExtraError(
            f"plot=True renders the loss chart with matplotlib, which is not installed: {PLOTS_EXTRA_HINT}"
        ) from error

    figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    train_rows = sorted(training.rows, key=lambda row: row.step)
    axes.plot(
        [row.step for row in train_rows],
        [row.loss for row in train_rows],
        color="tab:blue",
        linewidth=1.2,
        label="training loss",
    )
    if validation is not None:
        val_rows = sorted(validation.rows, key=lambda row: row.step)
        axes.plot(
            [row.step for row in val_rows],
            [row.loss for row in val_rows],
            color="tab:orange",
            marker="o",
            markersize=4,
            linewidth=1.2,
            label="validation loss",
        )
    for index, boundary in enumerate(training.epoch_boundaries):
        axes.axvline(
            boundary,
            color="grey",
            linestyle="--",
            linewidth=0.8,
            label="epoch boundary" if index == 0 else None,
        )
    best = training.summary
    axes.scatter(
        [best["min_loss_step"]],
        [best["min_loss"]],
        color="tab:blue",
        zorder=3,
        s=18,
        label=f"lowest training loss (step {best['min_loss_step']})",
    )
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(out, format="png", dpi=dpi)
