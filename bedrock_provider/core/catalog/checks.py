"""What the catalog says Bedrock would refuse of a base model, and what it only warns about: always an
unknown model or version, and under model_checks="warn" everything it would refuse."""

from __future__ import annotations

from dataclasses import dataclass

from bedrock_provider.core.catalog.lookup import ModelRef, _split_arn, resolve
from bedrock_provider.core.catalog.rows import FAMILIES
from bedrock_provider.core.catalog.shapes import (
    CHECKED,
    CUSTOMIZATION_JOB_API,
    DISTILLATION,
    DISTILLATION_MODELS_URL,
    SUPPORTED_URL,
    Customization,
    ModelFamily,
)


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
