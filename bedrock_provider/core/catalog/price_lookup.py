"""A model's prices: found by its id in the catalog, and overridden by the user (the ``bedrock_prices``
extra of the AWS connection, an operator's ``price_overrides``).

The records and the prices read from AWS's page are in prices.py, beside the catalog's rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bedrock_provider.core.catalog.lookup import resolve
from bedrock_provider.core.catalog.prices import (
    PRICE_FIELDS,
    UNITS,
    ModelPrices,
    Price,
)
from bedrock_provider.core.catalog.shapes import GEO_PREFIXES
from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.values import known_entries, parse_number

# The AWS connection's extra that overrides prices.
CONNECTION_EXTRA = "bedrock_prices"


def price_key(identifier: str) -> str:
    """The one key a model's prices are known by: its bare id, lowercase.

    AWS prices customization per model, not per context-length version ("Amazon Nova Micro", not
    ":0:128k"; https://aws.amazon.com/bedrock/pricing/), so the task's model and the keys of the
    connection's extra are both brought to this form before they are compared: a versioned id
    (amazon.nova-micro-v1:0:128k), a foundation-model ARN, an inference profile (us.) and the bare id
    all name the same prices. A model the catalog lacks is treated the same way: the ARN's resource,
    no geo prefix, no ':' version.
    """
    ref = resolve(identifier)
    if ref is not None:
        return ref.model_id
    text = identifier.strip().lower()
    if text.startswith("arn:"):
        text = text.rsplit("/", 1)[-1]
    for geo in GEO_PREFIXES:
        if text.startswith(geo):
            text = text[len(geo) :]
            break
    return text.split(":", 1)[0]


def _matches(model_key: str, key: str) -> bool:
    """The whole id, or an id prefix that ends at a separator ('amazon.titan-'): 'v1' must not claim
    a future 'v10'."""
    return model_key == key or (key.endswith(("-", ".")) and model_key.startswith(key))


def prices_for(base_model_id: str | None) -> ModelPrices | None:
    """The prices of a base model id or ARN, from its catalog row; None when the row records none."""
    ref = resolve(base_model_id)
    if ref is None or not ref.family.pricing:
        return None
    for prices in ref.family.pricing:
        if not prices.model_ids or ref.model_id in prices.model_ids:
            return replace(prices, title=prices.title or ref.family.title)
    return None


# -- overrides ------------------------------------------------------------------------------------


def _override_price(
    name: str, value: object, where: str, today: str, problems: list[Problem]
) -> Price | None:
    usd: object = value
    source, date, note = where, today, "given by the user"
    if isinstance(value, Mapping):
        unknown = sorted(set(map(str, value)) - {"usd", "source", "date", "note"})
        if unknown:
            problems.append(
                Problem(
                    f"{where}.{name}",
                    value,
                    f"unknown keys {unknown}; give usd, and optionally source and date",
                )
            )
            return None
        usd = value.get("usd")
        source = str(value.get("source") or where)
        date = str(value.get("date") or today)
        note = str(value.get("note") or note)
    number = parse_number(usd, f"{where}.{name}", [])
    if number is None or number < 0:
        problems.append(
            Problem(
                f"{where}.{name}",
                usd,
                f"must be a price in USD ({UNITS[name]}): a finite number of 0 or more",
            )
        )
        return None
    return Price(number, source, date, note)


def parse_overrides(overrides: object, where: str, today: str | None = None) -> dict[str, Price]:
    """Price overrides as Price records: ``{"training_per_1k_tokens": 0.01}`` or, with provenance,
    ``{"training_per_1k_tokens": {"usd": 0.01, "source": "our AWS contract", "date": "2026-01-31"}}``.

    Raises InvalidInputError naming the field, the value and what it takes.
    """
    if overrides is None or overrides == {}:
        return {}
    today = today or datetime.now(UTC).date().isoformat()
    problems: list[Problem] = []
    if not isinstance(overrides, Mapping):
        problems.append(
            Problem(where, overrides, f"must be a dict of price names ({', '.join(PRICE_FIELDS)}) to USD")
        )
        raise InvalidInputError("Price overrides", problems)
    parsed: dict[str, Price] = {}
    unknown = f"is not a price; the prices are {', '.join(PRICE_FIELDS)}"
    for name, value in known_entries(
        overrides, PRICE_FIELDS, lambda key: f"{where}.{key}", unknown, problems
    ):
        price = _override_price(str(name), value, where, today, problems)
        if price is not None:
            parsed[str(name)] = price
    if problems:
        raise InvalidInputError("Price overrides", problems)
    return parsed


@dataclass(frozen=True)
class ExtraLookup:
    """Which entry of a connection's ``bedrock_prices`` extra applies to a model, and what to say about it
    when a price is still missing."""

    where: str
    looked_up: str
    keys: tuple[str, ...]
    matched: str | None
    prices: Mapping[str, Price]

    def describe(self) -> str:
        if not self.keys:
            return f"{self.where} is empty"
        held = ", ".join(repr(key) for key in self.keys)
        if self.matched is None:
            return (
                f"{self.where} was looked up for {self.looked_up!r} (a model's bare id: versions, ARNs and "
                f"inference profiles are brought to it) and holds {held}, none of them for this model"
            )
        given = ", ".join(sorted(self.prices)) or "no price"
        return (
            f"{self.where} holds {held}; its entry {self.matched!r} applies to {self.looked_up!r} and "
            f"gives {given}"
        )


def connection_overrides(extra: object, base_model_id: str, where: str) -> ExtraLookup:
    """The overrides a connection's ``bedrock_prices`` extra holds for one model.

    The extra maps model ids (or id prefixes ending in '-' or '.') to overrides, e.g.
    ``{"amazon.titan-text-express-v1": {"training_per_1k_tokens": 0.0085}}``. Both the task's model and
    each key are compared by ``price_key``; of the keys that match, the longest wins. Two keys that
    stand for the same model with different prices are refused: which one was meant is not known.
    """
    if not isinstance(extra, Mapping):
        raise InvalidInputError(
            "Price overrides",
            [Problem(where, extra, "must be a dict of model ids to price overrides")],
        )
    looked_up = price_key(base_model_id)
    keys = tuple(str(key) for key in extra)
    matching = [key for key in extra if isinstance(key, str) and _matches(looked_up, price_key(key))]
    if not matching:
        return ExtraLookup(where, looked_up, keys, None, {})
    longest = max(len(price_key(key)) for key in matching)
    best = [key for key in matching if len(price_key(key)) == longest]
    if len({repr(extra[key]) for key in best}) > 1:
        raise InvalidInputError(
            "Price overrides",
            [
                Problem(
                    where,
                    {key: extra[key] for key in best},
                    f"the keys {best} all stand for {price_key(best[0])!r} (prices are per model, not per "
                    "version, ARN or inference profile) but give different prices: keep one of them",
                )
            ],
        )
    key = best[0]
    return ExtraLookup(where, looked_up, keys, key, parse_overrides(extra[key], f"{where}[{key!r}]"))


def merge_overrides(
    row: ModelPrices | None, base_model_id: str, *layers: Mapping[str, Price]
) -> ModelPrices | None:
    """The row with each layer's prices laid over it, later layers winning; None when nothing is known."""
    merged: dict[str, Price] = {}
    for layer in layers:
        merged.update(layer)
    if not merged:
        return row
    base = row or ModelPrices(title=base_model_id)
    changes: dict[str, Any] = {**merged, "overridden": tuple(sorted(set(base.overridden) | set(merged)))}
    return replace(base, **changes)


def resolve_prices(
    base_model_id: str,
    connection_extra: object = None,
    operator_overrides: object = None,
    connection_name: str | None = None,
) -> ModelPrices | None:
    """The prices for a model: the table's row, then the connection's extra, then the operator's
    parameter (the most specific wins)."""
    where = (
        f"connection {connection_name!r} extra {CONNECTION_EXTRA}" if connection_name else CONNECTION_EXTRA
    )
    lookup = (
        None if connection_extra is None else connection_overrides(connection_extra, base_model_id, where)
    )
    from_operator = parse_overrides(operator_overrides, "price_overrides")
    merged = merge_overrides(
        prices_for(base_model_id), base_model_id, lookup.prices if lookup else {}, from_operator
    )
    if lookup is None:
        return merged
    # A price still missing is then explained by what the extra holds, not by advice to set it.
    return replace(merged or ModelPrices(title=base_model_id), extra_lookup=lookup.describe())
