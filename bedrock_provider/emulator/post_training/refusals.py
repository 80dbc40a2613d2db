"""What Bedrock refuses after training: the models a deployment, a provisioned throughput or an evaluation
job may name, and deleting a custom model that is still served.

A custom model that a deployment or a provisioned throughput still serves cannot be deleted
(ConflictException), and only a deployed model (an Active deployment, an InService provisioned
throughput) or a foundation model can be evaluated.
"""

from __future__ import annotations

from bedrock_provider.emulator.arns import (
    CUSTOM_MODEL_ARN_RE,
    DEPLOYMENT_ARN_RE,
    FOUNDATION_MODEL_ARN_RE,
    MODEL_ID_RE,
    PROVISIONED_ARN_RE,
)
from bedrock_provider.emulator.backend import CustomizationBackend
from bedrock_provider.emulator.errors import BedrockError, not_found, validation_error
from bedrock_provider.emulator.models import CustomModel
from bedrock_provider.emulator.post_training.models import Deployment, ProvisionedThroughput
from bedrock_provider.emulator.store import ResourceTable


def refuse_model_in_use(
    model: CustomModel,
    deployments: ResourceTable[Deployment],
    throughputs: ResourceTable[ProvisionedThroughput],
) -> None:
    """Bedrock refuses to delete a custom model that a deployment or a provisioned throughput serves."""
    servers: list[tuple[ResourceTable[Deployment] | ResourceTable[ProvisionedThroughput], str]] = [
        (deployments, "the deployment"),
        (throughputs, "the provisioned throughput"),
    ]
    for table, to_delete in servers:
        for server in table:
            if model.arn in server.served_model_arns():
                raise BedrockError(
                    "ConflictException",
                    f"The custom model {model.name} can't be deleted because {table.kind} "
                    f"{server.name} ({server.arn}) uses it. Delete {to_delete} first.",
                    400,
                )


def check_evaluated_model(
    identifier: str,
    field_name: str,
    deployments: ResourceTable[Deployment],
    throughputs: ResourceTable[ProvisionedThroughput],
    customization: CustomizationBackend,
) -> None:
    """A model an evaluation job invokes: a foundation model, Active deployment or InService throughput."""
    if DEPLOYMENT_ARN_RE.match(identifier):
        deployment = deployments.find(identifier)
        if deployment is None:
            raise not_found(f"The custom model deployment {identifier} ({field_name}) was not found.")
        if deployment.status != "Active":
            raise validation_error(
                f"The custom model deployment {deployment.name} ({field_name}) is {deployment.status}; "
                "a model can be evaluated once its deployment is Active."
            )
        return
    if PROVISIONED_ARN_RE.match(identifier):
        throughput = throughputs.find(identifier)
        if throughput is None:
            raise not_found(f"The provisioned throughput {identifier} ({field_name}) was not found.")
        if throughput.status not in ("InService", "Updating"):
            raise validation_error(
                f"The provisioned throughput {throughput.name} ({field_name}) is {throughput.status}; "
                "a model can be evaluated once its provisioned throughput is InService."
            )
        return
    model = customization.find_custom_model(identifier)
    if model is not None or CUSTOM_MODEL_ARN_RE.match(identifier):
        raise validation_error(
            f"{field_name} {identifier} is a custom model, which cannot be invoked until it is "
            "deployed. Create a custom model deployment (or a provisioned throughput) for it and "
            "evaluate the deployment's ARN."
        )
    if not (FOUNDATION_MODEL_ARN_RE.match(identifier) or MODEL_ID_RE.match(identifier)):
        raise validation_error(
            f"Invalid {field_name} {identifier!r}: expected a foundation model id or ARN, a custom model "
            "deployment ARN or a provisioned throughput ARN."
        )


def served_custom_model(customization: CustomizationBackend, identifier: str, field_name: str) -> CustomModel:
    """The custom model a deployment or a provisioned throughput is to serve, or Bedrock's not-found."""
    model = customization.find_custom_model(identifier)
    if model is None:
        raise not_found(
            f"The custom model {identifier} ({field_name}) was not found. Check the model name or ARN "
            f"and the region ({customization.region})."
        )
    return model


def throughput_model(
    customization: CustomizationBackend, identifier: str, field_name: str
) -> tuple[str, str]:
    """(model ARN, foundation model ARN) of what a provisioned throughput serves."""
    match = FOUNDATION_MODEL_ARN_RE.match(identifier)
    if match or (MODEL_ID_RE.match(identifier) and customization.find_custom_model(identifier) is None):
        model_id = match.group("model") if match else identifier
        arn = customization.arns.foundation_model_arn(model_id)
        return arn, arn
    model = served_custom_model(customization, identifier, field_name)
    return model.arn, model.job.base_model_arn
