"""Training-data formats, the streaming validator and the splitter behind BedrockPrepareDatasetOperator.

It decides whether a record is one Bedrock would train on, and counts a file's tokens for the cost
estimate. It never calls AWS (the operator moves the files) and never submits a job.

Pure Python (no Airflow): ``plan_dataset`` checks the parameters, ``DatasetValidator`` validates
streams into training and validation outputs, ``prepare_dataset`` runs it over local or S3 sources
into local files with a JSON report.
"""

from __future__ import annotations

from bedrock_provider.core.datasets.checker_for_format import make_checker
from bedrock_provider.core.datasets.formats import (
    CLAUDE_MESSAGES,
    CONTINUED_PRETRAINING,
    CONVERSATION,
    DISTILLATION_PROMPTS,
    FORMATS,
    IMAGE_CAPTION,
    PROMPT_COMPLETION,
    Limits,
    ModelProfile,
    detect_format,
    format_for,
    profile_for,
)
from bedrock_provider.core.datasets.plan import (
    REPORT_NAME,
    TRAINING_NAME,
    VALIDATION_NAME,
    DatasetPlan,
    Location,
    check_locations,
    counted,
    is_data_file,
    missing_partition_message,
    parse_location,
    partition_parent,
    plan_dataset,
)
from bedrock_provider.core.datasets.prepare import (
    PreparedDataset,
    local_files,
    local_opener,
    prepare_dataset,
    validate_bytes,
    validate_stream,
)
from bedrock_provider.core.datasets.reader import FileLevelError, iter_batches
from bedrock_provider.core.datasets.report import DatasetReport
from bedrock_provider.core.datasets.validator import DatasetValidator, split_key

__all__ = [
    "CLAUDE_MESSAGES",
    "CONTINUED_PRETRAINING",
    "CONVERSATION",
    "DISTILLATION_PROMPTS",
    "FORMATS",
    "IMAGE_CAPTION",
    "PROMPT_COMPLETION",
    "REPORT_NAME",
    "TRAINING_NAME",
    "VALIDATION_NAME",
    "DatasetPlan",
    "DatasetReport",
    "DatasetValidator",
    "FileLevelError",
    "Limits",
    "Location",
    "ModelProfile",
    "PreparedDataset",
    "check_locations",
    "counted",
    "detect_format",
    "format_for",
    "is_data_file",
    "iter_batches",
    "local_files",
    "local_opener",
    "make_checker",
    "missing_partition_message",
    "parse_location",
    "partition_parent",
    "plan_dataset",
    "prepare_dataset",
    "profile_for",
    "split_key",
    "validate_bytes",
    "validate_stream",
]
