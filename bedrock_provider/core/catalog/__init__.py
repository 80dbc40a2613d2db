"""The model catalog: which base models Bedrock customizes, how, where, and with what.

One row per model family. A row holds the family's id forms (model ids, the versions Bedrock lists
for customization with their context-length suffixes, the foundation-model ARNs built from them,
and, for distillation teachers, the geo-prefixed inference profiles Bedrock accepts), then per
customization type: the Regions it is offered in, the hyperparameters (type, range, default), the
training-data format with its rules, and the documented dataset limits. Every row cites its pages.

It decides what the catalog knows of a model and what that costs; it may refuse, but under
model_checks="warn" it only warns, and a model it does not know always passes for Bedrock to judge. It
never calls AWS.

Request validation (core/request/), dataset preparation (core/datasets/) and the emulator all read this
table; adding a model is adding a row. The vocabulary and row shapes are in shapes.py, the price records
in prices.py, the hyperparameter tables and dataset limits in tables.py, the rows (each with its source
page and the date it was read) in rows.py; the lookups are in lookup.py and the checks (what is refused,
and what only warned about) in checks.py. This package's namespace is where the rest of the code reads
them. Prices are looked up and overridden in price_lookup.py; a job's training cost is estimated in
cost.py, storage and Provisioned Throughput in recurring_cost.py.

Sources:
- models and Regions: https://docs.aws.amazon.com/bedrock/latest/userguide/custom-model-supported.html
- distillation teachers and students:
  https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation.html
- hyperparameters: https://docs.aws.amazon.com/bedrock/latest/userguide/custom-models-hp.html (and the
  per-model pages cited on each table)
- dataset formats and limits: https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
  (and the pages cited on each limit)
- prices: https://aws.amazon.com/bedrock/pricing/, in the ``pricing`` field of a row (None where no
  price is recorded; prices.py says how they were read, price_lookup.py how users override them).
"""

from __future__ import annotations

from bedrock_provider.core.catalog.checks import (
    MODEL_CHECKS,
    STRICT,
    WARN,
    CatalogCheck,
    ModelProblem,
    base_model_problem,
    catalog_check,
    check_base_model,
    model_checks_problem,
    region_problem,
    relaxed,
    teacher_problem,
    teacher_warning,
    version_warning,
)
from bedrock_provider.core.catalog.lookup import (
    ModelRef,
    family_for,
    id_forms,
    resolve,
    rft_hyperparameters,
    supported_customization_types,
    table_for,
)
from bedrock_provider.core.catalog.rows import FAMILIES
from bedrock_provider.core.catalog.shapes import (
    API_CUSTOMIZATION_TYPES,
    CHECKED,
    CLAUDE_MESSAGES,
    CONTINUED_PRE_TRAINING,
    CONTINUED_PRETRAINING,
    CONVERSATION,
    CPT_URL,
    CUSTOMIZATION_JOB_API,
    DISTILLATION,
    DISTILLATION_LIMITS_URL,
    DISTILLATION_MODELS_URL,
    DISTILLATION_PROMPTS,
    DISTILLATION_URL,
    FINE_TUNING,
    FORMATS,
    GB,
    GEO_PREFIXES,
    HYPERPARAMETERS_URL,
    IMAGE_CAPTION,
    IMPORTED,
    JOB_CUSTOMIZATION_TYPES,
    MB,
    NOVA2_CUSTOMIZATION_URL,
    NOVA2_URL,
    NOVA_CANVAS_DATA_URL,
    NOVA_URL,
    OPENAI_FINE_TUNING_API,
    OPENAI_FINE_TUNING_URL,
    PREPARE_URL,
    PROMPT_COMPLETION,
    REINFORCEMENT_FINE_TUNING,
    RFT_DATA_URL,
    RFT_NOVA_URL,
    RFT_PROMPTS,
    RFT_URL,
    SUPPORTED_URL,
    US_EAST_1,
    US_EAST_1_WEST_2,
    US_WEST_2,
    USER_GUIDE,
    ConversationRules,
    Customization,
    HyperparameterSpec,
    Limits,
    ModelFamily,
)
from bedrock_provider.core.catalog.tables import DISTILLATION_LIMITS, MAX_RFT_PROMPTS, RFT_HYPERPARAMETERS

__all__ = [
    "API_CUSTOMIZATION_TYPES",
    "CHECKED",
    "CLAUDE_MESSAGES",
    "CONTINUED_PRETRAINING",
    "CONTINUED_PRE_TRAINING",
    "CONVERSATION",
    "CPT_URL",
    "CUSTOMIZATION_JOB_API",
    "ConversationRules",
    "Customization",
    "DISTILLATION",
    "DISTILLATION_LIMITS",
    "DISTILLATION_LIMITS_URL",
    "DISTILLATION_MODELS_URL",
    "DISTILLATION_PROMPTS",
    "DISTILLATION_URL",
    "FAMILIES",
    "FINE_TUNING",
    "FORMATS",
    "GB",
    "GEO_PREFIXES",
    "HYPERPARAMETERS_URL",
    "HyperparameterSpec",
    "IMAGE_CAPTION",
    "IMPORTED",
    "JOB_CUSTOMIZATION_TYPES",
    "Limits",
    "MAX_RFT_PROMPTS",
    "MB",
    "ModelFamily",
    "NOVA2_CUSTOMIZATION_URL",
    "NOVA2_URL",
    "NOVA_CANVAS_DATA_URL",
    "NOVA_URL",
    "OPENAI_FINE_TUNING_API",
    "OPENAI_FINE_TUNING_URL",
    "PREPARE_URL",
    "PROMPT_COMPLETION",
    "REINFORCEMENT_FINE_TUNING",
    "RFT_DATA_URL",
    "RFT_HYPERPARAMETERS",
    "RFT_NOVA_URL",
    "RFT_PROMPTS",
    "RFT_URL",
    "SUPPORTED_URL",
    "USER_GUIDE",
    "US_EAST_1",
    "US_EAST_1_WEST_2",
    "US_WEST_2",
    "CatalogCheck",
    "MODEL_CHECKS",
    "ModelProblem",
    "ModelRef",
    "STRICT",
    "WARN",
    "base_model_problem",
    "catalog_check",
    "check_base_model",
    "family_for",
    "id_forms",
    "model_checks_problem",
    "region_problem",
    "relaxed",
    "resolve",
    "rft_hyperparameters",
    "supported_customization_types",
    "table_for",
    "teacher_problem",
    "teacher_warning",
    "version_warning",
]
