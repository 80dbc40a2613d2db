"""The model catalog's rows: one per model family, each naming the AWS page that lists it and the date
that page was read (lookup.py looks models up in them)."""

from __future__ import annotations

from bedrock_provider.core.catalog.prices import aws_prices
from bedrock_provider.core.catalog.shapes import (
    CHECKED,
    CLAUDE_MESSAGES,
    CONVERSATION,
    DISTILLATION_MODELS_URL,
    HYPERPARAMETERS_URL,
    IMAGE_CAPTION,
    NOVA2_CUSTOMIZATION_URL,
    NOVA2_URL,
    OPENAI_FINE_TUNING_API,
    OPENAI_FINE_TUNING_URL,
    PROMPT_COMPLETION,
    RFT_NOVA_URL,
    RFT_URL,
    SUPPORTED_URL,
    US_EAST_1,
    US_EAST_1_WEST_2,
    US_WEST_2,
    USER_GUIDE,
    ModelFamily,
)
from bedrock_provider.core.catalog.tables import (
    _CLAUDE_3_HAIKU_LIMITS,
    _CLAUDE_3_HP,
    _CLAUDE_TEACHERS,
    _COHERE_LIMITS,
    _IMAGES_RULES,
    _LLAMA_3_1_LIMITS,
    _LLAMA_3_2_90B_LIMITS,
    _LLAMA_3_2_LIMITS,
    _LLAMA_3_3_LIMITS,
    _LLAMA_ADJUSTABLE_HP,
    _LLAMA_HP,
    _LLAMA_TEACHERS,
    _NO_LIMITS,
    _NOVA2_RULES,
    _NOVA_CANVAS_HP,
    _NOVA_CANVAS_LIMITS,
    _NOVA_LIMITS,
    _NOVA_RULES,
    _NOVA_TEACHERS,
    _NOVA_UNDERSTANDING_HP,
    _TITAN_EXPRESS_CPT_LIMITS,
    _TITAN_EXPRESS_LIMITS,
    _TITAN_IMAGE_HP,
    _TITAN_IMAGE_LIMITS,
    _TITAN_LITE_CPT_LIMITS,
    _TITAN_LITE_LIMITS,
    _TITAN_MM_EMBED_HP,
    _TITAN_MM_EMBED_LIMITS,
    _TITAN_PREMIER_LIMITS,
    _TITAN_TEXT_G1_HP,
    _TITAN_TEXT_PREMIER_HP,
    _cohere_hp,
    _cpt,
    _distill,
    _ft,
    _rft,
    _types,
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
        doc_url=USER_GUIDE + "cm-hp-titan-image.html",
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
        doc_url=USER_GUIDE + "cm-hp-titan-text.html",
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
        doc_url=USER_GUIDE + "cm-hp-titan-text.html",
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
        doc_url=USER_GUIDE + "cm-hp-titan-text.html",
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
        doc_url=USER_GUIDE + "cm-hp-titan-mm.html",
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
        doc_url=USER_GUIDE + "cm-hp-nova-mm.html",
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
        doc_url=USER_GUIDE + "cm-hp-nova-mm.html",
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
        doc_url=USER_GUIDE + "cm-hp-nova-mm.html",
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
        doc_url=USER_GUIDE + "cm-hp-nova-canvas.html",
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
        doc_url=USER_GUIDE + "cm-hp-anth-claude-3.html",
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
        doc_url=USER_GUIDE + "cm-hp-cohere-command.html",
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
        doc_url=USER_GUIDE + "cm-hp-cohere-command.html",
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
        doc_url=USER_GUIDE + "cm-hp-meta-llama2.html",
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
        doc_url=USER_GUIDE + "cm-hp-meta-llama31.html",
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
        doc_url=USER_GUIDE + "cm-hp-meta-llama32.html",
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
        doc_url=USER_GUIDE + "cm-hp-meta-llama32.html",
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
        doc_url=USER_GUIDE + "cm-hp-meta-llama32.html",
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
