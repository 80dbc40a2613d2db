"""What a customization job will cost to train, and what a sweep of jobs will, before anything is paid for.

Bedrock bills a job for "total tokens processed by the model (number of tokens in the training data
corpus x number of epochs)" (https://aws.amazon.com/bedrock/pricing/), so the estimate is
training tokens x epochs x the price per 1,000 tokens. Validation data is not in that formula and is not
priced. A price that is not known makes the estimate unknown (``usd`` None) with a warning naming the
model; it is never filled in with a guess. Budgets refuse before any Create call. What is billed per
month or per hour (a custom model's storage, a Provisioned Throughput) is in recurring_cost.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_provider.core.catalog import (
    DISTILLATION,
    FINE_TUNING,
    REINFORCEMENT_FINE_TUNING,
    family_for,
    table_for,
)
from bedrock_provider.core.catalog.price_lookup import CONNECTION_EXTRA, price_key
from bedrock_provider.core.catalog.prices import (
    STORAGE,
    TRAINING,
    UNITS,
    ModelPrices,
    Price,
)
from bedrock_provider.core.values import parse_number

EPOCHS = "epochCount"
_PRICE_HINT = (
    "give it with price_overrides={{'{name}': USD}} on the operator, or the {extra} extra of the AWS "
    "connection ({{'{model}': {{'{name}': USD}}}})"
)


class BudgetExceededError(RuntimeError):
    """An estimate is above its budget, or cannot be made while a budget is set; nothing was created."""


def usd(value: float) -> str:
    """Dollars as people read them: cents for sums, more digits for small ones."""
    if value == 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    return f"${value:.6f}".rstrip("0")


def _epochs(count: int) -> str:
    return f"{count} epoch" if count == 1 else f"{count} epochs"


def round_usd(value: float) -> float:
    """USD to a billionth of a dollar: below the smallest training price of one token, above float noise."""
    return round(value, 9)


def _price_hint(name: str, base_model_id: str) -> str:
    return _PRICE_HINT.format(name=name, extra=CONNECTION_EXTRA, model=price_key(base_model_id))


def unknown_price_warning(prices: ModelPrices | None, name: str, base_model_id: str, what: str) -> str:
    titled = prices is not None and prices.title not in ("", base_model_id)
    title = f"{prices.title} ({base_model_id})" if prices and titled else base_model_id
    why = f": {prices.training_note}" if prices and name == TRAINING and prices.training_note else ""
    # When the connection's extra was read, say what it holds: the user may have set it already.
    held = f" ({prices.extra_lookup})" if prices and prices.extra_lookup else ""
    return (
        f"No {UNITS[name]} price is known for {title}{why}{held}; the {what} is unknown. To estimate it, "
        + _price_hint(name, base_model_id)
    )


@dataclass(frozen=True)
class TokenCount:
    """Training tokens and how they were counted."""

    tokens: int
    basis: str


def training_epochs(
    base_model_id: str, hyperparameters: Mapping[str, object] | None, customization_type: str = FINE_TUNING
) -> tuple[int | None, str]:
    """(epochs, where the number comes from): the epochCount hyperparameter, else the model's default for
    the customization type."""
    given = (hyperparameters or {}).get(EPOCHS)
    family = family_for(base_model_id)
    if given is not None:
        try:
            epochs = float(str(given).strip())
        except ValueError:
            return (
                None,
                f"{EPOCHS}={given!r} is chosen by Bedrock from the dataset, so the epochs are not known",
            )
        if math.isfinite(epochs) and epochs >= 1 and epochs == int(epochs):
            return int(epochs), f"hyperparameters.{EPOCHS}"
        return None, f"{EPOCHS}={given!r} is not a whole number of epochs"
    spec = table_for(family, customization_type).get(EPOCHS) if family else None
    if spec is not None and spec.default is not None:
        return int(
            spec.default
        ), f"the default {EPOCHS} of {family.title if family else base_model_id} ({spec.default:g})"
    if family is not None and spec is None:
        return None, f"{family.title} is not trained in epochs (it has no {EPOCHS} hyperparameter)"
    return None, f"{base_model_id} has no documented default {EPOCHS}; give hyperparameters {{'{EPOCHS}': N}}"


@dataclass(frozen=True)
class CostEstimate:
    """A job's estimated training cost; ``usd`` None when any factor is unknown (``warnings`` say which)."""

    base_model_id: str
    usd: float | None
    tokens: int | None
    epochs: int | None
    price: Price | None
    tokens_basis: str
    epochs_basis: str
    warnings: tuple[str, ...] = ()
    storage_per_month: Price | None = None

    @property
    def price_per_1k_tokens(self) -> float | None:
        return self.price.usd if self.price else None

    def to_xcom(self) -> dict[str, Any]:
        """The ``estimated_cost`` of the operator's XCom (its keys are fixed in DESIGN.md)."""
        return {
            "usd": self.usd,
            "tokens": self.tokens,
            "epochs": self.epochs,
            "price_per_1k_tokens": self.price_per_1k_tokens,
            "price_source": self.price.source if self.price else None,
            "price_date": self.price.date if self.price else None,
            "tokens_basis": self.tokens_basis,
            "epochs_basis": self.epochs_basis,
            "storage_per_month_usd": self.storage_per_month.usd if self.storage_per_month else None,
        }

    def describe(self) -> str:
        """One line for the log and for refusals: the estimate and every factor of it."""
        tokens = f"{self.tokens:,} tokens" if self.tokens is not None else "unknown tokens"
        epochs = _epochs(self.epochs) if self.epochs is not None else "unknown epochs"
        price = (
            f"{usd(self.price.usd)} per 1,000 tokens ({self.price.source}, read {self.price.date})"
            if self.price
            else "an unknown price per 1,000 tokens"
        )
        total = usd(self.usd) if self.usd is not None else "unknown"
        return (
            f"estimated training cost {total} for {self.base_model_id}: {tokens} ({self.tokens_basis}) x "
            f"{epochs} ({self.epochs_basis}) x {price}"
        )


def summarize(estimated_cost: Mapping[str, Any] | None) -> str:
    """One line for a report from an ``estimated_cost`` XCom: the total and its factors."""
    if not estimated_cost:
        return "not estimated"
    tokens, epochs, price = (estimated_cost.get(key) for key in ("tokens", "epochs", "price_per_1k_tokens"))
    factors = " x ".join(
        [
            f"{tokens:,} tokens" if tokens is not None else "unknown tokens",
            _epochs(epochs) if epochs is not None else "unknown epochs",
            f"{usd(price)} per 1,000 tokens" if price is not None else "unknown price",
        ]
    )
    total = estimated_cost.get("usd")
    shown = f"{usd(total)} to train" if total is not None else "unknown"
    storage = estimated_cost.get("storage_per_month_usd")
    monthly = f", then {usd(storage)} a month to store" if storage is not None else ""
    return f"{shown} ({factors}){monthly}"


def estimate_training_cost(
    base_model_id: str,
    tokens: TokenCount | None,
    hyperparameters: Mapping[str, object] | None,
    prices: ModelPrices | None,
    customization_type: str = "FINE_TUNING",
    tokens_unknown_reason: str = "the training tokens were not counted",
) -> CostEstimate:
    """Training tokens x epochs x the price per 1,000 tokens."""
    warnings: list[str] = []
    epochs, epochs_basis = training_epochs(base_model_id, hyperparameters, customization_type)
    price = prices.price(TRAINING) if prices else None
    if price is None and customization_type != REINFORCEMENT_FINE_TUNING:
        warnings.append(unknown_price_warning(prices, TRAINING, base_model_id, "training cost"))
    if customization_type == REINFORCEMENT_FINE_TUNING:
        # Its epochCount is typed in rftConfig, and an RFT job is not priced per epoch (below).
        epochs, epochs_basis = None, "not used: reinforcement fine-tuning is not priced per epoch"
    elif epochs is None:
        warnings.append(f"The number of epochs is unknown: {epochs_basis}; the training cost is unknown.")
    if tokens is None:
        warnings.append(
            f"The training tokens are unknown ({tokens_unknown_reason}); the training cost is unknown."
        )
    elif tokens.tokens == 0:
        # Nothing counted is not "free": no record passed the checks (or none was given), so the
        # estimate cannot be made, and a budget must not let the job through as costing $0.
        warnings.append(
            f"No training tokens were counted ({tokens.basis}): the training cost cannot be estimated, "
            "and Bedrock would find no valid record to train on. Fix the records (run "
            "BedrockPrepareDatasetOperator for the details) or give training_tokens."
        )
    if customization_type == DISTILLATION:
        warnings.append(
            "Distillation also bills the teacher model's inference for the responses it generates, at its "
            "on-demand price, and trains on those responses: the training cost is unknown before the job."
        )
    if customization_type == REINFORCEMENT_FINE_TUNING:
        # https://aws.amazon.com/bedrock/pricing/ has no per-token training price for RFT that this catalog
        # records; its cost also depends on the responses generated per prompt and the grader Lambda's
        # invocations, neither known before the job.
        warnings.append(
            "Reinforcement fine-tuning cannot be estimated: it is not billed per training token x epoch "
            "(Bedrock generates several responses per prompt and the grader Lambda scores each, billed by "
            "AWS Lambda), and no RFT price is recorded in the catalog; the training cost is unknown. See "
            "https://aws.amazon.com/bedrock/pricing/."
        )
    known = (
        price is not None
        and epochs is not None
        and tokens is not None
        and tokens.tokens > 0
        and customization_type not in (DISTILLATION, REINFORCEMENT_FINE_TUNING)
    )
    total = (
        round_usd(tokens.tokens / 1000 * epochs * price.usd)
        if known and tokens and epochs and price
        else None
    )
    return CostEstimate(
        base_model_id=base_model_id,
        usd=total,
        tokens=tokens.tokens if tokens else None,
        epochs=epochs,
        price=price,
        tokens_basis=tokens.basis if tokens else tokens_unknown_reason,
        epochs_basis=epochs_basis,
        warnings=tuple(warnings),
        storage_per_month=prices.price(STORAGE) if prices else None,
    )


def parse_budget(value: object, name: str) -> float | None:
    """A budget in USD as given to an operator (a number, or text from a template); None for no budget."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    amount = parse_number(value, name, [])
    if amount is None or amount < 0:
        raise ValueError(
            f"{name}={value!r}: must be an amount in USD of 0 or more, e.g. 25.0, or None for no budget"
        )
    return amount


def check_training_budget(
    estimate: CostEstimate, budget: float | None, name: str = "max_estimated_cost"
) -> None:
    """Refuse a job whose estimate is above the budget, or cannot be made while a budget is set."""
    if budget is None:
        return
    if estimate.usd is None:
        reasons = " ".join(estimate.warnings)
        raise BudgetExceededError(
            f"{name}={usd(budget)} is set but the job's cost cannot be estimated, so the job was not "
            f"submitted. {reasons} Or remove {name}."
        )
    if estimate.usd > budget:
        raise BudgetExceededError(
            f"The job was not submitted: its {estimate.describe()} = {usd(estimate.usd)}, above "
            f"{name}={usd(budget)}. Raise {name}, train on fewer tokens or epochs, or pick a cheaper base "
            "model."
        )


@dataclass(frozen=True)
class SweepEstimate:
    """The sum over several jobs' estimates; ``usd`` None when any of them is unknown."""

    estimates: tuple[CostEstimate, ...]
    usd: float | None
    unknown: tuple[int, ...] = field(default=())

    def describe(self) -> str:
        if self.usd is None:
            return (
                f"the total of {len(self.estimates)} jobs is unknown: {len(self.unknown)} of them cannot be "
                "estimated"
            )
        return f"estimated training cost of {len(self.estimates)} jobs: {usd(self.usd)} in all"


def sum_estimates(estimates: Iterable[CostEstimate]) -> SweepEstimate:
    listed = tuple(estimates)
    unknown = tuple(index for index, estimate in enumerate(listed) if estimate.usd is None)
    total = None if unknown else round_usd(sum(estimate.usd or 0.0 for estimate in listed))
    return SweepEstimate(listed, total, unknown)


def check_sweep_budget(
    sweep: SweepEstimate, budget: float | None, name: str = "max_total_estimated_cost"
) -> None:
    if budget is None:
        return
    if sweep.usd is None:
        raise BudgetExceededError(
            f"{name}={usd(budget)} is set but {len(sweep.unknown)} of the {len(sweep.estimates)} jobs cannot "
            f"be estimated (jobs {', '.join(map(str, sweep.unknown))}), so none was submitted: "
            + " ".join(dict.fromkeys(w for i in sweep.unknown for w in sweep.estimates[i].warnings))
        )
    if sweep.usd > budget:
        lines = "; ".join(f"job {i}: {usd(e.usd or 0)}" for i, e in enumerate(sweep.estimates))
        raise BudgetExceededError(
            f"None of the {len(sweep.estimates)} jobs was submitted: their estimated training cost is "
            f"{usd(sweep.usd)} in all ({lines}), above {name}={usd(budget)}."
        )
