"""What Amazon Bedrock charges for model customization, per base model, with where each price was read.

Bedrock bills three things around a customization job (https://aws.amazon.com/bedrock/pricing/,
"Model customization"): the tokens the job trains on ("total tokens processed by the model: number of
tokens in the training data corpus x number of epochs"), each custom model's storage every month, and
Provisioned Throughput by the hour per model unit.

Only prices read from that page are here; every other price is unknown (None), and the estimate says so
with a warning naming the model instead of guessing. Prices differ by region and change: users override
any of them with the ``bedrock_prices`` extra of their AWS connection or an operator's
``price_overrides`` (see ``merge_overrides``).

The prices themselves are the ``pricing`` field of the model catalog's rows (catalog/rows.py), so each
is written once; this module holds the records the rows are made of, and price_lookup.py the lookup
and the overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Price:
    """One price in USD, where it was read and on which day."""

    usd: float
    source: str
    date: str
    note: str = ""


@dataclass(frozen=True)
class ModelPrices:
    """The customization prices of a catalog row's models (of ``model_ids`` only, when given: a row
    whose models are priced apart, like Llama 2 13B and 70B, has one record each).

    A price left None is not published (or was not found) for the model: estimates that need it are
    unknown, never guessed.
    """

    training_per_1k_tokens: Price | None = None
    storage_per_month: Price | None = None
    provisioned_per_hour: Price | None = None
    provisioned_per_hour_1_month: Price | None = None
    provisioned_per_hour_6_months: Price | None = None
    # Why training is not priced per token, when it is billed another way.
    training_note: str = ""
    model_ids: tuple[str, ...] = ()
    regions: tuple[str, ...] = PRICED_REGIONS
    title: str = ""
    overridden: tuple[str, ...] = field(default=())
    # What the connection's bedrock_prices extra held for the model, when it was read.
    extra_lookup: str = field(default="", compare=False)

    def price(self, name: str) -> Price | None:
        value: Price | None = getattr(self, name)
        return value

    @property
    def any_known(self) -> bool:
        return any(self.price(name) is not None for name in PRICE_FIELDS)


def aws_prices(
    training: float | None = None,
    storage: float | None = None,
    provisioned: float | None = None,
    one_month: float | None = None,
    six_months: float | None = None,
    *,
    model_ids: tuple[str, ...] = (),
    training_note: str = "",
) -> ModelPrices:
    """A catalog row's prices as read on AWS's pricing page (PRICING_URL, on READ_ON), in USD."""

    def read(usd: float | None) -> Price | None:
        return None if usd is None else Price(usd, PRICING_URL, READ_ON)

    return ModelPrices(
        read(training),
        read(storage),
        read(provisioned),
        read(one_month),
        read(six_months),
        training_note=training_note,
        model_ids=model_ids,
    )
