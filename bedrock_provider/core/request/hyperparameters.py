"""Hyperparameter checks against the model catalog (core/catalog/).

Bedrock takes every hyperparameter as a string; ``normalize_hyperparameters`` turns what a DAG author
wrote (ints, floats, numeric strings) into those strings and reports, before any AWS call, the names and
values Bedrock would reject. The tables themselves, with the pages they come from, are rows of the
catalog. Models that are not in it are passed through (the catalog check warns about them) rather than
rejected, because Bedrock adds customizable models more often than any table can follow; with
model_checks="warn", a value outside the table is logged and passed on too.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from bedrock_provider.core.catalog import (
    FINE_TUNING,
    STRICT,
    WARN,
    HyperparameterSpec,
    ModelFamily,
    family_for,
    relaxed,
    table_for,
)


@dataclass(frozen=True)
class HyperparameterProblem:
    """A hyperparameter Bedrock would reject, with what is wrong and how to fix it."""

    field: str
    value: object
    message: str


# Plain decimal or exponent notation only: float() and Decimal() would also take '1_000', 'nan' and
# 'infinity', none of which Bedrock documents.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Larger whole numbers are neither a plausible hyperparameter nor cheap to turn into an int when they
# arrive as text like '1e999999'.
_WHOLE_NUMBER_CEILING = Decimal(1_000_000)


def _format_number(value: float) -> str:
    return format(value, "g")


def _allowed(spec: HyperparameterSpec) -> str:
    if spec.kind is str:
        return "one of " + ", ".join(repr(choice) for choice in spec.choices)
    kind = "an integer" if spec.kind is int else "a number"
    if spec.minimum is None or spec.maximum is None:
        text = kind
        if spec.minimum is not None:
            text += f" of at least {_format_number(spec.minimum)}"
        if spec.maximum is not None:
            text += f" of at most {_format_number(spec.maximum)}"
    elif spec.minimum == spec.maximum:
        text = f"{_format_number(spec.minimum)}"
    else:
        text = f"{kind} from {_format_number(spec.minimum)} to {_format_number(spec.maximum)}"
    if spec.special_values:
        text += ", or " + " or ".join(repr(special) for special in spec.special_values)
    return text


def _as_decimal(value: object) -> Decimal | str:
    """The value as a finite Decimal, or why it is not a number."""
    if isinstance(value, bool):
        return "is a boolean, not a number"
    if value is None:
        return "means no value; leave the hyperparameter out to use Bedrock's default"
    if isinstance(value, str):
        text = value.strip()
        if not _NUMBER.fullmatch(text):
            return "is not a number"
        return Decimal(text)
    if isinstance(value, numbers.Integral):
        return Decimal(int(value))
    if isinstance(value, Decimal):
        return value if value.is_finite() else "is not a finite number"
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            return "is not a finite number"
        # Through repr, so 1e-07 compares equal to a documented bound of 1.00E-7 instead of to the
        # binary fraction just below it.
        return Decimal(repr(number))
    return f"is a {type(value).__name__}, not a number"


def _check_value(
    spec: HyperparameterSpec, family: ModelFamily, value: object
) -> tuple[str | None, str | None, str | None]:
    """(string for Bedrock, problem message, warning) for one value of a known hyperparameter."""

    def problem(why: str) -> tuple[None, str, None]:
        return (
            None,
            f"{spec.name} must be {_allowed(spec)} for {family.title} (got {value!r}, which {why}); "
            f"see {family.doc_url}",
            None,
        )

    if value is None and spec.default is None:
        return problem(f"means no value, and {spec.name} has no default")
    if spec.kind is str:
        if isinstance(value, str) and value.strip() in spec.choices:
            return value.strip(), None, None
        return problem("is not one of them")
    if isinstance(value, str):
        for special in spec.special_values:
            # The pages spell 'Auto' and 'auto' differently per model; send their spelling.
            if value.strip().lower() == special.lower():
                return special, None, None
    number = _as_decimal(value)
    if isinstance(number, str):
        return problem(number)
    if spec.kind is int and number != number.to_integral_value():
        return problem("is not a whole number")
    if spec.minimum is not None and number < Decimal(repr(float(spec.minimum))):
        return problem(f"is below {_format_number(spec.minimum)}")
    if spec.maximum is None and abs(number) > _WHOLE_NUMBER_CEILING:
        return problem(f"is above {_format_number(float(_WHOLE_NUMBER_CEILING))}")
    warning = None
    if spec.maximum is not None and number > Decimal(repr(float(spec.maximum))):
        if not spec.maximum_adjustable or number > _WHOLE_NUMBER_CEILING:
            return problem(f"is above {_format_number(spec.maximum)}")
        warning = (
            f"{spec.name}={value!r} is above the documented maximum {_format_number(spec.maximum)} for "
            f"{family.title}; Bedrock accepts it only if the account's {spec.name} quota was raised "
            f"(see {family.doc_url})"
        )
    if spec.kind is int:
        return str(int(number)), None, warning
    return repr(float(number)), None, warning


def _stringify_unchecked(value: object) -> tuple[str | None, str | None]:
    """(string for Bedrock, problem message) for a value whose hyperparameter is not in the table."""
    if isinstance(value, str):
        text = value.strip()
        return (text, None) if text else (None, "is empty")
    if isinstance(value, bool):
        return None, "is a boolean; give a number or a string"
    if value is None:
        return None, "has no value; leave the hyperparameter out to use Bedrock's default"
    if isinstance(value, numbers.Integral):
        return str(int(value)), None
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        if abs(value) <= _WHOLE_NUMBER_CEILING:
            return str(int(value)), None
    if isinstance(value, numbers.Real) or isinstance(value, Decimal):
        number = float(value)
        if not math.isfinite(number):
            return None, "is not a finite number"
        return repr(number), None
    return None, f"is a {type(value).__name__}; give a number or a string"


def normalize_hyperparameters(
    base_model_id: str,
    hyperparameters: Mapping[str, object] | None,
    customization_type: str = FINE_TUNING,
    model_checks: str = STRICT,
) -> tuple[dict[str, str], list[HyperparameterProblem], list[str]]:
    """Return (values as strings as Bedrock wants them, problems, warnings).

    For a model in the table, names, types and ranges are checked: an integer hyperparameter given as
    2.0 becomes "2", float hyperparameters are sent in Python's shortest round-trip form ("1e-05"), and
    documented special values such as "Auto" are accepted. Hyperparameters the docs say have no default
    (Titan Multimodal Embeddings' epochCount, Titan Image Generator's stepCount) are required.
    For any other model, values are only stringified. With model_checks="warn", what only the table
    refuses (a name it does not list, a value outside its range, a missing required one) becomes a
    warning and the value is sent as given.
    """
    values: dict[str, str] = {}
    problems: list[HyperparameterProblem] = []
    warnings: list[str] = []
    family = family_for(base_model_id)
    table = table_for(family, customization_type) if family is not None else {}

    if hyperparameters is None:
        hyperparameters = {}
    if not isinstance(hyperparameters, Mapping):
        problems.append(
            HyperparameterProblem(
                "hyperparameters",
                hyperparameters,
                f"hyperparameters must be a dict of names to values, got {type(hyperparameters).__name__}",
            )
        )
        return values, problems, warnings

    for name, value in hyperparameters.items():
        if not isinstance(name, str) or not name.strip():
            problems.append(
                HyperparameterProblem(
                    "hyperparameters",
                    name,
                    f"hyperparameter names must be non-empty strings (got {name!r} = {value!r})",
                )
            )
            continue
        field = f"hyperparameters.{name}"

        if family is None:
            text, why = _stringify_unchecked(value)
            if why is not None:
                problems.append(HyperparameterProblem(field, value, f"{name} {why} (got {value!r})"))
            elif text is not None:
                values[name] = text
            continue

        spec = table.get(name)
        message: str | None = _unknown_name_message(family, table, name, value)
        warning: str | None = None
        text = None
        if spec is not None:
            text, message, warning = _check_value(spec, family, value)
        if message is not None and model_checks == WARN:
            # Only the table refuses it: send it as given, unless it is no value Bedrock could read.
            text, why = _stringify_unchecked(value)
            message, warning = (f"{name} {why} (got {value!r})", None) if why else (None, relaxed(message))
        if message is not None:
            problems.append(HyperparameterProblem(field, value, message))
        elif text is not None:
            values[name] = text
        if warning is not None:
            warnings.append(warning)

    if family is None:
        return values, problems, warnings

    for spec in table.values():
        if spec.required and spec.name not in hyperparameters:
            message = (
                f"{spec.name} is required for {family.title} (it has no default); give "
                f"{_allowed(spec)}; see {family.doc_url}"
            )
            if model_checks == WARN:
                warnings.append(relaxed(message))
            else:
                problems.append(HyperparameterProblem(f"hyperparameters.{spec.name}", None, message))
    return values, problems, warnings


def _unknown_name_message(
    family: ModelFamily, table: Mapping[str, HyperparameterSpec], name: str, value: object
) -> str:
    allowed = list(table)
    by_lower = {candidate.lower(): candidate for candidate in allowed}
    suggestion = by_lower.get(name.lower())
    squashed = name.lower().replace("_", "").replace("-", "")
    if suggestion is None:
        suggestion = by_lower.get(squashed)
    if suggestion is None:
        close = difflib.get_close_matches(squashed, list(by_lower), n=1, cutoff=0.6)
        suggestion = by_lower[close[0]] if close else None
    if suggestion is None:
        # Short forms such as 'steps', 'warmup' or 'patience' are too short for difflib's ratio but name
        # the documented hyperparameter they are part of.
        stem = squashed.removesuffix("s")
        containing = [candidate for lower, candidate in by_lower.items() if len(stem) >= 4 and stem in lower]
        suggestion = containing[0] if len(containing) == 1 else None
    hint = f"; did you mean {suggestion!r}?" if suggestion else "."
    return (
        f"{name!r} (got {value!r}) is not a hyperparameter of {family.title}{hint} "
        f"Allowed: {', '.join(sorted(allowed))}; see {family.doc_url}"
    )
