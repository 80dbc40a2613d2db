"""Amazon Bedrock's documented model-customization hyperparameters, per base model family.

The tables follow the "Custom model hyperparameters" reference of the Bedrock user guide:
https://docs.aws.amazon.com/bedrock/latest/userguide/custom-models-hp.html
Each family below cites the page its table comes from.

Bedrock takes every hyperparameter as a string; ``normalize_hyperparameters`` turns what a DAG author
wrote (ints, floats, numeric strings) into those strings and reports, before any AWS call, the names and
values Bedrock would reject. Models that are not in the tables are passed through with a warning rather
than rejected, because Bedrock adds customizable models more often than this table can follow.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

FINE_TUNING = "FINE_TUNING"
CONTINUED_PRE_TRAINING = "CONTINUED_PRE_TRAINING"
DISTILLATION = "DISTILLATION"


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
class ModelFamily:
    """Base models that share one hyperparameter table and the customization types they support."""

    key: str
    title: str
    id_prefixes: tuple[str, ...]
    doc_url: str
    hyperparameters: dict[str, HyperparameterSpec]
    customization_types: frozenset[str]


@dataclass(frozen=True)
class HyperparameterProblem:
    """A hyperparameter Bedrock would reject, with what is wrong and how to fix it."""

    field: str
    value: object
    message: str


def _table(*specs: HyperparameterSpec) -> dict[str, HyperparameterSpec]:
    return {spec.name: spec for spec in specs}


_USER_GUIDE = "https://docs.aws.amazon.com/bedrock/latest/userguide/"


# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-titan-text.html
# The same table serves fine-tuning and continued pre-training (custom-model-supported.html lists only
# Express and Lite for continued pre-training). learningRate's documented minimum really is 0.0.
def _titan_text_g1() -> dict[str, HyperparameterSpec]:
    return _table(
        HyperparameterSpec("epochCount", int, 1, 10, 5),
        HyperparameterSpec("batchSize", int, 1, 64, 1),
        HyperparameterSpec("learningRate", float, 0.0, 1.0, 1e-5),
        HyperparameterSpec("learningRateWarmupSteps", int, 0, 250, 5),
    )


# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-titan-text.html (Titan Text Premier table)
def _titan_text_premier() -> dict[str, HyperparameterSpec]:
    return _table(
        HyperparameterSpec("epochCount", int, 1, 5, 2),
        HyperparameterSpec("batchSize", int, 1, 1, 1),
        HyperparameterSpec("learningRate", float, 1e-7, 1e-5, 1e-6),
        HyperparameterSpec("learningRateWarmupSteps", int, 0, 20, 5),
    )


# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-titan-image.html
# The page has no type column; stepCount and batchSize are counts, learningRate a rate. stepCount has no
# default and must be given, as a number or the documented lowercase "auto".
def _titan_image() -> dict[str, HyperparameterSpec]:
    return _table(
        HyperparameterSpec("batchSize", int, 8, 192, 8),
        HyperparameterSpec("stepCount", int, 10, 40000, None, special_values=("auto",)),
        HyperparameterSpec("learningRate", float, 1e-7, 1.0, 1e-5),
    )


# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-titan-mm.html
# epochCount has no default and must be given, as a number or the documented capitalised "Auto".
def _titan_multimodal_embeddings() -> dict[str, HyperparameterSpec]:
    return _table(
        HyperparameterSpec("epochCount", int, 1, 100, None, special_values=("Auto",)),
        HyperparameterSpec("batchSize", int, 256, 9216, 576),
        HyperparameterSpec("learningRate", float, 5e-8, 1.0, 5e-5),
    )


# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-nova-mm.html
# The Nova user guide's own page (https://docs.aws.amazon.com/nova/latest/userguide/
# customize-fine-tune-hyperparameters.html) gives learningRateWarmupSteps a maximum of 20; the Bedrock
# page, and the newer consolidated custom-models-hp page, give 100. The newer Bedrock figure is used.
def _nova_understanding() -> dict[str, HyperparameterSpec]:
    return _table(
        HyperparameterSpec("epochCount", int, 1, 5, 2),
        HyperparameterSpec("learningRate", float, 1e-6, 1e-4, 1e-5),
        HyperparameterSpec("learningRateWarmupSteps", int, 0, 100, 10),
    )


# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-nova-canvas.html
# No type column on the page; the same table is in the Nova user guide's
# fine-tune-hyperparameters-content-generation-models.html.
def _nova_canvas() -> dict[str, HyperparameterSpec]:
    return _table(
        HyperparameterSpec("batchSize", int, 8, 192, 8),
        HyperparameterSpec("stepCount", int, 10, 20000, 500),
        HyperparameterSpec("learningRate", float, 1e-7, 1e-4, 1e-5),
    )


# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-anth-claude-3.html
# No type column on the page; the counts are integers, the multiplier and threshold are fractions.
def _claude_3() -> dict[str, HyperparameterSpec]:
    return _table(
        HyperparameterSpec("epochCount", int, 1, 10, 2),
        HyperparameterSpec("batchSize", int, 4, 256, 32),
        HyperparameterSpec("learningRateMultiplier", float, 0.1, 2.0, 1.0),
        HyperparameterSpec("earlyStoppingThreshold", float, 0.0, 0.1, 0.001),
        HyperparameterSpec("earlyStoppingPatience", int, 1, 10, 2),
    )


# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-cohere-command.html
# One table for both models except batchSize's maximum: 8 for Command, 32 for Command Light.
def _cohere_command(max_batch_size: int) -> dict[str, HyperparameterSpec]:
    return _table(
        HyperparameterSpec("epochCount", int, 1, 100, 1, maximum_adjustable=True),
        HyperparameterSpec("batchSize", int, 8, max_batch_size, 8),
        HyperparameterSpec("learningRate", float, 5e-6, 0.1, 1e-5),
        HyperparameterSpec("earlyStoppingThreshold", float, 0.0, 0.1, 0.01),
        HyperparameterSpec("earlyStoppingPatience", int, 1, 10, 6),
        HyperparameterSpec("evalPercentage", float, 5.0, 50.0, 20.0),
    )


# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-meta-llama2.html
# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-meta-llama31.html
# https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-meta-llama32.html
# All three give the same ranges; only the Llama 2 page has a type column, and only the Llama 2 and 3.1
# pages say the epochCount quota is adjustable.
def _meta_llama(*, epoch_quota_adjustable: bool) -> dict[str, HyperparameterSpec]:
    return _table(
        HyperparameterSpec("epochCount", int, 1, 10, 5, maximum_adjustable=epoch_quota_adjustable),
        HyperparameterSpec("batchSize", int, 1, 1, 1),
        HyperparameterSpec("learningRate", float, 5e-6, 0.1, 1e-4),
    )


# Which base models take which customization type:
# https://docs.aws.amazon.com/bedrock/latest/userguide/custom-model-supported.html (fine-tuning and
# continued pre-training), https://docs.aws.amazon.com/nova/latest/userguide/customization.html (Nova Micro
# and Lite are distillation students, Nova Pro teacher and student) and
# https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation.html (student models
# for the other providers). Bedrock itself checks the exact teacher/student pairing when the job is created.
# Distillation has no hyperparameter table of its own: it is configured through
# customizationConfig.distillationConfig.teacherModelConfig, and the student's table applies.
_FT = frozenset({FINE_TUNING})
_FT_CPT = frozenset({FINE_TUNING, CONTINUED_PRE_TRAINING})
_FT_DISTILL = frozenset({FINE_TUNING, DISTILLATION})

FAMILIES: tuple[ModelFamily, ...] = (
    ModelFamily(
        key="amazon.titan-text-express",
        title="Amazon Titan Text G1 - Express",
        id_prefixes=("amazon.titan-text-express-v1",),
        doc_url=_USER_GUIDE + "cm-hp-titan-text.html",
        hyperparameters=_titan_text_g1(),
        customization_types=_FT_CPT,
    ),
    ModelFamily(
        key="amazon.titan-text-lite",
        title="Amazon Titan Text G1 - Lite",
        id_prefixes=("amazon.titan-text-lite-v1",),
        doc_url=_USER_GUIDE + "cm-hp-titan-text.html",
        hyperparameters=_titan_text_g1(),
        customization_types=_FT_CPT,
    ),
    ModelFamily(
        key="amazon.titan-text-premier",
        title="Amazon Titan Text G1 - Premier",
        id_prefixes=("amazon.titan-text-premier-v1",),
        doc_url=_USER_GUIDE + "cm-hp-titan-text.html",
        hyperparameters=_titan_text_premier(),
        customization_types=_FT,
    ),
    ModelFamily(
        key="amazon.titan-image-generator",
        title="Amazon Titan Image Generator G1",
        id_prefixes=("amazon.titan-image-generator-v1", "amazon.titan-image-generator-v2"),
        doc_url=_USER_GUIDE + "cm-hp-titan-image.html",
        hyperparameters=_titan_image(),
        customization_types=_FT,
    ),
    ModelFamily(
        key="amazon.titan-embed-image",
        title="Amazon Titan Multimodal Embeddings G1",
        id_prefixes=("amazon.titan-embed-image-v1",),
        doc_url=_USER_GUIDE + "cm-hp-titan-mm.html",
        hyperparameters=_titan_multimodal_embeddings(),
        customization_types=_FT,
    ),
    ModelFamily(
        key="amazon.nova-micro",
        title="Amazon Nova Micro",
        id_prefixes=("amazon.nova-micro-v1",),
        doc_url=_USER_GUIDE + "cm-hp-nova-mm.html",
        hyperparameters=_nova_understanding(),
        customization_types=_FT_DISTILL,
    ),
    ModelFamily(
        key="amazon.nova-lite",
        title="Amazon Nova Lite",
        id_prefixes=("amazon.nova-lite-v1",),
        doc_url=_USER_GUIDE + "cm-hp-nova-mm.html",
        hyperparameters=_nova_understanding(),
        customization_types=_FT_DISTILL,
    ),
    ModelFamily(
        key="amazon.nova-pro",
        title="Amazon Nova Pro",
        id_prefixes=("amazon.nova-pro-v1",),
        doc_url=_USER_GUIDE + "cm-hp-nova-mm.html",
        hyperparameters=_nova_understanding(),
        customization_types=_FT_DISTILL,
    ),
    ModelFamily(
        key="amazon.nova-canvas",
        title="Amazon Nova Canvas",
        id_prefixes=("amazon.nova-canvas-v1",),
        doc_url=_USER_GUIDE + "cm-hp-nova-canvas.html",
        hyperparameters=_nova_canvas(),
        customization_types=_FT,
    ),
    ModelFamily(
        key="anthropic.claude-3-haiku",
        title="Anthropic Claude 3 Haiku",
        id_prefixes=("anthropic.claude-3-haiku-20240307-v1",),
        doc_url=_USER_GUIDE + "cm-hp-anth-claude-3.html",
        hyperparameters=_claude_3(),
        customization_types=_FT_DISTILL,
    ),
    ModelFamily(
        key="cohere.command",
        title="Cohere Command",
        id_prefixes=("cohere.command-text-v14",),
        doc_url=_USER_GUIDE + "cm-hp-cohere-command.html",
        hyperparameters=_cohere_command(max_batch_size=8),
        customization_types=_FT,
    ),
    ModelFamily(
        key="cohere.command-light",
        title="Cohere Command Light",
        id_prefixes=("cohere.command-light-text-v14",),
        doc_url=_USER_GUIDE + "cm-hp-cohere-command.html",
        hyperparameters=_cohere_command(max_batch_size=32),
        customization_types=_FT,
    ),
    ModelFamily(
        key="meta.llama2",
        title="Meta Llama 2 (13B, 70B)",
        id_prefixes=("meta.llama2-13b-v1", "meta.llama2-70b-v1"),
        doc_url=_USER_GUIDE + "cm-hp-meta-llama2.html",
        hyperparameters=_meta_llama(epoch_quota_adjustable=True),
        customization_types=_FT,
    ),
    ModelFamily(
        key="meta.llama3-1",
        title="Meta Llama 3.1 (8B, 70B Instruct)",
        id_prefixes=("meta.llama3-1-8b-instruct-v1", "meta.llama3-1-70b-instruct-v1"),
        doc_url=_USER_GUIDE + "cm-hp-meta-llama31.html",
        hyperparameters=_meta_llama(epoch_quota_adjustable=True),
        customization_types=_FT_DISTILL,
    ),
    ModelFamily(
        key="meta.llama3-2",
        title="Meta Llama 3.2 (1B, 3B, 11B, 90B Instruct)",
        id_prefixes=(
            "meta.llama3-2-1b-instruct-v1",
            "meta.llama3-2-3b-instruct-v1",
            "meta.llama3-2-11b-instruct-v1",
            "meta.llama3-2-90b-instruct-v1",
        ),
        doc_url=_USER_GUIDE + "cm-hp-meta-llama32.html",
        hyperparameters=_meta_llama(epoch_quota_adjustable=False),
        customization_types=_FT_DISTILL,
    ),
    # Llama 3.3 70B Instruct is listed for fine-tuning on custom-model-supported.html, but no Llama 3.3
    # section was found on the hyperparameter pages; it is given the table every other Llama page
    # shares, and its doc_url points at the consolidated page.
    ModelFamily(
        key="meta.llama3-3",
        title="Meta Llama 3.3 70B Instruct",
        id_prefixes=("meta.llama3-3-70b-instruct-v1",),
        doc_url=_USER_GUIDE + "custom-models-hp.html",
        hyperparameters=_meta_llama(epoch_quota_adjustable=False),
        customization_types=_FT,
    ),
)


def _model_id(base_model_id: str) -> str | None:
    """The bare model id ('amazon.titan-text-express-v1:0:8k') of an id or a foundation-model ARN."""
    text = base_model_id.strip().lower()
    if not text.startswith("arn:"):
        return text
    # arn:PARTITION:bedrock:REGION:ACCOUNT:RESOURCE, where RESOURCE itself may hold ':' (model versions).
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[2] != "bedrock" or not parts[5].startswith("foundation-model/"):
        # Custom, provisioned and imported models have no documented table of their own.
        return None
    return parts[5].removeprefix("foundation-model/")


def family_for(base_model_id: str) -> ModelFamily | None:
    """Family of a base model id or ARN.

    Accepts 'amazon.titan-text-express-v1', 'amazon.titan-text-express-v1:0:8k', and foundation-model
    ARNs 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1'. None for unknown
    models (custom-model ARNs, new models).
    """
    if not isinstance(base_model_id, str):
        return None
    model_id = _model_id(base_model_id)
    if not model_id:
        return None
    for family in FAMILIES:
        for prefix in family.id_prefixes:
            # Only a whole id or a ':'-qualified version of it: 'v1' must not claim a future 'v10'.
            if model_id == prefix or model_id.startswith(prefix + ":"):
                return family
    return None


def supported_customization_types(base_model_id: str) -> frozenset[str] | None:
    """Customization types the docs list for this base model, or None when the model is not in the table."""
    family = family_for(base_model_id)
    return family.customization_types if family is not None else None


# Plain decimal or exponent notation only: float() and Decimal() would also take '1_000', 'nan' and
# 'infinity', none of which Bedrock documents.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Larger whole numbers are neither a plausible hyperparameter nor cheap to turn into an int when they
# arrive as text like '1e999999'.
_WHOLE_NUMBER_CEILING = Decimal(1_000_000)


def _format_number(value: float) -> str:
    return format(value, "g")


def _allowed(spec: HyperparameterSpec) -> str:
    kind = "an integer" if spec.kind is int else "a number"
    if spec.minimum == spec.maximum:
        text = f"{_format_number(spec.minimum)}"
    else:
        text = f"{kind} from {_format_number(spec.minimum)} to {_format_number(spec.maximum)}"
    if spec.special_values:
        text += ", or " + " or ".join(repr(special) for special in spec.special_values)
    return text


def _as_decimal(value: object) -> Decimal | str:
    """The value as a finite Decimal, or why it is not a number."""
    if isinstance(value, bool):
        return "is a boolean, not a number"
    if value is None:
        return "means no value; leave the hyperparameter out to use Bedrock's default"
    if isinstance(value, str):
        text = value.strip()
        if not _NUMBER.fullmatch(text):
            return "is not a number"
        return Decimal(text)
    if isinstance(value, numbers.Integral):
        return Decimal(int(value))
    if isinstance(value, Decimal):
        return value if value.is_finite() else "is not a finite number"
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            return "is not a finite number"
        # Through repr, so 1e-07 compares equal to a documented bound of 1.00E-7 instead of to the
        # binary fraction just below it.
        return Decimal(repr(number))
    return f"is a {type(value).__name__}, not a number"


def _check_value(
    spec: HyperparameterSpec, family: ModelFamily, value: object
) -> tuple[str | None, str | None, str | None]:
    """(string for Bedrock, problem message, warning) for one value of a known hyperparameter."""

    def problem(why: str) -> tuple[None, str, None]:
        return (
            None,
            f"{spec.name} must be {_allowed(spec)} for {family.title} (got {value!r}, which {why}); "
            f"see {family.doc_url}",
            None,
        )

    if value is None and spec.default is None:
        return problem(f"means no value, and {spec.name} has no default")
    if isinstance(value, str):
        for special in spec.special_values:
            # The pages spell 'Auto' and 'auto' differently per model; send their spelling.
            if value.strip().lower() == special.lower():
                return special, None, None
    number = _as_decimal(value)
    if isinstance(number, str):
        return problem(number)
    if spec.kind is int and number != number.to_integral_value():
        return problem("is not a whole number")
    if number < Decimal(repr(float(spec.minimum))):
        return problem(f"is below {_format_number(spec.minimum)}")
    warning = None
    if number > Decimal(repr(float(spec.maximum))):
        if not spec.maximum_adjustable or number > _WHOLE_NUMBER_CEILING:
            return problem(f"is above {_format_number(spec.maximum)}")
        warning = (
            f"{spec.name}={value!r} is above the documented maximum {_format_number(spec.maximum)} for "
            f"{family.title}; Bedrock accepts it only if the account's {spec.name} quota was raised "
            f"(see {family.doc_url})"
        )
    if spec.kind is int:
        return str(int(number)), None, warning
    return repr(float(number)), None, warning


def _stringify_unchecked(value: object) -> tuple[str | None, str | None]:
    """(string for Bedrock, problem message) for a value whose hyperparameter is not in the table."""
    if isinstance(value, str):
        text = value.strip()
        return (text, None) if text else (None, "is empty")
    if isinstance(value, bool):
        return None, "is a boolean; give a number or a string"
    if value is None:
        return None, "has no value; leave the hyperparameter out to use Bedrock's default"
    if isinstance(value, numbers.Integral):
        return str(int(value)), None
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        if abs(value) <= _WHOLE_NUMBER_CEILING:
            return str(int(value)), None
    if isinstance(value, numbers.Real) or isinstance(value, Decimal):
        number = float(value)
        if not math.isfinite(number):
            return None, "is not a finite number"
        return repr(number), None
    return None, f"is a {type(value).__name__}; give a number or a string"


def normalize_hyperparameters(
    base_model_id: str, hyperparameters: Mapping[str, object] | None
) -> tuple[dict[str, str], list[HyperparameterProblem], list[str]]:
    """Return (values as strings as Bedrock wants them, problems, warnings).

    For a model in the table, names, types and ranges are checked: an integer hyperparameter given as
    2.0 becomes "2", float hyperparameters are sent in Python's shortest round-trip form ("1e-05"), and
    documented special values such as "Auto" are accepted. Hyperparameters the docs say have no default
    (Titan Multimodal Embeddings' epochCount, Titan Image Generator's stepCount) are required.
    For any other model, values are only stringified and one warning says nothing was checked.
    """
    values: dict[str, str] = {}
    problems: list[HyperparameterProblem] = []
    warnings: list[str] = []
    family = family_for(base_model_id)

    if hyperparameters is None:
        hyperparameters = {}
    if not isinstance(hyperparameters, Mapping):
        problems.append(
            HyperparameterProblem(
                "hyperparameters",
                hyperparameters,
                f"hyperparameters must be a dict of names to values, got {type(hyperparameters).__name__}",
            )
        )
        return values, problems, warnings

    for name, value in hyperparameters.items():
        if not isinstance(name, str) or not name.strip():
            problems.append(
                HyperparameterProblem(
                    "hyperparameters",
                    name,
                    f"hyperparameter names must be non-empty strings (got {name!r} = {value!r})",
                )
            )
            continue
        field = f"hyperparameters.{name}"

        if family is None:
            text, why = _stringify_unchecked(value)
            if why is not None:
                problems.append(HyperparameterProblem(field, value, f"{name} {why} (got {value!r})"))
            elif text is not None:
                values[name] = text
            continue

        spec = family.hyperparameters.get(name)
        if spec is None:
            problems.append(HyperparameterProblem(field, value, _unknown_name_message(family, name, value)))
            continue
        text, message, warning = _check_value(spec, family, value)
        if message is not None:
            problems.append(HyperparameterProblem(field, value, message))
        elif text is not None:
            values[name] = text
        if warning is not None:
            warnings.append(warning)

    if family is None:
        if values or problems:
            warnings.append(
                f"{base_model_id!r} is not in the hyperparameter table, so hyperparameter names and ranges "
                "were not checked; Bedrock checks them when the job is created. See "
                f"{_USER_GUIDE}custom-models-hp.html"
            )
        return values, problems, warnings

    for spec in family.hyperparameters.values():
        if spec.default is None and spec.name not in hyperparameters:
            problems.append(
                HyperparameterProblem(
                    f"hyperparameters.{spec.name}",
                    None,
                    f"{spec.name} is required for {family.title} (it has no default); give "
                    f"{_allowed(spec)}; see {family.doc_url}",
                )
            )
    return values, problems, warnings


def _unknown_name_message(family: ModelFamily, name: str, value: object) -> str:
    allowed = list(family.hyperparameters)
    by_lower = {candidate.lower(): candidate for candidate in allowed}
    suggestion = by_lower.get(name.lower())
    squashed = name.lower().replace("_", "").replace("-", "")
    if suggestion is None:
        suggestion = by_lower.get(squashed)
    if suggestion is None:
        close = difflib.get_close_matches(squashed, list(by_lower), n=1, cutoff=0.6)
        suggestion = by_lower[close[0]] if close else None
    if suggestion is None:
        # Short forms such as 'steps', 'warmup' or 'patience' are too short for difflib's ratio but name
        # the documented hyperparameter they are part of.
        stem = squashed.removesuffix("s")
        containing = [candidate for lower, candidate in by_lower.items() if len(stem) >= 4 and stem in lower]
        suggestion = containing[0] if len(containing) == 1 else None
    hint = f"; did you mean {suggestion!r}?" if suggestion else "."
    return (
        f"{name!r} (got {value!r}) is not a hyperparameter of {family.title}{hint} "
        f"Allowed: {', '.join(sorted(allowed))}; see {family.doc_url}"
    )
