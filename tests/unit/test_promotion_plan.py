"""core/lifecycle/promotion.py without Airflow or AWS: what each state of a stable deployment and its record
makes a
try do next, and the refusals."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_provider.core.errors import InvalidInputError, JobConflictError
from bedrock_provider.core.lifecycle import promotion as plan
from bedrock_provider.core.lifecycle.promotion import (
    PromotionRequest,
    plan_promotion,
    protected_models,
    record_tags,
)

ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdefabcdef"
B, C, D = (
    f"arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-micro-v1:0:128k/{x * 12}" for x in "bcd"
)
MINE, THEIRS = "airflow-mine", "airflow-theirs"
OURS = {plan.STABLE_TAG: "ns"}


def deployment(serving: str, status: str = "Active", updating_to: str | None = None, **extra: Any) -> dict:
    described: dict[str, Any] = {
        "customModelDeploymentArn": ARN,
        "modelDeploymentName": "prod",
        "modelArn": serving,
        "status": status,
        **extra,
    }
    if updating_to:
        described["updateDetails"] = {"modelArn": updating_to, "updateStatus": "Updating"}
    return described


def step(description: dict | None, tags: dict, target: str = C, token: str = MINE) -> plan.PromotionStep:
    return plan_promotion(description, {**OURS, **tags}, target, token, "ns")


@pytest.mark.parametrize(
    ("description", "tags", "action", "previous"),
    [
        (None, {}, plan.CREATE, None),
        (deployment(B), {}, plan.SWAP, B),
        (deployment(B, updating_to=C), {}, plan.WAIT_SWAP, B),
        (deployment(C), record_tags(MINE, B, C, plan.SWAPPING), plan.AFTER_SWAP, B),
        (deployment(C), record_tags(MINE, B, C, plan.CANARY), plan.AFTER_SWAP, B),
        (deployment(C), record_tags(MINE, B, C, plan.LIVE), plan.DONE, B),
        (
            deployment(C),
            {**record_tags(THEIRS, B, C, plan.LIVE), plan.LAST_GOOD_TAG: B},
            plan.UNCHANGED,
            None,
        ),
        (deployment(C), record_tags(MINE, B, C, plan.ROLLING_BACK), plan.ROLL_BACK, B),
        (deployment(C, updating_to=B), record_tags(MINE, B, C, plan.ROLLING_BACK), plan.WAIT_ROLL_BACK, B),
        (deployment(B), record_tags(MINE, B, C, plan.ROLLING_BACK), plan.ROLLED_BACK_ALREADY, B),
        (deployment(B), record_tags(MINE, B, C, plan.ROLLED_BACK), plan.ROLLED_BACK_ALREADY, B),
        (deployment(C, status="Creating"), record_tags(MINE, None, C, plan.SWAPPING), plan.WAIT_CREATE, None),
        # A crash after the record, before the update: the next try swaps.
        (deployment(B), record_tags(MINE, B, C, plan.SWAPPING), plan.SWAP, B),
    ],
)
def test_the_next_step(description: dict | None, tags: dict, action: str, previous: str | None) -> None:
    found = step(description, tags)
    assert (found.action, found.previous) == (action, previous)


@pytest.mark.parametrize(
    ("description", "tags", "match"),
    [
        (deployment(B, updating_to=D), {}, "being updated to"),
        (deployment(B, status="Failed", failureMessage="boom"), {}, "boom"),
        (deployment(C, status="Creating"), record_tags(THEIRS, None, C, plan.SWAPPING), "being created"),
        (deployment(D), record_tags(MINE, B, C, plan.ROLLING_BACK), "another promotion changed it"),
    ],
)
def test_conflicts_are_refused_naming_what_is_in_the_way(description: dict, tags: dict, match: str) -> None:
    with pytest.raises(JobConflictError, match=match):
        step(description, tags)


def test_a_deployment_without_our_tag_is_never_touched() -> None:
    with pytest.raises(JobConflictError, match="tag-resource"):
        plan_promotion(deployment(B), {}, C, MINE, "ns")
    with pytest.raises(JobConflictError):
        plan_promotion(deployment(B), {plan.STABLE_TAG: "other-namespace"}, C, MINE, "ns")


def test_the_request_refuses_bad_input_naming_each_field() -> None:
    with pytest.raises(InvalidInputError) as error:
        PromotionRequest("bad name!", "x/y", canary={"task_type": "Nope"}, tags={"airflow:x": "1"}).validate()
    fields = set(error.value.fields)
    assert {"deployment_name", "model_identifier", "tags", "canary['role_arn']"} <= fields
    assert PromotionRequest("prod", plan.LAST_GOOD).validate().model_identifier == plan.LAST_GOOD


def test_last_good_is_resolved_from_the_record_or_refused() -> None:
    assert plan.resolve_model(plan.LAST_GOOD, "prod", {plan.LAST_GOOD_TAG: B}) == B
    assert plan.resolve_model(C, "prod", {plan.LAST_GOOD_TAG: B}) == C
    with pytest.raises(InvalidInputError, match="no last-good model"):
        plan.resolve_model(plan.LAST_GOOD, "prod", {})


def test_protected_models_are_what_stable_deployments_need() -> None:
    needs = protected_models(
        [
            (deployment(C, updating_to=D), {**OURS, plan.LAST_GOOD_TAG: B}),
            (deployment(D.replace("d" * 12, "e" * 12)), {}),  # not a stable deployment
        ]
    )
    assert set(needs) == {B, C, D}
