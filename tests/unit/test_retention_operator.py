"""BedrockCustomModelRetentionOperator against the emulator in-process: only models carrying the family's
ownership tags are deleted, the whole plan is checked before the first delete, and a dry run returns
exactly what the real run does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.lifecycle.retention import RetentionRefused
from bedrock_provider.core.lifecycle.retention_run import RetentionIncomplete
from bedrock_provider.core.request.ownership import MODEL_FAMILY_TAG, NAMESPACE_TAG
from bedrock_provider.emulator import BedrockEmulator
from bedrock_provider.hooks.resources import BedrockResourceHook
from bedrock_provider.operators.retention import BedrockCustomModelRetentionOperator
from tests.unit.post_training import TITAN_TEXT, clients, context, emu, emulator, trained_model

__all__ = ["emu", "emulator"]

FAMILY = "support-bot-"
CONN_ID = "retention_unit"


def ours(family: str = FAMILY) -> dict[str, str]:
    """The tags BedrockModelCustomizationOperator(model_family=family) writes outside a task (no
    namespace)."""
    return {MODEL_FAMILY_TAG: family, NAMESPACE_TAG: ""}


def retention(**overrides: Any) -> BedrockCustomModelRetentionOperator:
    kwargs: dict[str, Any] = {"task_id": "retire", "model_family": FAMILY, "aws_conn_id": None}
    kwargs.update(overrides)
    return BedrockCustomModelRetentionOperator(**kwargs)


def family(emu: BedrockEmulator) -> list[str]:
    """Four weekly models of the family, oldest first, plus one of another family that merely contains
    its name."""
    weeks = [trained_model(emu, f"support-bot-202501{day:02d}", ours()) for day in (5, 12, 19, 26)]
    trained_model(emu, "old-support-bot-20250105", ours("old-support-bot-"))
    return weeks


def model_names(emu: BedrockEmulator) -> set[str]:
    bedrock, _ = clients(emu)
    return {m["modelName"] for m in bedrock.list_custom_models()["modelSummaries"]}


def deployment_arns(emu: BedrockEmulator) -> set[str]:
    bedrock, _ = clients(emu)
    summaries = bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
    return {summary["customModelDeploymentArn"] for summary in summaries}


def deletes(emu: BedrockEmulator) -> int:
    counts = emu.counts()
    return sum(
        counts.get(operation, 0)
        for operation in (
            "DeleteCustomModel",
            "DeleteCustomModelDeployment",
            "DeleteProvisionedModelThroughput",
        )
    )


def test_keeps_the_newest_and_the_champion_and_deletes_deployments_first(emu: BedrockEmulator) -> None:
    weeks = family(emu)
    bedrock, _ = clients(emu)
    bedrock.tag_resource(resourceARN=weeks[0], tags=[{"key": "stage", "value": "champion"}])
    served = bedrock.create_custom_model_deployment(modelDeploymentName="week-two", modelArn=weeks[1])
    result = retention(keep_last=2).execute(context())
    assert result["kept"] == [weeks[3], weeks[2], weeks[0]]
    assert result["deleted"] == [weeks[1]]
    assert result["deleted_deployments"] == [served["customModelDeploymentArn"]]
    assert result["foreign"] == []
    assert model_names(emu) == {
        "support-bot-20250105",
        "support-bot-20250119",
        "support-bot-20250126",
        "old-support-bot-20250105",
    }


def test_a_model_named_like_the_family_without_our_tags_survives_and_is_reported_foreign(
    emu: BedrockEmulator,
) -> None:
    """A model a manual run named support-bot-v2 (as its form suggests) is older than every weekly
    model, so a name-keyed retention deleted it."""
    manual = trained_model(emu, "support-bot-v2")
    other_namespace = trained_model(emu, "support-bot-staging", {**ours(), NAMESPACE_TAG: "staging"})
    weeks = [trained_model(emu, f"support-bot-202501{day:02d}", ours()) for day in (5, 12)]
    result = retention(keep_last=1).execute(context())
    assert result["deleted"] == [weeks[0]]
    assert set(result["foreign"]) == {manual, other_namespace}
    assert {"support-bot-v2", "support-bot-staging"} <= model_names(emu)


def test_a_prefix_never_reaches_into_another_family(emu: BedrockEmulator) -> None:
    """Prefix fam- deleted all three models of the family fam-v2-."""
    fam = [trained_model(emu, f"fam-{week}", ours("fam-")) for week in (1, 2, 3)]
    v2 = [trained_model(emu, f"fam-v2-{week}", ours("fam-v2-")) for week in (1, 2, 3)]
    result = retention(model_family="fam-", model_name_prefix="fam-", keep_last=1).execute(context())
    assert result["deleted"] == [fam[1], fam[0]]
    assert set(result["foreign"]) == set(v2)
    with pytest.warns(DeprecationWarning, match="model_family"):
        legacy = retention(model_family=None, model_name_prefix="fam-", keep_last=1)
    assert legacy.execute(context())["deleted"] == []
    assert {"fam-3", "fam-v2-1", "fam-v2-2", "fam-v2-3"} == model_names(emu)


def test_a_prefix_alone_deletes_only_models_tagged_with_that_family(emu: BedrockEmulator) -> None:
    untagged = [trained_model(emu, f"support-bot-old-{week}") for week in (1, 2)]
    weeks = [trained_model(emu, f"support-bot-{week}", ours()) for week in (1, 2)]
    with pytest.warns(DeprecationWarning):
        legacy = retention(model_family=None, model_name_prefix=FAMILY, keep_last=1)
    result = legacy.execute(context())
    assert result["deleted"] == [weeks[0]] and set(result["foreign"]) == set(untagged)


def test_failed_and_creating_models_do_not_count_and_the_only_active_one_is_kept(
    emu: BedrockEmulator,
) -> None:
    """modelStatus was ignored: the Failed and Creating models took the keep_last place and the only
    Active model was deleted."""
    oldest, failed, creating = (trained_model(emu, f"support-bot-{week}", ours()) for week in (1, 2, 3))
    emu.set_custom_model_status(failed, "Failed")
    emu.set_custom_model_status(creating, "Creating")
    result = retention(keep_last=1).execute(context())
    assert result["kept"] == [creating, oldest]
    assert result["deleted"] == [failed]
    assert model_names(emu) == {"support-bot-1", "support-bot-3"}


def test_a_committed_throughput_keeps_its_model_and_its_on_demand_deployment(emu: BedrockEmulator) -> None:
    """The on-demand deployment of a model with a committed throughput was deleted, the model then kept,
    and deleted_deployments said []."""
    weeks = family(emu)
    bedrock, _ = clients(emu)
    bedrock.create_provisioned_model_throughput(
        provisionedModelName="week-one", modelId=weeks[0], modelUnits=1, commitmentDuration="OneMonth"
    )
    on_demand = bedrock.create_custom_model_deployment(modelDeploymentName="week-one", modelArn=weeks[0])
    result = retention(keep_last=3).execute(context())
    assert result["deleted"] == [] and result["deleted_deployments"] == []
    assert result["skipped"][0]["arn"] == weeks[0] and "commitment" in result["skipped"][0]["reason"]
    assert on_demand["customModelDeploymentArn"] in deployment_arns(emu)
    assert deletes(emu) == 0


def test_a_served_model_is_kept_when_deployments_may_not_be_deleted(emu: BedrockEmulator) -> None:
    weeks = family(emu)
    bedrock, _ = clients(emu)
    bedrock.create_custom_model_deployment(modelDeploymentName="week-one", modelArn=weeks[0])
    result = retention(keep_last=3, delete_deployments=False).execute(context())
    assert result["deleted"] == [] and result["skipped"][0]["arn"] == weeks[0]
    assert "delete_deployments=False" in result["skipped"][0]["reason"]


def test_a_dry_run_returns_exactly_the_plan_the_real_run_carries_out(emu: BedrockEmulator) -> None:
    """A dry run listed as deleted a model the real run skipped (its throughput's commitment)."""
    weeks = [trained_model(emu, f"support-bot-{week}", ours()) for week in range(1, 6)]
    bedrock, _ = clients(emu)
    bedrock.create_provisioned_model_throughput(
        provisionedModelName="committed", modelId=weeks[0], modelUnits=1, commitmentDuration="OneMonth"
    )
    bedrock.create_custom_model_deployment(modelDeploymentName="old", modelArn=weeks[1])
    trained_model(emu, "support-bot-manual")
    planned = retention(keep_last=2, dry_run=True).execute(context())
    assert deletes(emu) == 0 and len(model_names(emu)) == 6
    done = retention(keep_last=2).execute(context())
    assert planned["dry_run"] is True and done["dry_run"] is False
    assert {**planned, "dry_run": False} == done
    assert done["deleted"] == [weeks[2], weeks[1]] and done["skipped"][0]["arn"] == weeks[0]


def test_named_models_are_undeployed_unless_they_are_the_champion(emu: BedrockEmulator) -> None:
    weeks = family(emu)
    bedrock, _ = clients(emu)
    bedrock.tag_resource(resourceARN=weeks[3], tags=[{"key": "stage", "value": "champion"}])
    replaced = bedrock.create_custom_model_deployment(modelDeploymentName="week-three", modelArn=weeks[2])
    champion = bedrock.create_custom_model_deployment(modelDeploymentName="week-four", modelArn=weeks[3])
    other_run = bedrock.create_custom_model_deployment(modelDeploymentName="week-two", modelArn=weeks[1])
    result = retention(keep_last=4, undeploy_models=[weeks[2], weeks[3], ""]).execute(context())
    assert result["deleted_deployments"] == [replaced["customModelDeploymentArn"]]
    assert deployment_arns(emu) == {
        champion["customModelDeploymentArn"],
        other_run["customModelDeploymentArn"],
    }
    assert weeks[2] in result["kept"] and result["deleted"] == []


def test_a_bad_later_undeploy_entry_is_refused_before_any_delete(emu: BedrockEmulator) -> None:
    """An earlier entry's deployment was gone when a later entry was refused."""
    weeks = family(emu)
    bedrock, _ = clients(emu)
    candidate = bedrock.create_custom_model_deployment(modelDeploymentName="candidate", modelArn=weeks[3])
    with pytest.raises(RetentionRefused, match="old-support-bot-20250105 is not of model_family") as error:
        retention(keep_last=1, undeploy_models=[weeks[3], "old-support-bot-20250105"]).execute(context())
    assert error.value.fields == ["undeploy_models"] and "nothing was deleted" in str(error.value)
    assert candidate["customModelDeploymentArn"] in deployment_arns(emu)
    assert deletes(emu) == 0 and len(model_names(emu)) == 5


def test_a_malformed_price_extra_fails_before_any_delete(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Models were deleted first and prices read afterwards: the task failed after 2 deletions."""
    family(emu)
    extra = {"endpoint_url": emu.endpoint_url, "region_name": "us-east-1", "bedrock_prices": "{oops"}
    conn = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    with pytest.raises(Exception, match="bedrock_prices"):
        retention(keep_last=2, aws_conn_id=CONN_ID).execute(context())
    assert deletes(emu) == 0 and len(model_names(emu)) == 5


def test_a_failure_half_way_reports_what_was_deleted(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    weeks = family(emu)
    delete = BedrockResourceHook.delete_custom_model
    calls: list[str] = []

    def fail_the_second(hook: BedrockResourceHook, model_arn: str) -> None:
        calls.append(model_arn)
        if len(calls) == 2:
            raise ConnectionResetError("connection reset by peer")
        delete(hook, model_arn)

    monkeypatch.setattr(BedrockResourceHook, "delete_custom_model", fail_the_second)
    ctx = context()
    with pytest.raises(RetentionIncomplete, match="connection reset") as error:
        retention(keep_last=1).execute(ctx)
    assert error.value.result["deleted"] == [weeks[2]]
    assert weeks[2] in str(error.value)
    assert ctx["ti"].xcom["return_value"]["deleted"] == [weeks[2]]
    assert "support-bot-20250119" not in model_names(emu)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"model_name_prefix": "s"}, "model_name_prefix"),
        ({"model_name_prefix": "support bot"}, "model_name_prefix"),
        ({"model_family": None}, "model_family"),
        ({"model_family": ""}, "model_family"),
        ({"model_family": "support/bot!"}, "model_family"),
        ({"keep_last": 0}, "keep_last"),
        ({"keep_tags": "champion"}, "keep_tags"),
        ({"undeploy_models": {"a": "b"}}, "undeploy_models"),
    ],
)
def test_bad_settings_are_refused_before_any_call(
    emu: BedrockEmulator, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as error:
        retention(**overrides).execute(context())
    assert field in error.value.fields
    assert emu.counts() == {}


def test_the_storage_the_deletions_save_is_reported(emu: BedrockEmulator) -> None:
    for day in (5, 12, 19, 26):
        trained_model(emu, f"support-bot-202501{day:02d}", ours(), base_model=TITAN_TEXT)
    result = retention(keep_last=2, dry_run=True).execute(context())
    saved = result["storage_saved_per_month"]
    # Two Titan Text Express models at $1.95 a month each (the catalog's price, with its source).
    assert len(result["deleted"]) == 2
    assert saved["usd"] == pytest.approx(3.90) and saved["quantity"] == 2
    assert saved["price_source"] == "https://aws.amazon.com/bedrock/pricing/"
