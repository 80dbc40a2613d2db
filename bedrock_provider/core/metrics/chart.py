"""The loss chart: training (and validation) loss over steps, as a PNG.

matplotlib (the ``plots`` extra) is imported only when a chart is rendered.
"""

from __future__ import annotations

import io
from typing import IO

from bedrock_provider.core.metrics.summary import MetricsSeries

PLOTS_EXTRA_HINT = "pip install 'airflow-provider-bedrock[plots]'"


class MissingPlotsExtraError(ImportError):
    """plot=True without matplotlib installed."""


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


def loss_chart_png(
    training: MetricsSeries, validation: MetricsSeries | None, *, title: str, size: tuple[int, int]
) -> bytes:
    """The chart as PNG bytes, ``size`` being (width, height) in pixels."""
    out = io.BytesIO()
    width, height = size
    render_loss_chart(training, validation, out, title=title, width_px=width, height_px=height)
    return out.getvalue()
