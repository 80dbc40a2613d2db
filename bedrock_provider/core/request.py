"""CustomizationRequest: validates a whole CreateModelCustomizationJob request and builds the call.

Constraints follow the API reference:
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelCustomizationJob.html
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_provider.core.catalog import (
    DISTILLATION,
    JOB_CUSTOMIZATION_TYPES,
    check_base_model,
    teacher_problem,
)
from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.hyperparameters import normalize_hyperparameters
from bedrock_provider.core.names import (
    attempt_name,
    custom_model_name_problem,
    job_name_problem,
)

CUSTOMIZATION_TYPES = JOB_CUSTOMIZATION_TYPES

ROLE_ARN_PATTERN = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
KMS_KEY_PATTERN = re.compile(
    r"(arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:((key/[a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)))"
    r"|([a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)"
)
S3_URI_PATTERN = re.compile(
    r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-zA-Z0-9]+(?:/[-!_*'().a-zA-Z0-9]+)*)?/?"
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
TAG_PATTERN = re.compile(r"[a-zA-Z0-9\s._:/=+@-]*")
MAX_TAGS = 200
MAX_VALIDATORS = 10
MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5

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


def _parse_literal(text: str) -> object:
    """A rendered template holding a dict or list: JSON, or the Python literal Jinja renders it to."""
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(text.strip())
        except (ValueError, SyntaxError, RecursionError, MemoryError):
            continue
    return text


def parse_mapping(value: object, field_name: str, problems: list[Problem]) -> dict[str, Any] | None:
    """A dict, or a rendered template holding one (JSON, or a Python literal such as ``{{ params.x }}``
    renders to when the DAG does not render native objects)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        if not value.strip():
            return None
        parsed = _parse_literal(value)
        if isinstance(parsed, Mapping):
            return dict(parsed)
        problems.append(
            Problem(
                field_name, value, "must be a dict (or a JSON object); the text given does not parse as one"
            )
        )
        return None
    problems.append(Problem(field_name, value, f"must be a dict, got {type(value).__name__}"))
    return None


def _check_text(value: object, field_name: str, problems: list[Problem]) -> str | None:
    if not isinstance(value, str):
        problems.append(Problem(field_name, value, f"must be a string, got {type(value).__name__}"))
        return None
    if not value.strip():
        problems.append(Problem(field_name, value, "must not be empty (did a template render to nothing?)"))
        return None
    if value != value.strip():
        problems.append(Problem(field_name, value, "has leading or trailing white space; remove it"))
        return None
    return value


def check_s3_uri(
    value: object, field_name: str, problems: list[Problem], *, file: bool = False
) -> str | None:
    text = _check_text(value, field_name, problems)
    if text is None:
        return None
    if not text.startswith("s3://"):
        problems.append(Problem(field_name, text, "must be an S3 URI starting with 's3://'"))
        return None
    if S3_URI_PATTERN.fullmatch(text) is None:
        problems.append(
            Problem(
                field_name,
                text,
                "is not an S3 URI Bedrock accepts: a lowercase bucket name of 3-63 letters, digits, '.' "
                "and '-', then a key of letters, digits and -!_*'(). separated by '/' (no spaces)",
            )
        )
        return None
    if file and (text.endswith("/") or text.count("/") < 3):
        problems.append(
            Problem(field_name, text, "must point at a file (e.g. s3://bucket/train.jsonl), not a prefix")
        )
        return None
    return text


def parse_tags(value: object, field_name: str, problems: list[Problem]) -> list[dict[str, str]]:
    """Tags as a dict, or as Bedrock's list of {"key", "value"}; returned in Bedrock's shape."""
    if value is None or (isinstance(value, str) and value.strip().startswith(("{", "["))):
        value = _parse_literal(value) if isinstance(value, str) else value
    if value is None or value == "":
        return []
    pairs: list[tuple[object, object]] = []
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, Mapping) and set(item) == {"key", "value"}:
                pairs.append((item["key"], item["value"]))
            else:
                problems.append(
                    Problem(f"{field_name}[{index}]", item, "must be a dict with exactly 'key' and 'value'")
                )
    else:
        problems.append(
            Problem(field_name, value, f"must be a dict of tag names to values, got {type(value).__name__}")
        )
        return []
    if len(pairs) > MAX_TAGS:
        problems.append(Problem(field_name, f"{len(pairs)} tags", f"Bedrock allows at most {MAX_TAGS} tags"))
    tags = []
    for key, tag_value in pairs:
        where = f"{field_name}[{key!r}]"
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or TAG_PATTERN.fullmatch(key) is None:
            problems.append(Problem(where, key, "tag keys must be 1-128 letters, digits, spaces or ._:/=+@-"))
            continue
        if key.lower().startswith("aws:"):
            problems.append(Problem(where, key, "tag keys starting with 'aws:' are reserved by AWS"))
            continue
        if isinstance(tag_value, bool) or not isinstance(tag_value, str | int | float):
            problems.append(Problem(where, tag_value, "tag values must be strings (numbers are converted)"))
            continue
        text = str(tag_value)
        if len(text) > 256 or TAG_PATTERN.fullmatch(text) is None:
            problems.append(
                Problem(where, tag_value, "tag values must be 0-256 letters, digits, spaces or ._:/=+@-")
            )
            continue
        tags.append({"key": key, "value": text})
    return tags


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


@dataclass
class CustomizationRequest:
    """Everything a CreateModelCustomizationJob call needs, as the operator's parameters name it."""

    job_name: object
    custom_model_name: object
    role_arn: object
    base_model_id: object
    training_data_uri: object
    output_data_uri: object
    hyperparameters: object = None
    validation_data_uri: object = None
    customization_type: object = "FINE_TUNING"
    custom_model_kms_key_id: object = None
    vpc_config: object = None
    job_tags: object = None
    custom_model_tags: object = None
    customization_job_kwargs: object = None
    # The Region the job will run in, when known: the catalog says where each model is customized.
    region_name: object = None
    warnings: list[str] = field(default_factory=list, init=False)

    def _region(self) -> str | None:
        return self.region_name if isinstance(self.region_name, str) and self.region_name else None

    def validate(self) -> ValidatedRequest:
        """Check every field; raise InvalidInputError listing all problems, or return the clean request."""
        problems: list[Problem] = []

        job_name = _check_text(self.job_name, "job_name", problems)
        if job_name is not None and (problem := job_name_problem(job_name)) is not None:
            problems.append(Problem("job_name", job_name, problem.message))
            job_name = None
        model_name = _check_text(self.custom_model_name, "custom_model_name", problems)
        if model_name is not None and (problem := custom_model_name_problem(model_name)) is not None:
            problems.append(Problem("custom_model_name", model_name, problem.message))
            model_name = None

        role_arn = _check_text(self.role_arn, "role_arn", problems)
        if role_arn is not None and (len(role_arn) > 2048 or ROLE_ARN_PATTERN.fullmatch(role_arn) is None):
            problems.append(
                Problem(
                    "role_arn",
                    role_arn,
                    "must be an IAM role ARN like 'arn:aws:iam::123456789012:role/BedrockCustomization'",
                )
            )

        base_model_id = _check_text(self.base_model_id, "base_model_id", problems)
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
            base_model_id = None

        customization_type = self.customization_type
        family = None
        if customization_type not in CUSTOMIZATION_TYPES:
            problems.append(
                Problem(
                    "customization_type",
                    customization_type,
                    f"must be one of {', '.join(CUSTOMIZATION_TYPES)}",
                )
            )
        elif base_model_id is not None:
            family, model_problem = check_base_model(base_model_id, str(customization_type), self._region())
            if model_problem is not None:
                blamed = customization_type if model_problem.field == "customization_type" else base_model_id
                problems.append(Problem(model_problem.field, blamed, model_problem.message))
                base_model_id = None

        training_uri = check_s3_uri(self.training_data_uri, "training_data_uri", problems, file=True)
        output_uri = check_s3_uri(self.output_data_uri, "output_data_uri", problems)

        validation_uris: list[str] = []
        raw_validation = self.validation_data_uri
        if isinstance(raw_validation, str) and not raw_validation.strip():
            raw_validation = None
        if raw_validation is not None:
            items = [raw_validation] if isinstance(raw_validation, str) else raw_validation
            if not isinstance(items, list | tuple):
                problems.append(
                    Problem("validation_data_uri", raw_validation, "must be an S3 URI or a list of them")
                )
                items = []
            if len(items) > MAX_VALIDATORS:
                problems.append(
                    Problem(
                        "validation_data_uri", raw_validation, f"Bedrock takes at most {MAX_VALIDATORS} files"
                    )
                )
            for index, item in enumerate(items):
                where = (
                    "validation_data_uri"
                    if isinstance(raw_validation, str)
                    else f"validation_data_uri[{index}]"
                )
                if (uri := check_s3_uri(item, where, problems, file=True)) is not None:
                    validation_uris.append(uri)

        hyperparameter_map = parse_mapping(self.hyperparameters, "hyperparameters", problems)
        hyperparameters: dict[str, str] = {}
        if base_model_id is not None:
            hyperparameters, hp_problems, hp_warnings = normalize_hyperparameters(
                base_model_id, hyperparameter_map, str(customization_type)
            )
            problems.extend(Problem(p.field, p.value, p.message) for p in hp_problems)
            self.warnings.extend(hp_warnings)

        kms_key = self.custom_model_kms_key_id
        if isinstance(kms_key, str) and not kms_key.strip():
            kms_key = None
        if kms_key is not None and (
            not isinstance(kms_key, str) or KMS_KEY_PATTERN.fullmatch(kms_key) is None
        ):
            problems.append(
                Problem(
                    "custom_model_kms_key_id",
                    kms_key,
                    "must be a KMS key ARN 'arn:aws:kms:REGION:ACCOUNT:key/KEY-ID', an alias ARN "
                    "'arn:aws:kms:REGION:ACCOUNT:alias/NAME', a key id or 'alias/NAME'",
                )
            )

        vpc_config = parse_vpc_config(self.vpc_config, problems)
        job_tags = parse_tags(self.job_tags, "job_tags", problems)
        model_tags = parse_tags(self.custom_model_tags, "custom_model_tags", problems)

        extra = parse_mapping(self.customization_job_kwargs, "customization_job_kwargs", problems) or {}
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
        if customization_type == DISTILLATION:
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
                problems.append(
                    Problem(
                        "customization_job_kwargs.customizationConfig.distillationConfig.teacherModelConfig"
                        ".teacherModelIdentifier",
                        teacher,
                        why,
                    )
                )

        if not problems:
            problems.extend(_service_model_problems(extra))
        if problems:
            raise InvalidInputError("Invalid Bedrock model customization request", problems)
        assert job_name and model_name and role_arn and base_model_id and training_uri and output_uri  # noqa: S101
        return ValidatedRequest(
            job_name=job_name,
            custom_model_name=model_name,
            role_arn=role_arn,
            base_model_id=base_model_id,
            training_data_uri=training_uri,
            output_data_uri=output_uri,
            hyperparameters=hyperparameters,
            validation_data_uris=tuple(validation_uris),
            customization_type=str(customization_type),
            custom_model_kms_key_id=kms_key if isinstance(kms_key, str) else None,
            vpc_config=vpc_config,
            job_tags=tuple(tuple(t.items()) for t in job_tags),
            custom_model_tags=tuple(tuple(t.items()) for t in model_tags),
            extra=extra,
            warnings=tuple(self.warnings),
        )


def _service_model_problems(extra: Mapping[str, Any]) -> list[Problem]:
    """Check what the operator passes through unread (customization_job_kwargs) against botocore's
    model of the API, so a bad shape is reported here, naming the field, not raised from botocore."""
    if not extra:
        return []
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("bedrock")
    input_shape: Any = model.operation_model("CreateModelCustomizationJob").input_shape
    members = input_shape.members
    problems = []
    for key, value in extra.items():
        report = ParamValidator().validate(value, members[key])
        if report.has_errors():
            for line in report.generate_report().splitlines()[1:] or [report.generate_report()]:
                problems.append(
                    Problem(
                        f"customization_job_kwargs.{key}",
                        value,
                        line.strip().replace("parameter input", key).replace("parameter input.", f"{key}."),
                    )
                )
    return problems


@dataclass(frozen=True)
class ValidatedRequest:
    """A request known to be valid; ``create_kwargs`` builds the boto3 call for one attempt."""

    job_name: str
    custom_model_name: str
    role_arn: str
    base_model_id: str
    training_data_uri: str
    output_data_uri: str
    hyperparameters: dict[str, str]
    validation_data_uris: tuple[str, ...]
    customization_type: str
    custom_model_kms_key_id: str | None
    vpc_config: dict[str, list[str]] | None
    job_tags: tuple[tuple[tuple[str, str], ...], ...]
    custom_model_tags: tuple[tuple[tuple[str, str], ...], ...]
    extra: dict[str, Any]
    warnings: tuple[str, ...] = ()

    def job_name_for(self, attempt: int) -> str:
        return attempt_name(self.job_name, attempt)

    def custom_model_name_for(self, attempt: int) -> str:
        return attempt_name(self.custom_model_name, attempt)

    def create_kwargs(self, attempt: int, client_request_token: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "jobName": self.job_name_for(attempt),
            "customModelName": self.custom_model_name_for(attempt),
            "roleArn": self.role_arn,
            "baseModelIdentifier": self.base_model_id,
            "trainingDataConfig": {"s3Uri": self.training_data_uri},
            "outputDataConfig": {"s3Uri": self.output_data_uri},
            "customizationType": self.customization_type,
            "clientRequestToken": client_request_token,
        }
        if self.hyperparameters:
            kwargs["hyperParameters"] = dict(self.hyperparameters)
        if self.validation_data_uris:
            kwargs["validationDataConfig"] = {
                "validators": [{"s3Uri": uri} for uri in self.validation_data_uris]
            }
        if self.custom_model_kms_key_id:
            kwargs["customModelKmsKeyId"] = self.custom_model_kms_key_id
        if self.vpc_config:
            kwargs["vpcConfig"] = self.vpc_config
        if self.job_tags:
            kwargs["jobTags"] = [dict(tag) for tag in self.job_tags]
        if self.custom_model_tags:
            kwargs["customModelTags"] = [dict(tag) for tag in self.custom_model_tags]
        kwargs.update(self.extra)
        return kwargs
