"""BedrockCustomModelRetentionOperator against the emulator in-process, and its pure plan."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.retention import RetentionSettings, plan_retention
from bedrock_provider.emulator import BedrockEmulator
from bedrock_provider.operators.retention import BedrockCustomModelRetentionOperator
from tests.unit.post_training import TITAN_TEXT, clients, context, emu, emulator, trained_model

__all__ = ["emu", "emulator"]


def retention(**overrides: Any) -> BedrockCustomModelRetentionOperator:
    kwargs: dict[str, Any] = {"task_id": "retire", "model_name_prefix": "support-bot-", "aws_conn_id": None}
    kwargs.update(overrides)
    return BedrockCustomModelRetentionOperator(**kwargs)


def family(emu: BedrockEmulator) -> list[str]:
    """Four weekly models, oldest first, plus one of another family that merely contains the prefix."""
    weeks = [trained_model(emu, f"support-bot-202501{day:02d}") for day in (5, 12, 19, 26)]
    trained_model(emu, "old-support-bot-20250105")
    return weeks


def model_names(emu: BedrockEmulator) -> set[str]:
    bedrock, _ = clients(emu)
    return {m["modelName"] for m in bedrock.list_custom_models()["modelSummaries"]}


def test_keeps_the_newest_and_the_champion_and_deletes_deployments_first(emu: BedrockEmulator) -> None:
    weeks = family(emu)
    bedrock, _ = clients(emu)
    bedrock.tag_resource(resourceARN=weeks[0], tags=[{"key": "stage", "value": "champion"}])
    served = bedrock.create_custom_model_deployment(modelDeploymentName="week-two", modelArn=weeks[1])
    result = retention(keep_last=2).execute(context())
    assert result["kept"] == [weeks[3], weeks[2], weeks[0]]
    assert result["deleted"] == [weeks[1]]
    assert result["deleted_deployments"] == [served["customModelDeploymentArn"]]
    assert model_names(emu) == {
        "support-bot-20250105",
        "support-bot-20250119",
        "support-bot-20250126",
        "old-support-bot-20250105",
    }


def test_dry_run_deletes_nothing(emu: BedrockEmulator) -> None:
    weeks = family(emu)
    result = retention(keep_last=2, dry_run=True).execute(context())
    assert result["deleted"] == [weeks[1], weeks[0]] and result["dry_run"] is True
    assert len(model_names(emu)) == 5
    assert emu.request_count("DeleteCustomModel") == 0


def test_a_served_model_is_kept_when_deployments_may_not_be_deleted(emu: BedrockEmulator) -> None:
    weeks = family(emu)
    bedrock, _ = clients(emu)
    bedrock.create_custom_model_deployment(modelDeploymentName="week-one", modelArn=weeks[0])
    result = retention(keep_last=3, delete_deployments=False).execute(context())
    assert result["deleted"] == [] and result["skipped"][0]["arn"] == weeks[0]
    assert "delete_deployments=False" in result["skipped"][0]["reason"]


def test_a_committed_throughput_keeps_its_model_and_says_why(emu: BedrockEmulator) -> None:
    weeks = family(emu)
    bedrock, _ = clients(emu)
    bedrock.create_provisioned_model_throughput(
        provisionedModelName="week-one", modelId=weeks[0], modelUnits=1, commitmentDuration="OneMonth"
    )
    result = retention(keep_last=3).execute(context())
    assert result["deleted"] == [] and "commitment" in result["skipped"][0]["reason"]


def test_named_models_are_undeployed_unless_they_are_the_champion(emu: BedrockEmulator) -> None:
    weeks = family(emu)
    bedrock, _ = clients(emu)
    bedrock.tag_resource(resourceARN=weeks[3], tags=[{"key": "stage", "value": "champion"}])
    replaced = bedrock.create_custom_model_deployment(modelDeploymentName="week-three", modelArn=weeks[2])
    champion = bedrock.create_custom_model_deployment(modelDeploymentName="week-four", modelArn=weeks[3])
    other_run = bedrock.create_custom_model_deployment(modelDeploymentName="week-two", modelArn=weeks[1])
    result = retention(keep_last=4, undeploy_models=[weeks[2], weeks[3], ""]).execute(context())
    assert result["deleted_deployments"] == [replaced["customModelDeploymentArn"]]
    deployments = {
        d["customModelDeploymentArn"]
        for d in bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
    }
    assert deployments == {champion["customModelDeploymentArn"], other_run["customModelDeploymentArn"]}
    assert weeks[2] in result["kept"] and result["deleted"] == []
    with pytest.raises(InvalidInputError, match="outside model_name_prefix"):
        retention(undeploy_models=["old-support-bot-20250105"]).execute(context())


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"model_name_prefix": ""}, "model_name_prefix"),
        ({"model_name_prefix": "s"}, "model_name_prefix"),
        ({"model_name_prefix": "support bot"}, "model_name_prefix"),
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


def test_plan_ignores_names_that_only_contain_the_prefix() -> None:
    summaries = [
        {"modelArn": "a", "modelName": "support-bot-1", "creationTime": "2025-01-05T00:00:00Z"},
        {"modelArn": "b", "modelName": "support-bot-2", "creationTime": "2025-01-12T00:00:00Z"},
        {"modelArn": "c", "modelName": "my-support-bot-3", "creationTime": "2025-01-19T00:00:00Z"},
    ]
    plan = plan_retention(summaries, RetentionSettings.check("support-bot-", 1, {}), lambda arn: {})
    assert plan.kept == ["b"] and plan.deleted == ["a"]


def test_the_storage_the_deletions_save_is_reported(emu: BedrockEmulator) -> None:
    for day in (5, 12, 19, 26):
        trained_model(emu, f"support-bot-202501{day:02d}", base_model=TITAN_TEXT)
    result = retention(keep_last=2, dry_run=True).execute(context())
    saved = result["storage_saved_per_month"]
    # Two Titan Text Express models at $1.95 a month each (the catalog's price, with its source).
    assert len(result["deleted"]) == 2
    assert saved["usd"] == pytest.approx(3.90) and saved["quantity"] == 2
    assert saved["price_source"] == "https://aws.amazon.com/bedrock/pricing/"
