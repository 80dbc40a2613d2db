"""The fields of a CreateModelCustomizationJob request, each checked by one function (the fields every
Bedrock request shares, such as S3 URIs, tags and role ARNs, are checked in common_fields.py).

Every check appends Problems naming the field (and returns None, or an empty value) instead of
raising, so that CustomizationRequest.validate reports every bad field at once. Constraints follow
the API reference:
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelCustomizationJob.html
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from bedrock_provider.core.catalog import (
    DISTILLATION,
    JOB_CUSTOMIZATION_TYPES,
    STRICT,
    WARN,
    catalog_check,
    model_checks_problem,
    relaxed,
    teacher_problem,
    teacher_warning,
)
from bedrock_provider.core.errors import Problem
from bedrock_provider.core.names import NameProblem, custom_model_name_problem, job_name_problem, renders_none
from bedrock_provider.core.request.fields import check_s3_uri, check_text, parse_mapping

KMS_KEY_PATTERN = re.compile(
    r"(arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:((key/[a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)))"
    r"|([a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)"
)
# A foundation model id or ARN, a custom model ARN, or a custom model name (to keep training it).
BASE_MODEL_PATTERN = re.compile(
    r"(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:(([0-9]{12}:custom-model/([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}"
    r"([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})/[a-z0-9]{12})|(:foundation-model/[a-z0-9-]{1,63}[.]{1}"
    r"[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2})))"
    r"|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})"
    r"|(([0-9a-zA-Z][_-]?)+)"
)
VPC_ID_PATTERN = re.compile(r"[-0-9a-zA-Z]{1,32}")
MAX_VALIDATORS = 10
MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5

CUSTOMIZATION_TYPES = JOB_CUSTOMIZATION_TYPES

# Parameters the operator sets itself; passing them again through customization_job_kwargs would be
# a second way to say the same thing.
_NAMED_API_PARAMETERS = {
    "jobName": "job_name",
    "customModelName": "custom_model_name",
    "roleArn": "role_arn",
    "baseModelIdentifier": "base_model_id",
    "trainingDataConfig": "training_data_uri",
    "outputDataConfig": "output_data_uri",
    "hyperParameters": "hyperparameters",
    "validationDataConfig": "validation_data_uri",
    "customizationType": "customization_type",
    "customModelKmsKeyId": "custom_model_kms_key_id",
    "vpcConfig": "vpc_config",
    "jobTags": "job_tags",
    "customModelTags": "custom_model_tags",
    "clientRequestToken": "(derived from the task instance)",
}
EXTRA_API_PARAMETERS = ("customizationConfig",)


def parse_vpc_config(value: object, problems: list[Problem]) -> dict[str, list[str]] | None:
    config = parse_mapping(value, "vpc_config", problems)
    if config is None:
        return None
    unknown = sorted(set(config) - {"subnetIds", "securityGroupIds"})
    if unknown:
        problems.append(
            Problem(
                "vpc_config", value, f"has unknown keys {unknown}; use 'subnetIds' and 'securityGroupIds'"
            )
        )
    result: dict[str, list[str]] = {}
    for key, limit in (("subnetIds", MAX_SUBNETS), ("securityGroupIds", MAX_SECURITY_GROUPS)):
        items = config.get(key)
        where = f"vpc_config.{key}"
        if not isinstance(items, list | tuple) or not items:
            problems.append(Problem(where, items, f"must be a list of 1 to {limit} ids"))
            continue
        if len(items) > limit:
            problems.append(Problem(where, items, f"has {len(items)} ids; Bedrock allows at most {limit}"))
        bad = [item for item in items if not isinstance(item, str) or VPC_ID_PATTERN.fullmatch(item) is None]
        if bad:
            problems.append(
                Problem(where, bad, "ids must be 1-32 letters, digits and '-', like 'subnet-0abc'")
            )
        result[key] = [str(item) for item in items]
    return result


def check_job_name(value: object, problems: list[Problem]) -> str | None:
    return _check_name(value, "job_name", job_name_problem, problems)


def check_custom_model_name(value: object, problems: list[Problem]) -> str | None:
    return _check_name(value, "custom_model_name", custom_model_name_problem, problems)


def _check_name(
    value: object, field_name: str, rule: Callable[[object], NameProblem | None], problems: list[Problem]
) -> str | None:
    name = check_text(value, field_name, problems)
    if name is not None and (problem := rule(name)) is not None:
        problems.append(Problem(field_name, name, problem.message))
        return None
    return name


def check_base_model_id(value: object, problems: list[Problem]) -> str | None:
    base_model_id = check_text(value, "base_model_id", problems)
    if base_model_id is not None and (
        len(base_model_id) > 2048 or BASE_MODEL_PATTERN.fullmatch(base_model_id) is None
    ):
        problems.append(
            Problem(
                "base_model_id",
                base_model_id,
                "must be a Bedrock model id like 'amazon.titan-text-express-v1', a foundation or "
                "custom model ARN, or the name of a custom model",
            )
        )
        return None
    return base_model_id


def check_model_checks(value: object, problems: list[Problem]) -> str:
    """model_checks: "strict" (None too: the default) or "warn"."""
    if value is None:
        return STRICT
    if (why := model_checks_problem(value)) is not None:
        problems.append(Problem("model_checks", value, why))
        return STRICT
    return str(value)


def check_model_and_type(
    base_model_id: str | None,
    customization_type: object,
    region: str | None,
    problems: list[Problem],
    warnings: list[str] | None = None,
    model_checks: str = STRICT,
) -> tuple[str | None, Any]:
    """The base model (None when it is refused for this type and Region) and its family; what the
    catalog cannot tell, or model_checks="warn" lets through, goes to warnings."""
    if customization_type not in CUSTOMIZATION_TYPES:
        problems.append(
            Problem(
                "customization_type",
                customization_type,
                f"must be one of {', '.join(CUSTOMIZATION_TYPES)}",
            )
        )
        return base_model_id, None
    if base_model_id is None:
        return None, None
    check = catalog_check(base_model_id, str(customization_type), region, model_checks)
    if warnings is not None:
        warnings.extend(check.warnings)
    for model_problem in check.problems:
        blamed = customization_type if model_problem.field == "customization_type" else base_model_id
        problems.append(Problem(model_problem.field, blamed, model_problem.message))
    if check.problems:
        return None, check.family
    return base_model_id, check.family


def parse_validation_uris(value: object, problems: list[Problem]) -> list[str]:
    """validation_data_uri: one S3 URI or a list of up to MAX_VALIDATORS; "" or None for none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    if renders_none(value):
        problems.append(
            Problem(
                "validation_data_uri",
                value,
                "is the text 'None': a template rendered None; give an S3 URI, or leave the parameter "
                "out (None) for no validation data",
            )
        )
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        problems.append(Problem("validation_data_uri", value, "must be an S3 URI or a list of them"))
        items = []
    if len(items) > MAX_VALIDATORS:
        problems.append(
            Problem("validation_data_uri", value, f"Bedrock takes at most {MAX_VALIDATORS} files")
        )
    uris: list[str] = []
    for index, item in enumerate(items):
        where = "validation_data_uri" if isinstance(value, str) else f"validation_data_uri[{index}]"
        if (uri := check_s3_uri(item, where, problems, file=True)) is not None:
            uris.append(uri)
    return uris


def check_kms_key(value: object, problems: list[Problem]) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if renders_none(value):
        problems.append(
            Problem(
                "custom_model_kms_key_id",
                value,
                "is the text 'None': a template rendered None; give a KMS key, or leave the parameter "
                "out (None) for AWS-owned encryption",
            )
        )
        return None
    if not isinstance(value, str) or KMS_KEY_PATTERN.fullmatch(value) is None:
        problems.append(
            Problem(
                "custom_model_kms_key_id",
                value,
                "must be a KMS key ARN 'arn:aws:kms:REGION:ACCOUNT:key/KEY-ID', an alias ARN "
                "'arn:aws:kms:REGION:ACCOUNT:alias/NAME', a key id or 'alias/NAME'",
            )
        )
        return None
    return value


def parse_api_kwargs(value: object, problems: list[Problem]) -> dict[str, Any]:
    """customization_job_kwargs: only the Create parameters the operator does not name itself."""
    extra = parse_mapping(value, "customization_job_kwargs", problems) or {}
    for key in sorted(extra):
        if key in _NAMED_API_PARAMETERS:
            problems.append(
                Problem(
                    f"customization_job_kwargs.{key}",
                    extra[key],
                    f"is set by the operator; use its parameter {_NAMED_API_PARAMETERS[key]} instead",
                )
            )
        elif key not in EXTRA_API_PARAMETERS:
            problems.append(
                Problem(
                    f"customization_job_kwargs.{key}",
                    extra[key],
                    "is not a CreateModelCustomizationJob parameter; allowed here: "
                    + ", ".join(EXTRA_API_PARAMETERS),
                )
            )
    return extra


def check_distillation(
    customization_type: object,
    extra: Mapping[str, Any],
    family: Any,
    problems: list[Problem],
    warnings: list[str] | None = None,
    model_checks: str = STRICT,
) -> None:
    """A DISTILLATION job names a teacher the student's family may learn from."""
    if customization_type != DISTILLATION:
        return
    teacher = (
        ((extra.get("customizationConfig") or {}).get("distillationConfig") or {})
        .get("teacherModelConfig", {})
        .get("teacherModelIdentifier")
        if isinstance(extra.get("customizationConfig"), Mapping)
        else None
    )
    if not teacher:
        problems.append(
            Problem(
                "customization_job_kwargs.customizationConfig",
                extra.get("customizationConfig"),
                "DISTILLATION needs {'distillationConfig': {'teacherModelConfig': "
                "{'teacherModelIdentifier': MODEL_ID}}}",
            )
        )
    elif family is not None and (why := teacher_problem(teacher, family)) is not None:
        if model_checks == WARN:
            if warnings is not None:
                warnings.append(relaxed(why))
            return
        problems.append(
            Problem(
                "customization_job_kwargs.customizationConfig.distillationConfig.teacherModelConfig"
                ".teacherModelIdentifier",
                teacher,
                why,
            )
        )
    elif family is not None and warnings is not None and (note := teacher_warning(teacher, family)):
        warnings.append(note)
