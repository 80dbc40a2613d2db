"""Model invocation logs as training data (distillation and reinforcement fine-tuning).

The operator's ``invocation_logs={"s3_uri", "use_prompt_response", "request_metadata_filters"}`` becomes
``trainingDataConfig.invocationLogsConfig`` (botocore shapes InvocationLogsConfig, InvocationLogSource,
RequestMetadataFilters). Bedrock finds logs there only when model invocation logging is on in the
account and delivers to that bucket, so the operator asks GetModelInvocationLoggingConfiguration first
and refuses before the Create call when it is off or points elsewhere. Sources:

- https://docs.aws.amazon.com/bedrock/latest/APIReference/API_InvocationLogsConfig.html
- https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-2.html (invocation
  logs for distillation: "Make sure that model invocation logging is enabled")
- https://docs.aws.amazon.com/bedrock/latest/userguide/rft-prepare-data.html (invocation logs for RFT)
- https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html (logging is off by
  default; S3 delivery writes under {keyPrefix}/AWSLogs/{account}/BedrockModelInvocationLogs/)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bedrock_provider.core.catalog import DISTILLATION, REINFORCEMENT_FINE_TUNING
from bedrock_provider.core.errors import Problem
from bedrock_provider.core.request.fields import check_s3_uri, parse_mapping
from bedrock_provider.core.s3 import split_s3_uri
from bedrock_provider.core.values import parse_flag

INVOCATION_LOGS_URL = "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_InvocationLogsConfig.html"
LOGGING_URL = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html"
INVOCATION_LOG_KEYS = ("s3_uri", "use_prompt_response", "request_metadata_filters")
# The customization types that train on invocation logs (the distillation and RFT data pages).
INVOCATION_LOG_TYPES = (DISTILLATION, REINFORCEMENT_FINE_TUNING)

# botocore RequestMetadataFilters (a union: exactly one of these), RequestMetadataFiltersList (1-16
# base filters, each with equals or notEquals) and RequestMetadataMap (one key, one value).
_FILTER_KINDS = ("equals", "notEquals", "andAll", "orAll")
_BASE_FILTER_KINDS = ("equals", "notEquals")
MAX_BASE_FILTERS = 16
_METADATA_KEY = re.compile(r"[a-zA-Z0-9\s._:/=+$@-]{1,256}")
_METADATA_VALUE = re.compile(r"[a-zA-Z0-9\s._:/=+$@-]{0,256}")


def _metadata_map(value: object, where: str, problems: list[Problem]) -> None:
    if not isinstance(value, Mapping) or len(value) != 1:
        problems.append(Problem(where, value, "must be a dict of exactly one metadata key to its value"))
        return
    ((key, item),) = value.items()
    if not isinstance(key, str) or _METADATA_KEY.fullmatch(key) is None:
        problems.append(Problem(where, key, "keys must be 1-256 letters, digits, spaces or ._:/=+$@-"))
    if not isinstance(item, str) or _METADATA_VALUE.fullmatch(item) is None:
        problems.append(Problem(where, item, "values must be 0-256 letters, digits, spaces or ._:/=+$@-"))


def _one_kind(value: object, kinds: tuple[str, ...], where: str, problems: list[Problem]) -> str | None:
    if not isinstance(value, Mapping) or len(value) != 1 or next(iter(value)) not in kinds:
        problems.append(Problem(where, value, f"must be a dict with exactly one of {', '.join(kinds)}"))
        return None
    return str(next(iter(value)))


def _check_filters(value: object, where: str, problems: list[Problem]) -> None:
    kind = _one_kind(value, _FILTER_KINDS, where, problems)
    if kind is None:
        return
    assert isinstance(value, Mapping)  # noqa: S101 (checked by _one_kind)
    inner = value[kind]
    if kind in _BASE_FILTER_KINDS:
        _metadata_map(inner, f"{where}.{kind}", problems)
        return
    if not isinstance(inner, list) or not 1 <= len(inner) <= MAX_BASE_FILTERS:
        problems.append(
            Problem(f"{where}.{kind}", inner, f"must be a list of 1 to {MAX_BASE_FILTERS} filters")
        )
        return
    for index, base in enumerate(inner):
        base_where = f"{where}.{kind}[{index}]"
        base_kind = _one_kind(base, _BASE_FILTER_KINDS, base_where, problems)
        if base_kind is not None:
            assert isinstance(base, Mapping)  # noqa: S101
            _metadata_map(base[base_kind], f"{base_where}.{base_kind}", problems)


def parse_invocation_logs(value: object, problems: list[Problem]) -> dict[str, Any] | None:
    """``invocation_logs`` as botocore's InvocationLogsConfig, or None when not given (its problems are
    appended: a config is returned whenever one was given, so that the training file is not asked for)."""
    given = parse_mapping(value, "invocation_logs", problems)
    if not given:
        return None
    unknown = sorted(set(given) - set(INVOCATION_LOG_KEYS))
    if unknown:
        problems.append(
            Problem(
                "invocation_logs", value, f"has unknown keys {unknown}; use {', '.join(INVOCATION_LOG_KEYS)}"
            )
        )
    s3_uri = check_s3_uri(given.get("s3_uri"), "invocation_logs.s3_uri", problems)
    config: dict[str, Any] = {"invocationLogSource": {"s3Uri": s3_uri}}
    if given.get("use_prompt_response") is not None:
        config["usePromptResponse"] = parse_flag(
            given["use_prompt_response"], "invocation_logs.use_prompt_response", problems
        )
    filters = given.get("request_metadata_filters")
    if filters is not None:
        _check_filters(filters, "invocation_logs.request_metadata_filters", problems)
        config["requestMetadataFilters"] = filters
    return config


def check_training_source(
    customization_type: object,
    invocation_logs: Mapping[str, Any] | None,
    training_given: object,
    problems: list[Problem],
) -> None:
    """Invocation logs only for the types that train on them, and never next to a training file."""
    if invocation_logs is None:
        return
    if customization_type not in INVOCATION_LOG_TYPES:
        problems.append(
            Problem(
                "invocation_logs",
                invocation_logs["invocationLogSource"]["s3Uri"],
                f"invocation logs are training data for {' and '.join(INVOCATION_LOG_TYPES)} only, not "
                f"{customization_type}; give training_data_uri (see {INVOCATION_LOGS_URL})",
            )
        )
    elif training_given not in (None, ""):
        problems.append(
            Problem(
                "training_data_uri",
                training_given,
                "and invocation_logs are both given; a job trains on one of them: leave one out",
            )
        )


def logging_problem(logging_config: Mapping[str, Any] | None, s3_uri: str) -> str | None:
    """Why Bedrock would find no invocation logs under ``s3_uri``, from the loggingConfig of
    GetModelInvocationLoggingConfiguration; None when logging delivers text to that bucket (and prefix)."""
    config = logging_config or {}
    s3_config = config.get("s3Config") or {}
    bucket, key = split_s3_uri(s3_uri)
    where = f"invocation_logs.s3_uri={s3_uri!r}"
    if not s3_config.get("bucketName"):
        return (
            f"{where}: model invocation logging to Amazon S3 is off in this account and Region "
            "(GetModelInvocationLoggingConfiguration has no s3Config), so Bedrock has no invocation logs "
            f"to train on. Turn it on with an S3 destination in bucket {bucket!r} "
            "(PutModelInvocationLoggingConfiguration, or the console's Settings; see "
            f"{LOGGING_URL}), invoke the model, then run the job."
        )
    if config.get("textDataDeliveryEnabled") is False:
        return (
            f"{where}: model invocation logging does not deliver text data (textDataDeliveryEnabled "
            f"is false), so the logs hold no prompts to train on. Turn text data delivery on "
            f"(see {LOGGING_URL})."
        )
    log_bucket = str(s3_config["bucketName"])
    prefix = str(s3_config.get("keyPrefix") or "").strip("/")
    wanted = key.strip("/")
    if log_bucket != bucket or (
        prefix and wanted and not (wanted.startswith(prefix) or prefix.startswith(wanted))
    ):
        logged_to = f"s3://{log_bucket}/{prefix + '/' if prefix else ''}"
        return (
            f"{where}: model invocation logging delivers to {logged_to}, not to {s3_uri}, so Bedrock "
            f"would find no logs there. Set invocation_logs.s3_uri to {logged_to!r} or change the "
            f"logging destination (see {LOGGING_URL})."
        )
    return None
