"""Each format: valid files pass (by the fast path and by the full check alike), the format is chosen
from the customization type and model, and the documented limits apply."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from bedrock_provider.core.catalog import resolve
from bedrock_provider.core.datasets.checker_for_format import make_checker
from bedrock_provider.core.datasets.formats import (
    CLAUDE_MESSAGES,
    CONTINUED_PRETRAINING,
    CONVERSATION,
    DISTILLATION_PROMPTS,
    IMAGE_CAPTION,
    PROMPT_COMPLETION,
    detect_format,
    profile_for,
)
from bedrock_provider.core.datasets.plan import plan_dataset
from bedrock_provider.core.datasets.prepare import validate_bytes
from bedrock_provider.core.errors import InvalidInputError
from tests.unit.dataset_corpus import (
    CLAUDE,
    CPT,
    DISTILL_CLAUDE,
    DISTILL_NOVA,
    IMAGE,
    LLAMA_3_1,
    NOVA,
    TITAN,
    conversation,
    image,
    lines,
    text,
    video,
)

LLAMA_3_2 = {"base_model_id": "meta.llama3-2-11b-instruct-v1:0"}


def _records(count: int, make: Any) -> bytes:
    return lines(*(make(index) for index in range(count)))


VALID_FILES: list[tuple[str, dict[str, Any], bytes, str]] = [
    (
        "titan-prompt-completion",
        TITAN,
        _records(5, lambda i: {"prompt": f"Question {i}?", "completion": f"Answer {i}."}),
        PROMPT_COMPLETION,
    ),
    (
        "llama-3.1",
        LLAMA_3_1,
        _records(100, lambda i: {"prompt": f"q{i}", "completion": f"a{i}"}),
        PROMPT_COMPLETION,
    ),
    (
        "nova-text",
        NOVA,
        _records(8, lambda i: conversation(("user", f"Question {i}?"), ("assistant", f"Answer {i}."))),
        CONVERSATION,
    ),
    (
        "nova-multi-turn-no-system",
        NOVA,
        _records(
            8,
            lambda i: conversation(
                ("user", "a"), ("assistant", "b"), ("user", f"c{i}"), ("assistant", "d"), system=None
            ),
        ),
        CONVERSATION,
    ),
    (
        "nova-images",
        NOVA,
        _records(
            8,
            lambda i: conversation(
                ("user", [{"text": f"What is in {i}?"}, image(), image("jpeg")]), ("assistant", "A cat.")
            ),
        ),
        CONVERSATION,
    ),
    (
        "nova-video",
        NOVA,
        _records(
            8,
            lambda i: conversation(
                ("user", [video(), {"text": f"Count items {i}"}]), ("assistant", "Eight.")
            ),
        ),
        CONVERSATION,
    ),
    (
        "nova-2-reasoning",
        {"base_model_id": "amazon.nova-2-lite-v1:0:256k"},
        _records(
            8,
            lambda i: conversation(
                ("user", f"Why {i}?"),
                (
                    "assistant",
                    [{"reasoningContent": {"reasoningText": {"text": "think"}}}, {"text": "Because."}],
                ),
            ),
        ),
        CONVERSATION,
    ),
    (
        "llama-3.2-converse",
        LLAMA_3_2,
        _records(
            100, lambda i: conversation(("user", [{"text": f"q{i}"}, image("webp")]), ("assistant", "a"))
        ),
        CONVERSATION,
    ),
    (
        "claude-3-haiku",
        CLAUDE,
        _records(
            32,
            lambda i: {
                "system": "Be brief.",
                "messages": [
                    {"role": "user", "content": f"Hello {i}"},
                    {"role": "assistant", "content": "Hi."},
                    {"role": "user", "content": "Bye"},
                    {"role": "assistant", "content": "Bye."},
                ],
            },
        ),
        CLAUDE_MESSAGES,
    ),
    (
        "continued-pre-training",
        CPT,
        _records(5, lambda i: {"input": f"AWS stands for Amazon Web Services ({i})."}),
        CONTINUED_PRETRAINING,
    ),
    (
        "distillation-prompts-only",
        DISTILL_CLAUDE,
        _records(5, lambda i: conversation(("user", f"why is the sky blue {i}"))),
        DISTILLATION_PROMPTS,
    ),
    (
        "distillation-prompt-and-response",
        DISTILL_CLAUDE,
        _records(5, lambda i: conversation(("user", f"q{i}"), ("assistant", "a"))),
        DISTILLATION_PROMPTS,
    ),
    (
        "distillation-nova-multi-turn",
        DISTILL_NOVA,
        _records(5, lambda i: conversation(("user", "a"), ("assistant", "b"), ("user", f"c{i}"))),
        DISTILLATION_PROMPTS,
    ),
    (
        "titan-image-captions",
        IMAGE,
        _records(5, lambda i: {"image-ref": f"s3://bucket/img{i}.png", "caption": "an orange cat"}),
        IMAGE_CAPTION,
    ),
]


@pytest.mark.parametrize(
    ("params", "data", "fmt"), [case[1:] for case in VALID_FILES], ids=[case[0] for case in VALID_FILES]
)
def test_valid_files_pass(params: dict[str, Any], data: bytes, fmt: str) -> None:
    report = validate_bytes(data, **params)

    assert report.passed, (report.dataset_errors, report.errors)
    assert report.format == fmt
    assert report.counts["valid"] == report.records == data.count(b"\n")
    assert report.characters > 0


@pytest.mark.parametrize(
    ("params", "data", "fmt"), [case[1:] for case in VALID_FILES], ids=[case[0] for case in VALID_FILES]
)
def test_fast_path_and_full_check_agree(params: dict[str, Any], data: bytes, fmt: str) -> None:
    """What the Struct fast path accepts, the full check accepts with the same character count."""
    plan = plan_dataset(**params)
    checker = make_checker(fmt, plan.profile, plan.customization_type)
    for line in data.splitlines():
        problems: list[tuple[str, str, str]] = []
        full = checker.check(orjson.loads(line), problems)
        assert not problems
        try:
            quick = checker.quick(checker.decoder.decode(line))
        except ValueError:
            continue  # an uncommon shape (media, reasoning): the full check alone decides
        assert quick in (-1, full)


@pytest.mark.parametrize(
    ("model", "kind", "fmt"),
    [
        ("amazon.titan-text-express-v1", "FINE_TUNING", PROMPT_COMPLETION),
        ("amazon.titan-text-express-v1:0:8k", "FINE_TUNING", PROMPT_COMPLETION),
        ("meta.llama3-1-8b-instruct-v1:0:128k", "FINE_TUNING", PROMPT_COMPLETION),
        ("meta.llama3-1-70b-instruct-v1:0", "FINE_TUNING", PROMPT_COMPLETION),
        ("meta.llama3-2-90b-instruct-v1:0", "FINE_TUNING", CONVERSATION),
        ("meta.llama3-3-70b-instruct-v1:0", "FINE_TUNING", CONVERSATION),
        ("amazon.nova-micro-v1:0:128k", "FINE_TUNING", CONVERSATION),
        ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0", "FINE_TUNING", CONVERSATION),
        ("anthropic.claude-3-haiku-20240307-v1:0:200k", "FINE_TUNING", CLAUDE_MESSAGES),
        ("amazon.titan-image-generator-v2:0", "FINE_TUNING", IMAGE_CAPTION),
        ("amazon.nova-canvas-v1:0", "FINE_TUNING", IMAGE_CAPTION),
        ("amazon.titan-text-express-v1", "CONTINUED_PRE_TRAINING", CONTINUED_PRETRAINING),
        ("amazon.nova-lite-v1:0", "DISTILLATION", DISTILLATION_PROMPTS),
        ("some.unknown-model-v1", "CONTINUED_PRE_TRAINING", CONTINUED_PRETRAINING),
    ],
)
def test_format_follows_type_and_model(model: str, kind: str, fmt: str) -> None:
    assert plan_dataset(customization_type=kind, base_model_id=model).format == fmt


def test_unknown_model_detects_the_format_from_the_first_record() -> None:
    plan = plan_dataset(base_model_id="acme.new-model-v1")
    assert plan.format is None
    data = lines(
        conversation(("user", "a"), ("assistant", "b")), conversation(("user", "c"), ("assistant", "d"))
    )

    report = validate_bytes(data, base_model_id="acme.new-model-v1")

    assert report.passed
    assert report.format == CONVERSATION
    assert report.format_source == "detected from the first record"


def test_undetectable_records_fail_with_the_choices() -> None:
    report = validate_bytes(lines({"question": "a", "answer": "b"}))
    assert not report.passed
    assert "cannot tell the record format from its fields (answer, question)" in report.dataset_errors[0]
    assert "prompt-completion" in report.dataset_errors[0]


def test_format_override_wins_over_the_model() -> None:
    data = lines({"input": "plain text"}, {"input": "more"})
    assert not validate_bytes(data, **TITAN).passed
    report = validate_bytes(data, format=CONTINUED_PRETRAINING, **TITAN)
    assert report.passed
    assert report.format_source == "the format parameter"


def test_wrong_format_for_the_model_gets_a_hint() -> None:
    data = lines({"prompt": "a", "completion": "b"})
    report = validate_bytes(data, **NOVA)
    assert not report.passed
    assert any("looks like the prompt-completion format" in warning for warning in report.warnings)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"prompt": "a", "completion": "b"}, PROMPT_COMPLETION),
        ({"input": "a"}, CONTINUED_PRETRAINING),
        ({"image-ref": "s3://b/k.png", "caption": "c"}, IMAGE_CAPTION),
        ({"messages": [{"role": "user", "content": "a"}]}, CLAUDE_MESSAGES),
        ({"messages": [{"role": "user", "content": text("a")}]}, CONVERSATION),
        ({"schemaVersion": "bedrock-conversation-2024"}, CONVERSATION),
        ({"anything": 1}, None),
        ([1], None),
    ],
)
def test_detect_format(data: object, expected: str | None) -> None:
    assert detect_format(data) == expected


def test_model_ids_normalise() -> None:
    ref = resolve("arn:aws:bedrock:us-west-2::foundation-model/Amazon.Nova-Lite-v1:0")
    assert ref is not None and (ref.versioned_id, ref.region) == ("amazon.nova-lite-v1:0", "us-west-2")
    profile = resolve("eu.amazon.nova-pro-v1:0")
    assert profile is not None
    assert (profile.versioned_id, profile.geo_prefix) == ("amazon.nova-pro-v1:0", "eu.")
    # An inference profile is not a base model.
    assert profile_for("eu.amazon.nova-pro-v1:0") is None
    assert profile_for("meta.llama3-2-90b-instruct-v1:0").key == "meta.llama3-2-90b"
    assert profile_for("meta.llama3-2-1b-instruct-v1:0").key == "meta.llama3-2"
    assert profile_for(None) is None


# -- documented limits ------------------------------------------------------------------------------


def test_claude_minimum_records() -> None:
    data = _records(
        31,
        lambda i: {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]},
    )
    report = validate_bytes(data, **CLAUDE)
    assert not report.passed
    assert "the dataset has 31 records; Bedrock needs at least 32" in report.dataset_errors[0]
    assert "model-customization-prepare.html#anthropic-claude-3-haiku" in report.dataset_errors[0]


def test_validation_record_limit() -> None:
    # Claude 3 Haiku: at most 1,000 validation records (model-customization-prepare.html).
    data = _records(
        2_600,
        lambda i: {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]},
    )
    report = validate_bytes(data, validation_split=0.45, **CLAUDE)
    assert not report.passed
    assert any(
        "the validation set has" in error and "at most 1,000 (lower validation_split)" in error
        for error in report.dataset_errors
    )
    row = next(row for row in report.limits if row["limit"] == "max_validation_records")
    assert row["ok"] is False and row["value"] == 1_000


def test_nova_record_quota_is_an_error_and_claude_total_quota_a_warning() -> None:
    nova = validate_bytes(b"", **NOVA)  # no records: the minimum of 8 is not even reached
    assert not nova.passed
    data = _records(
        10_001,
        lambda i: {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]},
    )
    claude = validate_bytes(data, **CLAUDE)
    # 10,001 training records is over the (fixed) training maximum; the total maximum is an
    # adjustable quota and so only a warning.
    assert any("the training set has 10,001 records" in error for error in claude.dataset_errors)
    assert any("Service Quotas" in warning for warning in claude.warnings)


def test_titan_total_token_quota_and_conservative_warning() -> None:
    # 4,096 tokens x 6 = 24,576 characters is Bedrock's quota: an error past it. Between the
    # conservative estimate (3 per token: 12,288) and the quota, a warning.
    data = lines({"prompt": "x" * 10_000, "completion": "y" * 5_000}, {"prompt": "ok", "completion": "ok"})
    report = validate_bytes(data, **TITAN)
    assert report.passed
    assert (
        "~5,000 tokens estimated at 3 characters per token, over the 4,096-token limit" in report.warnings[0]
    )
    assert report.max_record_characters == 15_000


def test_conversation_token_quota_counts_every_text() -> None:
    long_turns = [
        ("user", "u" * 60_000),
        ("assistant", "a" * 60_000),
        ("user", "u" * 60_000),
        ("assistant", "a" * 20_000),
    ]
    report = validate_bytes(lines(conversation(*long_turns)), **NOVA)
    error = next(error for error in report.errors if error["code"] == "too-long")
    assert "200,016 characters of text, over Bedrock's quota of 192,000" in error["message"]


def test_media_must_sit_in_the_dataset_bucket() -> None:
    import io

    from bedrock_provider.core.datasets.validator import DatasetValidator

    plan = plan_dataset(**NOVA)
    validator = DatasetValidator(plan, dataset_bucket="training-bucket")
    data = lines(conversation(("user", [image(uri="s3://other-bucket/a.png")]), ("assistant", "b")))
    validator.feed("f.jsonl", io.BytesIO(data))
    report = validator.finish()
    assert report.errors[0]["field"] == "messages[0].content[0].image.source.s3Location.uri"
    assert (
        "is in bucket 'other-bucket'; Nova needs images and videos in the dataset's bucket 'training-bucket'"
        in (report.errors[0]["message"])
    )


def test_a_dataset_of_images_and_a_dataset_of_videos_cannot_mix() -> None:
    data = lines(
        conversation(("user", [image()]), ("assistant", "a")),
        conversation(("user", [video()]), ("assistant", "b")),
        *[conversation(("user", f"q{i}"), ("assistant", "a")) for i in range(6)],
    )
    report = validate_bytes(data, **NOVA)
    assert "1 records hold images and 1 hold videos" in report.dataset_errors[0]


def test_image_models_take_no_validation_split() -> None:
    with pytest.raises(InvalidInputError, match="takes no validation dataset"):
        plan_dataset(validation_split=0.1, **IMAGE)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"validation_split": 0.5}, "validation_split"),
        ({"validation_split": -0.1}, "validation_split"),
        ({"validation_split": "ten percent"}, "validation_split"),
        ({"max_invalid_fraction": 1.5}, "max_invalid_fraction"),
        ({"seed": 1.5}, "seed"),
        ({"format": "jsonl"}, "format"),
        ({"customization_type": "IMPORTED"}, "customization_type"),
        ({"max_errors_listed": -1}, "max_errors_listed"),
        ({"chars_per_token": 0}, "chars_per_token"),
        ({"remove_duplicates": "yes"}, "remove_duplicates"),
    ],
)
def test_bad_parameters_are_rejected_before_reading(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        plan_dataset(**params)
    assert caught.value.fields == [field]


def test_rendered_template_strings_are_accepted() -> None:
    plan = plan_dataset(
        validation_split="0.2", seed="7", max_invalid_fraction="0.01", remove_duplicates="True"
    )
    assert (plan.validation_split, plan.seed, plan.max_invalid_fraction, plan.remove_duplicates) == (
        0.2,
        7,
        0.01,
        True,
    )
