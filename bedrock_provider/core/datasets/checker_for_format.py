"""The record checker of a training-data format, with the model's limits and rules."""

from __future__ import annotations

from bedrock_provider.core.datasets.checkers import (
    ClaudeMessagesChecker,
    ContinuedPretrainingChecker,
    ConversationChecker,
    ImageCaptionChecker,
    PromptCompletionChecker,
    RecordChecker,
)
from bedrock_provider.core.datasets.formats import (
    CLAUDE_MESSAGES,
    CONTINUED_PRETRAINING,
    CONVERSATION,
    DISTILLATION_PROMPTS,
    FORMATS,
    IMAGE_CAPTION,
    PROMPT_COMPLETION,
    RFT_PROMPTS,
    ModelProfile,
    limits_for,
    rules_for,
)
from bedrock_provider.core.datasets.rft_checker import RftPromptChecker


def make_checker(
    fmt: str,
    profile: ModelProfile | None,
    customization_type: str,
    dataset_bucket: str | None = None,
) -> RecordChecker:
    """The checker for a format, with the model's limits and rules."""
    limits = limits_for(profile, customization_type)
    if fmt == PROMPT_COMPLETION:
        return PromptCompletionChecker(limits)
    if fmt == CONTINUED_PRETRAINING:
        return ContinuedPretrainingChecker()
    if fmt == IMAGE_CAPTION:
        return ImageCaptionChecker(limits)
    if fmt == CLAUDE_MESSAGES:
        return ClaudeMessagesChecker()
    if fmt in (CONVERSATION, DISTILLATION_PROMPTS):
        return ConversationChecker(rules_for(fmt, profile, customization_type), dataset_bucket, fmt)
    if fmt == RFT_PROMPTS:
        return RftPromptChecker()
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
