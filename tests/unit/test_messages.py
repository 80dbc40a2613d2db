"""Messages for input that Python or Airflow would otherwise report in their own words."""

from __future__ import annotations

import math

import pytest

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.request.customization import CustomizationRequest
from bedrock_provider.core.values import MAX_JSON_DEPTH, nesting_depth
from tests.unit.test_request import GOOD

# The valid request every unit test starts from, without its hyperparameters (each test sets its own).
REQUEST = {key: value for key, value in GOOD.items() if key != "hyperparameters"}
FIELDS = {"task_id": "train", **REQUEST}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=str)
def test_non_finite_hyperparameters_are_refused_where_the_operator_is_built(value):
    from bedrock_provider.operators.customization import BedrockModelCustomizationOperator

    with pytest.raises(InvalidInputError) as raised:
        BedrockModelCustomizationOperator(**FIELDS, hyperparameters={"epochCount": 2, "learningRate": value})
    assert raised.value.fields == ["hyperparameters.learningRate"]
    assert "is not a finite number" in str(raised.value)
    assert "JSON compliant" not in str(raised.value)


def test_non_finite_numbers_deep_in_other_dict_fields_are_refused_too():
    from bedrock_provider.operators.customization import BedrockModelCustomizationOperator

    kwargs = {
        "customizationConfig": {
            "distillationConfig": {"teacherModelConfig": {"maxResponseLengthForInference": math.nan}}
        }
    }
    with pytest.raises(InvalidInputError) as raised:
        BedrockModelCustomizationOperator(**FIELDS, customization_job_kwargs=kwargs)
    assert raised.value.fields == [
        "customization_job_kwargs.customizationConfig.distillationConfig.teacherModelConfig.maxResponseLengthForInference"
    ]


def test_valid_but_deeply_nested_json_is_reported_as_too_deep_not_invalid():
    deep = '{"epochCount": ' + "[" * 10_000 + "]" * 10_000 + "}"
    with pytest.raises(InvalidInputError) as raised:
        CustomizationRequest(**REQUEST, hyperparameters=deep).validate()
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in str(raised.value)
    assert "does not parse" not in str(raised.value)


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("{}", 1),
        ('{"a": [1, {"b": 2}]}', 3),
        ('{"a": "[[[[ in a string ]"}', 1),
        ("{'a': \"}\"}", 1),
        ("", 0),
    ],
)
def test_nesting_depth_ignores_brackets_in_strings(text, depth):
    assert nesting_depth(text) == depth
