"""What a custom model's storage and a Provisioned Throughput cost per month or per hour, before anything
is created, and the budget on an hourly price.

Prices are the catalog's (prices.py), laid over by the operator's and the connection's; an unknown price
makes the cost unknown (``usd`` None) with a warning naming the model, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bedrock_provider.core.catalog.cost import BudgetExceededError, round_usd, unknown_price_warning, usd
from bedrock_provider.core.catalog.prices import COMMITMENT_FIELDS, PROVISIONED, STORAGE, ModelPrices, Price


@dataclass(frozen=True)
class RecurringCost:
    """A cost billed per month or per hour; ``usd`` None when the price is unknown."""

    usd: float | None
    price: Price | None
    quantity: float
    unit: str
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "usd": self.usd,
            "unit": self.unit,
            "quantity": self.quantity,
            "price_usd": self.price.usd if self.price else None,
            "price_source": self.price.source if self.price else None,
            "price_date": self.price.date if self.price else None,
        }


def monthly_storage(base_model_ids: Iterable[str], prices_of: Any) -> RecurringCost:
    """The monthly storage of custom models trained from these base models (``prices_of(id)`` gives each
    model's prices): what deleting them saves every month."""
    total = 0.0
    known = True
    warnings: list[str] = []
    count = 0
    last: Price | None = None
    for base_model_id in base_model_ids:
        count += 1
        prices = prices_of(base_model_id)
        price = prices.price(STORAGE) if prices else None
        if price is None:
            known = False
            warnings.append(unknown_price_warning(prices, STORAGE, base_model_id, "monthly storage"))
            continue
        total += price.usd
        last = price
    return RecurringCost(
        round_usd(total) if known else None,
        last,
        count,
        "custom model months",
        tuple(dict.fromkeys(warnings)),
    )


def provisioned_hourly(
    base_model_id: str, prices: ModelPrices | None, model_units: int, commitment_duration: str | None
) -> RecurringCost:
    """The hourly price of a Provisioned Throughput of ``model_units`` for a model trained from this base
    model ("for custom models, pricing is the same as the base model that it was customized from":
    https://docs.aws.amazon.com/bedrock/latest/userguide/prov-throughput.html)."""
    name = COMMITMENT_FIELDS.get(commitment_duration, PROVISIONED)
    price = prices.price(name) if prices else None
    if price is None:
        return RecurringCost(
            None,
            None,
            model_units,
            "model unit hours",
            (unknown_price_warning(prices, name, base_model_id, "hourly price"),),
        )
    return RecurringCost(round_usd(price.usd * model_units), price, model_units, "model unit hours")


def check_hourly_budget(cost: RecurringCost, budget: float | None, name: str) -> None:
    if budget is None:
        return
    if cost.usd is None:
        raise BudgetExceededError(
            f"{name}={usd(budget)} per hour is set but the hourly price is unknown, so nothing was created. "
            + " ".join(cost.warnings)
        )
    if cost.usd > budget:
        price = cost.price
        source = f" ({price.source}, read {price.date})" if price else ""
        raise BudgetExceededError(
            f"Nothing was created: {cost.quantity:g} model unit(s) x {usd(price.usd if price else 0)} an hour"
            f"{source} = {usd(cost.usd)} an hour, above {name}={usd(budget)}."
        )
