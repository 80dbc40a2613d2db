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
# Reinforcement fine-tuning prompts (RFT_NOVA_URL, "Prepare data"): the dataset checks for them belong
# to dataset preparation, so the format is not in FORMATS until they exist.
RFT_PROMPTS = "rft-prompts"
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

RFT_URL = _USER_GUIDE + "reinforcement-fine-tuning.html"
RFT_NOVA_URL = _USER_GUIDE + "rft-nova-models.html"
# Open-weight models are reinforcement fine-tuned through Bedrock's OpenAI-compatible fine-tuning API
# (Files API, then fine_tuning.jobs.create on https://bedrock-mantle.REGION.api.aws/v1), authenticated
# with a Bedrock API key (the OpenAI SDK needs one; plain HTTP requests also take SigV4 credentials):
# this page and rft-open-weight-access-security.html.
OPENAI_FINE_TUNING_URL = _USER_GUIDE + "fine-tuning-openai-apis.html"
NOVA2_CUSTOMIZATION_URL = "https://docs.aws.amazon.com/nova/latest/nova2-userguide/customization.html"
# The date the rows' source pages were read (each row names its page and this date).
CHECKED = "2026-12-05"

CUSTOMIZATION_JOB_API = "CreateModelCustomizationJob"
OPENAI_FINE_TUNING_API = "the OpenAI-compatible fine-tuning API"

US_EAST_1 = ("us-east-1",)
US_WEST_2 = ("us-west-2",)
US_EAST_1_WEST_2 = ("us-east-1", "us-west-2")


# --------------------------------------------------------------------- row shapes


@dataclass(frozen=True)
class HyperparameterSpec:
    """One documented hyperparameter: its API name, type, inclusive range and default."""

    name: str
    kind: type  # int, float, or str (a value from ``choices``)
    minimum: float | None  # None: the source gives no bound
    maximum: float | None
    default: float | None
    special_values: tuple[str, ...] = ()  # e.g. ("Auto",)
    # The values a str hyperparameter takes (an enum of Bedrock's API model).
    choices: tuple[str, ...] = ()
    # The page says there is no default: the job must give it.
    required: bool = False
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
    # The API AWS documents for it: CreateModelCustomizationJob (what this provider submits), or the
    # OpenAI-compatible fine-tuning API of the open-weight models.
    api: str = CUSTOMIZATION_JOB_API
    # The page that documents this type for the row's models, where it is not the row's source_url.
    source_url: str | None = None


@dataclass(frozen=True)
class ModelFamily:
    """A row: base models that share their customization tables."""

    key: str
    title: str
    model_ids: tuple[str, ...]
    # Version suffixes Bedrock lists for customization ("amazon.titan-text-express-v1:0:8k"); the bare id
    # is accepted as well.
    versions: tuple[str, ...]
    doc_url: str  # the hyperparameter (or data) page
    # The AWS page that lists the row's models, Regions and customization types, and the date it was read.
    source_url: str
    checked: str
    customizations: Mapping[str, Customization]
    # Gone from AWS's current customization tables (source_url, as of checked): refused with the source.
    retired: bool = False
    # Distillation: the teachers this model can learn from (as a student), and whether it can teach.
    teachers: tuple[str, ...] = ()
    teacher: bool = False
    # Geo prefixes of the inference profiles Bedrock accepts for this model as a distillation teacher.
    teacher_profiles: tuple[str, ...] = ()
    # Customization prices (one record per model when they differ), None where none is recorded.
    pricing: tuple[ModelPrices, ...] | None = None

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

    def regions_for(self, customization_type: str) -> tuple[str, ...]:
        customization = self.customizations.get(customization_type)
        return customization.regions if customization else ()


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
# RFT_NOVA_URL: "You can provide a maximum of 20K prompts ... for reinforcement fine-tuning".
_RFT_LIMITS = Limits(RFT_NOVA_URL, max_total_records=20_000)
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
# Regions of their fine-tuning. Every row names the page that lists it (source_url) and the date that
# page was read (checked). Rows for models the current page no longer lists (Titan Text Lite and Premier,
# Cohere Command and Command Light, Llama 2 13B and 70B) are kept, marked retired, so that a job naming
# one is refused with that page instead of failing at Bedrock; their tables are those of the earlier
# versions of the pages.
_PER_IMAGE = "training is billed per image seen (0.005 USD x steps x batch size), not per token"


def _titan_image(key: str, title_suffix: str, id_suffix: str, regions: tuple[str, ...]) -> ModelFamily:
    """Titan Image Generator G1 and G1 v2 share their tables and prices, not their Regions."""
    return ModelFamily(
        key=key,
        title="Amazon Titan Image Generator G1" + title_suffix,
        model_ids=("amazon.titan-image-generator" + id_suffix,),
        versions=(":0",),
        doc_url=_USER_GUIDE + "cm-hp-titan-image.html",
        source_url=SUPPORTED_URL,
        checked=CHECKED,
        customizations=_types(fine_tuning=_ft(regions, _TITAN_IMAGE_HP, IMAGE_CAPTION, _TITAN_IMAGE_LIMITS)),
        pricing=(aws_prices(storage=1.95, training_note=_PER_IMAGE),),
    )


def _open_weight(key: str, title: str, versioned_id: str) -> ModelFamily:
    """An open-weight model: RFT_URL lists its reinforcement fine-tuning in us-west-2, and
    OPENAI_FINE_TUNING_URL documents it through the OpenAI-compatible fine-tuning API with a Bedrock API
    key, not CreateModelCustomizationJob (which this provider submits). Its ids: the short form the RFT
    page uses and the versioned one of its model page (model-parameters-openai.html:
    openai.gpt-oss-20b-1:0)."""
    return ModelFamily(
        key=key,
        title=title,
        model_ids=(key, versioned_id),
        versions=(":0",),
        doc_url=OPENAI_FINE_TUNING_URL,
        source_url=RFT_URL,
        checked=CHECKED,
        customizations=_types(
            reinforcement_fine_tuning=_rft(US_WEST_2, RFT_URL, api=OPENAI_FINE_TUNING_API),
        ),
    )


FAMILIES: tuple[ModelFamily, ...] = (
    ModelFamily(
        key="amazon.titan-text-express",
        title="Amazon Titan Text G1 - Express",
        model_ids=("amazon.titan-text-express-v1",),
        versions=(":0:8k",),
        doc_url=_USER_GUIDE + "cm-hp-titan-text.html",
        source_url=SUPPORTED_URL,
        checked=CHECKED,
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
        source_url=SUPPORTED_URL,
        checked=CHECKED,
        retired=True,
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
        source_url=SUPPORTED_URL,
        checked=CHECKED,
        retired=True,
        customizations=_types(
            fine_tuning=_ft(US_EAST_1, _TITAN_TEXT_PREMIER_HP, PROMPT_COMPLETION, _TITAN_PREMIER_LIMITS),
        ),
    ),
    # SUPPORTED_URL lists Titan Image Generator G1 (v1) in us-east-1 only, G1 v2 in both Regions.
    _titan_image("amazon.titan-image-generator", "", "-v1", US_EAST_1),
    _titan_image("amazon.titan-image-generator-v2", " v2", "-v2", US_EAST_1_WEST_2),
    ModelFamily(
        key="amazon.titan-embed-image",
        title="Amazon Titan Multimodal Embeddings G1",
        model_ids=("amazon.titan-embed-image-v1",),
        versions=(":0",),
        doc_url=_USER_GUIDE + "cm-hp-titan-mm.html",
        source_url=SUPPORTED_URL,
        checked=CHECKED,
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
        source_url=SUPPORTED_URL,
        checked=CHECKED,
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
        source_url=SUPPORTED_URL,
        checked=CHECKED,
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
        source_url=SUPPORTED_URL,
        checked=CHECKED,
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
        # SUPPORTED_URL and RFT_NOVA_URL list it as amazon.nova-2-lite-v1:0:256k.
        model_ids=("amazon.nova-2-lite-v1",),
        versions=(":0:256k", ":0"),
        doc_url=NOVA2_URL,
        source_url=SUPPORTED_URL,
        checked=CHECKED,
        customizations=_types(
            fine_tuning=_ft(US_EAST_1, _NOVA_UNDERSTANDING_HP, CONVERSATION, _NOVA_LIMITS, _NOVA2_RULES),
            # The Nova 2 user guide's customization page offers Nova 2 Lite as a Bedrock distillation
            # student; it names no teacher for it, so any teacher is passed on with a warning. The
            # Region is that of its fine-tuning, as for the other students.
            distillation=_distill(
                US_EAST_1, _NOVA_UNDERSTANDING_HP, multi_turn=True, source_url=NOVA2_CUSTOMIZATION_URL
            ),
            reinforcement_fine_tuning=_rft(US_EAST_1, RFT_NOVA_URL),
        ),
    ),
    ModelFamily(
        key="amazon.nova-canvas",
        title="Amazon Nova Canvas",
        model_ids=("amazon.nova-canvas-v1",),
        versions=(":0",),
        doc_url=_USER_GUIDE + "cm-hp-nova-canvas.html",
        source_url=SUPPORTED_URL,
        checked=CHECKED,
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
        source_url=DISTILLATION_MODELS_URL,
        checked=CHECKED,
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
        source_url=SUPPORTED_URL,
        checked=CHECKED,
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
        source_url=DISTILLATION_MODELS_URL,
        checked=CHECKED,
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
        source_url=SUPPORTED_URL,
        checked=CHECKED,
        retired=True,
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
        source_url=SUPPORTED_URL,
        checked=CHECKED,
        retired=True,
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
        source_url=SUPPORTED_URL,
        checked=CHECKED,
        retired=True,
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
        source_url=SUPPORTED_URL,
        checked=CHECKED,
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
        source_url=DISTILLATION_MODELS_URL,
        checked=CHECKED,
        customizations=_types(),
        teacher=True,
    ),
    ModelFamily(
        key="meta.llama3-2",
        title="Meta Llama 3.2 (1B, 3B Instruct)",
        model_ids=("meta.llama3-2-1b-instruct-v1", "meta.llama3-2-3b-instruct-v1"),
        versions=(":0:128k", ":0"),
        doc_url=_USER_GUIDE + "cm-hp-meta-llama32.html",
        source_url=SUPPORTED_URL,
        checked=CHECKED,
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
        source_url=SUPPORTED_URL,
        checked=CHECKED,
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
        source_url=SUPPORTED_URL,
        checked=CHECKED,
        customizations=_types(
            fine_tuning=_ft(US_WEST_2, _LLAMA_HP, CONVERSATION, _LLAMA_3_2_90B_LIMITS, _IMAGES_RULES),
        ),
    ),
    _open_weight("openai.gpt-oss-20b", "OpenAI gpt-oss-20b", "openai.gpt-oss-20b-1"),
    _open_weight("qwen.qwen3-32b", "Qwen3 32B", "qwen.qwen3-32b-v1"),
    ModelFamily(
        key="meta.llama3-3",
        title="Meta Llama 3.3 70B Instruct",
        model_ids=("meta.llama3-3-70b-instruct-v1",),
        versions=(":0:128k", ":0"),
        doc_url=HYPERPARAMETERS_URL,
        source_url=SUPPORTED_URL,
        checked=CHECKED,
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


def _source(family: ModelFamily, customization: Customization | None = None) -> str:
    """The page a statement about the row comes from, and when it was read."""
    url = (customization.source_url if customization is not None else None) or family.source_url
    return f"{url}, checked {family.checked}"


def _current_alternatives(customization_type: str) -> str:
    offered = [
        family.model_ids[0] + (family.versions[0] if family.versions else "")
        for family in FAMILIES
        if not family.retired
        and (customization := family.customizations.get(customization_type)) is not None
        and customization.api == CUSTOMIZATION_JOB_API
    ]
    return ", ".join(offered[:3]) or "a model the page lists"


def base_model_problem(ref: ModelRef, customization_type: str, region: str | None = None) -> str | None:
    """Why the catalog says Bedrock would not customize this model this way (in that Region), or None.

    A version the row does not list is not a problem here (see version_warning): AWS adds versions
    faster than a catalog follows.
    """
    family = ref.family
    if ref.geo_prefix is not None:
        return (
            f"{ref.identifier} is a cross-Region inference profile; Bedrock customizes the foundation model "
            f"itself: use {ref.customizable_id}"
        )
    if family.retired:
        return (
            f"{family.title} is retired from Bedrock model customization: AWS's table of customizable "
            f"models no longer lists it ({_source(family)}). Use a current model such as "
            f"{_current_alternatives(customization_type)}"
        )
    customization = family.customizations.get(customization_type)
    if customization is None:
        offered = ", ".join(sorted(family.customizations)) or "no customization"
        return f"{family.title} supports {offered}, not {customization_type} (see {_source(family)})"
    if customization.api != CUSTOMIZATION_JOB_API:
        return (
            f"AWS documents {customization_type} of {family.title} through {customization.api} "
            f"(with a Bedrock API key; see {family.doc_url}), not through CreateModelCustomizationJob, "
            f"which this provider submits ({_source(family, customization)})"
        )
    where = region or ref.region
    if where is not None and where not in customization.regions:
        return (
            f"{customization_type} of {family.title} is offered in {', '.join(customization.regions)}, "
            f"not in {where} (see {_source(family, customization)})"
        )
    return None


def version_warning(ref: ModelRef) -> str | None:
    """A version suffix the row does not list: passed on, since AWS adds versions before any catalog."""
    if not ref.version or ref.version in ref.family.versions:
        return None
    listed = ", ".join(ref.model_id + version for version in ref.family.versions)
    return (
        f"{ref.identifier} is a version of {ref.family.title} the catalog does not list ({listed}; "
        f"{_source(ref.family)}); it is passed on for Bedrock to judge"
    )


def region_problem(identifier: object, region: str | None) -> str | None:
    """A foundation-model ARN of another Region than the job's: Bedrock customizes a model in the Region
    the request is sent to (botocore's CreateModelCustomizationJob takes the ARN, the endpoint decides
    the Region), so the ARN and the job must agree. Any model, in the catalog or not."""
    if not isinstance(identifier, str) or not region:
        return None
    split = _split_arn(identifier.strip().lower())
    if split is None or split[0] is None or split[0] == region:
        return None
    arn_region, model_id = split
    return (
        f"{identifier} is a foundation model in {arn_region}, but the job runs in {region}: give "
        f"arn:aws:bedrock:{region}::foundation-model/{model_id} or the model id {model_id}, or run the "
        f"job in {arn_region} (region_name)"
    )


def _teachers_text(student: ModelFamily) -> str:
    return ", ".join(student.teachers) if student.teachers else "none documented"


def teacher_problem(teacher_identifier: object, student: ModelFamily) -> str | None:
    """Why Bedrock would not distill the student from this teacher, or None if it would (or if the
    catalog cannot tell: see teacher_warning)."""
    ref = resolve(teacher_identifier)
    if ref is None:
        return None
    if not ref.family.teacher:
        return f"{teacher_identifier} is not a distillation teacher model (see {DISTILLATION_MODELS_URL})"
    if ref.geo_prefix is not None and ref.geo_prefix not in ref.family.teacher_profiles:
        return f"{teacher_identifier} is not an inference profile Bedrock takes for distillation"
    taught = {teacher.split(":")[0] for teacher in student.teachers}
    if student.teachers and ref.model_id not in taught:
        distillation = student.customizations.get(DISTILLATION)
        return (
            f"{student.title} cannot be distilled from {ref.family.title}; its teachers are "
            f"{_teachers_text(student)} (see {_source(student, distillation)})"
        )
    return None


def teacher_warning(teacher_identifier: object, student: ModelFamily) -> str | None:
    """What the catalog cannot check about a teacher: one it does not know, or a student whose page
    names no teachers."""
    distillation = student.customizations.get(DISTILLATION)
    if resolve(teacher_identifier) is None:
        return (
            f"The teacher {teacher_identifier} is not in the model catalog; it is passed on for Bedrock "
            f"to judge (documented teachers of {student.title}: {_teachers_text(student)}; "
            f"{_source(student, distillation)})"
        )
    if not student.teachers:
        return (
            f"AWS documents no teachers for {student.title} ({_source(student, distillation)}); the "
            f"teacher {teacher_identifier} is passed on for Bedrock to judge"
        )
    return None


# --------------------------------------------------------------------- strict or warn

# model_checks: "strict" refuses what the catalog says Bedrock would refuse; "warn" logs it and lets
# Bedrock decide, the documented way out on the day AWS changes before this catalog does.
STRICT = "strict"
WARN = "warn"
MODEL_CHECKS = (STRICT, WARN)


def model_checks_problem(value: object) -> str | None:
    if value in MODEL_CHECKS:
        return None
    return (
        f"must be {STRICT!r} (refuse what the model catalog says Bedrock would refuse) or {WARN!r} (log "
        "it and let Bedrock decide)"
    )


def relaxed(message: str) -> str:
    """A catalog refusal, as model_checks="warn" logs it instead."""
    return f"model_checks='warn', so this is passed on for Bedrock to judge: {message}"


@dataclass(frozen=True)
class ModelProblem:
    """Why Bedrock would refuse a base model, and which parameter to blame: the model, or the type."""

    field: str  # "base_model_id" or "customization_type"
    message: str


@dataclass(frozen=True)
class CatalogCheck:
    """What the catalog says of a base model for a job: its row, what to refuse, what to log."""

    family: ModelFamily | None
    problems: tuple[ModelProblem, ...] = ()
    warnings: tuple[str, ...] = ()


def catalog_check(
    identifier: object, customization_type: str, region: str | None = None, model_checks: str = STRICT
) -> CatalogCheck:
    """The catalog's verdict on a base model and customization type, in the job's Region.

    A model or a version the catalog does not know always passes with a warning. What the catalog would
    refuse (a retired model, a type or Region it does not list) is a problem under "strict" and a
    warning under "warn". A foundation-model ARN of another Region is refused either way: that is no
    catalog fact but the request contradicting itself.
    """
    problems: list[ModelProblem] = []
    warnings: list[str] = []
    if (wrong_region := region_problem(identifier, region)) is not None:
        problems.append(ModelProblem("base_model_id", wrong_region))
    ref = resolve(identifier)
    if ref is None:
        if not problems:
            warnings.append(
                f"{identifier} is not in the model catalog ({SUPPORTED_URL}, checked {CHECKED}), so its "
                "customization types, Regions and hyperparameters were not checked; Bedrock checks them "
                "when the job is created"
            )
        return CatalogCheck(None, tuple(problems), tuple(warnings))
    if (version := version_warning(ref)) is not None:
        warnings.append(version)
    message = base_model_problem(ref, customization_type, region)
    if message is not None and model_checks == WARN:
        warnings.append(relaxed(message))
    elif message is not None:
        known_type = ref.geo_prefix is None and customization_type not in ref.family.customizations
        field_name = "customization_type" if known_type and not ref.family.retired else "base_model_id"
        problems.append(ModelProblem(field_name, message))
    return CatalogCheck(ref.family, tuple(problems), tuple(warnings))


def check_base_model(
    identifier: object, customization_type: str, region: str | None = None
) -> tuple[ModelFamily | None, ModelProblem | None]:
    """(row, why Bedrock would refuse it) for a base model and customization type, strictly.

    A model the catalog does not know gives (None, None): it is passed on for Bedrock to judge. The
    request validator and the dataset planner both ask this, so they cannot disagree.
    """
    check = catalog_check(identifier, customization_type, region)
    return check.family, (check.problems[0] if check.problems else None)


def rft_hyperparameters(identifier: object) -> Mapping[str, HyperparameterSpec] | None:
    """The reinforcement fine-tuning hyperparameter table of a base model (botocore's RFTHyperParameters
    bounds), or None when the catalog lists no REINFORCEMENT_FINE_TUNING for it."""
    family = family_for(identifier)
    customization = family.customizations.get(REINFORCEMENT_FINE_TUNING) if family is not None else None
    return customization.hyperparameters if customization is not None else None
