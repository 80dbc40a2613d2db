from __future__ import annotations

from decimal import Decimal

import pytest

from bedrock_provider.core.catalog import (
    CONTINUED_PRE_TRAINING,
    DISTILLATION,
    FAMILIES,
    FINE_TUNING,
    REINFORCEMENT_FINE_TUNING,
    HyperparameterSpec,
    ModelFamily,
    family_for,
    supported_customization_types,
)
from bedrock_provider.core.request.hyperparameters import normalize_hyperparameters

FAMILIES_BY_KEY = {family.key: family for family in FAMILIES}

# (family key, a bare base model id, the versioned id Bedrock lists for customization)
FAMILY_IDS = [
    ("amazon.titan-text-express", "amazon.titan-text-express-v1", "amazon.titan-text-express-v1:0:8k"),
    ("amazon.titan-text-lite", "amazon.titan-text-lite-v1", "amazon.titan-text-lite-v1:0:4k"),
    ("amazon.titan-text-premier", "amazon.titan-text-premier-v1", "amazon.titan-text-premier-v1:0"),
    ("amazon.titan-image-generator", "amazon.titan-image-generator-v1", "amazon.titan-image-generator-v1:0"),
    (
        "amazon.titan-image-generator-v2",
        "amazon.titan-image-generator-v2",
        "amazon.titan-image-generator-v2:0",
    ),
    ("amazon.titan-embed-image", "amazon.titan-embed-image-v1", "amazon.titan-embed-image-v1:0"),
    ("amazon.nova-micro", "amazon.nova-micro-v1", "amazon.nova-micro-v1:0:128k"),
    ("amazon.nova-lite", "amazon.nova-lite-v1", "amazon.nova-lite-v1:0:300k"),
    ("amazon.nova-pro", "amazon.nova-pro-v1", "amazon.nova-pro-v1:0:300k"),
    ("amazon.nova-canvas", "amazon.nova-canvas-v1", "amazon.nova-canvas-v1:0"),
    (
        "anthropic.claude-3-haiku",
        "anthropic.claude-3-haiku-20240307-v1",
        "anthropic.claude-3-haiku-20240307-v1:0:200k",
    ),
    ("cohere.command", "cohere.command-text-v14", "cohere.command-text-v14:7:4k"),
    ("cohere.command-light", "cohere.command-light-text-v14", "cohere.command-light-text-v14:7:4k"),
    ("meta.llama2", "meta.llama2-13b-v1", "meta.llama2-13b-v1:0:4k"),
    ("meta.llama2", "meta.llama2-70b-v1", "meta.llama2-70b-v1:0:4k"),
    ("meta.llama3-1", "meta.llama3-1-8b-instruct-v1", "meta.llama3-1-8b-instruct-v1:0:128k"),
    ("meta.llama3-1", "meta.llama3-1-70b-instruct-v1", "meta.llama3-1-70b-instruct-v1:0:128k"),
    ("meta.llama3-2", "meta.llama3-2-1b-instruct-v1", "meta.llama3-2-1b-instruct-v1:0:128k"),
    ("meta.llama3-2", "meta.llama3-2-3b-instruct-v1", "meta.llama3-2-3b-instruct-v1:0:128k"),
    ("meta.llama3-2-11b", "meta.llama3-2-11b-instruct-v1", "meta.llama3-2-11b-instruct-v1:0:128k"),
    ("meta.llama3-2-90b", "meta.llama3-2-90b-instruct-v1", "meta.llama3-2-90b-instruct-v1:0:128k"),
    ("amazon.nova-2-lite", "amazon.nova-2-lite-v1", "amazon.nova-2-lite-v1:0:256k"),
    ("meta.llama3-3", "meta.llama3-3-70b-instruct-v1", "meta.llama3-3-70b-instruct-v1:0:128k"),
    ("openai.gpt-oss-20b", "openai.gpt-oss-20b", "openai.gpt-oss-20b-1:0"),
    ("qwen.qwen3-32b", "qwen.qwen3-32b", "qwen.qwen3-32b-v1:0"),
]


def _arn(model_id: str, partition: str = "aws", region: str = "us-east-1") -> str:
    return f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}"


def _problem_for(model_id: str, hyperparameters: dict[str, object]) -> tuple[str, object, str]:
    values, problems, _ = normalize_hyperparameters(model_id, hyperparameters)
    assert values == {}
    assert len(problems) == 1, problems
    return problems[0].field, problems[0].value, problems[0].message


# --- the tables themselves ------------------------------------------------------------------------------


CUSTOMIZABLE = [family for family in FAMILIES if family.customizations]


def test_every_customizable_family_is_in_the_id_table():
    assert {key for key, _, _ in FAMILY_IDS} == {family.key for family in CUSTOMIZABLE}
    assert len(FAMILIES_BY_KEY) == len(FAMILIES)


@pytest.mark.parametrize("family", CUSTOMIZABLE, ids=lambda family: family.key)
def test_table_is_consistent(family: ModelFamily):
    assert family.doc_url.startswith("https://docs.aws.amazon.com/bedrock/latest/userguide/")
    assert family.customization_types and family.customization_types <= {
        FINE_TUNING,
        CONTINUED_PRE_TRAINING,
        DISTILLATION,
        REINFORCEMENT_FINE_TUNING,
    }
    assert family.hyperparameters
    for customization in family.customizations.values():
        for name, spec in customization.hyperparameters.items():
            assert spec.name == name
            assert spec.kind in (int, float, str)
            assert bool(spec.choices) == (spec.kind is str)
            bounds = [bound for bound in (spec.minimum, spec.default, spec.maximum) if bound is not None]
            assert bounds == sorted(bounds)
            if spec.required:
                assert spec.default is None
                assert spec.special_values, "a required hyperparameter needs its documented special value"
            if spec.kind is int:
                assert all(float(bound).is_integer() for bound in bounds)


def test_no_model_id_belongs_to_two_families():
    model_ids = [model_id for family in FAMILIES for model_id in family.model_ids]
    assert len(model_ids) == len(set(model_ids))
    for model_id in model_ids:
        family = family_for(model_id)
        assert family is not None and model_id in family.model_ids


@pytest.mark.parametrize(
    ("key", "name", "kind", "minimum", "maximum", "default", "special"),
    [
        ("amazon.titan-text-express", "learningRateWarmupSteps", int, 0, 250, 5, ()),
        ("amazon.titan-text-premier", "learningRate", float, 1e-7, 1e-5, 1e-6, ()),
        ("amazon.titan-image-generator", "stepCount", int, 10, 40000, None, ("auto",)),
        ("amazon.titan-embed-image", "epochCount", int, 1, 100, None, ("Auto",)),
        ("amazon.titan-embed-image", "batchSize", int, 256, 9216, 576, ()),
        ("amazon.nova-lite", "learningRateWarmupSteps", int, 0, 100, 10, ()),
        ("amazon.nova-canvas", "stepCount", int, 10, 20000, 500, ()),
        ("anthropic.claude-3-haiku", "learningRateMultiplier", float, 0.1, 2.0, 1.0, ()),
        ("cohere.command", "batchSize", int, 8, 8, 8, ()),
        ("cohere.command-light", "batchSize", int, 8, 32, 8, ()),
        ("cohere.command", "evalPercentage", float, 5, 50, 20, ()),
        ("meta.llama3-2", "learningRate", float, 5e-6, 0.1, 1e-4, ()),
    ],
)
def test_documented_values(key, name, kind, minimum, maximum, default, special):
    spec = FAMILIES_BY_KEY[key].hyperparameters[name]
    assert (spec.kind, spec.minimum, spec.maximum, spec.default, spec.special_values) == (
        kind,
        minimum,
        maximum,
        default,
        special,
    )


@pytest.mark.parametrize(
    ("key", "types"),
    [
        ("amazon.titan-text-express", {FINE_TUNING, CONTINUED_PRE_TRAINING}),
        ("amazon.titan-text-lite", {FINE_TUNING, CONTINUED_PRE_TRAINING}),
        ("amazon.titan-text-premier", {FINE_TUNING}),
        ("amazon.nova-micro", {FINE_TUNING, DISTILLATION}),
        ("amazon.nova-canvas", {FINE_TUNING}),
        ("anthropic.claude-3-haiku", {FINE_TUNING, DISTILLATION}),
        ("cohere.command", {FINE_TUNING}),
    ],
)
def test_customization_types(key, types):
    family = FAMILIES_BY_KEY[key]
    for model_id in (family.model_ids[0], _arn(family.model_ids[0])):
        assert supported_customization_types(model_id) == types


# --- resolving base model ids -------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "plain", "versioned"), FAMILY_IDS, ids=[row[2] for row in FAMILY_IDS])
def test_family_resolves_from_ids_and_arns(key, plain, versioned):
    for model_id in (
        plain,
        versioned,
        _arn(plain),
        _arn(versioned),
        _arn(versioned, partition="aws-us-gov", region="us-gov-west-1"),
        f" {versioned} ",
    ):
        family = family_for(model_id)
        assert family is not None, model_id
        assert family.key == key


@pytest.mark.parametrize(
    "model_id",
    [
        "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/abcd1234",
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcd1234",
        "arn:aws:bedrock:us-east-1:123456789012:imported-model/abcd1234",
        "arn:aws:s3:::foundation-model/amazon.titan-text-express-v1",
        "arn:aws:bedrock:us-east-1::foundation-model",
        "amazon.titan-text-express-v10",
        "amazon.titan-text-express-v1-next",
        "us.meta.llama3-3-70b-instruct-v1:0",
        "meta.llama2-13b-chat-v1",
        "acme.brand-new-model-v1:0",
        "",
        "   ",
    ],
)
def test_unknown_models_have_no_family(model_id):
    assert family_for(model_id) is None
    assert supported_customization_types(model_id) is None


def test_family_for_tolerates_a_non_string():
    assert family_for(None) is None


# --- good values ----------------------------------------------------------------------------------------


def _documented_defaults(family: ModelFamily) -> dict[str, object]:
    return {
        name: spec.default if spec.default is not None else spec.special_values[0]
        for name, spec in family.hyperparameters.items()
        if spec.default is not None or spec.special_values
    }


@pytest.mark.parametrize(("key", "plain", "versioned"), FAMILY_IDS, ids=[row[2] for row in FAMILY_IDS])
def test_documented_defaults_and_bounds_pass_for_every_family(key, plain, versioned):
    family = FAMILIES_BY_KEY[key]
    for given in (
        _documented_defaults(family),
        {name: spec.minimum for name, spec in family.hyperparameters.items() if spec.minimum is not None},
        {name: spec.maximum for name, spec in family.hyperparameters.items() if spec.maximum is not None},
    ):
        values, problems, warnings = normalize_hyperparameters(versioned, given)
        assert problems == []
        assert warnings == []
        assert list(values) == list(given)
        for name, text in values.items():
            assert isinstance(text, str)
            spec = family.hyperparameters[name]
            if text not in spec.special_values:
                assert spec.minimum is not None and spec.maximum is not None
                assert spec.minimum <= float(text) <= spec.maximum
                if spec.kind is int:
                    assert text == str(int(float(text)))


@pytest.mark.parametrize(
    ("model_id", "given", "expected"),
    [
        ("amazon.titan-text-express-v1", {"epochCount": 3}, {"epochCount": "3"}),
        ("amazon.titan-text-express-v1", {"epochCount": 2.0}, {"epochCount": "2"}),
        ("amazon.titan-text-express-v1", {"epochCount": "3"}, {"epochCount": "3"}),
        ("amazon.titan-text-express-v1", {"epochCount": " 4 "}, {"epochCount": "4"}),
        ("amazon.titan-text-express-v1", {"epochCount": "2.0"}, {"epochCount": "2"}),
        ("amazon.titan-text-express-v1", {"epochCount": "1e1"}, {"epochCount": "10"}),
        ("amazon.titan-text-express-v1", {"epochCount": Decimal("5")}, {"epochCount": "5"}),
        ("amazon.titan-text-express-v1", {"learningRate": 1e-5}, {"learningRate": "1e-05"}),
        ("amazon.titan-text-express-v1", {"learningRate": "1e-5"}, {"learningRate": "1e-05"}),
        ("amazon.titan-text-express-v1", {"learningRate": "0.00001"}, {"learningRate": "1e-05"}),
        ("amazon.titan-text-express-v1", {"learningRate": 0.0002}, {"learningRate": "0.0002"}),
        ("amazon.titan-text-express-v1", {"learningRate": 0}, {"learningRate": "0.0"}),
        ("amazon.titan-text-premier-v1:0", {"learningRate": 1e-7}, {"learningRate": "1e-07"}),
        ("amazon.titan-text-premier-v1:0", {"learningRate": "1.00E-7"}, {"learningRate": "1e-07"}),
        (
            "anthropic.claude-3-haiku-20240307-v1:0:200k",
            {"learningRateMultiplier": 1},
            {"learningRateMultiplier": "1.0"},
        ),
        ("cohere.command-text-v14", {"evalPercentage": "20"}, {"evalPercentage": "20.0"}),
        ("amazon.titan-embed-image-v1", {"epochCount": "Auto"}, {"epochCount": "Auto"}),
        ("amazon.titan-embed-image-v1", {"epochCount": "auto"}, {"epochCount": "Auto"}),
        ("amazon.titan-embed-image-v1", {"epochCount": 7}, {"epochCount": "7"}),
        ("amazon.titan-image-generator-v2:0", {"stepCount": "AUTO"}, {"stepCount": "auto"}),
        ("amazon.titan-image-generator-v2:0", {"stepCount": 5000}, {"stepCount": "5000"}),
        (
            "meta.llama3-1-8b-instruct-v1:0:128k",
            {"epochCount": 2, "batchSize": 1, "learningRate": 0.0001},
            {"epochCount": "2", "batchSize": "1", "learningRate": "0.0001"},
        ),
        ("amazon.nova-micro-v1:0:128k", None, {}),
        ("amazon.nova-micro-v1:0:128k", {}, {}),
    ],
)
def test_values_are_stringified(model_id, given, expected):
    values, problems, warnings = normalize_hyperparameters(model_id, given)
    assert (values, problems, warnings) == (expected, [], [])


# --- problems ------------------------------------------------------------------------------------------

EXPRESS = "amazon.titan-text-express-v1:0:8k"
EXPRESS_RANGE = "an integer from 1 to 10"


@pytest.mark.parametrize(
    ("model_id", "name", "value", "expected_parts"),
    [
        (EXPRESS, "epochCount", 0, [EXPRESS_RANGE, "(got 0", "below 1"]),
        (EXPRESS, "epochCount", 12, [EXPRESS_RANGE, "(got 12", "above 10"]),
        (EXPRESS, "epochCount", "12", [EXPRESS_RANGE, "(got '12'", "above 10"]),
        (EXPRESS, "epochCount", 2.5, [EXPRESS_RANGE, "(got 2.5", "not a whole number"]),
        (EXPRESS, "epochCount", "2.5", [EXPRESS_RANGE, "(got '2.5'", "not a whole number"]),
        (EXPRESS, "epochCount", True, [EXPRESS_RANGE, "(got True", "boolean"]),
        (EXPRESS, "epochCount", None, [EXPRESS_RANGE, "(got None", "leave the hyperparameter out"]),
        (EXPRESS, "epochCount", "three", [EXPRESS_RANGE, "(got 'three'", "not a number"]),
        (EXPRESS, "epochCount", "", [EXPRESS_RANGE, "(got ''", "not a number"]),
        (EXPRESS, "epochCount", "1_0", [EXPRESS_RANGE, "(got '1_0'", "not a number"]),
        (EXPRESS, "epochCount", [3], [EXPRESS_RANGE, "(got [3]", "list"]),
        (EXPRESS, "epochCount", {"value": 3}, [EXPRESS_RANGE, "(got {'value': 3}", "dict"]),
        (EXPRESS, "epochCount", "1e999999", [EXPRESS_RANGE, "(got '1e999999'", "above 10"]),
        (EXPRESS, "learningRate", -1e-5, ["a number from 0 to 1", "(got -1e-05", "below 0"]),
        (EXPRESS, "learningRate", float("nan"), ["a number from 0 to 1", "(got nan", "not a finite number"]),
        (EXPRESS, "learningRate", "nan", ["a number from 0 to 1", "(got 'nan'", "not a number"]),
        (EXPRESS, "learningRate", float("inf"), ["a number from 0 to 1", "(got inf", "not a finite number"]),
        (EXPRESS, "learningRate", "Auto", ["a number from 0 to 1", "(got 'Auto'", "not a number"]),
        (
            "amazon.titan-text-premier-v1:0",
            "learningRate",
            2e-5,
            ["a number from 1e-07 to 1e-05", "Premier", "(got 2e-05", "above 1e-05"],
        ),
        ("amazon.titan-text-premier-v1:0", "batchSize", 2, ["batchSize must be 1 for", "(got 2"]),
        (
            "amazon.titan-embed-image-v1:0",
            "epochCount",
            101,
            ["an integer from 1 to 100, or 'Auto'", "(got 101", "above 100"],
        ),
        (
            "amazon.titan-embed-image-v1:0",
            "epochCount",
            None,
            ["an integer from 1 to 100, or 'Auto'", "(got None", "has no default"],
        ),
        ("cohere.command-light-text-v14", "batchSize", 64, ["an integer from 8 to 32", "above 32"]),
        ("cohere.command-text-v14", "batchSize", 16, ["batchSize must be 8 for Cohere Command", "(got 16"]),
        (
            "anthropic.claude-3-haiku-20240307-v1:0:200k",
            "earlyStoppingPatience",
            0,
            ["an integer from 1 to 10", "(got 0", "below 1"],
        ),
        ("meta.llama3-2-1b-instruct-v1:0:128k", "epochCount", 11, ["an integer from 1 to 10", "above 10"]),
    ],
)
def test_bad_values_are_problems(model_id, name, value, expected_parts):
    field, problem_value, message = _problem_for(model_id, {name: value})
    family = family_for(model_id)
    assert family is not None
    assert field == f"hyperparameters.{name}"
    assert problem_value == value or (problem_value != problem_value and value != value)  # nan
    assert message.startswith(f"{name} must be ")
    assert family.title in message
    assert family.doc_url in message
    for part in expected_parts:
        assert part in message, (part, message)


@pytest.mark.parametrize(
    ("model_id", "name", "suggestion"),
    [
        (EXPRESS, "epochs", "epochCount"),
        (EXPRESS, "epoch_count", "epochCount"),
        (EXPRESS, "EpochCount", "epochCount"),
        (EXPRESS, "learning_rate", "learningRate"),
        (EXPRESS, "warmupSteps", "learningRateWarmupSteps"),
        (EXPRESS, "batch_size", "batchSize"),
        ("anthropic.claude-3-haiku-20240307-v1:0:200k", "learningRate", "learningRateMultiplier"),
        ("amazon.nova-canvas-v1:0", "steps", "stepCount"),
        ("amazon.nova-canvas-v1:0", "step_count", "stepCount"),
        ("anthropic.claude-3-haiku-20240307-v1:0:200k", "patience", "earlyStoppingPatience"),
        (EXPRESS, "warmup", "learningRateWarmupSteps"),
        ("amazon.nova-pro-v1:0:300k", "epoch", "epochCount"),
    ],
)
def test_unknown_name_points_to_a_close_match(model_id, name, suggestion):
    field, value, message = _problem_for(model_id, {name: 3})
    family = family_for(model_id)
    assert family is not None
    assert field == f"hyperparameters.{name}"
    assert value == 3
    assert f"{name!r} (got 3) is not a hyperparameter of {family.title}" in message
    assert f"did you mean {suggestion!r}?" in message
    assert "Allowed: " + ", ".join(sorted(family.hyperparameters)) in message
    assert family.doc_url in message


def test_unknown_name_without_a_close_match_still_lists_the_allowed_names():
    _, _, message = _problem_for(EXPRESS, {"temperature": 0.7})
    assert "did you mean" not in message
    assert "Allowed: batchSize, epochCount, learningRate, learningRateWarmupSteps" in message


def test_batchSize_is_not_a_nova_understanding_hyperparameter():
    _, _, message = _problem_for("amazon.nova-lite-v1:0:300k", {"batchSize": 8})
    assert "'batchSize' (got 8) is not a hyperparameter of Amazon Nova Lite" in message


@pytest.mark.parametrize("name", [3, "", "  ", None, ("epochCount",)])
def test_names_must_be_non_empty_strings(name):
    for model_id in (EXPRESS, "acme.new-model-v1"):
        values, problems, _ = normalize_hyperparameters(model_id, {name: 3, "epochCount": 2})
        assert values == {"epochCount": "2"}
        assert [(p.field, p.value) for p in problems] == [("hyperparameters", name)]
        assert "names must be non-empty strings" in problems[0].message
        assert repr(name) in problems[0].message


@pytest.mark.parametrize("given", [[("epochCount", 3)], "epochCount=3", 3])
def test_hyperparameters_must_be_a_mapping(given):
    values, problems, warnings = normalize_hyperparameters(EXPRESS, given)
    assert values == {} and warnings == []
    assert [(p.field, p.value) for p in problems] == [("hyperparameters", given)]
    assert "must be a dict" in problems[0].message


@pytest.mark.parametrize(
    ("model_id", "name", "allowed"),
    [
        ("amazon.titan-embed-image-v1", "epochCount", "an integer from 1 to 100, or 'Auto'"),
        ("amazon.titan-image-generator-v2:0", "stepCount", "an integer from 10 to 40000, or 'auto'"),
    ],
)
def test_hyperparameters_without_a_default_are_required(model_id, name, allowed):
    for given in (None, {}, {"learningRate": 1e-5}):
        values, problems, _ = normalize_hyperparameters(model_id, given)
        assert [(p.field, p.value) for p in problems] == [(f"hyperparameters.{name}", None)]
        assert f"{name} is required" in problems[0].message
        assert allowed in problems[0].message
        assert values == ({"learningRate": "1e-05"} if given else {})


def test_every_problem_is_reported_and_good_values_kept():
    values, problems, warnings = normalize_hyperparameters(
        EXPRESS, {"epochCount": 12, "batchSize": "4", "epochs": 2, "learningRate": True}
    )
    assert values == {"batchSize": "4"}
    assert [p.field for p in problems] == [
        "hyperparameters.epochCount",
        "hyperparameters.epochs",
        "hyperparameters.learningRate",
    ]
    assert warnings == []


# --- adjustable quotas and unknown models -------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "adjustable"),
    [
        ("cohere.command-text-v14:7:4k", True),
        ("meta.llama2-13b-v1:0:4k", True),
        ("meta.llama3-1-70b-instruct-v1:0:128k", True),
        ("meta.llama3-2-3b-instruct-v1:0:128k", False),
        (EXPRESS, False),
    ],
)
def test_epoch_count_above_an_adjustable_quota_is_a_warning(model_id, adjustable):
    family = family_for(model_id)
    assert family is not None
    spec: HyperparameterSpec = family.hyperparameters["epochCount"]
    above = int(spec.maximum) + 5
    values, problems, warnings = normalize_hyperparameters(model_id, {"epochCount": above})
    if adjustable:
        assert (values, problems) == ({"epochCount": str(above)}, [])
        assert len(warnings) == 1
        assert f"epochCount={above}" in warnings[0] and "quota" in warnings[0]
    else:
        assert values == {} and warnings == []
        assert [p.field for p in problems] == ["hyperparameters.epochCount"]


@pytest.mark.parametrize(
    "model_id",
    [
        "acme.brand-new-model-v1:0",
        "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/abcd1234",
    ],
)
def test_unknown_family_stringifies_unchecked(model_id):
    values, problems, warnings = normalize_hyperparameters(
        model_id,
        {"epochs": 3, "learningRate": 1e-5, "epochCount": " Auto ", "ratio": 2.0, "rank": Decimal("8")},
    )
    assert problems == []
    assert values == {
        "epochs": "3",
        "learningRate": "1e-05",
        "epochCount": "Auto",
        "ratio": "2.0",
        "rank": "8",
    }
    # The catalog check says once that the model is not in the catalog (test_catalog.py).
    assert warnings == []


def test_unknown_family_without_hyperparameters_has_nothing_to_warn_about():
    assert normalize_hyperparameters("acme.brand-new-model-v1:0", None) == ({}, [], [])
    assert normalize_hyperparameters("acme.brand-new-model-v1:0", {}) == ({}, [], [])


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (True, "boolean"),
        (None, "no value"),
        ([1], "list"),
        ({"a": 1}, "dict"),
        ("", "empty"),
        (float("nan"), "not a finite number"),
    ],
)
def test_unknown_family_still_rejects_values_that_are_not_numbers_or_text(value, why):
    values, problems, warnings = normalize_hyperparameters("acme.brand-new-model-v1", {"epochCount": value})
    assert values == {}
    assert [p.field for p in problems] == ["hyperparameters.epochCount"]
    assert problems[0].message.startswith("epochCount ")
    assert why in problems[0].message
    assert f"(got {value!r})" in problems[0].message
    assert warnings == []
