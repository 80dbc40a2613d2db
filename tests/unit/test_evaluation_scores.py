"""The evaluation gate's counting of scores that are not numbers (core, no Airflow)."""

from __future__ import annotations

import json

import pytest

from bedrock_provider.core.errors import Problem
from bedrock_provider.core.lifecycle.evaluation_scores import (
    ScoreTally,
    evaluate_scores,
    parse_min_valid_fraction,
)


def tally_of(results: list[object]) -> ScoreTally:
    tally = ScoreTally(["Builtin.Accuracy"])
    for number, value in enumerate(results, start=1):
        line = json.dumps(
            {"automatedEvaluationResult": {"scores": [{"metricName": "Accuracy", "result": value}]}}
        )
        tally.add_line(line, "s3://b/r_output.jsonl", number)
    return tally


@pytest.mark.parametrize(("valid", "passed"), [(9, True), (8, False)])
def test_a_gated_metric_needs_its_fraction_of_valid_scores(valid: int, passed: bool) -> None:
    tally = tally_of([0.8] * valid + [None] * (10 - valid))
    assert tally.scores() == {"Builtin.Accuracy": 0.8}
    gate = evaluate_scores(
        tally.scores(), {"Builtin.Accuracy": 0.7}, {}, tally.valid_counts(), tally.prompts, 0.9
    )
    assert gate.passed is passed
    assert gate.checks[0]["valid_scores"] == valid and gate.checks[0]["prompts"] == 10
    if not passed:
        assert gate.reasons == [
            "Builtin.Accuracy has a valid score for 8 of 10 prompts (2 null, NaN or missing), below "
            "min_valid_fraction=0.9: min_scores is not checked on so few"
        ]


def test_every_kind_of_non_number_is_counted_and_a_metric_with_none_valid_is_listed() -> None:
    tally = tally_of([None, float("nan"), float("inf"), "0.9", True])
    assert tally.scores() == {} and tally.valid_counts() == {"Builtin.Accuracy": 0}
    assert tally.exclusions() == [
        "Builtin.Accuracy: 5 of 5 prompts have no valid score (null, NaN or not a number); they are left "
        "out of its mean, which is over 0 prompts"
    ]
    gate = evaluate_scores({}, {}, {"Builtin.Accuracy": 0.1}, tally.valid_counts(), tally.prompts, 0.0)
    assert gate.reasons == ["Builtin.Accuracy has no score in the results, so max_scores cannot be checked"]


@pytest.mark.parametrize(("value", "expected"), [("0.5", 0.5), (0, 0.0), (1, 1.0)])
def test_min_valid_fraction_takes_a_fraction(value: object, expected: float) -> None:
    problems: list[Problem] = []
    assert parse_min_valid_fraction(value, problems) == expected and problems == []


@pytest.mark.parametrize("value", [-0.1, 1.01, "nan", "most", None, True])
def test_min_valid_fraction_refuses_anything_else(value: object) -> None:
    problems: list[Problem] = []
    parse_min_valid_fraction(value, problems)
    assert [problem.field for problem in problems] == ["min_valid_fraction"]
