"""The metrics gate refuses impossible values, handles a broken champion by the user's choice, and reads
and exports metrics of any length in bounded memory."""

from __future__ import annotations

import io
import math
import tracemalloc

import pytest

from bedrock_provider.core import metrics
from bedrock_provider.core.metrics import TRAINING, VALIDATION, MetricsFileError
from bedrock_provider.core.metrics.series import MAX_CHART_POINTS


def parse(text: str, kind=TRAINING, source: str = "s3://b/step_wise_training_metrics.csv"):
    return metrics.read_metrics(io.StringIO(text), kind, source)


@pytest.mark.parametrize(
    ("text", "kind", "line", "column"),
    [
        ("step_number,epoch_number,training_loss\n0,0,1.0\n1,0,-5\n", TRAINING, 3, "training_loss"),
        ("step_number,epoch_number,training_loss\n0,0,-7.5\n", TRAINING, 2, "training_loss"),
        ("step_number,epoch_number,validation_loss\n1,0,-0.1\n", VALIDATION, 2, "validation_loss"),
        (
            "step_number,epoch_number,training_loss,perplexity\n0,0,1.0,-2.7\n",
            TRAINING,
            2,
            "perplexity",
        ),
    ],
)
def test_impossible_values_are_refused_naming_file_row_and_column(text, kind, line, column):
    with pytest.raises(MetricsFileError) as raised:
        parse(text, kind)
    assert (raised.value.line, raised.value.column) == (line, column)
    assert "s3://b/step_wise_training_metrics.csv" in str(raised.value)
    assert "negative" in str(raised.value)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_losses_are_refused(value):
    with pytest.raises(MetricsFileError, match="not a finite number"):
        parse(f"step_number,epoch_number,training_loss\n0,0,{value}\n")


def test_a_loss_of_zero_is_possible():
    assert parse("step_number,epoch_number,training_loss\n0,0,0\n").summary["final_loss"] == 0


# -- bounded memory ---------------------------------------------------------------------------------------


def big_training_file(rows: int):
    yield "step_number,epoch_number,training_loss,perplexity\n"
    for step in range(rows):
        loss = 2.0 / (1 + step / 1000)
        yield f"{step},{step * 3 // rows},{loss:.6f},{math.exp(loss):.6f}\n"


def peak_bytes(rows: int) -> int:
    tracemalloc.start()
    try:
        series = metrics.read_metrics(big_training_file(rows), TRAINING, "big.csv")

        class Discard(io.TextIOBase):
            def write(self, text):  # the upload streams; only what is held counts
                return len(text)

        metrics.write_merged_csv(series, None, Discard())
        assert series.summary["steps"] == rows
        assert len(series.rows) < 2 * MAX_CHART_POINTS
        series.close()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_and_merging_a_long_file_holds_bounded_memory():
    """A 1e6-row file (24 MB) cost about +490 MB when every row was kept; now the peak is the spool's
    in-memory part plus the chart's sample, whatever the length."""
    small, large = peak_bytes(10_000), peak_bytes(100_000)
    assert large < 16 * 1024 * 1024, f"peak {large / 2**20:.1f} MiB for 100k rows"
    assert large < 3 * small + 8 * 1024 * 1024, "memory does not grow with the number of rows"


def test_the_chart_sample_is_bounded_and_spans_the_whole_file():
    from bedrock_provider.core.metrics.series import MAX_CHART_POINTS

    series = metrics.read_metrics(big_training_file(100_000), TRAINING, "big.csv")
    try:
        steps = [row.step for row in series.rows]
        assert len(steps) < 2 * MAX_CHART_POINTS
        assert steps[0] == 0 and steps[-1] > 99_000 - 100_000 // MAX_CHART_POINTS * 2
        assert series.epoch_boundaries and len(series.epoch_boundaries) == 2
    finally:
        series.close()


def test_merged_csv_of_files_in_step_order_streams_and_matches_the_in_memory_merge():
    from bedrock_provider.core.metrics.series import RowSpool, merged_step_rows

    training = parse("step_number,epoch_number,training_loss\n0,0,2.0\n1,0,1.5\n2,1,1.0\n3,1,0.9\n")
    validation = parse("step_number,epoch_number,validation_loss\n1,0,1.9\n3,1,1.2\n", VALIDATION)
    shuffled = parse("step_number,epoch_number,training_loss\n2,1,1.0\n0,0,2.0\n3,1,0.9\n1,0,1.5\n")
    assert isinstance(training.spool, RowSpool) and training.spool.in_step_order
    assert shuffled.spool is not None and not shuffled.spool.in_step_order
    streamed = list(merged_step_rows(training.spool, validation.spool))
    in_memory = list(merged_step_rows(shuffled.spool, validation.spool))
    assert (
        streamed
        == in_memory
        == [
            (0, 0, 2.0, "", "", ""),
            (1, 0, 1.5, "", 1.9, ""),
            (2, 1, 1.0, "", "", ""),
            (3, 1, 0.9, "", 1.2, ""),
        ]
    )
