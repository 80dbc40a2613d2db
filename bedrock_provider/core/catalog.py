"""The model catalog: which base models Bedrock customizes, how, where, and with what.

One row per model family. A row holds the family's id forms (model ids, the versions Bedrock lists
for customization with their context-length suffixes, the foundation-model ARNs built from them,
and, for distillation teachers, the geo-prefixed inference profiles Bedrock accepts), then per
customization type: the Regions it is offered in, the hyperparameters (type, range, default), the
training-data format with its rules, and the documented dataset limits. Every row cites its pages.

Request validation (core/request.py, core/hyperparameters.py), dataset preparation
(core/datasets/) and the emulator all read this table; adding a model is adding a row.

Sources:
- models and Regions: https://docs.aws.amazon.com/bedrock/latest/userguide/custom-model-supported.html
- distillation teachers and students:
  https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation.html
- hyperparameters: https://docs.aws.amazon.com/bedrock/latest/userguide/custom-models-hp.html (and the
  per-model pages cited on each table)
- dataset formats and limits: https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
  (and the pages cited on each limit)
- prices: https://aws.amazon.com/bedrock/pricing/, in the ``pricing`` field of a row (None where no
  price is recorded; core/pricing.py says how they were read and how users override them).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bedrock_provider.core.pricing import ModelPrices, aws_prices

# --------------------------------------------------------------------- customization types

FINE_TUNING = "FINE_TUNING"
CONTINUED_PRE_TRAINING = "CONTINUED_PRE_TRAINING"
DISTILLATION = "DISTILLATION"
REINFORCEMENT_FINE_TUNING = "REINFORCEMENT_FINE_TUNING"
IMPORTED = "IMPORTED"
# CreateModelCustomizationJob's customizationType enum (botocore's bedrock model). IMPORTED names
# models brought in with CreateModelImportJob; Bedrock refuses it on CreateModelCustomizationJob.
API_CUSTOMIZATION_TYPES = (
    FINE_TUNING,
    CONTINUED_PRE_TRAINING,
    DISTILLATION,
    REINFORCEMENT_FINE_TUNING,
    IMPORTED,
)
# The types a customization job can be created with.
JOB_CUSTOMIZATION_TYPES = (FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION, REINFORCEMENT_FINE_TUNING)

# --------------------------------------------------------------------- training-data formats

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

# Cross-Region inference profile prefixes (https://docs.aws.amazon.com/bedrock/latest/userguide/
# inference-profiles-support.html): "us.amazon.nova-premier-v1:0" routes to the model in several Regions.
GEO_PREFIXES = ("us.", "eu.", "apac.", "us-gov.", "global.", "jp.", "au.", "ca.")

GB = 1024**3
MB = 1024**2

_USER_GUIDE = "https://docs.aws.amazon.com/bedrock/latest/userguide/"
SUPPORTED_URL = _USER_GUIDE + "custom-model-supported.html"
DISTILLATION_MODELS_URL = _USER_GUIDE + "prequisites-model-distillation.html"
HYPERPARAMETERS_URL = _USER_GUIDE + "custom-models-hp.html"
PREPARE_URL = _USER_GUIDE + "model-customization-prepare.html"
CPT_URL = _USER_GUIDE + "dataset-prep-continued-pretraining.html"
DISTILLATION_URL = _USER_GUIDE + "distillation-data-prep-option-1.html"
DISTILLATION_LIMITS_URL = _USER_GUIDE + "distillation-prepare-datasets.html"
NOVA_URL = "https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html"
NOVA2_URL = _USER_GUIDE + "nova-2-sft-data-prep.html"
NOVA_CANVAS_DATA_URL = (
    "https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-creative-content.html"
)

US_EAST_1 = ("us-east-1",)
US_WEST_2 = ("us-west-2",)
US_EAST_1_WEST_2 = ("us-east-1", "us-west-2")


# --------------------------------------------------------------------- row shapes


@dataclass(frozen=True)
class HyperparameterSpec:
    """One documented hyperparameter: its API name, type, inclusive range and default."""

    name: str
    kind: type  # int or float
    minimum: float
    maximum: float
    default: float | None
    special_values: tuple[str, ...] = ()  # e.g. ("Auto",)
    # The Cohere and Llama 2 / 3.1 pages note that the epochCount quota is adjustable: an account with a
    # raised quota may go past the documented maximum, so exceeding it is a warning there, not a problem.
    maximum_adjustable: bool = False


@dataclass(frozen=True)
class Limits:
    """Documented dataset limits for one model and one customization type; None means not documented.

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
class Customization:
    """One customization type of one family: where, with which hyperparameters, on which data."""

    regions: tuple[str, ...]
    hyperparameters: Mapping[str, HyperparameterSpec]
    dataset_format: str
    limits: Limits
    rules: ConversationRules = field(default_factory=ConversationRules)


@dataclass(frozen=True)
class ModelFamily:
    """A row: base models that share their customization tables."""

    key: str
    title: str
    model_ids: tuple[str, ...]
    # Version suffixes Bedrock lists for customization ("amazon.titan-text-express-v1:0:8k"); the bare id
    # is accepted as well.
    versions: tuple[str, ...]
    doc_url: str
    customizations: Mapping[str, Customization]
    # Distillation: the teachers this model can learn from (as a student), and whether it can teach.
    teachers: tuple[str, ...] = ()
    teacher: bool = False
    # Geo prefixes of the inference profiles Bedrock accepts for this model as a distillation teacher.
    teacher_profiles: tuple[str, ...] = ()
    # Customization prices (one record per model when they differ), None where none is recorded.
    pricing: tuple[ModelPrices, ...] | None = None
    # Model ids of the row offered in fewer Regions than the row's customizations say.
    model_regions: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def customization_types(self) -> frozenset[str]:
        return frozenset(self.customizations)

    @property
    def hyperparameters(self) -> Mapping[str, HyperparameterSpec]:
        """The fine-tuning table (or the first type's, for a family without fine-tuning)."""
        customization = self.customizations.get(FINE_TUNING) or next(iter(self.customizations.values()), None)
        return customization.hyperparameters if customization else MappingProxyType({})

    @property
    def fine_tuning_format(self) -> str | None:
        customization = self.customizations.get(FINE_TUNING)
        return customization.dataset_format if customization else None

    @property
    def limits(self) -> dict[str, Limits]:
        return {kind: customization.limits for kind, customization in self.customizations.items()}

    @property
    def rules(self) -> ConversationRules:
        customization = self.customizations.get(FINE_TUNING)
        return customization.rules if customization else ConversationRules()

    def regions_for(self, customization_type: str, model_id: str | None = None) -> tuple[str, ...]:
        customization = self.customizations.get(customization_type)
        if customization is None:
            return ()
        narrower = self.model_regions.get(model_id or "")
        return tuple(r for r in customization.regions if r in narrower) if narrower else customization.regions


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
    HyperparameterSpec("stepCount", int, 10, 40000, None, special_values=("auto",)),
    HyperparameterSpec("learningRate", float, 1e-7, 1.0, 1e-5),
)
# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-titan-mm.html
# epochCount has no default and must be given, as a number or the capitalised "Auto".
_TITAN_MM_EMBED_HP = _table(
    HyperparameterSpec("epochCount", int, 1, 100, None, special_values=("Auto",)),
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
    regions: tuple[str, ...], hyperparameters: Mapping[str, HyperparameterSpec], *, multi_turn: bool
) -> Customization:
    """Distillation has no hyperparameter table of its own: the student's applies (prequisites page)."""
    rules = _DISTILL_MULTI_TURN if multi_turn else _DISTILL_SINGLE_TURN
    return Customization(regions, hyperparameters, DISTILLATION_PROMPTS, DISTILLATION_LIMITS, rules)


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


# --------------------------------------------------------------------- the rows

# Prices (USD), from https://aws.amazon.com/bedrock/pricing/, US East (N. Virginia) and US West (Oregon):
# per 1,000 training tokens, per custom model per month of storage, per model unit per hour of
# Provisioned Throughput with no commitment, 1-month and 6-month commitment. The Cohere and Meta rows are
# the page's Cohere and Meta tabs ("Customization (fine-tuning) pricing", "Provisioned Throughput
# pricing"); the Titan Text rows its Amazon tab's customization table (Express's hourly price was not in
# the copies read); Titan Image Generator's from its pricing example (training billed per image seen).
# Rows without pricing have no price that could be read and checked; estimates for them are unknown.
# Regions: the "Single-region model support" column of SUPPORTED_URL for fine-tuning; continued
# pre-training is offered in us-east-1 and us-west-2 (same page); distillation students follow the
# Regions of their fine-tuning. Models the current page no longer lists (Titan Text Lite and Premier,
# Cohere Command, Llama 2) keep the Regions of the earlier versions of the page.
_PER_IMAGE = "training is billed per image seen (0.005 USD x steps x batch size), not per token"

FAMILIES: tuple[ModelFamily, ...] = (
    ModelFamily(
        key="amazon.titan-text-express",
        title="Amazon Titan Text G1 - Express",
        model_ids=("amazon.titan-text-express-v1",),
        versions=(":0:8k",),
        doc_url=_USER_GUIDE + "cm-hp-titan-text.html",
        customizations=_types(
            fine_tuning=_ft(US_EAST_1_WEST_2, _TITAN_TEXT_G1_HP, PROMPT_COMPLETION, _TITAN_EXPRESS_LIMITS),
            continued_pre_training=_cpt(US_EAST_1_WEST_2, _TITAN_TEXT_G1_HP, _TITAN_EXPRESS_CPT_LIMITS),
        ),
        pricing=(aws_prices(training=0.008, storage=1.95),),
    ),
    ModelFamily(
        key="amazon.titan-text-lite",
        title="Amazon Titan Text G1 - Lite",
        model_ids=("amazon.titan-text-lite-v1",),
        versions=(":0:4k",),
        doc_url=_USER_GUIDE + "cm-hp-titan-text.html",
        customizations=_types(
            fine_tuning=_ft(US_EAST_1_WEST_2, _TITAN_TEXT_G1_HP, PROMPT_COMPLETION, _TITAN_LITE_LIMITS),
            continued_pre_training=_cpt(US_EAST_1_WEST_2, _TITAN_TEXT_G1_HP, _TITAN_LITE_CPT_LIMITS),
        ),
        pricing=(aws_prices(training=0.0004, storage=1.95, provisioned=7.10),),
    ),
    ModelFamily(
        key="amazon.titan-text-premier",
        title="Amazon Titan Text G1 - Premier",
        model_ids=("amazon.titan-text-premier-v1",),
        versions=(":0",),
        doc_url=_USER_GUIDE + "cm-hp-titan-text.html",
        customizations=_types(
            fine_tuning=_ft(US_EAST_1, _TITAN_TEXT_PREMIER_HP, PROMPT_COMPLETION, _TITAN_PREMIER_LIMITS),
        ),
    ),
    ModelFamily(
        key="amazon.titan-image-generator",
        title="Amazon Titan Image Generator G1",
        model_ids=("amazon.titan-image-generator-v1", "amazon.titan-image-generator-v2"),
        versions=(":0",),
        doc_url=_USER_GUIDE + "cm-hp-titan-image.html",
        customizations=_types(
            fine_tuning=_ft(US_EAST_1_WEST_2, _TITAN_IMAGE_HP, IMAGE_CAPTION, _TITAN_IMAGE_LIMITS),
        ),
        pricing=(aws_prices(storage=1.95, training_note=_PER_IMAGE),),
        # custom-model-supported.html: Titan Image Generator G1 (v1) is fine-tuned in us-east-1 only,
        # G1 v2 in us-east-1 and us-west-2.
        model_regions=MappingProxyType({"amazon.titan-image-generator-v1": US_EAST_1}),
    ),
    ModelFamily(
        key="amazon.titan-embed-image",
        title="Amazon Titan Multimodal Embeddings G1",
        model_ids=("amazon.titan-embed-image-v1",),
        versions=(":0",),
        doc_url=_USER_GUIDE + "cm-hp-titan-mm.html",
        customizations=_types(
            fine_tuning=_ft(US_EAST_1_WEST_2, _TITAN_MM_EMBED_HP, IMAGE_CAPTION, _TITAN_MM_EMBED_LIMITS),
        ),
    ),
    ModelFamily(
        key="amazon.nova-micro",
        title="Amazon Nova Micro",
        model_ids=("amazon.nova-micro-v1",),
        versions=(":0:128k", ":0"),
        doc_url=_USER_GUIDE + "cm-hp-nova-mm.html",
        customizations=_types(
            fine_tuning=_ft(US_EAST_1, _NOVA_UNDERSTANDING_HP, CONVERSATION, _NOVA_LIMITS, _NOVA_RULES),
            distillation=_distill(US_EAST_1_WEST_2, _NOVA_UNDERSTANDING_HP, multi_turn=True),
        ),
        teachers=_NOVA_TEACHERS,
    ),
    ModelFamily(
        key="amazon.nova-lite",
        title="Amazon Nova Lite",
        model_ids=("amazon.nova-lite-v1",),
        versions=(":0:300k", ":0"),
        doc_url=_USER_GUIDE + "cm-hp-nova-mm.html",
        customizations=_types(
            fine_tuning=_ft(US_EAST_1, _NOVA_UNDERSTANDING_HP, CONVERSATION, _NOVA_LIMITS, _NOVA_RULES),
            distillation=_distill(US_EAST_1_WEST_2, _NOVA_UNDERSTANDING_HP, multi_turn=True),
        ),
        teachers=_NOVA_TEACHERS,
    ),
    ModelFamily(
        key="amazon.nova-pro",
        title="Amazon Nova Pro",
        model_ids=("amazon.nova-pro-v1",),
        versions=(":0:300k", ":0"),
        doc_url=_USER_GUIDE + "cm-hp-nova-mm.html",
        customizations=_types(
            fine_tuning=_ft(US_EAST_1, _NOVA_UNDERSTANDING_HP, CONVERSATION, _NOVA_LIMITS, _NOVA_RULES),
            distillation=_distill(US_EAST_1_WEST_2, _NOVA_UNDERSTANDING_HP, multi_turn=True),
        ),
        teachers=("amazon.nova-premier-v1:0",),
        teacher=True,
        teacher_profiles=("us.",),
    ),
    ModelFamily(
        key="amazon.nova-2-lite",
        title="Amazon Nova 2 Lite",
        model_ids=("amazon.nova-2-lite-v1",),
        versions=(":0:256k", ":0"),
        doc_url=NOVA2_URL,
        customizations=_types(
            fine_tuning=_ft(US_EAST_1, _NOVA_UNDERSTANDING_HP, CONVERSATION, _NOVA_LIMITS, _NOVA2_RULES),
        ),
    ),
    ModelFamily(
        key="amazon.nova-canvas",
        title="Amazon Nova Canvas",
        model_ids=("amazon.nova-canvas-v1",),
        versions=(":0",),
        doc_url=_USER_GUIDE + "cm-hp-nova-canvas.html",
        customizations=_types(
            fine_tuning=_ft(US_EAST_1, _NOVA_CANVAS_HP, IMAGE_CAPTION, _NOVA_CANVAS_LIMITS),
        ),
    ),
    ModelFamily(
        key="amazon.nova-premier",
        title="Amazon Nova Premier",
        model_ids=("amazon.nova-premier-v1",),
        versions=(":0",),
        doc_url=DISTILLATION_MODELS_URL,
        customizations=_types(),
        teacher=True,
        teacher_profiles=("us.",),
    ),
    ModelFamily(
        key="anthropic.claude-3-haiku",
        title="Anthropic Claude 3 Haiku",
        model_ids=("anthropic.claude-3-haiku-20240307-v1",),
        versions=(":0:200k", ":0"),
        doc_url=_USER_GUIDE + "cm-hp-anth-claude-3.html",
        customizations=_types(
            fine_tuning=_ft(US_WEST_2, _CLAUDE_3_HP, CLAUDE_MESSAGES, _CLAUDE_3_HAIKU_LIMITS),
            distillation=_distill(US_WEST_2, _CLAUDE_3_HP, multi_turn=False),
        ),
        teachers=_CLAUDE_TEACHERS,
    ),
    ModelFamily(
        key="anthropic.claude-3-5-sonnet",
        title="Anthropic Claude 3.5 Sonnet",
        model_ids=("anthropic.claude-3-5-sonnet-20240620-v1", "anthropic.claude-3-5-sonnet-20241022-v2"),
        versions=(":0",),
        doc_url=DISTILLATION_MODELS_URL,
        customizations=_types(),
        teacher=True,
        teacher_profiles=("us.",),
    ),
    ModelFamily(
        key="cohere.command",
        title="Cohere Command",
        model_ids=("cohere.command-text-v14",),
        versions=(":7:4k",),
        doc_url=_USER_GUIDE + "cm-hp-cohere-command.html",
        customizations=_types(
            fine_tuning=_ft(
                US_EAST_1_WEST_2, _cohere_hp(max_batch_size=8), PROMPT_COMPLETION, _COHERE_LIMITS
            ),
        ),
        pricing=(aws_prices(0.004, 1.95, provisioned=49.50, one_month=39.60, six_months=23.77),),
    ),
    ModelFamily(
        key="cohere.command-light",
        title="Cohere Command Light",
        model_ids=("cohere.command-light-text-v14",),
        versions=(":7:4k",),
        doc_url=_USER_GUIDE + "cm-hp-cohere-command.html",
        customizations=_types(
            fine_tuning=_ft(
                US_EAST_1_WEST_2, _cohere_hp(max_batch_size=32), PROMPT_COMPLETION, _COHERE_LIMITS
            ),
        ),
        pricing=(aws_prices(0.001, 1.95, provisioned=8.56, one_month=6.85, six_months=4.11),),
    ),
    ModelFamily(
        key="meta.llama2",
        title="Meta Llama 2 (13B, 70B)",
        model_ids=("meta.llama2-13b-v1", "meta.llama2-70b-v1"),
        versions=(":0:4k",),
        doc_url=_USER_GUIDE + "cm-hp-meta-llama2.html",
        customizations=_types(
            fine_tuning=_ft(US_EAST_1_WEST_2, _LLAMA_ADJUSTABLE_HP, PROMPT_COMPLETION, _NO_LIMITS),
        ),
        pricing=(
            aws_prices(0.00149, 1.95, 23.50, 21.18, 13.08, model_ids=("meta.llama2-13b-v1",)),
            aws_prices(0.00799, 1.95, 23.50, 21.18, 13.08, model_ids=("meta.llama2-70b-v1",)),
        ),
    ),
    ModelFamily(
        key="meta.llama3-1",
        title="Meta Llama 3.1 (8B, 70B Instruct)",
        model_ids=("meta.llama3-1-8b-instruct-v1", "meta.llama3-1-70b-instruct-v1"),
        versions=(":0:128k", ":0"),
        doc_url=_USER_GUIDE + "cm-hp-meta-llama31.html",
        customizations=_types(
            fine_tuning=_ft(US_WEST_2, _LLAMA_ADJUSTABLE_HP, PROMPT_COMPLETION, _LLAMA_3_1_LIMITS),
            distillation=_distill(US_WEST_2, _LLAMA_ADJUSTABLE_HP, multi_turn=False),
        ),
        teachers=_LLAMA_TEACHERS,
        teacher=True,
    ),
    ModelFamily(
        key="meta.llama3-1-405b",
        title="Meta Llama 3.1 405B Instruct",
        model_ids=("meta.llama3-1-405b-instruct-v1",),
        versions=(":0",),
        doc_url=DISTILLATION_MODELS_URL,
        customizations=_types(),
        teacher=True,
    ),
    ModelFamily(
        key="meta.llama3-2",
        title="Meta Llama 3.2 (1B, 3B Instruct)",
        model_ids=("meta.llama3-2-1b-instruct-v1", "meta.llama3-2-3b-instruct-v1"),
        versions=(":0:128k", ":0"),
        doc_url=_USER_GUIDE + "cm-hp-meta-llama32.html",
        customizations=_types(
            fine_tuning=_ft(US_WEST_2, _LLAMA_HP, CONVERSATION, _LLAMA_3_2_LIMITS),
            distillation=_distill(US_WEST_2, _LLAMA_HP, multi_turn=False),
        ),
        teachers=_LLAMA_TEACHERS,
    ),
    ModelFamily(
        key="meta.llama3-2-11b",
        title="Meta Llama 3.2 11B Vision Instruct",
        model_ids=("meta.llama3-2-11b-instruct-v1",),
        versions=(":0:128k", ":0"),
        doc_url=_USER_GUIDE + "cm-hp-meta-llama32.html",
        customizations=_types(
            fine_tuning=_ft(US_WEST_2, _LLAMA_HP, CONVERSATION, _LLAMA_3_2_LIMITS, _IMAGES_RULES),
        ),
    ),
    ModelFamily(
        key="meta.llama3-2-90b",
        title="Meta Llama 3.2 90B Vision Instruct",
        model_ids=("meta.llama3-2-90b-instruct-v1",),
        versions=(":0:128k", ":0"),
        doc_url=_USER_GUIDE + "cm-hp-meta-llama32.html",
        customizations=_types(
            fine_tuning=_ft(US_WEST_2, _LLAMA_HP, CONVERSATION, _LLAMA_3_2_90B_LIMITS, _IMAGES_RULES),
        ),
    ),
    ModelFamily(
        key="meta.llama3-3",
        title="Meta Llama 3.3 70B Instruct",
        model_ids=("meta.llama3-3-70b-instruct-v1",),
        versions=(":0:128k", ":0"),
        doc_url=HYPERPARAMETERS_URL,
        customizations=_types(
            fine_tuning=_ft(US_WEST_2, _LLAMA_HP, CONVERSATION, _LLAMA_3_3_LIMITS, _IMAGES_RULES),
        ),
        teacher=True,
    ),
)


# --------------------------------------------------------------------- looking a model up


@dataclass(frozen=True)
class ModelRef:
    """A model identifier resolved against the catalog."""

    identifier: str
    family: ModelFamily
    model_id: str  # bare id, e.g. "amazon.titan-text-express-v1"
    version: str  # "" or the suffix given, e.g. ":0:8k"
    region: str | None = None  # the Region of a foundation-model ARN
    geo_prefix: str | None = None  # "us." for an inference profile id

    @property
    def versioned_id(self) -> str:
        return self.model_id + self.version

    @property
    def customizable_id(self) -> str:
        """The id Bedrock lists for customization (first version of the row)."""
        return self.model_id + (self.family.versions[0] if self.family.versions else "")


_BY_ID: dict[str, ModelFamily] = {model_id: family for family in FAMILIES for model_id in family.model_ids}


def _split_arn(text: str) -> tuple[str | None, str] | None:
    """(Region, model id) of a foundation-model or inference-profile ARN; None for other ARNs."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[2] != "bedrock":
        return None
    resource = parts[5]
    for kind in ("foundation-model/", "inference-profile/"):
        if resource.startswith(kind):
            return parts[3] or None, resource.removeprefix(kind)
    return None


def resolve(identifier: object) -> ModelRef | None:
    """The catalog row of a model id, a versioned id, a foundation-model ARN or an inference profile.

    Only a whole id, or a ':'-qualified version of it, matches: 'v1' never claims a future 'v10'.
    None for anything else (custom models, models this catalog does not know).
    """
    if not isinstance(identifier, str):
        return None
    text = identifier.strip().lower()
    region: str | None = None
    if text.startswith("arn:"):
        split = _split_arn(text)
        if split is None:
            return None
        region, text = split
    geo: str | None = None
    for prefix in GEO_PREFIXES:
        if text.startswith(prefix):
            geo, text = prefix, text[len(prefix) :]
            break
    model_id, colon, version = text.partition(":")
    family = _BY_ID.get(model_id)
    if family is None:
        return None
    return ModelRef(identifier, family, model_id, colon + version, region, geo)


def family_for(identifier: object) -> ModelFamily | None:
    """The row of a base model (not of a geo-prefixed inference profile, which is not a base model)."""
    ref = resolve(identifier)
    return ref.family if ref is not None and ref.geo_prefix is None else None


def id_forms(family: ModelFamily, region: str = "us-east-1", partition: str = "aws") -> Iterator[str]:
    """Every form of the row's ids: bare, versioned, their foundation-model ARNs and the teacher profiles."""
    for model_id in family.model_ids:
        for version in ("", *family.versions):
            yield model_id + version
            yield f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}{version}"
        for geo in family.teacher_profiles:
            yield f"{geo}{model_id}{family.versions[-1] if family.versions else ''}"


def base_model_problem(ref: ModelRef, customization_type: str, region: str | None = None) -> str | None:
    """Why Bedrock would not customize this model this way (in that Region), or None if it would."""
    family = ref.family
    if ref.geo_prefix is not None:
        return (
            f"{ref.identifier} is a cross-Region inference profile; Bedrock customizes the foundation model "
            f"itself: use {ref.customizable_id}"
        )
    if ref.version and ref.version not in family.versions:
        return (
            f"{ref.identifier} is not a version Bedrock lists for customization; use {ref.customizable_id} "
            f"(see {SUPPORTED_URL})"
        )
    customization = family.customizations.get(customization_type)
    if customization is None:
        offered = ", ".join(sorted(family.customizations)) or "no customization"
        return f"{family.title} supports {offered}, not {customization_type} (see {SUPPORTED_URL})"
    where = ref.region or region
    regions = family.regions_for(customization_type, ref.model_id)
    if where is not None and where not in regions:
        return (
            f"{customization_type} of {ref.model_id} ({family.title}) is offered in {', '.join(regions)}, "
            f"not in {where} (see {SUPPORTED_URL})"
        )
    return None


def teacher_problem(teacher_identifier: object, student: ModelFamily) -> str | None:
    """Why Bedrock would not distill the student from this teacher, or None if it would."""
    ref = resolve(teacher_identifier)
    if ref is None or not ref.family.teacher:
        return f"{teacher_identifier} is not a distillation teacher model (see {DISTILLATION_MODELS_URL})"
    if ref.geo_prefix is not None and ref.geo_prefix not in ref.family.teacher_profiles:
        return f"{teacher_identifier} is not an inference profile Bedrock takes for distillation"
    taught = {teacher.split(":")[0] for teacher in student.teachers}
    if ref.model_id not in taught:
        return (
            f"{student.title} cannot be distilled from {ref.family.title}; its teachers are "
            f"{', '.join(student.teachers)} (see {DISTILLATION_MODELS_URL})"
        )
    return None


@dataclass(frozen=True)
class ModelProblem:
    """Why Bedrock would refuse a base model, and which parameter to blame: the model, or the type."""

    field: str  # "base_model_id" or "customization_type"
    message: str


def check_base_model(
    identifier: object, customization_type: str, region: str | None = None
) -> tuple[ModelFamily | None, ModelProblem | None]:
    """(row, why Bedrock would refuse it) for a base model and customization type.

    A model the catalog does not know gives (None, None): it is passed on for Bedrock to judge. The
    request validator and the dataset planner both ask this, so they cannot disagree.
    """
    ref = resolve(identifier)
    if ref is None:
        return None, None
    message = base_model_problem(ref, customization_type, region)
    if message is None:
        return ref.family, None
    known_type = ref.geo_prefix is None and customization_type not in ref.family.customizations
    return ref.family, ModelProblem("customization_type" if known_type else "base_model_id", message)
