"""Which custom models Bedrock deploys for on-demand inference (CreateCustomModelDeployment).

AWS documents three conditions, all of which must hold:
- the base model is one it lists: Amazon Nova Lite, Micro and Pro (Amazon Bedrock user guide), and
  Amazon Nova Canvas (Amazon Nova user guide);
- the Region is US East (N. Virginia) or US West (Oregon);
- the model was customized on or after 2025-07-16.

Sources, checked on ``CHECKED``:
https://docs.aws.amazon.com/bedrock/latest/userguide/deploy-custom-model-on-demand.html
(Regions, "Prerequisites", "Supported base models") and
https://docs.aws.amazon.com/nova/latest/userguide/deploy-custom-model.html ("Supported models").
The deploy operator refuses the same cases before any call, and the emulator answers them with
Bedrock's ValidationException: both ask ``on_demand_problem``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import MappingProxyType

ON_DEMAND_URL = "https://docs.aws.amazon.com/bedrock/latest/userguide/deploy-custom-model-on-demand.html"
NOVA_ON_DEMAND_URL = "https://docs.aws.amazon.com/nova/latest/userguide/deploy-custom-model.html"
CHECKED = "2026-12-05"

# Base model id (without its version suffix) -> the name AWS gives it on those pages.
ON_DEMAND_BASE_MODELS = MappingProxyType(
    {
        "amazon.nova-lite-v1": "Amazon Nova Lite",
        "amazon.nova-micro-v1": "Amazon Nova Micro",
        "amazon.nova-pro-v1": "Amazon Nova Pro",
        # Listed by the Nova guide's page only; the Bedrock guide lists the three above.
        "amazon.nova-canvas-v1": "Amazon Nova Canvas",
    }
)
ON_DEMAND_REGIONS = ("us-east-1", "us-west-2")
# "You must customize the model on or after 7/16/2025."
CUSTOMIZED_ON_OR_AFTER = date(2025, 7, 16)


def base_model_id(base_model: str) -> str:
    """The bare model id of a foundation-model id, versioned id or ARN: 'amazon.nova-micro-v1'."""
    text = base_model.strip().lower()
    if text.startswith("arn:"):
        resource = text.split(":", 5)[-1]
        text = resource.split("/", 1)[1] if "/" in resource else resource
    return text.split(":", 1)[0]


def on_demand_problem(base_model: str, region: str | None, customized_at: datetime | None) -> str | None:
    """Why Bedrock would not deploy this custom model on demand, or None if it would.

    ``base_model`` is the custom model's base (GetCustomModel's baseModelArn, or a model id);
    ``region`` where the deployment is created; ``customized_at`` when the custom model was created
    (GetCustomModel's creationTime), None when unknown (then only the model and Region are judged).
    """
    problems: list[str] = []
    model_id = base_model_id(base_model)
    if model_id not in ON_DEMAND_BASE_MODELS:
        problems.append(
            f"its base model {base_model} is not one AWS deploys on demand "
            f"({', '.join(ON_DEMAND_BASE_MODELS.values())})"
        )
    if region is not None and region not in ON_DEMAND_REGIONS:
        problems.append(f"the Region {region} is not one of {', '.join(ON_DEMAND_REGIONS)}")
    if customized_at is not None:
        when = customized_at if customized_at.tzinfo else customized_at.replace(tzinfo=UTC)
        if when.astimezone(UTC).date() < CUSTOMIZED_ON_OR_AFTER:
            problems.append(
                f"it was customized on {when.astimezone(UTC).date().isoformat()}, before "
                f"{CUSTOMIZED_ON_OR_AFTER.isoformat()}"
            )
    if not problems:
        return None
    return (
        "On-demand deployment is not supported for this custom model: "
        + "; ".join(problems)
        + f" (see {ON_DEMAND_URL} and {NOVA_ON_DEMAND_URL})"
    )
