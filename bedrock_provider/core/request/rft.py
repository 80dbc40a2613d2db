"""Reinforcement fine-tuning (RFT): the grader Lambda and the typed hyperparameters of ``rftConfig``.

Unlike the other customization types, whose hyperparameters are strings in the request's
``hyperParameters`` map, RFT takes them typed, in ``customizationConfig.rftConfig.hyperParameters``
(botocore shape ``RFTHyperParameters``), next to the grader:
``customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn`` (botocore ``LambdaGraderConfig``).
Sources:

- API: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_RFTHyperParameters.html and
  https://docs.aws.amazon.com/bedrock/latest/APIReference/API_RFTConfig.html (botocore's bedrock
  service model, shapes RFTConfig, RFTHyperParameters, LambdaArn)
- The models and Regions: https://docs.aws.amazon.com/bedrock/latest/userguide/reinforcement-fine-tuning.html
- The data: https://docs.aws.amazon.com/bedrock/latest/userguide/rft-prepare-data.html ("You can provide
  a maximum of 20K prompts")
- The grader's permission: https://docs.aws.amazon.com/bedrock/latest/userguide/rft-access-security.html
  (the service role needs lambda:InvokeFunction on the function)

The hyperparameter bounds are the catalog's RFT_HYPERPARAMETERS (core/catalog/tables.py), botocore's;
tests/unit/test_rft.py and tests/unit/test_catalog.py read the installed service model and fail when
they drift apart.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bedrock_provider.core.catalog import (
    REINFORCEMENT_FINE_TUNING,
    RFT_HYPERPARAMETERS,
    RFT_URL,
    HyperparameterSpec,
    rft_hyperparameters,
)
from bedrock_provider.core.errors import Problem

# The RFT facts of the catalog (the one hyperparameter table, the data format and its prompt limit) live
# in core/catalog/shapes.py and core/catalog/tables.py; this module checks requests against them.
RFT_HYPERPARAMETERS_URL = (
    "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_RFTHyperParameters.html"
)
RFT_ACCESS_URL = "https://docs.aws.amazon.com/bedrock/latest/userguide/rft-access-security.html"

# botocore shape LambdaArn (member lambdaArn of LambdaGraderConfig): pattern and length 1-512.
LAMBDA_ARN_PATTERN = re.compile(
    r"arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_\.]+"
    r"(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
MAX_LAMBDA_ARN_LENGTH = 512


def lower_bound(spec: HyperparameterSpec) -> float | None:
    """The least value a request may give. botocore bounds RFTMaxPromptLength and RFTInferenceMaxTokens
    not at all, but both count tokens (their botocore documentation: "measured in tokens", "Maximum
    number of tokens"), so an integer member without a minimum takes a whole number of at least 1."""
    if spec.minimum is None and spec.kind is int:
        return 1
    return spec.minimum


def allowed_values(spec: HyperparameterSpec) -> str:
    """What an RFT hyperparameter takes, in words."""
    if spec.choices:
        return "one of " + ", ".join(repr(choice) for choice in spec.choices)
    kind = "a whole number" if spec.kind is int else "a number"
    minimum = lower_bound(spec)
    if minimum is not None and spec.maximum is not None:
        return f"{kind} from {minimum:g} to {spec.maximum:g}"
    return f"{kind} of at least {minimum:g}" if minimum is not None else kind


def _typed_value(spec: HyperparameterSpec, value: object) -> tuple[object, str | None]:
    """(the value as the API types it, why it is refused)."""
    if spec.kind is str:
        if isinstance(value, str) and value.strip().lower() in spec.choices:
            return value.strip().lower(), None
        return None, "is not one of the documented values"
    if isinstance(value, bool) or value is None:
        return None, "is not a number"
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except ArithmeticError:
            return None, "is not a number"
    elif isinstance(value, numbers.Real):
        if not math.isfinite(float(value)):
            return None, "is not a finite number"
        number = (
            Decimal(repr(float(value))) if not isinstance(value, numbers.Integral) else Decimal(int(value))
        )
    else:
        return None, f"is a {type(value).__name__}, not a number"
    if not number.is_finite():
        return None, "is not a finite number"
    if spec.kind is int and number != number.to_integral_value():
        return None, "is not a whole number"
    # Compared as decimals, so 1e-07 meets the documented minimum of 1.0E-7 exactly.
    minimum = lower_bound(spec)
    if minimum is not None and number < Decimal(repr(minimum)):
        return None, f"is below {minimum:g}"
    if spec.maximum is not None and number > Decimal(repr(spec.maximum)):
        return None, f"is above {spec.maximum:g}"
    return (int(number) if spec.kind is int else float(number)), None


def typed_rft_hyperparameters(
    values: Mapping[str, object] | None, table: Mapping[str, HyperparameterSpec], problems: list[Problem]
) -> dict[str, Any]:
    """The hyperparameters typed as rftConfig.hyperParameters takes them, checked against ``table``; a
    Problem for each refused one."""
    typed: dict[str, Any] = {}
    for name, value in (values or {}).items():
        field = f"hyperparameters.{name}"
        spec = table.get(name) if isinstance(name, str) else None
        if spec is None:
            problems.append(
                Problem(
                    field,
                    value,
                    f"{name!r} is not a reinforcement fine-tuning hyperparameter; allowed: "
                    f"{', '.join(sorted(table))} (see {RFT_HYPERPARAMETERS_URL})",
                )
            )
            continue
        result, why = _typed_value(spec, value)
        if why is not None:
            problems.append(
                Problem(
                    field,
                    value,
                    f"{name} must be {allowed_values(spec)} for reinforcement fine-tuning (got {value!r}, "
                    f"which {why}); see {RFT_HYPERPARAMETERS_URL}",
                )
            )
            continue
        typed[name] = result
    return typed


def check_grader_lambda_arn(value: object, problems: list[Problem]) -> str | None:
    """The grader's Lambda function ARN, in the form botocore's LambdaArn shape takes."""
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append(
            Problem(
                "grader_lambda_arn",
                value,
                "REINFORCEMENT_FINE_TUNING needs the grader: the ARN of the Lambda function that scores "
                "the model's responses, like 'arn:aws:lambda:us-east-1:123456789012:function:my-grader' "
                f"(see {RFT_URL})",
            )
        )
        return None
    if (
        not isinstance(value, str)
        or len(value) > MAX_LAMBDA_ARN_LENGTH
        or LAMBDA_ARN_PATTERN.fullmatch(value) is None
    ):
        problems.append(
            Problem(
                "grader_lambda_arn",
                value,
                "must be a Lambda function ARN like "
                "'arn:aws:lambda:us-east-1:123456789012:function:my-grader' (optionally ':VERSION' or "
                "':ALIAS'), at most 512 characters",
            )
        )
        return None
    return value


def rft_config(grader_lambda_arn: str, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
    """customizationConfig for an RFT job (botocore CustomizationConfig.rftConfig)."""
    config: dict[str, Any] = {"graderConfig": {"lambdaGrader": {"lambdaArn": grader_lambda_arn}}}
    if hyperparameters:
        config["hyperParameters"] = dict(hyperparameters)
    return {"rftConfig": config}


def grader_of(customization_config: object) -> str | None:
    """The grader Lambda ARN of a customizationConfig, or None when it names none."""
    if not isinstance(customization_config, Mapping):
        return None
    node: object = customization_config
    for key in ("rftConfig", "graderConfig", "lambdaGrader", "lambdaArn"):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, str) else None


def check_rft_request(
    customization_type: object,
    base_model_id: str | None,
    grader_lambda_arn: object,
    hyperparameters: Mapping[str, object] | None,
    extra: dict[str, Any],
    problems: list[Problem],
) -> None:
    """Check an RFT job's grader and hyperparameters and put them in ``extra`` as its customizationConfig.

    The grader and hyperparameters come from ``grader_lambda_arn`` and ``hyperparameters``, or (for a DAG
    moved over from the Amazon provider) from ``customization_job_kwargs.customizationConfig.rftConfig``;
    never from both. Another type given a grader is refused. The hyperparameters are checked against the
    base model's RFT table in the catalog; a model the catalog does not list for RFT (let through by
    model_checks="warn") still gets RFT_HYPERPARAMETERS, botocore's bounds of the API itself.
    """
    if customization_type != REINFORCEMENT_FINE_TUNING:
        if grader_lambda_arn not in (None, ""):
            problems.append(
                Problem(
                    "grader_lambda_arn",
                    grader_lambda_arn,
                    f"is for customization_type='{REINFORCEMENT_FINE_TUNING}' only, not "
                    f"{customization_type!r}; leave it out",
                )
            )
        return
    given = extra.get("customizationConfig")
    if given is not None:
        where = "customization_job_kwargs.customizationConfig"
        rft = given.get("rftConfig") if isinstance(given, Mapping) and set(given) == {"rftConfig"} else None
        if not isinstance(rft, Mapping) or not set(rft) <= {"graderConfig", "hyperParameters"}:
            problems.append(
                Problem(
                    where,
                    given,
                    "for RFT must be {'rftConfig': {'graderConfig': ..., 'hyperParameters': ...}}",
                )
            )
            return
        if grader_lambda_arn not in (None, "") or hyperparameters:
            problems.append(
                Problem(
                    where,
                    given,
                    "and grader_lambda_arn / hyperparameters both configure the RFT job; give "
                    "grader_lambda_arn and hyperparameters only",
                )
            )
            return
        grader_lambda_arn = grader_of(given)
        hyperparameters = rft.get("hyperParameters") or {}
        if not isinstance(hyperparameters, Mapping):
            problems.append(Problem(f"{where}.rftConfig.hyperParameters", hyperparameters, "must be a dict"))
            return
    grader = check_grader_lambda_arn(grader_lambda_arn, problems)
    table = rft_hyperparameters(base_model_id) or RFT_HYPERPARAMETERS
    typed = typed_rft_hyperparameters(hyperparameters, table, problems)
    if grader is not None:
        extra["customizationConfig"] = rft_config(grader, typed)
