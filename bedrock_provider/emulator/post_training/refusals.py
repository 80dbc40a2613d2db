"""What Bedrock refuses after training: the models a deployment, a provisioned throughput or an evaluation
job may name, and deleting a custom model that is still served.

A custom model that a deployment or a provisioned throughput still serves cannot be deleted
(ConflictException); an evaluation job invokes a foundation model or an InService provisioned
throughput (never a custom model deployment: botocore's EvaluationBedrockModelIdentifier has none);
a deployment on demand serves only the models core/lifecycle/on_demand.py names.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bedrock_provider.core.catalog import resolve
from bedrock_provider.core.lifecycle.on_demand import on_demand_problem
from bedrock_provider.emulator.arns import (
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
    throughputs: ResourceTable[ProvisionedThroughput],
    customization: CustomizationBackend,
) -> None:
    """A model an evaluation job invokes (bedrockModel.modelIdentifier): one that exists and can answer.

    Its shape was checked against botocore's EvaluationBedrockModelIdentifier already, which lists
    foundation models, inference profiles, provisioned, imported models, prompt routers and SageMaker
    endpoints, and no custom model or custom model deployment ARN. Of those, the emulator keeps
    provisioned throughputs, and knows foundation models from the catalog.
    """
    if PROVISIONED_ARN_RE.match(identifier):
        serving_throughput(throughputs, identifier, field_name)
        return
    if FOUNDATION_MODEL_ARN_RE.match(identifier) or MODEL_ID_RE.match(identifier):
        foundation_model_arn(customization, identifier, field_name)
        return
    raise not_found(
        f"The model {identifier} ({field_name}) was not found: this emulator keeps no imported models, "
        "application inference profiles, prompt routers or SageMaker endpoints."
    )


def serving_throughput(
    throughputs: ResourceTable[ProvisionedThroughput], identifier: str, field_name: str
) -> ProvisionedThroughput:
    """A provisioned throughput that serves inference now (InService, or Updating to another model)."""
    throughput = throughputs.find(identifier)
    if throughput is None:
        raise not_found(f"The provisioned throughput {identifier} ({field_name}) was not found.")
    if throughput.status not in ("InService", "Updating"):
        raise validation_error(
            f"The provisioned throughput {throughput.name} ({field_name}) is {throughput.status}: it "
            "serves inference once it is InService."
        )
    return throughput


def foundation_model_arn(customization: CustomizationBackend, identifier: str, field_name: str) -> str:
    """The ARN of a foundation model (id, inference profile id or ARN) Bedrock has, or its not-found.

    The emulator's foundation models are the catalog's (core/catalog/): a model that is not there,
    such as amazon.no-such-model-v9, does not exist.
    """
    ref = resolve(identifier)
    if ref is None:
        raise not_found(
            f"The foundation model {identifier} ({field_name}) was not found in {customization.region}. "
            "Check the model id (ListFoundationModels lists them)."
        )
    return customization.arns.foundation_model_arn(ref.versioned_id)


def on_demand_model(customization: CustomizationBackend, identifier: str, field_name: str) -> CustomModel:
    """The custom model a deployment is to serve on demand: one AWS deploys on demand (core/on_demand)."""
    model = served_custom_model(customization, identifier, field_name)
    problem = on_demand_problem(
        model.job.base_model_arn, customization.region, datetime.fromtimestamp(model.created, UTC)
    )
    if problem is not None:
        raise validation_error(f"{problem}. {field_name}: {model.arn}.")
    return model


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
    if FOUNDATION_MODEL_ARN_RE.match(identifier) or (
        MODEL_ID_RE.match(identifier) and customization.find_custom_model(identifier) is None
    ):
        arn = foundation_model_arn(customization, identifier, field_name)
        return arn, arn
    model = served_custom_model(customization, identifier, field_name)
    return model.arn, model.job.base_model_arn
