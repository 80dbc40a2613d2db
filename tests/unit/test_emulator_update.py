"""The emulator's UpdateCustomModelDeployment: updateDetails moves Updating -> UpdateCompleted, the old
model answers Converse until the new one is live, a second update while one runs is refused, and a
deleted deployment is gone at once (no Deleting status in botocore's CustomModelDeploymentStatus)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from bedrock_provider.emulator import TAG_DURATION, BedrockEmulator
from bedrock_provider.emulator.runtime import emulated_answer
from tests.unit import post_training as shared
from tests.unit.post_training import emu, emulator

__all__ = ["emu", "emulator"]

PROMPT = "What is AWS?"


def test_the_old_model_answers_until_the_update_is_live(emu: BedrockEmulator) -> None:
    bedrock, _ = shared.clients(emu)
    runtime = boto3.client("bedrock-runtime", endpoint_url=emu.endpoint_url, region_name="us-east-1")
    old, new, other = (shared.trained_model(emu, name) for name in ("old1", "new1", "other1"))
    arn = bedrock.create_custom_model_deployment(
        modelDeploymentName="stable", modelArn=old, tags=[{"key": TAG_DURATION, "value": "1.5"}]
    )["customModelDeploymentArn"]

    def describe() -> dict:
        return bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)

    def answer() -> str:
        reply = runtime.converse(modelId=arn, messages=[{"role": "user", "content": [{"text": PROMPT}]}])
        return str(reply["output"]["message"]["content"][0]["text"])

    shared.until(lambda: describe()["status"] == "Active")
    assert "updateDetails" not in describe() and answer() == emulated_answer(old, PROMPT)
    assert (
        bedrock.update_custom_model_deployment(customModelDeploymentIdentifier=arn, modelArn=new)[
            "customModelDeploymentArn"
        ]
        == arn
    )
    updating = describe()
    assert updating["status"] == "Active" and updating["modelArn"] == old
    assert updating["updateDetails"] == {"modelArn": new, "updateStatus": "Updating"}
    assert answer() == emulated_answer(old, PROMPT)
    with pytest.raises(ClientError) as refused:
        bedrock.update_custom_model_deployment(customModelDeploymentIdentifier=arn, modelArn=other)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "updating" in str(refused.value)
    shared.until(lambda: describe()["updateDetails"]["updateStatus"] == "UpdateCompleted")
    assert describe()["modelArn"] == new and answer() == emulated_answer(new, PROMPT)
    bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=arn)
    with pytest.raises(ClientError) as gone:
        describe()
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
