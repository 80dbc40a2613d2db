"""What CreateModelCustomizationJob checks against the account and the resources already kept, before a
job exists: the job and custom model names are free, the base model is found, the service role can be
assumed, an RFT job's grader Lambda can be invoked, the KMS key exists, and a slot is free under the quota
of concurrent jobs.

Each refusal is Bedrock's exception (ValidationException, ResourceNotFoundException,
ServiceQuotaExceededException). The checks against the model catalog (type, Region, hyperparameters,
teacher) are in refusals.py; the backend runs both, in Bedrock's order, in ``CustomizationBackend``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bedrock_provider.core.catalog import REINFORCEMENT_FINE_TUNING
from bedrock_provider.core.request.rft import grader_of
from bedrock_provider.emulator import refusals
from bedrock_provider.emulator.accounts import AccountServices
from bedrock_provider.emulator.arns import CUSTOM_MODEL_ARN_RE, FOUNDATION_MODEL_ARN_RE, MODEL_ID_RE
from bedrock_provider.emulator.errors import not_found, quota_exceeded, validation_error
from bedrock_provider.emulator.models import CustomModel, Job
from bedrock_provider.emulator.store import ResourceTable


def check_names_free(
    jobs: ResourceTable[Job],
    models: ResourceTable[CustomModel],
    running: Iterable[Job],
    job_name: str,
    model_name: str,
) -> None:
    if jobs.named(job_name) is not None:
        raise validation_error("The provided job name is currently in use.")
    if models.named(model_name) is not None:
        raise validation_error(
            f"The provided custom model name {model_name} is currently in use by an existing "
            "custom model. Choose another customModelName or delete that model."
        )
    for job in running:
        if job.custom_model_name == model_name:
            raise validation_error(
                f"The provided custom model name {model_name} is currently in use by the "
                f"model customization job {job.name}, which is {job.status}. Choose another "
                "customModelName."
            )


def checked_base_model(request: Mapping[str, Any], models: ResourceTable[CustomModel], region: str) -> str:
    """The base model id the job trains, once model, type and hyperparameters pass Bedrock's checks."""
    refusals.check_customization_type(request)
    base_model_id = resolve_base_model(request["baseModelIdentifier"], models)
    return refusals.check_customization(request, base_model_id, region)


def resolve_base_model(identifier: str, models: ResourceTable[CustomModel]) -> str:
    """The foundation model id (as given) of a model id or ARN, or of the custom model named."""
    if FOUNDATION_MODEL_ARN_RE.match(identifier):
        return identifier
    if CUSTOM_MODEL_ARN_RE.match(identifier):
        model = models.find(identifier)
        if model is None:
            raise not_found(f"The base model {identifier} (baseModelIdentifier) was not found.")
        return model.job.base_model_id
    if MODEL_ID_RE.match(identifier):
        return identifier
    model = models.named(identifier)
    if model is not None:
        return model.job.base_model_id
    raise not_found(
        f"The base model {identifier} (baseModelIdentifier) was not found. Use a foundation model id "
        "such as amazon.titan-text-express-v1, its ARN, or a custom model's name or ARN."
    )


def check_role(account: AccountServices, role_arn: str) -> None:
    """Bedrock can assume the service role a customization or evaluation job names (accounts.py)."""
    role_problem = account.role_problem(role_arn)
    if role_problem is not None:
        raise validation_error(role_problem)


def check_grader(request: Mapping[str, Any], account: AccountServices) -> None:
    """An RFT job names a grader Lambda the service role can invoke; other types name none
    (botocore RFTConfig, LambdaGraderConfig; the role's permission: core/request/rft.py
    RFT_ACCESS_URL)."""
    config = request.get("customizationConfig")
    has_rft = isinstance(config, Mapping) and "rftConfig" in config
    if request.get("customizationType") != REINFORCEMENT_FINE_TUNING:
        if has_rft:
            raise validation_error(
                "customizationConfig.rftConfig is only valid when customizationType is "
                f"{REINFORCEMENT_FINE_TUNING}."
            )
        return
    lambda_arn = grader_of(config)
    if lambda_arn is None:
        raise validation_error(
            "customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn is required when "
            f"customizationType is {REINFORCEMENT_FINE_TUNING}."
        )
    problem = account.grader_problem(lambda_arn, request["roleArn"])
    if problem is not None:
        raise validation_error(problem)


def kms_key_arn(key: str | None, account: AccountServices, region: str) -> str | None:
    """The ARN of the customModelKmsKeyId given (a key id, alias or ARN), None when none is given."""
    if not key:
        return None
    arn = account.kms_key_arn(key)
    if arn is None:
        raise validation_error(
            f"The provided KMS key {key} (customModelKmsKeyId) was not found in {region}. Check the "
            "key id, alias or ARN and that the key is in this Region."
        )
    return arn


def check_quota(running: int, max_concurrent_jobs: int, region: str) -> None:
    """A slot under the quota of concurrent jobs (InProgress or Stopping) of the account in the Region."""
    if running >= max_concurrent_jobs:
        raise quota_exceeded(
            f"You have reached the quota of {max_concurrent_jobs} concurrent model "
            f"customization jobs for this account in {region} ({running} running). Wait for "
            "a job to end, or request a quota increase through Service Quotas."
        )
