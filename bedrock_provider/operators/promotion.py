"""BedrockPromoteCustomModelOperator: one stable deployment ARN; the model behind it swapped and checked.

The steps and the record they keep on the deployment are core/promotion.py's; this shell makes the calls,
waits (deferred or blocking) for the create, the update, the canary's evaluation job and a swap back,
and resumes each phase from the deployment's own record.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from bedrock_provider.core import promotion as plan
from bedrock_provider.core.deployment import OWNER_TAG
from bedrock_provider.core.errors import InvalidInputError, JobConflictError, Problem
from bedrock_provider.core.kill import stop_actions
from bedrock_provider.core.promotion import PromotionRequest, PromotionStep, ValidPromotion
from bedrock_provider.core.resources import (
    CUSTOM_MODEL_DEPLOYMENT,
    CUSTOM_MODEL_DEPLOYMENT_UPDATE,
    EVALUATION_JOB,
    ResourceKind,
)
from bedrock_provider.core.wait_settings import check_wait_settings
from bedrock_provider.operators.base import (
    DEFERRABLE_DEFAULT,
    BedrockBaseOperator,
    aws_template_fields,
    deployment_namespace,
    task_identity,
)
from bedrock_provider.operators.deployment import refuse_unless_on_demand
from bedrock_provider.operators.gate import on_gate_failure
from bedrock_provider.operators.waiting import WAIT_SETTINGS, ResourceWaitMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_provider.operators.evaluation import BedrockModelEvaluationOperator

PROMOTION_FIELDS = ("deployment_name", "model_identifier", "canary", "on_canary_failure", "tags")


class BedrockPromoteCustomModelOperator(ResourceWaitMixin, BedrockBaseOperator):
    """Point one stable on-demand deployment at a custom model, check it with a canary, roll back.

    :param deployment_name: the stable deployment (e.g. ``support-bot-prod``); its ARN is the modelId
        applications keep calling while the model behind it changes.
    :param model_identifier: the custom model to serve (ARN or name).
    :param canary: None, or evaluation settings run on the deployment after the swap, as
        BedrockModelEvaluationOperator takes them: ``role_arn``, ``task_type``, ``dataset_uri``,
        ``output_uri``, ``evaluator_model_id`` (the judge), ``min_scores``/``max_scores`` and optionally
        ``job_name``, ``metric_names``, ``inference_config``, ``job_tags``, ``min_valid_fraction``.
    :param on_canary_failure: after a failed canary has swapped the replaced model back: "fail" the task,
        "skip" it, or "record" (succeed with ``rolled_back=True``).
    :param tags: tags of the deployment when a first promotion creates it.
    :param delete_on_kill: when a first promotion's deployment is still being created, on which user
        actions it is deleted (bedrock_provider.core.kill). An update is never undone by a kill: no API
        cancels it, and the next try finishes or reverts it.
    :param stop_canary_on_kill: on which user actions a running canary evaluation job is stopped.
    :param keep_last_good: leave ``airflow:last-good-model`` as it is (a rollback: the model it leaves
        is not a good one to come back to). ``model_identifier="@last-good"`` points the deployment
        at its recorded last-good model.

    Exactly once: the deployment records the promotion (task instance token, from, to, state) as tags
    before each step; a retry adopts what an earlier try did, a model already served is a no-op that says
    so, and an update by another promotion in progress is never interleaved with (check, update, verify).
    Returns ``{"deployment_arn", "model_arn", "previous_model_arn", "status", "rolled_back", "canary",
    "deployment_name", "last_good_model_arn"}``; ``status`` is "created", "swapped", "unchanged" or
    "rolled_back".
    """

    template_fields: Sequence[str] = aws_template_fields(*PROMOTION_FIELDS)
    template_fields_renderers = {"canary": "json", "tags": "json"}
    ui_color = "#e8f4e4"
    wait_for_completion: bool
    tags: dict[str, str] | None
    delete_on_kill: bool | Iterable[str]
    stop_canary_on_kill: bool | Iterable[str]

    def __init__(
        self,
        *,
        deployment_name: str,
        model_identifier: str,
        canary: dict[str, Any] | None = None,
        on_canary_failure: str = "fail",
        tags: dict[str, str] | None = None,
        wait_for_completion: bool = True,
        deferrable: bool = DEFERRABLE_DEFAULT,
        poll_interval: float = 30,
        max_wait: float | None = None,
        delete_on_kill: bool | Iterable[str] = True,
        stop_canary_on_kill: bool | Iterable[str] = True,
        keep_last_good: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_wait_settings(poll_interval, max_wait)
        stop_actions(delete_on_kill, "delete_on_kill")
        stop_actions(stop_canary_on_kill, "stop_canary_on_kill")
        self.keep_arguments(
            locals(), *PROMOTION_FIELDS, *WAIT_SETTINGS, "delete_on_kill", "stop_canary_on_kill"
        )
        self.keep_last_good = keep_last_good
        self._waiting: tuple[ResourceKind, str, str] | None = None
        self._task_instance: Any = None

    # -- the first half -----------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any] | None:
        request = self.build_request()
        self._task_instance = context["ti"]
        token = self._token(context, request)
        hook = self.resource_hook
        description = hook.find(CUSTOM_MODEL_DEPLOYMENT, request.deployment_name)
        tags = self._deployment_tags(description)
        wanted = plan.resolve_model(request.model_identifier, request.deployment_name, tags)
        model = hook.find_custom_model(wanted)
        if model is None:
            raise InvalidInputError(
                "Invalid promotion request",
                [Problem("model_identifier", wanted, "no such custom model in this account and region")],
            )
        target = str(model["modelArn"])
        plan.check_tag_value(target, "The model ARN")
        refuse_unless_on_demand(hook.client.meta.region_name, model, "model_identifier")
        step = plan.plan_promotion(description, tags, target, token, deployment_namespace())
        self.log.info(
            "%s serves %s; promoting %s: %s",
            request.deployment_name,
            (description or {}).get("modelArn"),
            target,
            step.reason,
        )
        return self._run(context, request, step, description, target, token, deployment_namespace())

    def _run(
        self,
        context: Context,
        request: ValidPromotion,
        step: PromotionStep,
        description: dict[str, Any] | None,
        target: str,
        token: str,
        namespace: str,
    ) -> dict[str, Any] | None:
        hook = self.resource_hook
        phase: dict[str, Any] = {"target": target, "previous": step.previous, "token": token}
        if step.action == plan.CREATE:
            tags = {
                **request.tags,
                plan.STABLE_TAG: namespace,
                OWNER_TAG: token,
                **plan.record_tags(token, None, target, plan.SWAPPING),
            }
            self.log.info("Creating the stable deployment %s serving %s", request.deployment_name, target)
            arn = hook.client.create_custom_model_deployment(
                modelDeploymentName=request.deployment_name,
                modelArn=target,
                clientRequestToken=token,
                tags=[{"key": key, "value": value} for key, value in tags.items()],
            )["customModelDeploymentArn"]
            return self._wait(
                context, CUSTOM_MODEL_DEPLOYMENT, str(arn), "swap_complete", phase, "delete_on_kill"
            )
        if description is None:  # every other step has a deployment
            raise AirflowException(f"No custom model deployment {request.deployment_name} to {step.action}")
        arn = str(description["customModelDeploymentArn"])
        if step.action == plan.WAIT_CREATE:
            return self._wait(context, CUSTOM_MODEL_DEPLOYMENT, arn, "swap_complete", phase, "delete_on_kill")
        if step.action in (plan.SWAP, plan.WAIT_SWAP):
            if step.action == plan.SWAP:
                self._update(arn, target, step.previous, token, plan.SWAPPING)
            else:
                hook.tag_resource(arn, plan.record_tags(token, step.previous, target, plan.SWAPPING))
            return self._wait(context, CUSTOM_MODEL_DEPLOYMENT_UPDATE, arn, "swap_complete", phase)
        if step.action == plan.AFTER_SWAP:
            return self._after_swap(context, request, description, phase)
        if step.action in (plan.ROLL_BACK, plan.WAIT_ROLL_BACK):
            if step.action == plan.ROLL_BACK:
                self._update(arn, str(step.previous), target, token, plan.ROLLING_BACK, record_to=target)
            return self._wait(context, CUSTOM_MODEL_DEPLOYMENT_UPDATE, arn, "rollback_complete", phase)
        if step.action == plan.ROLLED_BACK_ALREADY:
            return self.rollback_complete(context, None, description=description, **phase)
        if step.action == plan.DONE and step.record.state == plan.CANARY_FAILED:
            return self._canary_failed(context, request, description, phase, None)
        status = "unchanged" if step.action == plan.UNCHANGED else "swapped"
        if status == "unchanged":
            self.log.info("No-op: %s already serves %s; nothing was changed", request.deployment_name, target)
        return plan.promotion_result(description, step.previous, status, last_good=step.record.last_good)

    def _update(
        self, arn: str, model: str, replaced: str | None, token: str, state: str, record_to: str | None = None
    ) -> None:
        """Check, update, verify: the record first (a kill after it is resumed by the next try), then
        UpdateCustomModelDeployment, then the deployment must show this very update in progress."""
        hook = self.resource_hook
        record = plan.record_tags(token, replaced if record_to is None else model, record_to or model, state)
        hook.tag_resource(arn, record)
        self.log.info("Updating %s: %s -> %s", arn, replaced, model)
        try:
            hook.client.update_custom_model_deployment(customModelDeploymentIdentifier=arn, modelArn=model)
        except Exception as error:
            # An update in progress is refused (ValidationException, the only refusal botocore lists for
            # UpdateCustomModelDeployment): one to the same model is adopted; one to another model is
            # named, and our record is taken back if it is still ours.
            update = hook.describe(CUSTOM_MODEL_DEPLOYMENT, arn).get("updateDetails") or {}
            if update.get("updateStatus") != "Updating":
                raise
            if update.get("modelArn") != model:
                if plan.PromotionRecord.of(hook.list_tags(arn)).by(token):
                    hook.client.untag_resource(resourceARN=arn, tagKeys=list(record))
                raise JobConflictError(
                    f"The custom model deployment {arn} is being updated to {update.get('modelArn')} by "
                    f"another promotion; this one, to {model}, does not interleave with it. Try again when "
                    "it is done (a retry of this task does)."
                ) from error
        now = hook.describe(CUSTOM_MODEL_DEPLOYMENT, arn)
        going_to = (now.get("updateDetails") or {}).get("modelArn")
        if going_to != model:
            raise JobConflictError(
                f"After updating {arn} to {model}, it shows an update to {going_to}: another promotion "
                "updated it at the same time. Nothing more is done; check what it serves."
            )
        hook.tag_resource(arn, record)

    def _wait(
        self,
        context: Context,
        kind: ResourceKind,
        arn: str,
        method_name: str,
        phase: dict[str, Any],
        kill_parameter: str = "delete_on_kill",
    ) -> dict[str, Any] | None:
        self._waiting = (kind, arn, kill_parameter)
        if not self.wait_for_completion:
            description = self.resource_hook.describe(CUSTOM_MODEL_DEPLOYMENT, arn)
            return plan.promotion_result(description, phase.get("previous"), kind.status_of(description))
        final = self.wait_for_resource(
            kind,
            arn,
            time.time(),
            kill_parameter=kill_parameter,
            method_name=method_name,
            resume_kwargs=phase,
        )
        return getattr(self, method_name)(context, None, description=final, **phase)

    # -- after each wait ----------------------------------------------------------------------------

    def swap_complete(
        self,
        context: Context,
        event: dict[str, Any] | None = None,
        *,
        target: str,
        previous: str | None,
        token: str,
        description: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        self._task_instance = context["ti"]
        request = self.build_request()
        if description is None:
            _, description = self.resource_from_event(event)
        description = self.resource_hook.describe(
            CUSTOM_MODEL_DEPLOYMENT, str(description["customModelDeploymentArn"])
        )
        return self._after_swap(
            context, request, description, {"target": target, "previous": previous, "token": token}
        )

    def _after_swap(
        self, context: Context, request: ValidPromotion, description: dict[str, Any], phase: dict[str, Any]
    ) -> dict[str, Any] | None:
        arn, target = str(description["customModelDeploymentArn"]), phase["target"]
        update = description.get("updateDetails") or {}
        if description.get("status") != "Active" or description.get("modelArn") != target:
            why = description.get("failureMessage") or update.get("updateStatus") or description.get("status")
            raise AirflowException(
                f"The promotion of {target} to {arn} did not take: it serves {description.get('modelArn')} "
                f"({why}). The deployment keeps serving that model; try again, or promote another model."
            )
        if request.canary is None:
            return self._confirm(arn, description, phase, None)
        self.resource_hook.tag_resource(
            arn, plan.record_tags(phase["token"], phase["previous"], target, plan.CANARY)
        )
        evaluation = self._canary_operator(request, arn, phase["token"])
        _, job = evaluation.submit_job(context)
        self.log.info("Canary on %s (serving %s): evaluation job %s", arn, target, job["jobArn"])
        self._waiting = (EVALUATION_JOB, str(job["jobArn"]), "stop_canary_on_kill")
        if not self.wait_for_completion:
            return plan.promotion_result(
                description, phase["previous"], "canary", canary={"job_arn": job["jobArn"]}
            )
        final = self.wait_for_resource(
            EVALUATION_JOB,
            str(job["jobArn"]),
            time.time(),
            kill_parameter="stop_canary_on_kill",
            method_name="canary_complete",
            resume_kwargs=phase,
        )
        return self.canary_complete(context, None, description=final, **phase)

    def canary_complete(
        self,
        context: Context,
        event: dict[str, Any] | None = None,
        *,
        target: str,
        previous: str | None,
        token: str,
        description: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        self._task_instance = context["ti"]
        request = self.build_request()
        if description is None:
            _, description = self.resource_from_event(event)
        hook = self.resource_hook
        deployment = hook.describe(CUSTOM_MODEL_DEPLOYMENT, request.deployment_name)
        arn = str(deployment["customModelDeploymentArn"])
        canary = self._canary_operator(request, arn, token).job_result(context, description)
        phase = {"target": target, "previous": previous, "token": token}
        if canary["passed"]:
            self.log.info("Canary passed on %s: %s", arn, canary["scores"])
            return self._confirm(arn, deployment, phase, canary)
        return self._canary_failed(context, request, deployment, phase, canary)

    def _canary_failed(
        self,
        context: Context,
        request: ValidPromotion,
        deployment: dict[str, Any],
        phase: dict[str, Any],
        canary: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        arn, target, previous = (
            str(deployment["customModelDeploymentArn"]),
            phase["target"],
            phase["previous"],
        )
        reasons = "; ".join((canary or {}).get("gate", {}).get("reasons", [])) or "see the earlier try"
        if previous is None:
            self.resource_hook.tag_resource(
                arn, plan.record_tags(phase["token"], None, target, plan.CANARY_FAILED)
            )
            result = plan.promotion_result(deployment, None, "created", canary=canary)
            message = (
                f"The canary of {target} on {arn} failed ({reasons}), and there is no earlier model to swap "
                "back: the deployment was created by this promotion. Delete it, or promote another model."
            )
            on_gate_failure(request.on_canary_failure, message, context, result, self.log)
            return result
        self.log.warning("Canary of %s failed (%s): swapping %s back", target, reasons, previous)
        self._update(arn, previous, target, phase["token"], plan.ROLLING_BACK, record_to=target)
        return self._wait(
            context, CUSTOM_MODEL_DEPLOYMENT_UPDATE, arn, "rollback_complete", {**phase, "canary": canary}
        )

    def rollback_complete(
        self,
        context: Context,
        event: dict[str, Any] | None = None,
        *,
        target: str,
        previous: str | None,
        token: str,
        description: dict[str, Any] | None = None,
        canary: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        self._task_instance = context["ti"]
        request = self.build_request()
        if description is None:
            _, description = self.resource_from_event(event)
        arn = str(description["customModelDeploymentArn"])
        description = self.resource_hook.describe(CUSTOM_MODEL_DEPLOYMENT, arn)
        if description.get("modelArn") != previous:
            raise AirflowException(
                f"The swap back of {arn} to {previous} after the failed canary of {target} did not take: it "
                f"serves {description.get('modelArn')} "
                f"({(description.get('updateDetails') or {}).get('updateStatus')}). "
                "Run the bedrock_rollback DAG, or promote the model that should serve."
            )
        self.resource_hook.tag_resource(arn, plan.record_tags(token, previous, target, plan.ROLLED_BACK))
        canary = canary or {"passed": False, "note": "the canary's verdict is in an earlier try's log"}
        self.log.info("Rolled back: %s serves %s again (%s failed its canary)", arn, previous, target)
        result = plan.promotion_result(description, previous, "rolled_back", rolled_back=True, canary=canary)
        message = f"The canary of {target} on {arn} failed; {previous} serves again"
        on_gate_failure(request.on_canary_failure, message, context, result, self.log)
        return result

    def _confirm(
        self, arn: str, description: dict[str, Any], phase: dict[str, Any], canary: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The promotion holds: the record says so, and the model it replaced is the last-good one."""
        previous, target = phase["previous"], phase["target"]
        tags = plan.record_tags(phase["token"], previous, target, plan.LIVE)
        if previous and not self.keep_last_good:
            tags[plan.LAST_GOOD_TAG] = previous
        self.resource_hook.tag_resource(arn, tags)
        last_good = self.resource_hook.list_tags(arn).get(plan.LAST_GOOD_TAG)
        self.log.info(
            "%s (modelId %s) serves %s; before: %s; last-good model: %s",
            description.get("modelDeploymentName"),
            arn,
            target,
            previous,
            last_good,
        )
        status = "swapped" if previous else "created"
        return plan.promotion_result(description, previous, status, canary=canary, last_good=last_good)

    # -- helpers ------------------------------------------------------------------------------------

    def build_request(self) -> ValidPromotion:
        return self.request_from_attributes(PromotionRequest).validate()

    def _token(self, context: Context, request: ValidPromotion) -> str:
        return task_identity(context).client_request_token(request.deployment_name, "promotion")

    def _deployment_tags(self, description: dict[str, Any] | None) -> dict[str, str]:
        if description is None:
            return {}
        return self.resource_hook.list_tags(str(description["customModelDeploymentArn"]))

    def _canary_operator(
        self, request: ValidPromotion, arn: str, token: str
    ) -> BedrockModelEvaluationOperator:
        """The evaluation operator's own logic (submission, an on-demand deployment's responses, results,
        gate) on the stable deployment; its gate is read here, so it only records."""
        from bedrock_provider.operators.evaluation import BedrockModelEvaluationOperator

        canary = dict(request.canary or {})
        evaluation = BedrockModelEvaluationOperator(
            task_id=self.task_id,
            job_name=canary.pop("job_name", None) or plan.canary_job_name(request.deployment_name, token),
            model_identifier=arn,
            on_gate_failure="record",
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            botocore_config=self.botocore_config,
            **canary,
        )
        return evaluation

    def on_kill(self) -> None:
        """A blocking wait killed: a first promotion's deployment being created, or a canary job, is
        cleaned up by the one kill rule; an update is left to finish (the next try resumes it)."""
        if self._waiting is not None:
            kind, arn, parameter = self._waiting
            self.kill_resource(kind, arn, parameter)
