"""The retention plan and its execution, pure (core/lifecycle/retention.py, core/lifecycle/retention_run.py):
no Airflow, no
AWS; listings, tags and deletions are plain data and functions."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bedrock_provider.core.lifecycle.resources import CUSTOM_MODEL_DEPLOYMENT, PROVISIONED_THROUGHPUT
from bedrock_provider.core.lifecycle.retention import (
    RetentionRefused,
    RetentionSettings,
    Serving,
    plan_retention,
)
from bedrock_provider.core.lifecycle.retention_run import RetentionIncomplete, carry_out
from bedrock_provider.core.request.ownership import MODEL_FAMILY_TAG, NAMESPACE_TAG

LOG = logging.getLogger(__name__)
NOW = 1_750_000_000.0
OURS = {MODEL_FAMILY_TAG: "bot-", NAMESPACE_TAG: "prod"}


def summary(arn: str, day: int, status: str = "Active", name: str | None = None) -> dict[str, Any]:
    return {
        "modelArn": arn,
        "modelName": name or f"bot-{arn}",
        "creationTime": f"2025-01-{day:02d}T00:00:00Z",
        "modelStatus": status,
        "baseModelArn": "base",
    }


def settings(**overrides: Any) -> RetentionSettings:
    kwargs: dict[str, Any] = {
        "model_family": "bot-",
        "model_name_prefix": None,
        "keep_last": 1,
        "keep_tags": {"stage": "champion"},
        "namespace": "prod",
    }
    kwargs.update(overrides)
    return RetentionSettings.check(**kwargs)


def plan(
    summaries: list[dict[str, Any]], tags: dict[str, dict[str, str]] | None = None, **kwargs: Any
) -> Any:
    tags = tags or {}
    servings: dict[str, list[Serving]] = kwargs.pop("servings", {})
    undeploy = kwargs.pop("undeploy", None)
    return plan_retention(
        summaries,
        settings(**kwargs),
        lambda arn: tags.get(arn, OURS),
        lambda arn: servings.get(arn, []),
        undeploy,
        now=NOW,
    )


def test_only_active_models_count_and_a_creating_one_is_never_touched() -> None:
    """modelStatus was ignored: Failed and Creating models took the keep_last places and the only
    Active model was planned for deletion."""
    made = plan([summary("active", 1), summary("failed", 2, "Failed"), summary("creating", 3, "Creating")])
    assert made.kept == ["creating", "active"]
    assert made.deleted == ["failed"]
    assert "Creating" in made.reasons["creating"]


def test_a_failed_model_never_pushes_an_active_one_out() -> None:
    made = plan([summary("a1", 1), summary("a2", 2), summary("f", 3, "Failed")], keep_last=2)
    assert made.kept == ["a2", "a1"] and made.deleted == ["f"]


def test_the_family_is_its_tags_and_names_alike_without_them_are_foreign() -> None:
    summaries = [
        summary("a", 5, name="bot-1"),
        summary("b", 12, name="bot-2"),
        summary("c", 19, name="my-bot-3"),
        summary("d", 1, name="bot-manual"),
        summary("e", 2, name="bot-v2-1"),
        summary("f", 3, name="renamed-by-hand"),
    ]
    tags = {"c": {}, "d": {}, "e": {MODEL_FAMILY_TAG: "bot-v2-", NAMESPACE_TAG: "prod"}}
    made = plan(summaries, tags)
    # Tagged ours whatever the name ("renamed-by-hand"); "my-bot-3" is neither ours nor named like it.
    assert made.kept == ["b"] and made.deleted == ["a", "f"]
    assert made.foreign == ["e", "d"]  # newest first
    narrowed = plan(summaries, tags, model_name_prefix="bot-2")
    assert narrowed.kept == ["b"] and narrowed.deleted == [] and narrowed.foreign == []


def test_a_model_with_a_committed_throughput_keeps_every_deployment() -> None:
    committed: Serving = (PROVISIONED_THROUGHPUT, "pt", {"commitmentExpirationTime": "2099-01-01T00:00:00Z"})
    on_demand: Serving = (CUSTOM_MODEL_DEPLOYMENT, "dep", {})
    made = plan([summary("new", 2), summary("old", 1)], servings={"old": [on_demand, committed]})
    assert made.deleted == [] and made.result(False)["deleted_deployments"] == []
    assert made.skipped[0]["arn"] == "old" and "commitment" in made.skipped[0]["reason"]
    ended: Serving = (PROVISIONED_THROUGHPUT, "pt", {"commitmentExpirationTime": "2020-01-01T00:00:00Z"})
    gone = plan([summary("new", 2), summary("old", 1)], servings={"old": [on_demand, ended]})
    # The throughput goes first: were it refused after all, nothing else of the model would be gone.
    assert gone.deleted == ["old"] and gone.result(False)["deleted_deployments"] == ["pt", "dep"]


def test_every_undeploy_entry_is_checked_before_the_plan_is_returned() -> None:
    found = {
        "mine": summary("mine", 2),
        "theirs": summary("theirs", 1, name="bot-theirs"),
        "other": summary("other", 1, name="bot-other"),
    }
    with pytest.raises(RetentionRefused) as error:
        plan(
            [summary("mine", 2)],
            {"theirs": {}, "other": {MODEL_FAMILY_TAG: "bot-", NAMESPACE_TAG: "staging"}},
            undeploy_models=["mine", "theirs", "other"],
            undeploy=found,
            servings={"mine": [(CUSTOM_MODEL_DEPLOYMENT, "dep", {})]},
        )
    assert error.value.fields == ["undeploy_models", "undeploy_models"]
    assert "nothing was deleted" in str(error.value)


def test_a_dry_run_result_is_what_carrying_out_the_plan_returns() -> None:
    made = plan(
        [summary("new", 3), summary("mid", 2), summary("old", 1)],
        servings={"mid": [(CUSTOM_MODEL_DEPLOYMENT, "dep", {})]},
    )
    done = carry_out(made, lambda kind, arn: True, lambda arn: None, lambda error: None, LOG)
    assert done == made.result(dry_run=False)
    assert done["deleted"] == ["mid", "old"] and done["deleted_deployments"] == ["dep"]


def test_a_refusal_skips_one_model_and_another_error_stops_with_the_partial_result() -> None:
    made = plan([summary("new", 3), summary("mid", 2), summary("old", 1)])

    class Conflict(Exception):
        pass

    def refuse_mid(arn: str) -> None:
        if arn == "mid":
            raise Conflict("served")

    done = carry_out(
        made, lambda kind, arn: True, refuse_mid, lambda e: str(e) if isinstance(e, Conflict) else None, LOG
    )
    assert done["deleted"] == ["old"] and done["skipped"] == [{"arn": "mid", "reason": "served"}]

    def fail_old(arn: str) -> None:
        if arn == "old":
            raise OSError("network down")

    with pytest.raises(RetentionIncomplete) as error:
        carry_out(made, lambda kind, arn: True, fail_old, lambda e: None, LOG)
    assert error.value.result["deleted"] == ["mid"] and "network down" in str(error.value)
