"""Operator parameters that may arrive as the text a template renders: numbers, whole numbers, flags.

Each parser appends a Problem naming the parameter (and returns None, or False for a flag) instead
of raising, so that a caller reports every bad parameter at once.
"""

from __future__ import annotations

import math

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
