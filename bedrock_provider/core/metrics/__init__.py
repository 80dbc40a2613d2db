"""A customization job's training and validation metrics: where Bedrock writes them, parsing them,
their summaries, the gate a model must pass, the export and the loss chart.

It decides whether a model's numbers pass. It never calls AWS itself (the operator reads and writes the
files) and never deploys or deletes a model.

Each part lives in its own module: where the files are (``location``), parsing them (``parsing``),
their summaries and the merged CSV (``summary``), the gate (``gate``), the export (``export``) and the
chart (``chart``); this package's namespace is where other code reads them.
"""

from __future__ import annotations

from bedrock_provider.core.metrics.chart import MissingPlotsExtraError, render_loss_chart
from bedrock_provider.core.metrics.gate import (
    champion_record,
    check_baseline,
    comparison_baseline,
    evaluate_gate,
)
from bedrock_provider.core.metrics.location import (
    JobNotCompletedError,
    export_uris,
    metrics_locations,
    require_completed,
)
from bedrock_provider.core.metrics.parsing import (
    TRAINING,
    VALIDATION,
    MetricsFileError,
    MetricsKind,
    parse_metrics,
)
from bedrock_provider.core.metrics.summary import merged_csv, perplexity_of, read_metrics, write_merged_csv

__all__ = [
    "TRAINING",
    "VALIDATION",
    "JobNotCompletedError",
    "MetricsFileError",
    "MetricsKind",
    "MissingPlotsExtraError",
    "champion_record",
    "check_baseline",
    "comparison_baseline",
    "evaluate_gate",
    "export_uris",
    "merged_csv",
    "metrics_locations",
    "parse_metrics",
    "perplexity_of",
    "read_metrics",
    "render_loss_chart",
    "require_completed",
    "write_merged_csv",
]
