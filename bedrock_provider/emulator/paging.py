"""The List operations' filters and keyset pagination: a token names the last item served, so pages
stay right while jobs are created between two calls."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bedrock_provider.emulator.errors import validation_error
from bedrock_provider.emulator.validation import parse_time

T = TypeVar("T")
DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_LIMIT = 1000


def paginate(
    items: Iterable[T], params: Mapping[str, str], *, key: Callable[[T], tuple[float, int]]
) -> tuple[list[T], str | None]:
    """Keyset pagination: a token names the last item served, so pages stay right while jobs appear."""
    sort_by = params.get("sortBy", "CreationTime")
    if sort_by != "CreationTime":
        raise validation_error(f"Invalid sortBy {sort_by!r}: expected CreationTime.")
    order = params.get("sortOrder", "Descending")
    if order not in ("Ascending", "Descending"):
        raise validation_error(f"Invalid sortOrder {order!r}: expected Ascending or Descending.")
    raw_max = params.get("maxResults")
    try:
        max_results = DEFAULT_MAX_RESULTS if raw_max is None else int(raw_max)
    except ValueError:
        max_results = 0
    if not 1 <= max_results <= MAX_RESULTS_LIMIT:
        raise validation_error(f"Invalid maxResults {raw_max!r}: expected 1 to {MAX_RESULTS_LIMIT}.")
    descending = order == "Descending"
    ordered = sorted(items, key=key, reverse=descending)
    token = params.get("nextToken")
    if token:
        last = _decode_token(token)
        ordered = [i for i in ordered if (key(i) < last if descending else key(i) > last)]
    page = ordered[:max_results]
    if len(ordered) > max_results:
        created, seq = key(page[-1])
        return page, base64.urlsafe_b64encode(json.dumps([created, seq]).encode()).decode()
    return page, None


def _decode_token(token: str) -> tuple[float, int]:
    try:
        created, seq = json.loads(base64.urlsafe_b64decode(token.encode()))
        return float(created), int(seq)
    except (ValueError, TypeError, binascii.Error):
        raise validation_error(
            f"Invalid nextToken {token!r}: pass the nextToken of the previous page."
        ) from None


def status_filter(params: Mapping[str, str], statuses: tuple[str, ...]) -> str | None:
    """The statusEquals filter, one of the resource's statuses, or None."""
    status = params.get("statusEquals")
    if status is not None and status not in statuses:
        raise validation_error(f"Invalid statusEquals {status!r}: expected one of {', '.join(statuses)}.")
    return status


def name_matches(name: str, params: Mapping[str, str]) -> bool:
    """The nameContains filter: case-insensitive, and everything matches when it is not given."""
    contains = params.get("nameContains")
    return not contains or contains.lower() in name.lower()


@dataclass(frozen=True)
class CreatedWindow:
    """The creation-time filters of a List (both bounds exclusive), checked before anything is listed."""

    after: float | None
    before: float | None

    @classmethod
    def of(cls, params: Mapping[str, str], after: str, before: str) -> CreatedWindow:
        return cls(parse_time(params, after), parse_time(params, before))

    def holds(self, created: float) -> bool:
        return (self.after is None or created > self.after) and (self.before is None or created < self.before)


def page_answer(key: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    """A List operation's answer: the page under ``key``, and nextToken when there is more."""
    out: dict[str, Any] = {key: items}
    if token is not None:
        out["nextToken"] = token
    return out
