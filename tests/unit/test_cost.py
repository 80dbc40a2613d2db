"""Cost estimates, prices, overrides and budgets (core/catalog/cost.py, core/catalog/recurring_cost.py,
core/catalog/price_lookup.py): no Airflow, no AWS."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace

import pytest

from bedrock_provider.core.catalog import FAMILIES, family_for, id_forms
from bedrock_provider.core.catalog.cost import (
    BudgetExceededError,
    TokenCount,
    check_sweep_budget,
    check_training_budget,
    estimate_training_cost,
    parse_budget,
    sum_estimates,
    training_epochs,
)
from bedrock_provider.core.catalog.price_lookup import prices_for, resolve_prices
from bedrock_provider.core.catalog.prices import PRICING_URL, READ_ON, STORAGE, TRAINING
from bedrock_provider.core.catalog.recurring_cost import (
    check_hourly_budget,
    monthly_storage,
    provisioned_hourly,
)
from bedrock_provider.core.datasets.prepare import validate_bytes
from bedrock_provider.core.datasets.tokens import count_training_tokens
from bedrock_provider.core.errors import InvalidInputError

TOKENS = TokenCount(123_456, "given")
# (model id, its prices) for every model of a catalog row with a training price.
PRICED = [
    (model_id, prices)
    for family in FAMILIES
    for prices in family.pricing or ()
    for model_id in (prices.model_ids or family.model_ids)
    if prices.training_per_1k_tokens is not None
]


def estimate(base_model_id: str, tokens: TokenCount | None = TOKENS, hyperparameters=None, **overrides):
    prices = resolve_prices(base_model_id, operator_overrides=overrides or None)
    return estimate_training_cost(base_model_id, tokens, hyperparameters, prices)


# -- every priced row --------------------------------------------------------------------------------


@pytest.mark.parametrize(("model_id", "prices"), PRICED, ids=[model_id for model_id, _ in PRICED])
def test_each_priced_row_estimates_tokens_times_default_epochs_times_price(model_id, prices):
    family = family_for(model_id)
    assert family is not None
    default_epochs = int(family.hyperparameters["epochCount"].default)
    price = prices.training_per_1k_tokens
    assert price is not None and price.usd > 0
    assert (price.source, price.date) == (PRICING_URL, READ_ON)

    result = estimate(model_id + family.versions[0])

    assert result.epochs == default_epochs
    assert result.usd == pytest.approx(123.456 * default_epochs * price.usd)
    assert result.warnings == ()
    assert result.to_xcom() == {
        "usd": result.usd,
        "tokens": 123_456,
        "epochs": default_epochs,
        "price_per_1k_tokens": price.usd,
        "price_source": PRICING_URL,
        "price_date": READ_ON,
        "tokens_basis": "given",
        "epochs_basis": f"the default epochCount of {family.title} ({default_epochs})",
        "storage_per_month_usd": 1.95,
    }


@pytest.mark.parametrize("family", [f for f in FAMILIES if f.pricing], ids=lambda family: family.key)
def test_every_id_form_of_a_priced_row_finds_its_prices(family):
    for form in id_forms(family):
        prices = prices_for(form)
        assert prices is not None and prices in [
            replace(record, title=family.title) for record in family.pricing
        ], form
    # A later version is another model whose price is not known yet.
    assert prices_for(re.sub(r"(-v\d+)", r"\g<1>0", family.model_ids[0], count=1)) is None


def test_rows_without_prices_are_unknown():
    unpriced = [family for family in FAMILIES if not family.pricing]
    assert unpriced, "every row priced: check test_unknown_price_* still uses an unpriced model"
    assert prices_for(unpriced[0].model_ids[0]) is None


def test_titan_text_express_known_numbers():
    # 40 records of 120 characters at 3 characters per token, 5 default epochs, $0.008 per 1,000 tokens.
    result = estimate("amazon.titan-text-express-v1", TokenCount(1600, "given"))
    assert (result.tokens, result.epochs, result.price_per_1k_tokens) == (1600, 5, 0.008)
    assert result.usd == pytest.approx(0.064)


def test_llama2_sizes_have_their_own_prices():
    small = estimate("meta.llama2-13b-v1", TOKENS)
    large = estimate("meta.llama2-70b-v1", TOKENS)
    assert (small.price_per_1k_tokens, large.price_per_1k_tokens) == (0.00149, 0.00799)


# -- epochs ----------------------------------------------------------------------------------------


def test_epochs_from_hyperparameters_win_over_the_default():
    result = estimate("amazon.titan-text-express-v1", hyperparameters={"epochCount": "2"})
    assert result.epochs == 2
    assert result.epochs_basis == "hyperparameters.epochCount"
    assert result.usd == pytest.approx(123.456 * 2 * 0.008)


def test_auto_epochs_are_unknown_not_guessed():
    epochs, basis = training_epochs("amazon.titan-embed-image-v1", {"epochCount": "Auto"})
    assert epochs is None and "chosen by Bedrock" in basis


def test_models_trained_in_steps_have_no_epochs():
    epochs, basis = training_epochs("amazon.nova-canvas-v1:0", {})
    assert epochs is None and "not trained in epochs" in basis


# -- unknown prices ----------------------------------------------------------------------------------


def test_unknown_price_is_a_warning_naming_the_model_never_a_number():
    result = estimate("amazon.nova-micro-v1:0:128k")
    assert result.usd is None and result.price is None
    assert result.tokens == 123_456 and result.epochs == 2
    [warning] = result.warnings
    assert "amazon.nova-micro-v1:0:128k" in warning and "price_overrides" in warning
    xcom = result.to_xcom()
    assert xcom["usd"] is None and xcom["price_source"] is None and xcom["price_per_1k_tokens"] is None


def test_a_model_billed_per_image_says_why_it_is_not_estimated():
    result = estimate("amazon.titan-image-generator-v2:0")
    assert result.usd is None
    assert any("per image" in warning for warning in result.warnings)


def test_distillation_is_not_estimated_from_the_prompts_alone():
    prices = prices_for("amazon.titan-text-express-v1")
    result = estimate_training_cost("amazon.titan-text-express-v1", TOKENS, None, prices, "DISTILLATION")
    assert result.usd is None
    assert any("teacher" in warning for warning in result.warnings)


def test_unknown_tokens_make_an_unknown_estimate_with_the_reason():
    result = estimate_training_cost(
        "amazon.titan-text-express-v1",
        None,
        None,
        prices_for("amazon.titan-text-express-v1"),
        tokens_unknown_reason="s3://b/train.jsonl could not be read",
    )
    assert result.usd is None
    assert any("s3://b/train.jsonl could not be read" in warning for warning in result.warnings)


# -- overrides ---------------------------------------------------------------------------------------


def test_operator_override_prices_an_unknown_model():
    result = estimate("amazon.nova-micro-v1:0:128k", training_per_1k_tokens=0.001)
    assert result.usd == pytest.approx(123.456 * 2 * 0.001)
    assert result.price is not None and result.price.source == "price_overrides"
    assert result.warnings == ()


def test_operator_override_beats_connection_which_beats_the_catalog():
    model = "amazon.titan-text-express-v1:0:8k"
    extra = {
        "amazon.titan-text": {"training_per_1k_tokens": 0.5},
        "amazon.titan-text-express-v1": {"training_per_1k_tokens": {"usd": 0.009, "source": "our contract"}},
    }
    from_connection = resolve_prices(model, connection_extra=extra, connection_name="aws_prod")
    assert from_connection is not None and from_connection.training_per_1k_tokens is not None
    assert from_connection.training_per_1k_tokens.usd == 0.009  # the longest matching key wins
    assert from_connection.training_per_1k_tokens.source == "our contract"
    assert from_connection.storage_per_month == prices_for(model).storage_per_month  # type: ignore[union-attr]
    assert from_connection.overridden == (TRAINING,)

    both = resolve_prices(model, extra, {"training_per_1k_tokens": "0.01"}, "aws_prod")
    assert both is not None and both.training_per_1k_tokens is not None
    assert (both.training_per_1k_tokens.usd, both.training_per_1k_tokens.source) == (0.01, "price_overrides")


def test_connection_extra_for_other_models_changes_nothing():
    model = "cohere.command-text-v14"
    assert resolve_prices(model, {"amazon.titan-text-express-v1": {STORAGE: 9}}) == prices_for(model)


NOVA_ARN = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k"


@pytest.mark.parametrize(
    ("task_model", "extra_key"),
    [
        ("amazon.nova-micro-v1", "amazon.nova-micro-v1:0:128k"),
        ("amazon.nova-micro-v1", NOVA_ARN),
        ("amazon.nova-micro-v1:0:128k", "amazon.nova-micro-v1"),
        (NOVA_ARN, "amazon.nova-micro-v1:0:128k"),
        ("us.amazon.nova-micro-v1:0", "AMAZON.NOVA-MICRO-V1"),
        ("acme.house-model-v1", "acme.house-model-v1:0:32k"),  # not in the catalog: the same rule
    ],
)
def test_connection_prices_apply_whichever_form_names_the_model(task_model, extra_key):
    extra = {extra_key: {TRAINING: 0.002}}
    prices = resolve_prices(task_model, extra, None, "aws_prod")
    assert prices is not None and prices.training_per_1k_tokens is not None
    assert prices.training_per_1k_tokens.usd == 0.002
    assert (
        prices.training_per_1k_tokens.source == f"connection 'aws_prod' extra bedrock_prices[{extra_key!r}]"
    )


def test_two_forms_of_one_model_with_different_prices_are_refused():
    same = {"amazon.nova-micro-v1": {TRAINING: 0.002}, NOVA_ARN: {TRAINING: 0.002}}
    assert resolve_prices("amazon.nova-micro-v1:0", same).training_per_1k_tokens.usd == 0.002  # type: ignore[union-attr]
    differ = {"amazon.nova-micro-v1": {TRAINING: 0.002}, NOVA_ARN: {TRAINING: 0.003}}
    with pytest.raises(InvalidInputError, match="all stand for 'amazon.nova-micro-v1'"):
        resolve_prices("amazon.nova-micro-v1", differ, None, "aws_prod")


@pytest.mark.parametrize(
    ("extra", "held"),
    [
        (
            {"amazon.titan-text-express-v1": {TRAINING: 0.1}},
            "connection 'aws_prod' extra bedrock_prices was looked up for 'amazon.nova-micro-v1' (a model's "
            "bare id: versions, ARNs and inference profiles are brought to it) and holds "
            "'amazon.titan-text-express-v1', none of them for this model",
        ),
        (
            {"amazon.nova-micro-v1:0:128k": {STORAGE: 1.95}},
            "connection 'aws_prod' extra bedrock_prices holds 'amazon.nova-micro-v1:0:128k'; its entry "
            "'amazon.nova-micro-v1:0:128k' applies to 'amazon.nova-micro-v1' and gives storage_per_month",
        ),
    ],
    ids=["no-entry-for-the-model", "entry-without-the-price"],
)
def test_a_refusal_for_a_missing_price_says_what_the_extra_holds(extra, held):
    prices = resolve_prices("amazon.nova-micro-v1:0:128k", extra, None, "aws_prod")
    result = estimate_training_cost("amazon.nova-micro-v1:0:128k", TOKENS, {"epochCount": 1}, prices)
    with pytest.raises(BudgetExceededError) as caught:
        check_training_budget(result, 10.0)
    assert held in str(caught.value)
    assert "{'amazon.nova-micro-v1': {'training_per_1k_tokens': USD}}" in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"training_per_1k_token": 0.1}, "price_overrides.training_per_1k_token"),
        ({"training_per_1k_tokens": -1}, "price_overrides.training_per_1k_tokens"),
        ({"training_per_1k_tokens": "cheap"}, "price_overrides.training_per_1k_tokens"),
        ({"training_per_1k_tokens": float("nan")}, "price_overrides.training_per_1k_tokens"),
        ({"training_per_1k_tokens": True}, "price_overrides.training_per_1k_tokens"),
        ({"storage_per_month": {"usd": 1, "currency": "EUR"}}, "price_overrides.storage_per_month"),
        ([0.1], "price_overrides"),
    ],
)
def test_bad_overrides_name_the_field_and_value(overrides, field):
    with pytest.raises(InvalidInputError) as caught:
        resolve_prices("amazon.titan-text-express-v1", operator_overrides=overrides)
    assert caught.value.fields == [field]


def test_bad_connection_extra_names_the_connection():
    with pytest.raises(InvalidInputError, match="connection 'aws_prod' extra bedrock_prices"):
        resolve_prices(
            "amazon.titan-text-express-v1", {"amazon.titan-text-express-v1": {TRAINING: -2}}, None, "aws_prod"
        )


# -- budgets -----------------------------------------------------------------------------------------


def test_budget_above_the_estimate_passes_and_below_refuses_naming_every_factor():
    result = estimate("amazon.titan-text-express-v1", TokenCount(1600, "counted in s3://b/t.jsonl"))
    check_training_budget(result, 1.0)
    check_training_budget(result, None)
    with pytest.raises(BudgetExceededError) as caught:
        check_training_budget(result, 0.01)
    message = str(caught.value)
    for part in (
        "$0.064",
        "1,600 tokens",
        "5 epochs",
        "$0.008 per 1,000 tokens",
        "max_estimated_cost=$0.01",
        PRICING_URL,
    ):
        assert part in message, part


def test_a_budget_with_an_unknown_estimate_refuses_and_says_how_to_price_it():
    with pytest.raises(BudgetExceededError, match="cannot be estimated.*price_overrides"):
        check_training_budget(estimate("amazon.nova-micro-v1:0:128k"), 100.0)


@pytest.mark.parametrize("value", [-1, "abc", float("inf"), True, [5]])
def test_bad_budgets_are_refused(value):
    with pytest.raises(ValueError, match="max_estimated_cost"):
        parse_budget(value, "max_estimated_cost")


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("", None), ("None", None), ("2.5", 2.5), (0, 0.0)]
)
def test_budgets_from_templates(value, expected):
    assert parse_budget(value, "max_estimated_cost") == expected


def test_sweep_total_and_its_budget():
    jobs = [
        estimate("amazon.titan-text-express-v1", TokenCount(1000, "given"), {"epochCount": str(n)})
        for n in (1, 2, 3)
    ]
    sweep = sum_estimates(jobs)
    assert sweep.usd == pytest.approx(0.048)
    check_sweep_budget(sweep, 0.05)
    with pytest.raises(BudgetExceededError, match=r"None of the 3 jobs.*\$0.048 in all.*job 2: \$0.024"):
        check_sweep_budget(sweep, 0.04)
    unknown = sum_estimates([*jobs, estimate("amazon.nova-lite-v1:0:300k")])
    assert unknown.usd is None and unknown.unknown == (3,)
    with pytest.raises(BudgetExceededError, match=r"1 of the 4 jobs cannot be estimated \(jobs 3\)"):
        check_sweep_budget(unknown, 100.0)


def test_storage_saved_per_month():
    saved = monthly_storage(["cohere.command-text-v14", "amazon.titan-text-express-v1"], prices_for)
    assert saved.usd == pytest.approx(3.90) and saved.quantity == 2
    unknown = monthly_storage(["amazon.nova-pro-v1:0:300k"], prices_for)
    assert unknown.usd is None and "amazon.nova-pro-v1:0:300k" in unknown.warnings[0]


def test_provisioned_throughput_hourly_price_and_budget():
    model = "cohere.command-text-v14"
    no_commitment = provisioned_hourly(model, prices_for(model), 2, None)
    six_months = provisioned_hourly(model, prices_for(model), 2, "SixMonths")
    assert (no_commitment.usd, six_months.usd) == (pytest.approx(99.0), pytest.approx(47.54))
    check_hourly_budget(no_commitment, 100.0, "max_hourly_cost")
    with pytest.raises(BudgetExceededError, match=r"2 model unit\(s\) x \$49.50 an hour.*\$99.00 an hour"):
        check_hourly_budget(no_commitment, 50.0, "max_hourly_cost")
    unknown = provisioned_hourly(
        "amazon.titan-text-express-v1", prices_for("amazon.titan-text-express-v1"), 1, None
    )
    assert unknown.usd is None
    with pytest.raises(BudgetExceededError, match="hourly price is unknown"):
        check_hourly_budget(unknown, 50.0, "max_hourly_cost")


# -- counting tokens ---------------------------------------------------------------------------------


def _records(count: int) -> bytes:
    return b"".join(
        json.dumps({"prompt": f"Question number {i}?", "completion": f"Answer {i}."}).encode() + b"\n"
        for i in range(count)
    )


def test_counting_the_file_agrees_with_dataset_preparation():
    data = _records(50)
    prepared = validate_bytes(data, base_model_id="amazon.titan-text-express-v1")
    count, notes = count_training_tokens(
        io.BytesIO(data), "s3://b/train.jsonl", "FINE_TUNING", "amazon.titan-text-express-v1"
    )
    assert count.tokens == prepared.training_tokens == prepared.estimated_tokens > 0
    assert "s3://b/train.jsonl" in count.basis and "/ 3" in count.basis
    assert notes == ()


def test_counting_skips_invalid_records_and_says_so():
    data = _records(10) + b'{"prompt": "no completion"}\n'
    count, notes = count_training_tokens(
        io.BytesIO(data), "train.jsonl", "FINE_TUNING", "amazon.titan-text-express-v1"
    )
    assert (
        count.tokens
        == validate_bytes(_records(10), base_model_id="amazon.titan-text-express-v1").training_tokens
    )
    assert "1 of 11 records are invalid" in notes[0]


def test_prepared_tokens_split_between_training_and_validation():
    data = _records(200)
    report = validate_bytes(data, base_model_id="amazon.titan-text-express-v1", validation_split=0.2, seed=3)
    assert report.counts["validation_records"] > 0
    characters = report.characters
    assert report.training_tokens + report.validation_tokens in (
        report.estimated_tokens,
        report.estimated_tokens + 1,
    )
    assert 0 < report.validation_characters < characters
    assert report.to_dict()["training_tokens"] == report.training_tokens


def test_held_back_record_moves_its_characters_with_it():
    # Two records and a split that puts both on one side: one is moved so neither side is empty.
    data = _records(2)
    for seed in range(20):
        report = validate_bytes(
            data, base_model_id="amazon.titan-text-express-v1", validation_split=0.49, seed=seed
        )
        assert report.counts["training_records"] == 1 and report.counts["validation_records"] == 1
        sizes = sorted(
            len(json.loads(line)["prompt"] + json.loads(line)["completion"]) for line in data.splitlines()
        )
        assert report.validation_characters in sizes
