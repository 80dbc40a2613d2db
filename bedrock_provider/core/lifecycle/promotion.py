"""Promotion behind one stable deployment: the request, the record it keeps in AWS, and the next step.

A stable on-demand deployment (say ``support-bot-prod``) keeps its ARN, the modelId applications call,
while the model behind it changes: CreateCustomModelDeployment the first time, then
UpdateCustomModelDeployment ("Updates a custom model deployment with a new custom model. This allows you
to deploy updated models without creating new deployment endpoints",
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_UpdateCustomModelDeployment.html). Its
request takes only ``modelArn`` (botocore bedrock/2023-04-20 UpdateCustomModelDeploymentRequest), and
GetCustomModelDeployment's ``updateDetails`` ({modelArn, updateStatus: Updating | UpdateCompleted |
UpdateFailed}, CustomModelDeploymentUpdateDetails) says where an update goes while ``modelArn`` still
names the model being served.

The promotion's record lives on the deployment, as tags, so that it survives the task and any worker:

- ``airflow:promoted-deployment=<namespace>``: promotions of this Airflow manage the deployment (a
  deployment without it is never touched);
- ``airflow:last-good-model``: the model the last confirmed promotion replaced, where a rollback goes;
- ``airflow:promotion-token``, ``-from``, ``-to``, ``-state``: the promotion in progress or last done,
  by which task instance (its token), from which model to which, and how far it got.

``plan_promotion`` reads the deployment and that record and says what a try does next; every step
(check, tag, update, verify) can be cut by a kill, and the next try's plan finishes or reverts it.
Pure Python: no Airflow, no botocore.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_provider.core.errors import InvalidInputError, JobConflictError, Problem
from bedrock_provider.core.lifecycle.deployment import (
    CUSTOM_MODEL_ARN_PATTERN,
    NAME_RULE,
    OWNER_TAG,
    PROVIDER_TAG_PREFIX,
)
from bedrock_provider.core.lifecycle.promotion_canary import check_canary
from bedrock_provider.core.metrics.gate import ON_GATE_FAILURE_CHOICES
from bedrock_provider.core.names import CUSTOM_MODEL_NAME_PATTERN as RESOURCE_NAME_PATTERN
from bedrock_provider.core.request.fields import TAG_PATTERN, parse_tags

STABLE_TAG = "airflow:promoted-deployment"
LAST_GOOD_TAG = "airflow:last-good-model"
TOKEN_TAG = "airflow:promotion-token"  # noqa: S105 (a tag key, not a secret)
FROM_TAG = "airflow:promotion-from"
TO_TAG = "airflow:promotion-to"
STATE_TAG = "airflow:promotion-state"

# How far a promotion got (the value of airflow:promotion-state).
SWAPPING = "swapping"  # the deployment is created or updated to the new model
CANARY = "canary"  # the new model serves; its canary evaluation runs
LIVE = "live"  # confirmed: airflow:last-good-model names the model it replaced
ROLLING_BACK = "rolling-back"  # the canary failed; the deployment goes back to the replaced model
ROLLED_BACK = "rolled-back"  # the replaced model serves again
CANARY_FAILED = "canary-failed"  # the canary failed and there was no earlier model to go back to

# model_identifier's name for the deployment's recorded last-good model ('@' is in no model name).
LAST_GOOD = "@last-good"

# What a try does next (PromotionStep.action).
CREATE = "create"  # no deployment of that name: create it serving the model
WAIT_CREATE = "wait_create"  # this task instance's deployment is being created
SWAP = "swap"  # the deployment serves another model: update it
WAIT_SWAP = "wait_swap"  # an update to the model is in progress: wait for it
AFTER_SWAP = "after_swap"  # the model serves by this task instance's promotion: canary, then confirm
DONE = "done"  # this task instance's promotion is confirmed already
UNCHANGED = "unchanged"  # the model serves already, by another promotion: nothing to do
ROLL_BACK = "roll_back"  # this task instance's canary failed: swap the replaced model back
WAIT_ROLL_BACK = "wait_roll_back"  # that swap back is in progress
ROLLED_BACK_ALREADY = "rolled_back"  # the swap back is done


@dataclass(frozen=True)
class PromotionRequest:
    """What BedrockPromoteCustomModelOperator was asked for, as rendered."""

    deployment_name: Any
    model_identifier: Any
    canary: Any = None
    on_canary_failure: Any = "fail"
    tags: Any = None

    def validate(self) -> ValidPromotion:
        problems: list[Problem] = []
        name = self.deployment_name
        if not isinstance(name, str) or not RESOURCE_NAME_PATTERN.fullmatch(name):
            problems.append(Problem("deployment_name", name, f"must be {NAME_RULE}, e.g. 'support-bot-prod'"))
        model = self.model_identifier
        if not isinstance(model, str) or not (
            model == LAST_GOOD
            or CUSTOM_MODEL_ARN_PATTERN.fullmatch(model)
            or RESOURCE_NAME_PATTERN.fullmatch(model)
        ):
            problems.append(
                Problem(
                    "model_identifier",
                    model,
                    "must be a custom model's ARN or name (the customization task's custom_model_arn), or "
                    f"{LAST_GOOD!r} for the deployment's last-good model",
                )
            )
        if self.on_canary_failure not in ON_GATE_FAILURE_CHOICES:
            problems.append(
                Problem(
                    "on_canary_failure",
                    self.on_canary_failure,
                    f"must be one of {', '.join(ON_GATE_FAILURE_CHOICES)}",
                )
            )
        canary = check_canary(self.canary, problems)
        tags = {tag["key"]: tag["value"] for tag in parse_tags(self.tags, "tags", problems)}
        ours = sorted(key for key in tags if key.startswith(PROVIDER_TAG_PREFIX))
        if ours:
            problems.append(
                Problem("tags", ours, f"tags starting {PROVIDER_TAG_PREFIX!r} are set by the operator")
            )
        if problems:
            raise InvalidInputError("Invalid promotion request", problems)
        return ValidPromotion(str(name), str(model), canary, str(self.on_canary_failure), tags)


@dataclass(frozen=True)
class ValidPromotion:
    deployment_name: str
    model_identifier: str
    canary: dict[str, Any] | None
    on_canary_failure: str
    tags: dict[str, str]


def resolve_model(model_identifier: str, deployment_name: str, tags: Mapping[str, str]) -> str:
    """The model to promote: ``model_identifier``, or for LAST_GOOD the deployment's last-good model."""
    if model_identifier != LAST_GOOD:
        return model_identifier
    last_good = tags.get(LAST_GOOD_TAG)
    if not last_good:
        raise InvalidInputError(
            "Invalid promotion request",
            [
                Problem(
                    "model_identifier",
                    LAST_GOOD,
                    f"the deployment {deployment_name} records no last-good model (tag {LAST_GOOD_TAG}): "
                    "no promotion replaced a model there yet; name the model to serve instead",
                )
            ],
        )
    return last_good


# ------------------------------------------------------------------------------------------ the record


@dataclass(frozen=True)
class PromotionRecord:
    """What the deployment's tags say about the promotion in progress or last done."""

    token: str | None = None
    from_model: str | None = None
    to_model: str | None = None
    state: str | None = None
    last_good: str | None = None

    @classmethod
    def of(cls, tags: Mapping[str, str]) -> PromotionRecord:
        return cls(
            token=tags.get(TOKEN_TAG) or None,
            from_model=tags.get(FROM_TAG) or None,
            to_model=tags.get(TO_TAG) or None,
            state=tags.get(STATE_TAG) or None,
            last_good=tags.get(LAST_GOOD_TAG) or None,
        )

    def by(self, token: str) -> bool:
        return self.token == token


def record_tags(token: str, from_model: str | None, to_model: str, state: str) -> dict[str, str]:
    """The tags of a promotion's record (an empty value: no model, the first promotion)."""
    return {TOKEN_TAG: token, FROM_TAG: from_model or "", TO_TAG: to_model, STATE_TAG: state}


def protected_models(deployments: Iterable[tuple[Mapping[str, Any], Mapping[str, str]]]) -> dict[str, str]:
    """The models that stable deployments need, each with why, from (GetCustomModelDeployment
    description, tags) pairs: what one serves or is being updated to, its last-good model, and the model
    an unfinished promotion replaced (where a rollback goes). Retention never deletes these."""
    protected: dict[str, str] = {}
    for description, tags in deployments:
        if STABLE_TAG not in tags:
            continue
        name = description.get("modelDeploymentName")
        record = PromotionRecord.of(tags)
        needs = {
            description.get("modelArn"): f"served by the stable deployment {name}",
            (description.get("updateDetails") or {}).get("modelArn"): f"{name} is being updated to it",
            record.from_model: f"{name}'s promotion record replaced it (a rollback goes back to it)",
            record.last_good: f"the last-good model of the stable deployment {name}",
        }
        for model, why in needs.items():
            if model:
                protected.setdefault(str(model), why)
    return protected


def check_tag_value(value: str, what: str) -> None:
    """A model ARN stored as a tag value must fit botocore's TagValue (256 of [a-zA-Z0-9\\s._:/=+@-])."""
    if len(value) > 256 or TAG_PATTERN.fullmatch(value) is None:
        raise ValueError(f"{what} {value!r} cannot be recorded as a tag value (botocore's TagValue)")


# ------------------------------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class PromotionStep:
    """What a try does next, and why (logged)."""

    action: str
    previous: str | None
    reason: str
    record: PromotionRecord = field(default_factory=PromotionRecord)


def is_ours(tags: Mapping[str, str], namespace: str) -> bool:
    return tags.get(STABLE_TAG) == namespace


def not_ours_message(name: str, arn: str, namespace: str) -> str:
    return (
        f"The custom model deployment {name} ({arn}) was not created by a promotion of this Airflow "
        f"(it has no tag {STABLE_TAG}={namespace!r}), so it is not updated. Promote to another "
        f"deployment_name, or, to hand this deployment over to promotions, tag it: aws bedrock "
        f"tag-resource --resource-arn {arn} --tags key={STABLE_TAG},value={namespace}"
    )


def plan_promotion(
    description: Mapping[str, Any] | None,
    tags: Mapping[str, str],
    target: str,
    token: str,
    namespace: str,
) -> PromotionStep:
    """The next step of promoting ``target`` for the task instance of ``token``.

    Raises JobConflictError when the deployment is not ours, failed, or is being moved to another
    model by someone else: never two updates interleaved, never a model nobody asked for.
    """
    if description is None:
        return PromotionStep(CREATE, None, "no deployment of that name yet: creating it")
    name = str(description.get("modelDeploymentName"))
    arn = str(description.get("customModelDeploymentArn"))
    if not is_ours(tags, namespace):
        raise JobConflictError(not_ours_message(name, arn, namespace))
    record = PromotionRecord.of(tags)
    status = str(description.get("status"))
    serving = str(description.get("modelArn"))
    update = description.get("updateDetails") or {}
    updating = update.get("updateStatus") == "Updating"
    ours = record.by(token)
    if status == "Creating":
        if ours or tags.get(OWNER_TAG) == token:
            return PromotionStep(
                WAIT_CREATE, None, "this task instance's deployment is being created", record
            )
        raise JobConflictError(
            f"The custom model deployment {name} ({arn}) is being created by another promotion "
            f"({record.token}, to {record.to_model}); try again when it is Active."
        )
    if status != "Active":
        raise JobConflictError(
            f"The custom model deployment {name} ({arn}) is {status}: "
            f"{description.get('failureMessage') or 'Bedrock gave no failure message'}. A promotion "
            "updates an Active deployment only; delete it (a new promotion creates it again)."
        )
    rolling_back = ours and record.state in (ROLLING_BACK, ROLLED_BACK) and record.to_model == target
    if updating:
        going_to = str(update.get("modelArn"))
        if rolling_back and going_to == record.from_model:
            return PromotionStep(WAIT_ROLL_BACK, record.from_model, "the swap back is in progress", record)
        if going_to == target and not rolling_back:
            # Whoever issued it, the update goes where this promotion asked; while it runs, modelArn still
            # names the model it replaces.
            return PromotionStep(WAIT_SWAP, serving, f"an update to {target} is in progress", record)
        raise JobConflictError(
            f"The custom model deployment {name} ({arn}) is being updated to {going_to} by another "
            f"promotion ({record.token or 'unknown'}); this one, to {target}, does not interleave with it. "
            "Try again when that update is done (a retry of this task does)."
        )
    if rolling_back:
        if serving == record.from_model:
            return PromotionStep(
                ROLLED_BACK_ALREADY, record.from_model, "the canary failed; swapped back", record
            )
        if serving == target and record.from_model:
            return PromotionStep(ROLL_BACK, record.from_model, "the canary failed; swapping back", record)
        raise JobConflictError(
            f"This task instance's promotion of {target} failed its canary and was being rolled back to "
            f"{record.from_model}, but the custom model deployment {name} ({arn}) now serves {serving}: "
            "another promotion changed it since. Nothing is done; check what it serves."
        )
    if serving == target:
        if ours and record.to_model == target and record.state in (SWAPPING, CANARY):
            return PromotionStep(
                AFTER_SWAP, record.from_model, "this task instance swapped the model in already", record
            )
        if ours and record.to_model == target and record.state in (LIVE, CANARY_FAILED):
            return PromotionStep(DONE, record.from_model, "this task instance's promotion is done", record)
        return PromotionStep(UNCHANGED, None, f"{target} serves already", record)
    return PromotionStep(SWAP, serving, f"swapping {serving} for {target}", record)


def promotion_result(
    description: Mapping[str, Any],
    previous: str | None,
    status: str,
    *,
    rolled_back: bool = False,
    canary: Mapping[str, Any] | None = None,
    last_good: str | None = None,
) -> dict[str, Any]:
    """The XCom result. ``status``: "created", "swapped", "unchanged" or "rolled_back"."""
    return {
        "deployment_arn": description.get("customModelDeploymentArn"),
        "deployment_name": description.get("modelDeploymentName"),
        "model_arn": description.get("modelArn"),
        "previous_model_arn": previous,
        "last_good_model_arn": last_good,
        "status": status,
        "rolled_back": rolled_back,
        "canary": dict(canary) if canary is not None else None,
    }
