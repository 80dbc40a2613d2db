"""Bedrock's training and validation metrics: the names other code reads from one place.

Each part lives in its own module: where the files are (``metrics_location``), parsing them
(``metrics_parsing``), their summaries and the merged CSV (``metrics_summary``), the gate
(``metrics_gate``) and the chart (``loss_chart``).
"""

from __future__ import annotations

from bedrock_provider.core.loss_chart import MissingPlotsExtraError, render_loss_chart
from bedrock_provider.core.metrics_gate import (
    champion_record,
    check_baseline,
    comparison_baseline,
    evaluate_gate,
)
from bedrock_provider.core.metrics_location import (
    JobNotCompletedError,
    export_uris,
    metrics_locations,
    require_completed,
)
from bedrock_provider.core.metrics_parsing import (
    TRAINING,
    VALIDATION,
    MetricsFileError,
    MetricsKind,
    parse_metrics,
)
from bedrock_provider.core.metrics_summary import (
    merged_csv,
    perplexity_of,
    read_metrics,
    write_merged_csv,
)

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
