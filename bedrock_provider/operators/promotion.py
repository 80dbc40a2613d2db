"""BedrockPromoteCustomModelOperator: one stable deployment ARN; the model behind it swapped and checked.

The steps and the record they keep on the deployment are core/lifecycle/promotion.py's; this shell makes
the calls, waits (deferred or blocking) for the create, the update, the canary's evaluation job and a
swap back, and resumes each phase from the deployment's own record.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from bedrock_provider.core.errors import InvalidInputError, JobConflictError, Problem
from bedrock_provider.core.lifecycle import promotion as plan
from bedrock_provider.core.lifecycle.deployment import OWNER_TAG
from bedrock_provider.core.lifecycle.promotion import PromotionRequest, PromotionStep, ValidPromotion
from bedrock_provider.core.lifecycle.promotion_canary import canary_job_name
from bedrock_provider.core.lifecycle.resources import (
    CUSTOM_MODEL_DEPLOYMENT,
    CUSTOM_MODEL_DEPLOYMENT_UPDATE,
    EVALUATION_JOB,
    ResourceKind,
)
from bedrock_provider.core.waiting.kill import stop_actions
from bedrock_provider.core.waiting.settings import check_wait_settings
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
        actions it is deleted (bedrock_provider.core.waiting.kill). An update is never undone by a kill: no
        API cancels it, and the next try finishes or reverts it.
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
        namespace = deployment_namespace()
        step = plan.plan_promotion(description, tags, target, token, namespace)
        self.log.info(
            "%s serves %s; promoting %s: %s",
            request.deployment_name,
            (description or {}).get("modelArn"),
            target,
            step.reason,
        )
        return self._run(context, request, step, description, target, token, namespace)

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
            return self._wait(context, CUSTOM_MODEL_DEPLOYMENT, str(arn), "delete_on_kill")
        if description is None:  # every other step has a deployment
            raise AirflowException(f"No custom model deployment {request.deployment_name} to {step.action}")
        arn = str(description["customModelDeploymentArn"])
        previous = step.previous
        if step.action == plan.WAIT_CREATE:
            return self._wait(context, CUSTOM_MODEL_DEPLOYMENT, arn, "delete_on_kill")
        if step.action == plan.SWAP:
            self._update(arn, target, plan.record_tags(token, previous, target, plan.SWAPPING), token)
        if step.action == plan.WAIT_SWAP:
            hook.tag_resource(arn, plan.record_tags(token, previous, target, plan.SWAPPING))
        if step.action == plan.ROLL_BACK:
            self._update(
                arn, str(previous), plan.record_tags(token, previous, target, plan.ROLLING_BACK), token
            )
        if step.action in (plan.SWAP, plan.WAIT_SWAP, plan.ROLL_BACK, plan.WAIT_ROLL_BACK):
            return self._wait(context, CUSTOM_MODEL_DEPLOYMENT_UPDATE, arn)
        if step.action == plan.AFTER_SWAP:
            return self._after_swap(context, request, description, target, previous, token)
        if step.action == plan.ROLLED_BACK_ALREADY or (
            step.action == plan.DONE and step.record.state == plan.CANARY_FAILED
        ):
            return self._canary_failed(context, request, description, target, previous, token)
        if step.action == plan.UNCHANGED:
            self.log.info("No-op: %s already serves %s; nothing was changed", request.deployment_name, target)
            return plan.promotion_result(description, previous, "unchanged", last_good=step.record.last_good)
        status = "swapped" if previous else "created"
        return plan.promotion_result(description, previous, status, last_good=step.record.last_good)

    def _update(self, arn: str, model: str, record: dict[str, str], token: str) -> None:
        """Check, update, verify: the record first (a kill after it is resumed by the next try), then
        UpdateCustomModelDeployment, then the deployment must show this very update in progress."""
        hook = self.resource_hook
        hook.tag_resource(arn, record)
        self.log.info("Updating %s to %s (%s)", arn, model, record[plan.STATE_TAG])
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
        going_to = (hook.describe(CUSTOM_MODEL_DEPLOYMENT, arn).get("updateDetails") or {}).get("modelArn")
        if going_to != model:
            raise JobConflictError(
                f"After updating {arn} to {model}, it shows an update to {going_to}: another promotion "
                "updated it at the same time. Nothing more is done; check what it serves."
            )
        hook.tag_resource(arn, record)

    def _wait(
        self, context: Context, kind: ResourceKind, arn: str, kill_parameter: str = "delete_on_kill"
    ) -> dict[str, Any] | None:
        """Wait for ``kind`` (deferred, or here), then carry on from what the deployment's record says:
        the resumed half plans again, as a next try would."""
        self._waiting = (kind, arn, kill_parameter)
        if not self.wait_for_completion:
            description = self.resource_hook.describe(CUSTOM_MODEL_DEPLOYMENT, arn)
            return plan.promotion_result(description, None, kind.status_of(description))
        final = self.wait_for_resource(
            kind, arn, time.time(), kill_parameter=kill_parameter, method_name="resume"
        )
        return self._carry_on(context, kind, final)

    def resume(
        self, context: Context, event: dict[str, Any] | None = None, **_: Any
    ) -> dict[str, Any] | None:
        """The deferred half: the wait's event, then the next step. Nothing comes from the first half
        but the event (dag.test drops resume kwargs): the deployment's record says the rest."""
        kind, description = self.resource_from_event(event)
        return self._carry_on(context, kind, description)

    def _carry_on(
        self, context: Context, kind: ResourceKind, description: dict[str, Any]
    ) -> dict[str, Any] | None:
        status = kind.status_of(description)
        if not kind.is_ready(status):
            raise AirflowException(
                f"The {kind.label} {description.get(kind.arn_field)} is {status}: "
                f"{kind.failure_message(description) or 'Bedrock gave no failure message'}. The deployment "
                "keeps serving the model it served; a retry of this task takes it from there."
            )
        return self.execute(context)

    # -- after the swap -----------------------------------------------------------------------------

    def _after_swap(
        self,
        context: Context,
        request: ValidPromotion,
        description: dict[str, Any],
        target: str,
        previous: str | None,
        token: str,
    ) -> dict[str, Any] | None:
        arn = str(description["customModelDeploymentArn"])
        if request.canary is None:
            return self._confirm(arn, description, target, previous, token, None)
        self.resource_hook.tag_resource(arn, plan.record_tags(token, previous, target, plan.CANARY))
        evaluation = self._canary_operator(request, arn, token)
        _, job = evaluation.submit_job(context)
        job_arn = str(job["jobArn"])
        if not EVALUATION_JOB.is_terminal(EVALUATION_JOB.status_of(job)):
            self.log.info("Canary on %s (serving %s): evaluation job %s", arn, target, job_arn)
            return self._wait(context, EVALUATION_JOB, job_arn, "stop_canary_on_kill")
        canary = evaluation.job_result(context, job)
        if canary["passed"]:
            self.log.info("Canary passed on %s: %s", arn, canary["scores"])
            return self._confirm(arn, description, target, previous, token, canary)
        if previous is None:
            self.resource_hook.tag_resource(arn, plan.record_tags(token, None, target, plan.CANARY_FAILED))
            return self._canary_failed(context, request, description, target, previous, token, canary)
        reasons = "; ".join(canary["gate"].get("reasons", []))
        self.log.warning("Canary of %s failed (%s): swapping %s back", target, reasons, previous)
        self._update(arn, previous, plan.record_tags(token, previous, target, plan.ROLLING_BACK), token)
        return self._wait(context, CUSTOM_MODEL_DEPLOYMENT_UPDATE, arn)

    def _canary_failed(
        self,
        context: Context,
        request: ValidPromotion,
        description: dict[str, Any],
        target: str,
        previous: str | None,
        token: str,
        canary: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The canary failed: the replaced model serves again (or there was none); fail, skip or record."""
        arn = str(description["customModelDeploymentArn"])
        if canary is None:  # the canary job of this task instance, adopted, tells its verdict again
            evaluation = self._canary_operator(request, arn, token)
            canary = evaluation.job_result(context, evaluation.submit_job(context)[1])
        reasons = "; ".join(canary["gate"].get("reasons", [])) or "its gate failed"
        if previous is None:
            result = plan.promotion_result(description, None, "created", canary=canary)
            message = (
                f"The canary of {target} on {arn} failed ({reasons}), and there is no earlier model to swap "
                "back: this promotion created the deployment. Delete it, or promote another model."
            )
        else:
            self.resource_hook.tag_resource(arn, plan.record_tags(token, previous, target, plan.ROLLED_BACK))
            self.log.info("Rolled back: %s serves %s again; %s failed its canary", arn, previous, target)
            result = plan.promotion_result(
                description, previous, "rolled_back", rolled_back=True, canary=canary
            )
            message = f"The canary of {target} on {arn} failed ({reasons}); {previous} serves again"
        on_gate_failure(request.on_canary_failure, message, context, result, self.log)
        return result

    def _confirm(
        self,
        arn: str,
        description: dict[str, Any],
        target: str,
        previous: str | None,
        token: str,
        canary: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """The promotion holds: the record says so, and the model it replaced is the last-good one."""
        tags = plan.record_tags(token, previous, target, plan.LIVE)
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
            job_name=canary.pop("job_name", None) or canary_job_name(request.deployment_name, token),
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
