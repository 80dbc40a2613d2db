"""Retention never deletes what a promotion's stable deployment needs: the model it serves, its last-good
model, nor the deployment itself."""

from __future__ import annotations

from bedrock_provider.core.request.ownership import MODEL_FAMILY_TAG, NAMESPACE_TAG
from bedrock_provider.emulator import BedrockEmulator
from bedrock_provider.operators.retention import BedrockCustomModelRetentionOperator
from tests.unit import post_training as shared
from tests.unit.post_training import emu, emulator
from tests.unit.test_promotion_operator import promote, run, stable

__all__ = ["emu", "emulator"]

FAMILY = "support-bot"


def test_retention_keeps_the_served_and_the_last_good_model_and_the_stable_deployment(
    emu: BedrockEmulator,
) -> None:
    ours = {MODEL_FAMILY_TAG: FAMILY, NAMESPACE_TAG: ""}
    oldest, served, old, newest = (shared.trained_model(emu, f"bot-w{week}", ours) for week in (1, 2, 3, 4))
    promote(oldest).execute(run("week1"))
    promote(served).execute(run("week2"))
    stable_arn = stable(emu)[0]["customModelDeploymentArn"]
    result = BedrockCustomModelRetentionOperator(
        task_id="retire", model_family=FAMILY, keep_last=1, aws_conn_id=None
    ).execute(shared.context(task_id="retire"))
    assert result["deleted"] == [old]
    assert set(result["kept"]) == {newest, served, oldest}
    assert result["deleted_deployments"] == []
    description, _ = stable(emu)
    assert description["customModelDeploymentArn"] == stable_arn and description["modelArn"] == served
