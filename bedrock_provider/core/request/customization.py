"""CustomizationRequest: validates a whole CreateModelCustomizationJob request and builds the call.

Each field is checked by its own function in request_fields.py (or common_fields.py, for the fields every
Bedrock request shares); constraints follow the API reference:
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelCustomizationJob.html
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_provider.core.catalog import REINFORCEMENT_FINE_TUNING
from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.names import attempt_name
from bedrock_provider.core.request.customization_fields import (
    check_base_model_id,
    check_custom_model_name,
    check_distillation,
    check_job_name,
    check_kms_key,
    check_model_and_type,
    check_model_checks,
    parse_api_kwargs,
    parse_validation_uris,
    parse_vpc_config,
)
from bedrock_provider.core.request.fields import check_role_arn, check_s3_uri, parse_mapping, parse_tags
from bedrock_provider.core.request.hyperparameters import normalize_hyperparameters
from bedrock_provider.core.request.invocation_logs import check_training_source, parse_invocation_logs
from bedrock_provider.core.request.ownership import with_ownership_tags
from bedrock_provider.core.request.rft import check_rft_request


def non_finite_problems(fields: Mapping[str, object]) -> list[Problem]:
    """nan and inf anywhere in the given (dict or list) fields, as given in the DAG file.

    Checked where the operator is built: Airflow renders templated fields to JSON, which has no nan,
    and would otherwise fail with its own "Out of range float values are not JSON compliant".
    """
    problems: list[Problem] = []

    def visit(value: object, where: str) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(
                Problem(where, value, "is not a finite number; Bedrock takes finite numbers (as strings)")
            )
        elif isinstance(value, Mapping):
            for key, item in value.items():
                visit(item, f"{where}.{key}")
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                visit(item, f"{where}[{index}]")

    for name, value in fields.items():
        visit(value, name)
    return problems


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
    # Reinforcement fine-tuning's grader (core/request/rft.py) and invocation logs as training data
    # (core/request/invocation_logs.py).
    grader_lambda_arn: object = None
    invocation_logs: object = None
    # airflow:model-family and airflow:namespace on the custom model (core/request/ownership.py); the
    # namespace is this Airflow deployment's, given by the operator.
    model_family: object = None
    namespace: object = ""
    # The Region the job will run in, when known: the catalog says where each model is customized.
    region_name: object = None
    # "strict" (None: the default) refuses what the model catalog says Bedrock would refuse; "warn"
    # logs it and lets Bedrock decide.
    model_checks: object = None
    warnings: list[str] = field(default_factory=list, init=False)

    def _region(self) -> str | None:
        return self.region_name if isinstance(self.region_name, str) and self.region_name else None

    def validate(self) -> ValidatedRequest:
        """Check every field; raise InvalidInputError listing all problems, or return the clean request."""
        problems: list[Problem] = []
        job_name = check_job_name(self.job_name, problems)
        model_name = check_custom_model_name(self.custom_model_name, problems)
        role_arn = check_role_arn(self.role_arn, problems)
        model_checks = check_model_checks(self.model_checks, problems)
        base_model_id, family = check_model_and_type(
            check_base_model_id(self.base_model_id, problems),
            self.customization_type,
            self._region(),
            problems,
            self.warnings,
            model_checks,
        )
        invocation_logs = parse_invocation_logs(self.invocation_logs, problems)
        training_uri = (
            check_s3_uri(self.training_data_uri, "training_data_uri", problems, file=True)
            if invocation_logs is None
            else None
        )
        check_training_source(self.customization_type, invocation_logs, self.training_data_uri, problems)
        output_uri = check_s3_uri(self.output_data_uri, "output_data_uri", problems)
        validation_uris = parse_validation_uris(self.validation_data_uri, problems)
        hyperparameters = self._hyperparameters(base_model_id, model_checks, problems)
        kms_key = check_kms_key(self.custom_model_kms_key_id, problems)
        vpc_config = parse_vpc_config(self.vpc_config, problems)
        job_tags = parse_tags(self.job_tags, "job_tags", problems)
        model_tags = with_ownership_tags(
            parse_tags(self.custom_model_tags, "custom_model_tags", problems),
            self.model_family,
            self.namespace,
            "custom_model_tags",
            problems,
        )
        extra = parse_api_kwargs(self.customization_job_kwargs, problems)
        check_distillation(self.customization_type, extra, family, problems, self.warnings, model_checks)
        check_rft_request(
            self.customization_type,
            base_model_id,
            self.grader_lambda_arn,
            parse_mapping(self.hyperparameters, "hyperparameters", []),
            extra,
            problems,
        )

        if not problems:
            problems.extend(_service_model_problems(extra))
        if problems:
            raise InvalidInputError("Invalid Bedrock model customization request", problems)
        assert job_name and model_name and role_arn and base_model_id and output_uri  # noqa: S101
        assert training_uri or invocation_logs  # noqa: S101
        return ValidatedRequest(
            job_name=job_name,
            custom_model_name=model_name,
            role_arn=role_arn,
            base_model_id=base_model_id,
            training_data_uri=training_uri,
            invocation_logs=invocation_logs,
            output_data_uri=output_uri,
            hyperparameters=hyperparameters,
            validation_data_uris=tuple(validation_uris),
            customization_type=str(self.customization_type),
            custom_model_kms_key_id=kms_key,
            vpc_config=vpc_config,
            job_tags=tuple(tuple(t.items()) for t in job_tags),
            custom_model_tags=tuple(tuple(t.items()) for t in model_tags),
            extra=extra,
            warnings=tuple(self.warnings),
        )

    def _hyperparameters(
        self, base_model_id: str | None, model_checks: str, problems: list[Problem]
    ) -> dict[str, str]:
        """Values as the strings Bedrock takes, checked against the model's table (once the model is
        known to be valid); the table's warnings are kept for the log."""
        hyperparameter_map = parse_mapping(self.hyperparameters, "hyperparameters", problems)
        if base_model_id is None or self.customization_type == REINFORCEMENT_FINE_TUNING:
            # RFT's hyperparameters are typed, in customizationConfig.rftConfig (check_rft_request).
            return {}
        hyperparameters, hp_problems, hp_warnings = normalize_hyperparameters(
            base_model_id, hyperparameter_map, str(self.customization_type), model_checks
        )
        problems.extend(Problem(p.field, p.value, p.message) for p in hp_problems)
        self.warnings.extend(hp_warnings)
        return hyperparameters


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
    # The training file, or (distillation, RFT) botocore's InvocationLogsConfig instead.
    training_data_uri: str | None
    invocation_logs: dict[str, Any] | None
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

    def fingerprint(self) -> str:
        """Canonical text of what the job trains on and how: equal requests give equal text.

        Names, tags and the token are left out; they do not change the model a job makes.
        """
        view = {
            "baseModelIdentifier": self.base_model_id,
            "customizationType": self.customization_type,
            "roleArn": self.role_arn,
            "trainingDataConfig": self.training_data_config(),
            "validationDataConfig": list(self.validation_data_uris),
            "outputDataConfig": self.output_data_uri,
            "hyperParameters": self.hyperparameters,
            "customModelKmsKeyId": self.custom_model_kms_key_id,
            "vpcConfig": self.vpc_config,
            "extra": self.extra,
        }
        return json.dumps(view, sort_keys=True, separators=(",", ":"), default=str)

    def training_data_config(self) -> dict[str, Any]:
        """trainingDataConfig: the file, or the invocation logs."""
        if self.invocation_logs is not None:
            return {"invocationLogsConfig": self.invocation_logs}
        return {"s3Uri": self.training_data_uri}

    def create_kwargs(self, attempt: int, client_request_token: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "jobName": self.job_name_for(attempt),
            "customModelName": self.custom_model_name_for(attempt),
            "roleArn": self.role_arn,
            "baseModelIdentifier": self.base_model_id,
            "trainingDataConfig": self.training_data_config(),
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
