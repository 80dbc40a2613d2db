"""The model catalog's hyperparameter tables, dataset limits and conversation rules, each citing the
AWS page it comes from (core/catalog/rows.py builds the rows from them)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bedrock_provider.core.catalog.shapes import (
    CONTINUED_PRETRAINING,
    CUSTOMIZATION_JOB_API,
    DISTILLATION_LIMITS_URL,
    DISTILLATION_MODELS_URL,
    DISTILLATION_PROMPTS,
    GB,
    MB,
    NOVA_CANVAS_DATA_URL,
    NOVA_URL,
    PREPARE_URL,
    RFT_DATA_URL,
    RFT_PROMPTS,
    ConversationRules,
    Customization,
    HyperparameterSpec,
    Limits,
)

# --------------------------------------------------------------------- hyperparameter tables


def _table(*specs: HyperparameterSpec) -> Mapping[str, HyperparameterSpec]:
    return MappingProxyType({spec.name: spec for spec in specs})


# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-titan-text.html
# The same table serves fine-tuning and continued pre-training.
# learningRate's documented minimum really is 0.0.
_TITAN_TEXT_G1_HP = _table(
    HyperparameterSpec("epochCount", int, 1, 10, 5),
    HyperparameterSpec("batchSize", int, 1, 64, 1),
    HyperparameterSpec("learningRate", float, 0.0, 1.0, 1e-5),
    HyperparameterSpec("learningRateWarmupSteps", int, 0, 250, 5),
)
# Same page, the Titan Text Premier table.
_TITAN_TEXT_PREMIER_HP = _table(
    HyperparameterSpec("epochCount", int, 1, 5, 2),
    HyperparameterSpec("batchSize", int, 1, 1, 1),
    HyperparameterSpec("learningRate", float, 1e-7, 1e-5, 1e-6),
    HyperparameterSpec("learningRateWarmupSteps", int, 0, 20, 5),
)
# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-titan-image.html
# No type column; stepCount has no default and must be given, as a number or the lowercase "auto".
_TITAN_IMAGE_HP = _table(
    HyperparameterSpec("batchSize", int, 8, 192, 8),
    HyperparameterSpec("stepCount", int, 10, 40000, None, special_values=("auto",), required=True),
    HyperparameterSpec("learningRate", float, 1e-7, 1.0, 1e-5),
)
# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-titan-mm.html
# epochCount has no default and must be given, as a number or the capitalised "Auto".
_TITAN_MM_EMBED_HP = _table(
    HyperparameterSpec("epochCount", int, 1, 100, None, special_values=("Auto",), required=True),
    HyperparameterSpec("batchSize", int, 256, 9216, 576),
    HyperparameterSpec("learningRate", float, 5e-8, 1.0, 5e-5),
)
# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-nova-mm.html
# The Nova user guide's customize-fine-tune-hyperparameters.html gives learningRateWarmupSteps a maximum
# of 20; the Bedrock page and the consolidated custom-models-hp page give 100. The Bedrock figure is used.
# Nova 2 Lite has no table of its own on these pages; it is given this one.
_NOVA_UNDERSTANDING_HP = _table(
    HyperparameterSpec("epochCount", int, 1, 5, 2),
    HyperparameterSpec("learningRate", float, 1e-6, 1e-4, 1e-5),
    HyperparameterSpec("learningRateWarmupSteps", int, 0, 100, 10),
)
# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-nova-canvas.html (no type column)
_NOVA_CANVAS_HP = _table(
    HyperparameterSpec("batchSize", int, 8, 192, 8),
    HyperparameterSpec("stepCount", int, 10, 20000, 500),
    HyperparameterSpec("learningRate", float, 1e-7, 1e-4, 1e-5),
)
# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-anth-claude-3.html (no type column)
_CLAUDE_3_HP = _table(
    HyperparameterSpec("epochCount", int, 1, 10, 2),
    HyperparameterSpec("batchSize", int, 4, 256, 32),
    HyperparameterSpec("learningRateMultiplier", float, 0.1, 2.0, 1.0),
    HyperparameterSpec("earlyStoppingThreshold", float, 0.0, 0.1, 0.001),
    HyperparameterSpec("earlyStoppingPatience", int, 1, 10, 2),
)


# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-cohere-command.html
# One table for both models except batchSize's maximum: 8 for Command, 32 for Command Light.
def _cohere_hp(max_batch_size: int) -> Mapping[str, HyperparameterSpec]:
    return _table(
        HyperparameterSpec("epochCount", int, 1, 100, 1, maximum_adjustable=True),
        HyperparameterSpec("batchSize", int, 8, max_batch_size, 8),
        HyperparameterSpec("learningRate", float, 5e-6, 0.1, 1e-5),
        HyperparameterSpec("earlyStoppingThreshold", float, 0.0, 0.1, 0.01),
        HyperparameterSpec("earlyStoppingPatience", int, 1, 10, 6),
        HyperparameterSpec("evalPercentage", float, 5.0, 50.0, 20.0),
    )


# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-meta-llama2.html, cm-hp-meta-llama31.html and
# cm-hp-meta-llama32.html give the same ranges; only the Llama 2 and 3.1 pages say the epochCount quota is
# adjustable. Llama 3.3 has no section on these pages and is given the table every Llama page shares.
def _llama_hp(*, epoch_quota_adjustable: bool) -> Mapping[str, HyperparameterSpec]:
    return _table(
        HyperparameterSpec("epochCount", int, 1, 10, 5, maximum_adjustable=epoch_quota_adjustable),
        HyperparameterSpec("batchSize", int, 1, 1, 1),
        HyperparameterSpec("learningRate", float, 5e-6, 0.1, 1e-4),
    )


_LLAMA_ADJUSTABLE_HP = _llama_hp(epoch_quota_adjustable=True)
_LLAMA_HP = _llama_hp(epoch_quota_adjustable=False)

# Reinforcement fine-tuning: botocore's bedrock 2023-04-20 service model, shape RFTHyperParameters and its
# member shapes (EpochCount 1-50, RFTBatchSize 16-512, RFTLearningRate 1e-7 to 1e-3,
# RFTTrainingSamplePerPrompt 2-16, RFTEvalInterval 1-100, ReasoningEffort low|medium|high;
# RFTMaxPromptLength and RFTInferenceMaxTokens are integers with no bounds). Every member is optional,
# and they are sent typed in customizationConfig.rftConfig.hyperParameters, not as strings.
RFT_HYPERPARAMETERS = _table(
    HyperparameterSpec("epochCount", int, 1, 50, None),
    HyperparameterSpec("batchSize", int, 16, 512, None),
    HyperparameterSpec("learningRate", float, 1e-7, 1e-3, None),
    HyperparameterSpec("maxPromptLength", int, None, None, None),
    HyperparameterSpec("trainingSamplePerPrompt", int, 2, 16, None),
    HyperparameterSpec("inferenceMaxTokens", int, None, None, None),
    HyperparameterSpec("reasoningEffort", str, None, None, None, choices=("low", "medium", "high")),
    HyperparameterSpec("evalInterval", int, 1, 100, None),
)


# --------------------------------------------------------------------- dataset limits


def _titan_text_limits(anchor: str, note: str, training_bytes: int = 1 * GB) -> Limits:
    """The Titan text tables: 4,096 tokens at the smallest batch sizes, character quota tokens x 6,
    a 1 GB training file (10 GB for continued pre-training) and a 100 MB validation file."""
    return Limits(
        PREPARE_URL + anchor,
        max_total_tokens=4096,
        quota_note=note,
        max_training_bytes=training_bytes,
        max_validation_bytes=100 * MB,
    )


# model-customization-prepare.html, the "Amazon Titan Text Premier", "Amazon Titan Text G1 - Express" and
# "- Lite" tables. Continued pre-training shares the token quota; its training file may be 10 GB.
_EXPRESS_NOTE = "input and output together at batch size 1; 2,048 at batch sizes 2-4"
_LITE_NOTE = "input and output together at batch size 1 or 2; 2,048 at batch sizes 3-6"
_TITAN_PREMIER_LIMITS = _titan_text_limits(
    "#quotas-cm-titan-premier", "input and output together, batch size 1"
)
_TITAN_EXPRESS_LIMITS = _titan_text_limits("#quotas-cm-titan-text", _EXPRESS_NOTE)
_TITAN_EXPRESS_CPT_LIMITS = _titan_text_limits("#quotas-cm-titan-text", _EXPRESS_NOTE, training_bytes=10 * GB)
_TITAN_LITE_LIMITS = _titan_text_limits("#quotas-cm-titan-text-lite", _LITE_NOTE)
_TITAN_LITE_CPT_LIMITS = _titan_text_limits("#quotas-cm-titan-text-lite", _LITE_NOTE, training_bytes=10 * GB)
# Same page, "Cohere Command": input 4,096 and output 2,048 tokens;
# 10,000 training and 1,000 validation records.
_COHERE_LIMITS = Limits(
    PREPARE_URL + "#quotas-cm-cohere-command",
    max_input_tokens=4096,
    max_output_tokens=2048,
    max_training_records=10_000,
    max_validation_records=1_000,
)


def _llama_limits(anchor: str, tokens: int, per_side: bool = False) -> Limits:
    """The Meta Llama tables: 100 to 10,000 training and validation records (the maximum is adjustable
    through Service Quotas) and a token quota, for input and output alike on 3.1."""
    return Limits(
        PREPARE_URL + anchor,
        max_total_tokens=tokens,
        max_input_tokens=tokens if per_side else None,
        max_output_tokens=tokens if per_side else None,
        min_records=100,
        max_total_records=10_000,
        total_records_adjustable=True,
    )


# Same page: "Meta Llama 3.1" 16,000 tokens in, out and together; "Meta Llama 3.2" 16,000 (10,000 for 90B);
# "Meta Llama 3.3" 16,000.
_LLAMA_3_1_LIMITS = _llama_limits("#quotas-cm-meta-llama-3-1", 16_000, per_side=True)
_LLAMA_3_2_LIMITS = _llama_limits("#quotas-cm-meta-llama-3-2", 16_000)
_LLAMA_3_2_90B_LIMITS = _llama_limits("#quotas-cm-meta-llama-3-2", 10_000)
_LLAMA_3_3_LIMITS = _llama_limits("#quotas-cm-meta-llama-3-3", 16_000)
# Same page, "Anthropic Claude 3 Haiku": at least 32 records; 10,000 training and 1,000 validation records
# (10,000 in all, adjustable); 32,000 tokens; 10 GB training and 1 GB validation files.
_CLAUDE_3_HAIKU_LIMITS = Limits(
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
# NOVA_URL ("Dataset constraints"): 8 to 20k samples, 32k context length, for Micro, Lite and Pro.
_NOVA_LIMITS = Limits(NOVA_URL, max_total_tokens=32_000, min_records=8, max_total_records=20_000)
# distillation-prepare-datasets.html: "You can provide a maximum of 15K prompts or prompt-response pairs".
DISTILLATION_LIMITS = Limits(DISTILLATION_LIMITS_URL, max_total_records=15_000)
# model-customization-prepare.html ("Amazon Titan Image Generator G1 V1"): captions of 3 to 1,024 characters,
# 5 to 10,000 records; "Validation datasets are not supported" for text-to-image and image-to-embedding
# models.
_TITAN_IMAGE_LIMITS = Limits(
    PREPARE_URL + "#quotas-cm-titan-image",
    min_records=5,
    max_training_records=10_000,
    validation_supported=False,
    caption_chars=(3, 1024),
)
# Same page, "Amazon Titan Multimodal Embeddings G1": captions of 0 to 2,560 characters,
# 1,000 to 500,000 records.
_TITAN_MM_EMBED_LIMITS = Limits(
    PREPARE_URL + "#quotas-cm-titan-mm-embed",
    min_records=1_000,
    max_training_records=500_000,
    validation_supported=False,
    caption_chars=(0, 2560),
)
# Nova Canvas takes the same image-ref/caption records; its page gives no caption or record limits.
_NOVA_CANVAS_LIMITS = Limits(NOVA_CANVAS_DATA_URL)
# RFT_DATA_URL: "You can provide a maximum of 20K prompts to Amazon Bedrock for reinforcement fine-tuning".
MAX_RFT_PROMPTS = 20_000
_RFT_LIMITS = Limits(RFT_DATA_URL, max_total_records=MAX_RFT_PROMPTS)
_NO_LIMITS = Limits(PREPARE_URL)

# Nova: text, images or one video in user turns; the reserved keywords; media in the dataset's bucket
# (NOVA_URL).
_NOVA_RULES = ConversationRules(images=True, videos=True, reserved_keywords=True, media_same_bucket=True)
# Nova 2.0 adds optional reasoning content to assistant turns (NOVA2_URL).
_NOVA2_RULES = ConversationRules(
    images=True, videos=True, reasoning=True, reserved_keywords=True, media_same_bucket=True
)
# Llama 3.2 11B and 90B (vision) and 3.3 take images in gif, jpeg, png or webp
# (model-customization-prepare.html).
_IMAGES_RULES = ConversationRules(images=True)
# "Anthropic and Meta Llama models support only single-turn conversation prompts" (DISTILLATION_URL);
# distillation is text-to-text only and its schemaVersion is fixed.
_DISTILL_SINGLE_TURN = ConversationRules(prompts_only=True, single_turn=True, schema_version_exact=True)
_DISTILL_MULTI_TURN = ConversationRules(prompts_only=True, schema_version_exact=True)


# --------------------------------------------------------------------- customization builders


def _ft(
    regions: tuple[str, ...],
    hyperparameters: Mapping[str, HyperparameterSpec],
    dataset_format: str,
    limits: Limits,
    rules: ConversationRules | None = None,
) -> Customization:
    return Customization(regions, hyperparameters, dataset_format, limits, rules or ConversationRules())


def _cpt(
    regions: tuple[str, ...], hyperparameters: Mapping[str, HyperparameterSpec], limits: Limits
) -> Customization:
    return Customization(regions, hyperparameters, CONTINUED_PRETRAINING, limits)


def _distill(
    regions: tuple[str, ...],
    hyperparameters: Mapping[str, HyperparameterSpec],
    *,
    multi_turn: bool,
    source_url: str = DISTILLATION_MODELS_URL,
) -> Customization:
    """Distillation has no hyperparameter table of its own: the student's applies (prequisites page)."""
    rules = _DISTILL_MULTI_TURN if multi_turn else _DISTILL_SINGLE_TURN
    return Customization(
        regions, hyperparameters, DISTILLATION_PROMPTS, DISTILLATION_LIMITS, rules, source_url=source_url
    )


def _rft(regions: tuple[str, ...], source_url: str, api: str = CUSTOMIZATION_JOB_API) -> Customization:
    return Customization(
        regions, RFT_HYPERPARAMETERS, RFT_PROMPTS, _RFT_LIMITS, api=api, source_url=source_url
    )


def _types(**customizations: Customization) -> Mapping[str, Customization]:
    return MappingProxyType({name.upper(): value for name, value in customizations.items()})


# Teachers, by model id (DISTILLATION_MODELS_URL).
_NOVA_TEACHERS = ("amazon.nova-premier-v1:0", "amazon.nova-pro-v1:0")
_CLAUDE_TEACHERS = ("anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic.claude-3-5-sonnet-20241022-v2:0")
_LLAMA_TEACHERS = (
    "meta.llama3-1-405b-instruct-v1:0",
    "meta.llama3-1-70b-instruct-v1:0",
    "meta.llama3-3-70b-instruct-v1:0",
)
