"""Dataset prep for reinforcement fine-tuning: the RFT prompt format and its 20,000-prompt limit."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from bedrock_provider.core.catalog import MAX_RFT_PROMPTS, RFT_PROMPTS
from bedrock_provider.core.datasets.formats import detect_format
from bedrock_provider.core.datasets.plan import plan_dataset
from bedrock_provider.core.datasets.validator import DatasetValidator

NOVA2 = "amazon.nova-2-lite-v1:0:256k"
PROMPT = {
    "id": "math-001",
    "messages": [
        {"role": "system", "content": "You are a math tutor"},
        {"role": "user", "content": "2x + 5 = 13"},
    ],
    "reference_answer": {"solution": "x = 4"},
}


def validate(records: list[Any], **plan: Any) -> Any:
    validator = DatasetValidator(
        plan_dataset(customization_type="REINFORCEMENT_FINE_TUNING", base_model_id=NOVA2, **plan)
    )
    body = "\n".join(record if isinstance(record, str) else json.dumps(record) for record in records)
    validator.feed("s3://data-bucket/rft.jsonl", io.BytesIO(body.encode()))
    return validator.finish()


def test_rft_plan_uses_the_rft_prompt_format_and_its_limit():
    plan = plan_dataset(customization_type="REINFORCEMENT_FINE_TUNING", base_model_id=NOVA2)
    assert plan.format == RFT_PROMPTS
    assert plan.limits is not None and plan.limits.max_total_records == MAX_RFT_PROMPTS == 20_000


def test_valid_prompts_with_and_without_reference_answers_are_counted():
    without_answer = {"messages": [{"role": "user", "content": "Name a prime"}]}
    with_grader_field = {**PROMPT, "tools": [], "difficulty": "easy"}
    report = validate([PROMPT, without_answer, with_grader_field])
    assert report.passed, report.errors
    assert (report.records, report.invalid_records) == (3, 0)


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        ({"reference_answer": "4"}, "messages", "is missing"),
        ({"messages": []}, "messages", "non-empty list"),
        (
            {"messages": [{"role": "system", "content": "only a system prompt"}]},
            "messages",
            "no 'user' message",
        ),
        (
            {"messages": [{"role": "bot", "content": "hi"}, {"role": "user", "content": "q"}]},
            "messages[0].role",
            "'bot'",
        ),
        ({"messages": [{"role": "user", "content": "  "}]}, "messages[0].content", "must not be empty"),
        ({"messages": [{"role": "user", "content": 4}]}, "messages[0].content", "expected a string"),
        ({"messages": ["hello"]}, "messages[0]", "expected an object"),
    ],
)
def test_invalid_prompts_are_reported_by_field(record, field, words):
    report = validate([PROMPT, record])
    assert not report.passed
    assert report.invalid_records == 1
    assert any(error["field"] == field and words in error["message"] for error in report.errors), (
        report.errors
    )


def test_more_than_20000_prompts_is_refused():
    line = json.dumps({"messages": [{"role": "user", "content": "q"}]})
    assert validate([line] * MAX_RFT_PROMPTS).passed
    report = validate([line] * (MAX_RFT_PROMPTS + 1))
    assert not report.passed
    assert any("20,000" in error for error in report.dataset_errors), report.dataset_errors


def test_a_record_with_a_reference_answer_is_detected_as_rft():
    assert detect_format(PROMPT) == RFT_PROMPTS
