"""The model catalog's vocabulary: customization types, data formats, the AWS pages rows cite, and
the shapes of a row (the catalog package re-exports all of it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bedrock_provider.core.catalog.prices import ModelPrices

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
# Reinforcement fine-tuning prompts: the OpenAI chat completions format, with an optional reference
# answer for the grader (RFT_DATA_URL); core/datasets/rft_checker.py checks them.
RFT_PROMPTS = "openai-chat-rft"
FORMATS = (
    PROMPT_COMPLETION,
    CONVERSATION,
    CLAUDE_MESSAGES,
    CONTINUED_PRETRAINING,
    DISTILLATION_PROMPTS,
    IMAGE_CAPTION,
    RFT_PROMPTS,
)

# Cross-Region inference profile prefixes (https://docs.aws.amazon.com/bedrock/latest/userguide/
# inference-profiles-support.html): "us.amazon.nova-premier-v1:0" routes to the model in several Regions.
GEO_PREFIXES = ("us.", "eu.", "apac.", "us-gov.", "global.", "jp.", "au.", "ca.")

GB = 1024**3
MB = 1024**2

USER_GUIDE = "https://docs.aws.amazon.com/bedrock/latest/userguide/"
SUPPORTED_URL = USER_GUIDE + "custom-model-supported.html"
DISTILLATION_MODELS_URL = USER_GUIDE + "prequisites-model-distillation.html"
HYPERPARAMETERS_URL = USER_GUIDE + "custom-models-hp.html"
PREPARE_URL = USER_GUIDE + "model-customization-prepare.html"
CPT_URL = USER_GUIDE + "dataset-prep-continued-pretraining.html"
DISTILLATION_URL = USER_GUIDE + "distillation-data-prep-option-1.html"
DISTILLATION_LIMITS_URL = USER_GUIDE + "distillation-prepare-datasets.html"
NOVA_URL = "https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html"
NOVA2_URL = USER_GUIDE + "nova-2-sft-data-prep.html"
NOVA_CANVAS_DATA_URL = (
    "https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-creative-content.html"
)

RFT_URL = USER_GUIDE + "reinforcement-fine-tuning.html"
RFT_NOVA_URL = USER_GUIDE + "rft-nova-models.html"
RFT_DATA_URL = USER_GUIDE + "rft-prepare-data.html"
# Open-weight models are reinforcement fine-tuned through Bedrock's OpenAI-compatible fine-tuning API
# (Files API, then fine_tuning.jobs.create on https://bedrock-mantle.REGION.api.aws/v1), authenticated
# with a Bedrock API key (the OpenAI SDK needs one; plain HTTP requests also take SigV4 credentials):
# this page and rft-open-weight-access-security.html.
OPENAI_FINE_TUNING_URL = USER_GUIDE + "fine-tuning-openai-apis.html"
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
