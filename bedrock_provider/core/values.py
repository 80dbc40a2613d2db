"""Values that arrive as text: operator parameters a template renders (numbers, whole numbers, flags),
and how deeply a JSON text nests.

Each parser appends a Problem naming the parameter (and returns None, or False for a flag) instead
of raising, so that a caller reports every bad parameter at once. Text nested too deep to parse is
reported as such, not as "not valid JSON": Python's parsers give up on deep nesting with a
RecursionError, and orjson at 1024 levels, on text that is valid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from bedrock_provider.core.errors import Problem


def parse_number(value: object, name: str, problems: list[Problem]) -> float | None:
    """A finite number, or the text a template renders one to ("0.1")."""
    if isinstance(value, bool):
        problems.append(Problem(name, value, "must be a number, got a boolean"))
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            problems.append(Problem(name, value, "must be a number"))
            return None
    else:
        problems.append(Problem(name, value, f"must be a number, got {type(value).__name__}"))
        return None
    if not math.isfinite(number):
        problems.append(Problem(name, value, "must be a finite number"))
        return None
    return number


def parse_integer(
    value: object, name: str, problems: list[Problem], minimum: int | None = None
) -> int | None:
    number = parse_number(value, name, problems)
    if number is None:
        return None
    if not number.is_integer():
        problems.append(Problem(name, value, "must be a whole number"))
        return None
    if minimum is not None and number < minimum:
        problems.append(Problem(name, value, f"must be at least {minimum}"))
        return None
    return int(number)


def parse_flag(value: object, name: str, problems: list[Problem]) -> bool:
    """True or False, or the text "True"/"False" a template renders (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    problems.append(Problem(name, value, "must be True or False (or a template rendering to one)"))
    return False


def number_or_nan(value: object) -> float:
    """The number a value (or the text of one) stands for; nan for anything else, a boolean included,
    so that one ``math.isfinite`` check refuses them all."""
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def known_entries(
    mapping: Mapping[Any, Any],
    known: Collection[str],
    name_of: Callable[[Any], str],
    unknown_message: str,
    problems: list[Problem],
) -> Iterator[tuple[Any, Any]]:
    """The entries of ``mapping`` whose key is one of ``known``; each other entry is a Problem named
    ``name_of(key)``, appended as the entries are walked, so problems keep the mapping's order."""
    for key, value in mapping.items():
        if key in known:
            yield key, value
        else:
            problems.append(Problem(name_of(key), value, unknown_message))


# --------------------------------------------------------------------- JSON nesting

# Deeper than any request, summary or record this provider reads; well within Python's parsers.
MAX_JSON_DEPTH = 500
# orjson's own limit (records of datasets are parsed with orjson).
ORJSON_MAX_DEPTH = 1024


def nesting_depth(text: str | bytes, stop_after: int | None = None) -> int:
    """The deepest nesting of [ and { in ``text``, outside strings; stops counting past ``stop_after``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    depth = deepest = 0
    quote = ""
    escaped = False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{(":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_after is not None and deepest > stop_after:
                    return deepest
        elif char in "]})":
            depth -= 1
    return deepest


def too_deep(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    return nesting_depth(text, stop_after=limit) > limit


def depth_message(limit: int = MAX_JSON_DEPTH) -> str:
    return f"is nested deeper than {limit} levels (valid JSON perhaps, but deeper than anything read here)"
