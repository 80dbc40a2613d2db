"""BedrockDeployCustomModelOperator: make a custom model invocable, once per task instance."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from bedrock_provider.core.errors import InvalidInputError, JobConflictError, Problem
from bedrock_provider.core.lifecycle.deployment import (
    ON_DEMAND,
    OWNER_TAG,
    PROVISIONED,
    DeploymentRequest,
    ValidDeployment,
    deployment_result,
    replacement_token,
)
from bedrock_provider.core.lifecycle.on_demand import on_demand_problem
from bedrock_provider.core.lifecycle.resources import ResourceKind
from bedrock_provider.core.lineage import deployment_lineage
from bedrock_provider.core.waiting.kill import stop_actions
from bedrock_provider.core.waiting.settings import check_wait_settings
from bedrock_provider.operators.base import (
    DEFERRABLE_DEFAULT,
    BedrockBaseOperator,
    aws_template_fields,
    task_identity,
)
from bedrock_provider.operators.costs import provisioned_throughput_cost
from bedrock_provider.operators.waiting import WAIT_SETTINGS, ResourceWaitMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

# The templated parameters, kept as attributes of the same names.
DEPLOYMENT_FIELDS = (
    "model_identifier",
    "deployment_name",
    "mode",
    "model_units",
    "commitment_duration",
    "tags",
    "description",
    "max_hourly_cost",
    "price_overrides",
)


class BedrockDeployCustomModelOperator(ResourceWaitMixin, BedrockBaseOperator):
    """Deploy a custom model so that bedrock-runtime and evaluation jobs can invoke it.

    :param model_identifier: the custom model's ARN or name (e.g. the customization task's
        ``custom_model_arn``).
    :param deployment_name: name of the deployment (or provisioned throughput).
    :param mode: "on_demand" (CreateCustomModelDeployment: pay per token) or "provisioned"
        (CreateProvisionedModelThroughput: model units, billed by the hour). On demand is refused
        before anything is created for a model AWS does not deploy that way (Nova Lite, Micro and Pro
        customized on or after 2025-07-16, in us-east-1 or us-west-2: core/lifecycle/on_demand.py).
    :param model_units: model units of a provisioned throughput.
    :param commitment_duration: None (no commitment), "OneMonth" or "SixMonths" (provisioned only).
    :param tags: tags of the deployment (a dict, or Bedrock's list of key/value).
    :param description: description of an on-demand deployment.
    :param wait_for_completion: wait until the deployment is Active (InService).
    :param deferrable: wait in the triggerer, holding no worker slot.
    :param poll_interval: seconds between status checks.
    :param max_wait: give up waiting after this many seconds; None waits as long as it takes.
    :param delete_on_kill: on which user actions on the waiting task a deployment that is not ready yet
        is deleted: True on mark-failed only (a cleared task's next try adopts it; mark-succeeded leaves
        it to become ready), False never, or a set of "mark_failed", "clear", "mark_success"
        (bedrock_provider.core.waiting.kill).
    :param max_hourly_cost: budget in USD per hour for a provisioned throughput: its hourly price
        (model units x the base model's price for the commitment) is logged before it is created, and
        a higher (or unknown) one is refused before any Create call. None: no budget.
    :param price_overrides: prices for the base model, e.g. ``{"provisioned_per_hour": 20.5}``, over
        the catalog's and the connection's ``bedrock_prices`` extra.

    Exactly once: the Create call carries the task instance's token (dag_id, task_id, run_id,
    map_index), and the deployment is tagged with it. A retry, a cleared task or a re-run adopts a
    deployment of that name only when the tag is its own and it serves the requested model (and,
    provisioned, the same model units and commitment); any difference is an error naming the field.
    A deployment of ours that Failed is deleted and replaced. Returns ``{"deployment_arn",
    "model_arn", "status", "mode", "deployment_name", "adopted"}``; ``deployment_arn`` is the modelId
    that bedrock-runtime takes (an evaluation job takes a provisioned throughput's; an on-demand
    deployment is evaluated on its responses, see BedrockModelEvaluationOperator).
    """

    template_fields: Sequence[str] = aws_template_fields(*DEPLOYMENT_FIELDS)
    template_fields_renderers = {"tags": "json", "price_overrides": "json"}
    ui_color = "#e4f0e8"
    # Set by self.keep_arguments in __init__; declared for the type checker.
    mode: str
    max_hourly_cost: float | str | None
    price_overrides: dict[str, Any] | None
    wait_for_completion: bool
    delete_on_kill: bool | Iterable[str]

    def __init__(
        self,
        *,
        model_identifier: str,
        deployment_name: str,
        mode: str = ON_DEMAND,
        model_units: int | str = 1,
        commitment_duration: str | None = None,
        tags: dict[str, str] | list[dict[str, str]] | None = None,
        description: str | None = None,
        wait_for_completion: bool = True,
        deferrable: bool = DEFERRABLE_DEFAULT,
        poll_interval: float = 30,
        max_wait: float | None = None,
        delete_on_kill: bool | Iterable[str] = True,
        max_hourly_cost: float | str | None = None,
        price_overrides: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_wait_settings(poll_interval, max_wait)
        stop_actions(delete_on_kill, "delete_on_kill")  # refused here, where the DAG is parsed
        self.keep_arguments(locals(), *DEPLOYMENT_FIELDS, *WAIT_SETTINGS, "delete_on_kill")
        self.deployment_arn: str | None = None
        self._kind: ResourceKind | None = None
        self._task_instance: Any = None

    def build_request(self) -> DeploymentRequest:
        return self.request_from_attributes(DeploymentRequest)

    def execute(self, context: Context) -> dict[str, Any]:
        request = self.build_request().validate()
        self._task_instance = context["ti"]
        started_at = time.time()
        # The task instance's token for this deployment name (see TaskIdentity.client_request_token).
        owner = task_identity(context).client_request_token(request.deployment_name, request.mode)
        model = self._model(request.model_identifier)
        model_arn = str(model["modelArn"])
        if request.mode == ON_DEMAND:
            refuse_unless_on_demand(self.resource_hook.client.meta.region_name, model)
        if request.mode == PROVISIONED:
            # Logged, and refused above max_hourly_cost, before anything is created.
            hourly = provisioned_throughput_cost(
                self,
                str(model.get("baseModelArn") or model_arn),
                request.model_units,
                request.commitment_duration,
                self.max_hourly_cost,
                self.price_overrides,
                self.log,
            )
            context["ti"].xcom_push(key="estimated_hourly_cost", value=hourly)
        description, adopted = self._create_or_adopt(request, model_arn, owner)
        kind = request.kind
        self._kind = kind
        self.deployment_arn = str(description[kind.arn_field])
        if not self.wait_for_completion:
            return deployment_result(kind, description, request.mode, adopted=adopted)
        final = self.wait_for_resource(
            kind,
            self.deployment_arn,
            started_at,
            kill_parameter="delete_on_kill",
            resume_kwargs={"adopted": adopted},
        )
        return self._finish(kind, final, request.mode, adopted)

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, adopted: bool = False
    ) -> dict[str, Any]:
        """``adopted`` comes from the deferring try (a task deferred by an earlier version of this
        operator, which did not pass it, resumes as False)."""
        kind, description = self.resource_from_event(event)
        return self._finish(kind, description, str(self.mode), adopted=bool(adopted))

    def _finish(
        self, kind: ResourceKind, description: dict[str, Any], mode: str, adopted: bool
    ) -> dict[str, Any]:
        result = deployment_result(kind, description, mode, adopted=adopted)
        self.record_lineage(deployment_lineage(result))
        if not kind.is_ready(str(result["status"])):
            raise AirflowException(
                f"The {kind.label} {result['deployment_name']} ({result['deployment_arn']}) is "
                f"{result['status']}: {result['failure_message'] or 'Bedrock gave no failure message'}"
            )
        self.log.info(
            "%s %s is %s: invoke it with modelId=%s",
            kind.label.capitalize(),
            result["deployment_name"],
            result["status"],
            result["deployment_arn"],
        )
        return result

    def _model(self, model_identifier: str) -> dict[str, Any]:
        model = self.resource_hook.find_custom_model(model_identifier)
        if model is None:
            raise InvalidInputError(
                "Invalid deployment request",
                [
                    Problem(
                        "model_identifier",
                        model_identifier,
                        "no such custom model in this account and region; pass the customization "
                        "task's custom_model_arn",
                    )
                ],
            )
        return model

    def _create_or_adopt(
        self, request: ValidDeployment, model_arn: str, owner: str
    ) -> tuple[dict[str, Any], bool]:
        kind = request.kind
        hook = self.resource_hook
        token = owner
        existing = hook.find(kind, request.deployment_name)
        if existing is not None:
            arn = str(existing[kind.arn_field])
            existing_tags = hook.list_tags(arn)
            if existing_tags.get(OWNER_TAG) != owner:
                raise JobConflictError(
                    f"A {kind.label} named {request.deployment_name} ({arn}) exists but was not created by "
                    "this task instance, so it is not adopted. Give each run its own deployment_name, e.g. "
                    "'support-bot-{{ ds_nodash }}'."
                )
            differences = request.differences(existing, model_arn)
            if differences:
                raise JobConflictError(
                    f"This task instance's {kind.label} {request.deployment_name} ({arn}) differs from the "
                    "request, so it is not adopted:\n"
                    + "\n".join(f"  - {problem}" for problem in differences)
                    + "\nDelete it, or give the task a new deployment_name."
                )
            if not kind.is_failed(str(existing.get("status"))):
                self.log.info(
                    "Adopting this task instance's %s %s (%s, %s)",
                    kind.label,
                    request.deployment_name,
                    arn,
                    existing.get("status"),
                )
                self._apply_tag_changes(request, arn, existing_tags)
                return existing, True
            self.log.warning(
                "This task instance's %s %s Failed (%s); deleting it and deploying again",
                kind.label,
                request.deployment_name,
                kind.failure_message(existing),
            )
            hook.delete(kind, arn)
            token = replacement_token(owner, arn)
        method, kwargs = request.create_call(model_arn, token, owner)
        self.log.info("Creating %s %s of %s", kind.label, request.deployment_name, model_arn)
        response = getattr(hook.client, method)(**kwargs)
        arn = str(response[kind.arn_field])
        self.deployment_arn = arn
        self._kind = kind
        return hook.describe(kind, arn), False

    def _apply_tag_changes(self, request: ValidDeployment, arn: str, existing_tags: dict[str, str]) -> None:
        """Bring an adopted deployment's tags to what the task asks for now (the deployment is this task
        instance's own: its owner tag says so). Tags the task does not name are left: they may be
        someone else's, set by hand."""
        to_apply, unrequested = request.tag_changes(existing_tags)
        if to_apply:
            self.resource_hook.tag_resource(arn, to_apply)
            self.log.info(
                "Tags of %s changed since it was created; applied: %s",
                arn,
                ", ".join(
                    f"{key}: {existing_tags.get(key)!r} -> {value!r}" for key, value in to_apply.items()
                ),
            )
        if unrequested:
            self.log.warning(
                "%s carries tags that tags= no longer names, left as they are (they may have been set by "
                "hand): %s. To remove them: aws bedrock untag-resource --resource-arn %s --tag-keys %s",
                arn,
                ", ".join(f"{key}={value!r}" for key, value in unrequested.items()),
                arn,
                " ".join(unrequested),
            )

    def on_kill(self) -> None:
        """The worker's blocking wait killed: delete the deployment if not ready yet, on the user actions
        in delete_on_kill only (see bedrock_provider.core.waiting.kill)."""
        if self._kind is not None:
            self.kill_resource(self._kind, self.deployment_arn, "delete_on_kill")


def refuse_unless_on_demand(region: str, model: dict[str, Any], field: str = "mode") -> None:
    """Refuse, before anything is created or updated, a model AWS does not deploy on demand
    (core/lifecycle/on_demand.py: the documented base models, Regions and customization date)."""
    problem = on_demand_problem(str(model.get("baseModelArn") or ""), region, model.get("creationTime"))
    if problem is None:
        return
    if field == "mode":
        value: Any = ON_DEMAND
        fix = (
            f"Deploy {model.get('modelArn')} with mode='provisioned' (CreateProvisionedModelThroughput) "
            "instead"
        )
    else:
        value = model.get("modelArn")
        fix = "A promotion serves the model on demand: promote a model AWS deploys on demand"
    raise InvalidInputError("Invalid deployment request", [Problem(field, value, f"{problem}. {fix}")])
