"""What Bedrock checks of a customization at Create, against the model catalog (core/catalog/).

The base model must be one Bedrock customizes, with that customization type, in this Region; the
hyperparameters must be in the model's table; a distillation needs a teacher that can teach the
student; IMPORTED is not a type a job can be created with. Every refusal is a ValidationException.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bedrock_provider.core.catalog import (
    DISTILLATION,
    FINE_TUNING,
    IMPORTED,
    JOB_CUSTOMIZATION_TYPES,
    ModelFamily,
    base_model_problem,
    resolve,
    teacher_problem,
)
from bedrock_provider.core.request.hyperparameters import normalize_hyperparameters
from bedrock_provider.emulator.errors import validation_error


def check_customization_type(request: Mapping[str, Any]) -> None:
    if request.get("customizationType") == IMPORTED:
        raise validation_error(
            "The customization type IMPORTED is not supported by CreateModelCustomizationJob: imported "
            "models come from CreateModelImportJob. Use one of " + ", ".join(JOB_CUSTOMIZATION_TYPES) + "."
        )


def check_customization(request: Mapping[str, Any], base_model_id: str, region: str) -> str:
    """The model id the job trains (bare or versioned, lowercase), or Bedrock's refusal."""
    identifier = request["baseModelIdentifier"]
    ctype = request.get("customizationType") or FINE_TUNING
    ref = resolve(base_model_id)
    if ref is None:
        raise validation_error(
            f"The provided model identifier {identifier} is invalid: it is not a foundation model that "
            f"Amazon Bedrock can customize in {region}."
        )
    if ref.region is not None and ref.region != region:
        raise validation_error(
            f"The provided base model ARN {identifier} is in {ref.region}, but this request was sent to "
            f"{region}. Use the model's ARN in {region}, or send the request to {ref.region}."
        )
    problem = base_model_problem(ref, ctype, region)
    if problem is not None:
        raise validation_error(f"The provided model {identifier} cannot be customized: {problem}.")
    _check_hyperparameters(ref.versioned_id, ref.family, request.get("hyperParameters") or {}, ctype)
    if ctype == DISTILLATION:
        _check_teacher(request.get("customizationConfig"), ref.family)
    return ref.versioned_id


def _check_hyperparameters(model_id: str, family: ModelFamily, values: Mapping[str, str], ctype: str) -> None:
    _, problems, _ = normalize_hyperparameters(model_id, dict(values), ctype)
    if problems:
        raise validation_error(
            f"The provided hyperparameters are not valid for {family.title}: "
            + "; ".join(problem.message for problem in problems)
        )


def _check_teacher(config: Any, student: ModelFamily) -> None:
    distillation = (config or {}).get("distillationConfig") if isinstance(config, dict) else None
    teacher_config = (
        (distillation or {}).get("teacherModelConfig") if isinstance(distillation, dict) else None
    )
    teacher = (
        (teacher_config or {}).get("teacherModelIdentifier") if isinstance(teacher_config, dict) else None
    )
    if not teacher:
        raise validation_error(
            "customizationConfig.distillationConfig.teacherModelConfig.teacherModelIdentifier is "
            "required when customizationType is DISTILLATION."
        )
    # The operator passes a teacher the catalog does not know on with a warning; the emulator, which
    # serves only the catalog's models, refuses it as Bedrock refuses a model it does not have.
    problem = teacher_problem(teacher, student) or (
        f"{teacher} is not a foundation model this endpoint serves" if resolve(teacher) is None else None
    )
    if problem is not None:
        raise validation_error(f"The provided teacher model is not valid: {problem}.")
