"""What Amazon Bedrock charges for model customization, per base model, with where each price was read.

Bedrock bills three things around a customization job (https://aws.amazon.com/bedrock/pricing/,
"Model customization"): the tokens the job trains on ("total tokens processed by the model: number of
tokens in the training data corpus x number of epochs"), each custom model's storage every month, and
Provisioned Throughput by the hour per model unit.

Only prices read from that page are here; every other price is unknown (None), and the estimate says so
with a warning naming the model instead of guessing. Prices differ by region and change: users override
any of them with the ``bedrock_prices`` extra of their AWS connection or an operator's
``price_overrides`` (see ``merge_overrides``).

The rows are keyed by model id prefix, as the model catalog keys its rows, so each price is written once.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bedrock_provider.core.datasets.formats import model_id_of
from bedrock_provider.core.errors import InvalidInputError, Problem

PRICING_URL = "https://aws.amazon.com/bedrock/pricing/"
# The day these prices were read. AWS's page renders its tables in the browser; they were read from
# stored copies of the page (the Cohere and Meta tables and the Titan Image Generator example from its
# Korean edition as it stood in early 2025, the Titan Text tables from transcriptions of the English one).
READ_ON = "2026-11-26"
# The regions the page's customization tables are given for (US East (N. Virginia), US West (Oregon)).
PRICED_REGIONS = ("us-east-1", "us-west-2")

TRAINING = "training_per_1k_tokens"
STORAGE = "storage_per_month"
PROVISIONED = "provisioned_per_hour"
PROVISIONED_ONE_MONTH = "provisioned_per_hour_1_month"
PROVISIONED_SIX_MONTHS = "provisioned_per_hour_6_months"
PRICE_FIELDS = (TRAINING, STORAGE, PROVISIONED, PROVISIONED_ONE_MONTH, PROVISIONED_SIX_MONTHS)
# Bedrock's CreateProvisionedModelThroughput commitmentDuration values, and the price each one takes.
COMMITMENT_FIELDS = {
    None: PROVISIONED,
    "OneMonth": PROVISIONED_ONE_MONTH,
    "SixMonths": PROVISIONED_SIX_MONTHS,
}
UNITS = {
    TRAINING: "USD per 1,000 training tokens",
    STORAGE: "USD per custom model per month",
    PROVISIONED: "USD per model unit per hour, no commitment",
    PROVISIONED_ONE_MONTH: "USD per model unit per hour, 1-month commitment",
    PROVISIONED_SIX_MONTHS: "USD per model unit per hour, 6-month commitment",
}
CONNECTION_EXTRA = "bedrock_prices"


@dataclass(frozen=True)
class Price:
    """One price in USD, where it was read and on which day."""

    usd: float
    source: str
    date: str
    note: str = ""


@dataclass(frozen=True)
class ModelPrices:
    """The customization prices of the base models whose ids start with one of ``id_prefixes``.

    A price left None is not published (or was not found) for the model: estimates that need it are
    unknown, never guessed.
    """

    key: str
    title: str
    id_prefixes: tuple[str, ...]
    training_per_1k_tokens: Price | None = None
    storage_per_month: Price | None = None
    provisioned_per_hour: Price | None = None
    provisioned_per_hour_1_month: Price | None = None
    provisioned_per_hour_6_months: Price | None = None
    # Why training is not priced per token, when it is billed another way.
    training_note: str = ""
    regions: tuple[str, ...] = PRICED_REGIONS
    overridden: tuple[str, ...] = field(default=())

    def price(self, name: str) -> Price | None:
        value: Price | None = getattr(self, name)
        return value


def _aws(usd: float, note: str = "") -> Price:
    return Price(usd, PRICING_URL, READ_ON, note)


_STORAGE = _aws(1.95)

# The Cohere tab, "Customization (fine-tuning) pricing" and "Provisioned Throughput pricing" tables.
# The Meta tab, Llama 2 "Model customization (fine-tuning)" and "Provisioned Throughput" tables (the
# hourly price of a custom model's first model unit with no commitment is in the customization table).
# The Amazon tab, Titan Text customization table (Lite: 0.0004 per 1,000 tokens, 1.95 a month, 7.10 an
# hour for the no-commitment model unit; Express: 0.008 per 1,000 tokens, 1.95 a month; Express's hourly
# price was not in the copies read). The Titan Image Generator pricing example bills training per image
# seen (0.005 x steps x batch size) and 1.95 a month of storage.
PRICE_TABLE: tuple[ModelPrices, ...] = (
    ModelPrices(
        "amazon.titan-text-lite",
        "Amazon Titan Text G1 - Lite",
        ("amazon.titan-text-lite-v1",),
        training_per_1k_tokens=_aws(0.0004),
        storage_per_month=_STORAGE,
        provisioned_per_hour=_aws(7.10),
    ),
    ModelPrices(
        "amazon.titan-text-express",
        "Amazon Titan Text G1 - Express",
        ("amazon.titan-text-express-v1",),
        training_per_1k_tokens=_aws(0.008),
        storage_per_month=_STORAGE,
    ),
    ModelPrices(
        "amazon.titan-image-generator",
        "Amazon Titan Image Generator G1",
        ("amazon.titan-image-generator-v1", "amazon.titan-image-generator-v2"),
        storage_per_month=_STORAGE,
        training_note="training is billed per image seen (0.005 USD x steps x batch size), not per token",
    ),
    ModelPrices(
        "cohere.command",
        "Cohere Command",
        ("cohere.command-text-v14",),
        training_per_1k_tokens=_aws(0.004),
        storage_per_month=_STORAGE,
        provisioned_per_hour=_aws(49.50),
        provisioned_per_hour_1_month=_aws(39.60),
        provisioned_per_hour_6_months=_aws(23.77),
    ),
    ModelPrices(
        "cohere.command-light",
        "Cohere Command Light",
        ("cohere.command-light-text-v14",),
        training_per_1k_tokens=_aws(0.001),
        storage_per_month=_STORAGE,
        provisioned_per_hour=_aws(8.56),
        provisioned_per_hour_1_month=_aws(6.85),
        provisioned_per_hour_6_months=_aws(4.11),
    ),
    ModelPrices(
        "meta.llama2-13b",
        "Meta Llama 2 Pretrained (13B)",
        ("meta.llama2-13b-v1",),
        training_per_1k_tokens=_aws(0.00149),
        storage_per_month=_STORAGE,
        provisioned_per_hour=_aws(23.50),
        provisioned_per_hour_1_month=_aws(21.18),
        provisioned_per_hour_6_months=_aws(13.08),
    ),
    ModelPrices(
        "meta.llama2-70b",
        "Meta Llama 2 Pretrained (70B)",
        ("meta.llama2-70b-v1",),
        training_per_1k_tokens=_aws(0.00799),
        storage_per_month=_STORAGE,
        provisioned_per_hour=_aws(23.50),
        provisioned_per_hour_1_month=_aws(21.18),
        provisioned_per_hour_6_months=_aws(13.08),
    ),
)


def _matches(model_id: str, prefix: str) -> bool:
    """A whole id or a ':'-qualified version of it ('v1' must not claim a future 'v10')."""
    prefix = prefix.lower()
    return (
        model_id == prefix
        or model_id.startswith(prefix + ":")
        or (prefix.endswith(("-", ".", ":")) and model_id.startswith(prefix))
    )


def prices_for(base_model_id: str | None) -> ModelPrices | None:
    """The price row of a base model id or ARN; None when the model has no row."""
    if not base_model_id or not isinstance(base_model_id, str):
        return None
    model_id = model_id_of(base_model_id)
    for row in PRICE_TABLE:
        if any(_matches(model_id, prefix) for prefix in row.id_prefixes):
            return row
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
    number: float | None = None
    if isinstance(usd, str):
        try:
            number = float(usd.strip())
        except ValueError:
            number = None
    elif isinstance(usd, numbers.Real) and not isinstance(usd, bool):
        number = float(usd)
    if number is None or not math.isfinite(number) or number < 0:
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
    for name, value in overrides.items():
        if name not in PRICE_FIELDS:
            problems.append(
                Problem(f"{where}.{name}", value, f"is not a price; the prices are {', '.join(PRICE_FIELDS)}")
            )
            continue
        price = _override_price(str(name), value, where, today, problems)
        if price is not None:
            parsed[str(name)] = price
    if problems:
        raise InvalidInputError("Price overrides", problems)
    return parsed


def connection_overrides(extra: object, base_model_id: str, where: str) -> dict[str, Price]:
    """The overrides a connection's ``bedrock_prices`` extra holds for one model.

    The extra maps model ids (or id prefixes, matched like the price table's) to overrides, e.g.
    ``{"amazon.titan-text-express-v1": {"training_per_1k_tokens": 0.0085}}``; the longest matching key
    wins.
    """
    if extra is None:
        return {}
    if not isinstance(extra, Mapping):
        raise InvalidInputError(
            "Price overrides",
            [Problem(where, extra, "must be a dict of model ids to price overrides")],
        )
    model_id = model_id_of(base_model_id)
    matching = [key for key in extra if isinstance(key, str) and _matches(model_id, model_id_of(key))]
    if not matching:
        return {}
    key = max(matching, key=len)
    return parse_overrides(extra[key], f"{where}[{key!r}]")


def merge_overrides(
    row: ModelPrices | None, base_model_id: str, *layers: Mapping[str, Price]
) -> ModelPrices | None:
    """The row with each layer's prices laid over it, later layers winning; None when nothing is known."""
    merged: dict[str, Price] = {}
    for layer in layers:
        merged.update(layer)
    if not merged:
        return row
    base = row or ModelPrices(model_id_of(base_model_id), base_model_id, (model_id_of(base_model_id),))
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
    from_connection = connection_overrides(connection_extra, base_model_id, where)
    from_operator = parse_overrides(operator_overrides, "price_overrides")
    return merge_overrides(prices_for(base_model_id), base_model_id, from_connection, from_operator)
