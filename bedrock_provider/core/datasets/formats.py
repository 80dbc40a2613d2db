"""Bedrock's training-record formats, the documented limits per base model, and record checkers.

Sources (each limit below cites the page it comes from):

- Prepare data for fine-tuning your models, with the "Model requirements for training and
  validation datasets" tables and the text-to-text / image-text formats:
  https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
- Continued pre-training: https://docs.aws.amazon.com/bedrock/latest/userguide/dataset-prep-continued-pretraining.html
- Distillation prompts: https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-1.html
  and https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-prepare-datasets.html
- Amazon Nova understanding models:
  https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html
- Amazon Nova 2.0 (reasoning content): https://docs.aws.amazon.com/bedrock/latest/userguide/nova-2-sft-data-prep.html

The record checkers built on these are in ``checkers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PROMPT_COMPLETION = "prompt-completion"
CONVERSATION = "bedrock-conversation-2024"
CLAUDE_MESSAGES = "claude-messages"
CONTINUED_PRETRAINING = "continued-pretraining"
DISTILLATION_PROMPTS = "distillation-prompts"
IMAGE_CAPTION = "image-caption"
FORMATS = (
    PROMPT_COMPLETION,
    CONVERSATION,
    CLAUDE_MESSAGES,
    CONTINUED_PRETRAINING,
    DISTILLATION_PROMPTS,
    IMAGE_CAPTION,
)

FINE_TUNING = "FINE_TUNING"
CONTINUED_PRE_TRAINING = "CONTINUED_PRE_TRAINING"
DISTILLATION = "DISTILLATION"

SCHEMA_VERSION = "bedrock-conversation-2024"

# "Use approximately 6 characters per token to estimate the number of tokens" and "Character quota
# per sample in dataset: Token quota x 6 (estimated)":
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
# A record over tokens x 6 characters is over Bedrock's own character quota, so that is an error.
DOCUMENTED_CHARS_PER_TOKEN = 6
# English text with a BPE tokenizer runs nearer 4 characters per token; 3 errs on the side of more
# tokens. No tokenizer ships with Bedrock, so records between the two estimates are warnings.
CONSERVATIVE_CHARS_PER_TOKEN = 3.0

GB = 1024**3
MB = 1024**2

_USER_GUIDE = "https://docs.aws.amazon.com/bedrock/latest/userguide/"
PREPARE_URL = _USER_GUIDE + "model-customization-prepare.html"
CPT_URL = _USER_GUIDE + "dataset-prep-continued-pretraining.html"
DISTILLATION_URL = _USER_GUIDE + "distillation-data-prep-option-1.html"
DISTILLATION_LIMITS_URL = _USER_GUIDE + "distillation-prepare-datasets.html"
NOVA_URL = "https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html"
NOVA2_URL = _USER_GUIDE + "nova-2-sft-data-prep.html"


@dataclass(frozen=True)
class Limits:
    """Documented limits for one base model and one customization type; None means not documented.

    A limit marked adjustable is a default service quota an account can raise, so going over it is
    a warning, not an error.
    """

    doc_url: str
    max_total_tokens: int | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    quota_note: str = ""
    min_records: int | None = None
    max_training_records: int | None = None
    max_validation_records: int | None = None
    max_total_records: int | None = None
    total_records_adjustable: bool = False
    max_training_bytes: int | None = None
    max_validation_bytes: int | None = None
    validation_supported: bool = True
    caption_chars: tuple[int, int] | None = None


@dataclass(frozen=True)
class ConversationRules:
    """What the Converse-shaped formats allow, which differs by model and customization type."""

    images: bool = False
    videos: bool = False
    reasoning: bool = False
    reserved_keywords: bool = False
    media_same_bucket: bool = False
    # Distillation prompts need no assistant turn; Anthropic and Meta students take one user prompt.
    prompts_only: bool = False
    single_turn: bool = False
    schema_version_exact: bool = False


@dataclass(frozen=True)
class ModelProfile:
    """Base models that share a training-data format and its limits."""

    key: str
    title: str
    id_prefixes: tuple[str, ...]
    fine_tuning_format: str
    limits: dict[str, Limits]
    rules: ConversationRules = field(default_factory=ConversationRules)


def _titan_text(anchor: str, note: str, training_bytes: int = 1 * GB) -> Limits:
    """The Titan text tables: 4,096 tokens at the smallest batch sizes, character quota tokens x 6,
    a 1 GB training file (10 GB for continued pre-training) and a 100 MB validation file."""
    return Limits(
        PREPARE_URL + anchor,
        max_total_tokens=4096,
        quota_note=note,
        max_training_bytes=training_bytes,
        max_validation_bytes=100 * MB,
    )


# https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html, the
# "Amazon Titan Text Premier", "Amazon Titan Text G1 - Express" and "- Lite" tables. Continued
# pre-training shares the token quota; its training file may be 10 GB (the "Maximum (Continued
# Pre-training)" column of the same tables in earlier versions of the page).
_EXPRESS_NOTE = "input and output together at batch size 1; 2,048 at batch sizes 2-4"
_LITE_NOTE = "input and output together at batch size 1 or 2; 2,048 at batch sizes 3-6"
_TITAN_PREMIER = _titan_text("#quotas-cm-titan-premier", "input and output together, batch size 1")
_TITAN_EXPRESS = _titan_text("#quotas-cm-titan-text", _EXPRESS_NOTE)
_TITAN_EXPRESS_CPT = _titan_text("#quotas-cm-titan-text", _EXPRESS_NOTE, training_bytes=10 * GB)
_TITAN_LITE = _titan_text("#quotas-cm-titan-text-lite", _LITE_NOTE)
_TITAN_LITE_CPT = _titan_text("#quotas-cm-titan-text-lite", _LITE_NOTE, training_bytes=10 * GB)

# Same page, "Cohere Command": input 4,096 and output 2,048 tokens; 10,000 training and 1,000
# validation records.
_COHERE = Limits(
    PREPARE_URL + "#quotas-cm-cohere-command",
    max_input_tokens=4096,
    max_output_tokens=2048,
    max_training_records=10_000,
    max_validation_records=1_000,
)


def _llama(anchor: str, tokens: int, per_side: bool = False) -> Limits:
    """The Meta Llama tables: 100 to 10,000 training and validation records (the maximum is
    adjustable through Service Quotas) and a token quota, for input and output alike on 3.1."""
    return Limits(
        PREPARE_URL + anchor,
        max_total_tokens=tokens,
        max_input_tokens=tokens if per_side else None,
        max_output_tokens=tokens if per_side else None,
        min_records=100,
        max_total_records=10_000,
        total_records_adjustable=True,
    )


# Same page: "Meta Llama 3.1" 16,000 tokens in, out and together; "Meta Llama 3.2" 16,000 (10,000
# for 90B); "Meta Llama 3.3" 16,000.
_LLAMA_3_1 = _llama("#quotas-cm-meta-llama-3-1", 16_000, per_side=True)
_LLAMA_3_2 = _llama("#quotas-cm-meta-llama-3-2", 16_000)
_LLAMA_3_2_90B = _llama("#quotas-cm-meta-llama-3-2", 10_000)
_LLAMA_3_3 = _llama("#quotas-cm-meta-llama-3-3", 16_000)
# Same page, "Anthropic Claude 3 Haiku": at least 32 records; 10,000 training and 1,000 validation
# records (10,000 in all, adjustable); 32,000 tokens; 10 GB training and 1 GB validation files.
_CLAUDE_3_HAIKU = Limits(
    PREPARE_URL + "#anthropic-claude-3-haiku",
    max_total_tokens=32_000,
    min_records=32,
    max_training_records=10_000,
    max_validation_records=1_000,
    max_total_records=10_000,
    total_records_adjustable=True,
    max_training_bytes=10 * GB,
    max_validation_bytes=1 * GB,
)
# https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html
# ("Dataset constraints"): 8 to 20k samples, 32k context length, for Micro, Lite and Pro.
_NOVA = Limits(NOVA_URL, max_total_tokens=32_000, min_records=8, max_total_records=20_000)
# https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-prepare-datasets.html
# "You can provide a maximum of 15K prompts or prompt-response pairs".
_DISTILLATION = Limits(DISTILLATION_LIMITS_URL, max_total_records=15_000)
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
# ("Amazon Titan Image Generator G1 V1"): captions of 3 to 1,024 characters, 5 to 10,000 records;
# "Validation datasets are not supported" for text-to-image and image-to-embedding models.
_TITAN_IMAGE = Limits(
    PREPARE_URL + "#quotas-cm-titan-image",
    min_records=5,
    max_training_records=10_000,
    validation_supported=False,
    caption_chars=(3, 1024),
)
# Same page, "Amazon Titan Multimodal Embeddings G1": captions of 0 to 2,560 characters, 1,000 to
# 500,000 records.
_TITAN_MM_EMBED = Limits(
    PREPARE_URL + "#quotas-cm-titan-mm-embed",
    min_records=1_000,
    max_training_records=500_000,
    validation_supported=False,
    caption_chars=(0, 2560),
)
# Nova Canvas takes the same image-ref/caption records; its page gives no caption or record limits:
# https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-creative-content.html
_NOVA_CANVAS = Limits(
    "https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-creative-content.html"
)

# Nova: text, images or one video in user turns; the reserved keywords; media in the dataset's
# bucket. All from the Nova understanding page above.
_NOVA_RULES = ConversationRules(images=True, videos=True, reserved_keywords=True, media_same_bucket=True)

PROFILES: tuple[ModelProfile, ...] = (
    ModelProfile(
        "amazon.titan-text-premier",
        "Amazon Titan Text Premier",
        ("amazon.titan-text-premier",),
        PROMPT_COMPLETION,
        {FINE_TUNING: _TITAN_PREMIER},
    ),
    ModelProfile(
        "amazon.titan-text-express",
        "Amazon Titan Text G1 - Express",
        ("amazon.titan-text-express",),
        PROMPT_COMPLETION,
        {FINE_TUNING: _TITAN_EXPRESS, CONTINUED_PRE_TRAINING: _TITAN_EXPRESS_CPT},
    ),
    ModelProfile(
        "amazon.titan-text-lite",
        "Amazon Titan Text G1 - Lite",
        ("amazon.titan-text-lite",),
        PROMPT_COMPLETION,
        {FINE_TUNING: _TITAN_LITE, CONTINUED_PRE_TRAINING: _TITAN_LITE_CPT},
    ),
    ModelProfile(
        "amazon.titan-image-generator",
        "Amazon Titan Image Generator G1",
        ("amazon.titan-image-generator",),
        IMAGE_CAPTION,
        {FINE_TUNING: _TITAN_IMAGE},
    ),
    ModelProfile(
        "amazon.titan-embed-image",
        "Amazon Titan Multimodal Embeddings G1",
        ("amazon.titan-embed-image",),
        IMAGE_CAPTION,
        {FINE_TUNING: _TITAN_MM_EMBED},
    ),
    ModelProfile(
        "amazon.nova-canvas",
        "Amazon Nova Canvas",
        ("amazon.nova-canvas",),
        IMAGE_CAPTION,
        {FINE_TUNING: _NOVA_CANVAS},
    ),
    ModelProfile(
        "amazon.nova-2",
        "Amazon Nova 2",
        ("amazon.nova-2-",),
        CONVERSATION,
        {FINE_TUNING: _NOVA, DISTILLATION: _DISTILLATION},
        # Nova 2.0 adds optional reasoning content to assistant turns (nova-2-sft-data-prep.html).
        ConversationRules(
            images=True, videos=True, reasoning=True, reserved_keywords=True, media_same_bucket=True
        ),
    ),
    ModelProfile(
        "amazon.nova",
        "Amazon Nova (Micro, Lite, Pro)",
        ("amazon.nova-micro", "amazon.nova-lite", "amazon.nova-pro", "amazon.nova-premier"),
        CONVERSATION,
        {FINE_TUNING: _NOVA, DISTILLATION: _DISTILLATION},
        _NOVA_RULES,
    ),
    ModelProfile(
        "anthropic.claude-3-haiku",
        "Anthropic Claude 3 Haiku",
        ("anthropic.claude-3-haiku",),
        CLAUDE_MESSAGES,
        {FINE_TUNING: _CLAUDE_3_HAIKU, DISTILLATION: _DISTILLATION},
    ),
    ModelProfile(
        "cohere.command",
        "Cohere Command",
        ("cohere.command-text", "cohere.command-light-text"),
        PROMPT_COMPLETION,
        {FINE_TUNING: _COHERE},
    ),
    ModelProfile(
        "meta.llama2",
        "Meta Llama 2",
        ("meta.llama2",),
        PROMPT_COMPLETION,
        {FINE_TUNING: Limits(PREPARE_URL)},
    ),
    ModelProfile(
        "meta.llama3-1",
        "Meta Llama 3.1",
        ("meta.llama3-1",),
        PROMPT_COMPLETION,
        {FINE_TUNING: _LLAMA_3_1, DISTILLATION: _DISTILLATION},
    ),
    # Llama 3.2 and 3.3 take the Converse format; the 11B and 90B vision models (and, per the same
    # page, 3.3 70B) also take images in gif, jpeg, png or webp.
    ModelProfile(
        "meta.llama3-2-90b",
        "Meta Llama 3.2 90B Vision Instruct",
        ("meta.llama3-2-90b",),
        CONVERSATION,
        {FINE_TUNING: _LLAMA_3_2_90B, DISTILLATION: _DISTILLATION},
        ConversationRules(images=True),
    ),
    ModelProfile(
        "meta.llama3-2-11b",
        "Meta Llama 3.2 11B Vision Instruct",
        ("meta.llama3-2-11b",),
        CONVERSATION,
        {FINE_TUNING: _LLAMA_3_2, DISTILLATION: _DISTILLATION},
        ConversationRules(images=True),
    ),
    ModelProfile(
        "meta.llama3-2",
        "Meta Llama 3.2",
        ("meta.llama3-2",),
        CONVERSATION,
        {FINE_TUNING: _LLAMA_3_2, DISTILLATION: _DISTILLATION},
    ),
    ModelProfile(
        "meta.llama3-3",
        "Meta Llama 3.3",
        ("meta.llama3-3",),
        CONVERSATION,
        {FINE_TUNING: _LLAMA_3_3, DISTILLATION: _DISTILLATION},
        ConversationRules(images=True),
    ),
)

IMAGE_FORMATS = frozenset({"png", "jpeg", "gif", "webp"})
VIDEO_FORMATS = frozenset({"mov", "mkv", "mp4", "webm"})
# Nova: "Maximum images 10/sample", "Maximum videos 1/sample" (NOVA_URL, Dataset constraints).
MAX_IMAGES_PER_RECORD = 10
MAX_VIDEOS_PER_RECORD = 1
# Nova: "The terms User:, Bot:, Assistant:, System:, <image>, <video>, and [EOS] are reserved
# keywords. If a user prompt or system prompt starts with any of these keywords, or has these
# keywords anywhere in the prompt, your training job will fail" (NOVA_URL).
RESERVED_KEYWORDS = ("User:", "Bot:", "Assistant:", "System:", "<image>", "<video>", "[EOS]")


def model_id_of(base_model_id: str) -> str:
    """The bare, lowercased model id of a model id or ARN (``arn:...:foundation-model/x.y`` -> ``x.y``)."""
    text = base_model_id.strip().lower()
    if text.startswith("arn:"):
        text = text.rsplit("/", 1)[-1]
    # Cross-region inference profile ids ("us.amazon.nova-lite-v1:0") name the same model.
    for geo in ("us.", "eu.", "apac.", "us-gov.", "global."):
        if text.startswith(geo):
            return text[len(geo) :]
    return text


def profile_for(base_model_id: str | None) -> ModelProfile | None:
    """The profile whose id prefix matches the model, longest prefix first; None if unknown."""
    if not base_model_id:
        return None
    model_id = model_id_of(base_model_id)
    best: tuple[int, ModelProfile] | None = None
    for profile in PROFILES:
        for prefix in profile.id_prefixes:
            if model_id.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), profile)
    return best[1] if best else None


def format_for(customization_type: str, profile: ModelProfile | None) -> str | None:
    """The record format Bedrock expects for this customization type and model; None if unknown."""
    if customization_type == CONTINUED_PRE_TRAINING:
        return CONTINUED_PRETRAINING
    if customization_type == DISTILLATION:
        return DISTILLATION_PROMPTS
    if customization_type == FINE_TUNING and profile is not None:
        return profile.fine_tuning_format
    return None


def limits_for(profile: ModelProfile | None, customization_type: str) -> Limits | None:
    if profile is None:
        return None
    if customization_type == DISTILLATION:
        return profile.limits.get(DISTILLATION, _DISTILLATION)
    return profile.limits.get(customization_type)


def rules_for(fmt: str, profile: ModelProfile | None, customization_type: str) -> ConversationRules:
    """The Converse-format rules: the model's, narrowed for distillation (text-only prompts)."""
    if fmt == DISTILLATION_PROMPTS:
        # Distillation is text-to-text only, its schemaVersion is fixed, and "Anthropic and Meta
        # Llama models support only single-turn conversation prompts" (DISTILLATION_URL).
        multi_turn = profile is not None and profile.key.startswith("amazon.nova")
        return ConversationRules(prompts_only=True, single_turn=not multi_turn, schema_version_exact=True)
    if profile is not None and profile.fine_tuning_format == fmt:
        return profile.rules
    # Unknown model or an explicit format override: accept what the Converse format can carry.
    return ConversationRules(images=True, videos=True, reasoning=True)


def detect_format(record: object) -> str | None:
    """The format a record looks like, to pick one when neither the model nor an override says."""
    if not isinstance(record, dict):
        return None
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
