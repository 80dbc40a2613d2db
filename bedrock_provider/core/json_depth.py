"""How deeply a JSON (or Python literal) text nests, so that text too deep to parse is reported as
such, not as "not valid JSON": Python's parsers give up on deep nesting with a RecursionError, and
orjson at 1024 levels, on text that is valid."""

from __future__ import annotations

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
