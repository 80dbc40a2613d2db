"""Bedrock's training-record formats and the rules the record checkers apply, read from the model catalog.

Which format and limits a model takes is a row of ``core/catalog/``; this module adds what is the same
for every model: the record shapes and the per-record rules. Sources:

- Prepare data for fine-tuning your models (text-to-text / image-text formats):
  https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
- Continued pre-training: https://docs.aws.amazon.com/bedrock/latest/userguide/dataset-prep-continued-pretraining.html
- Distillation prompts: https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-1.html
- Amazon Nova understanding models:
  https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html

The record checkers built on these are in ``checkers.py``.
"""

from __future__ import annotations

from bedrock_provider.core.catalog import (
    CLAUDE_MESSAGES,
    CONTINUED_PRE_TRAINING,
    CONTINUED_PRETRAINING,
    CONVERSATION,
    CPT_URL,
    DISTILLATION,
    DISTILLATION_LIMITS,
    DISTILLATION_LIMITS_URL,
    DISTILLATION_PROMPTS,
    DISTILLATION_URL,
    FINE_TUNING,
    FORMATS,
    IMAGE_CAPTION,
    NOVA2_URL,
    NOVA_URL,
    PREPARE_URL,
    PROMPT_COMPLETION,
    REINFORCEMENT_FINE_TUNING,
    RFT_PROMPTS,
    ConversationRules,
    Limits,
    ModelFamily,
    family_for,
)

# A row of the catalog, as the dataset code calls it.
ModelProfile = ModelFamily

__all__ = [
    "CLAUDE_MESSAGES",
    "CONTINUED_PRETRAINING",
    "CONTINUED_PRE_TRAINING",
    "CONVERSATION",
    "CPT_URL",
    "DISTILLATION",
    "DISTILLATION_LIMITS_URL",
    "DISTILLATION_PROMPTS",
    "DISTILLATION_URL",
    "FINE_TUNING",
    "FORMATS",
    "IMAGE_CAPTION",
    "NOVA2_URL",
    "NOVA_URL",
    "PREPARE_URL",
    "PROMPT_COMPLETION",
    "REINFORCEMENT_FINE_TUNING",
    "RFT_PROMPTS",
    "ConversationRules",
    "Limits",
    "ModelProfile",
]

SCHEMA_VERSION = "bedrock-conversation-2024"

# "Use approximately 6 characters per token to estimate the number of tokens" and "Character quota
# per sample in dataset: Token quota x 6 (estimated)": PREPARE_URL.
# A record over tokens x 6 characters is over Bedrock's own character quota, so that is an error.
DOCUMENTED_CHARS_PER_TOKEN = 6
# English text with a BPE tokenizer runs nearer 4 characters per token; 3 errs on the side of more
# tokens. No tokenizer ships with Bedrock, so records between the two estimates are warnings.
CONSERVATIVE_CHARS_PER_TOKEN = 3.0

IMAGE_FORMATS = frozenset({"png", "jpeg", "gif", "webp"})
VIDEO_FORMATS = frozenset({"mov", "mkv", "mp4", "webm"})
# Nova: "Maximum images 10/sample", "Maximum videos 1/sample" (NOVA_URL, Dataset constraints).
MAX_IMAGES_PER_RECORD = 10
MAX_VIDEOS_PER_RECORD = 1
# Nova: "The terms User:, Bot:, Assistant:, System:, <image>, <video>, and [EOS] are reserved
# keywords. If a user prompt or system prompt starts with any of these keywords, or has these
# keywords anywhere in the prompt, your training job will fail" (NOVA_URL).
RESERVED_KEYWORDS = ("User:", "Bot:", "Assistant:", "System:", "<image>", "<video>", "[EOS]")


def profile_for(base_model_id: str | None) -> ModelProfile | None:
    """The catalog row of a base model id or foundation-model ARN; None if unknown (or not a base model)."""
    if not base_model_id:
        return None
    return family_for(base_model_id)


def format_for(customization_type: str, profile: ModelProfile | None) -> str | None:
    """The record format Bedrock expects for this customization type and model; None if unknown."""
    if customization_type == CONTINUED_PRE_TRAINING:
        return CONTINUED_PRETRAINING
    if customization_type == DISTILLATION:
        return DISTILLATION_PROMPTS
    if customization_type == REINFORCEMENT_FINE_TUNING:
        return RFT_PROMPTS
    if profile is not None and customization_type in profile.customizations:
        return profile.customizations[customization_type].dataset_format
    return None


def limits_for(profile: ModelProfile | None, customization_type: str) -> Limits | None:
    if profile is None:
        return None
    customization = profile.customizations.get(customization_type)
    if customization is None and customization_type == DISTILLATION:
        return DISTILLATION_LIMITS
    return customization.limits if customization is not None else None


def rules_for(fmt: str, profile: ModelProfile | None, customization_type: str) -> ConversationRules:
    """The Converse-format rules: the model's for its type, or a permissive set for an unknown model."""
    customization = profile.customizations.get(customization_type) if profile is not None else None
    if customization is not None and customization.dataset_format == fmt:
        return customization.rules
    if fmt == DISTILLATION_PROMPTS:
        # Unknown student: the strictest documented distillation rules (DISTILLATION_URL).
        return ConversationRules(prompts_only=True, single_turn=True, schema_version_exact=True)
    # Unknown model or an explicit format override: accept what the Converse format can carry.
    return ConversationRules(images=True, videos=True, reasoning=True)


def detect_format(record: object) -> str | None:
    """The format a record looks like, to pick one when neither the model nor an override says."""
    if not isinstance(record, dict):
        return None
    if "reference_answer" in record:
        return RFT_PROMPTS
    if "prompt" in record or "completion" in record:
        return PROMPT_COMPLETION
    if "input" in record and "messages" not in record:
        return CONTINUED_PRETRAINING
    if "image-ref" in record or "caption" in record:
        return IMAGE_CAPTION
    messages = record.get("messages")
    if isinstance(messages, list) and messages:
        first = messages[0]
        if isinstance(first, dict) and isinstance(first.get("content"), str):
            return CLAUDE_MESSAGES
        return CONVERSATION
    if "schemaVersion" in record:
        return CONVERSATION
    return None
