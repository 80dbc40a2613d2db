"""The deploy operator refuses an on-demand deployment AWS would refuse, before anything is created."""

from __future__ import annotations

import pytest

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.emulator import BedrockEmulator
from bedrock_provider.operators.deployment import BedrockDeployCustomModelOperator
from tests.unit.post_training import TITAN_TEXT, context, emu, emulator, trained_model

__all__ = ["emu", "emulator"]


def deploy(mode: str) -> BedrockDeployCustomModelOperator:
    return BedrockDeployCustomModelOperator(
        task_id="deploy",
        model_identifier="support-bot-20250105",
        deployment_name="support-bot-20250105",
        mode=mode,
        deferrable=False,
        poll_interval=0.1,
        aws_conn_id=None,
    )


def test_a_titan_custom_model_is_refused_on_demand_and_pointed_to_provisioned(emu: BedrockEmulator) -> None:
    model = trained_model(emu, base_model=TITAN_TEXT)
    emu.reset_counts()
    with pytest.raises(InvalidInputError) as raised:
        deploy("on_demand").execute(context(task_id="deploy"))
    assert raised.value.fields == ["mode"]
    message = str(raised.value)
    assert "amazon.titan-text-express-v1" in message and "Amazon Nova Micro" in message
    assert f"Deploy {model} with mode='provisioned'" in message
    assert "deploy-custom-model-on-demand.html" in message
    assert emu.request_count("CreateCustomModelDeployment") == 0
    assert emu.post_training_counts()["deployments"] == 0


def test_the_same_model_deploys_provisioned(emu: BedrockEmulator) -> None:
    trained_model(emu, base_model=TITAN_TEXT)
    result = deploy("provisioned").execute(context(task_id="deploy"))
    assert result["status"] == "InService" and result["mode"] == "provisioned"


def test_a_nova_micro_custom_model_deploys_on_demand(emu: BedrockEmulator) -> None:
    trained_model(emu)
    result = deploy("on_demand").execute(context(task_id="deploy"))
    assert result["status"] == "Active" and result["mode"] == "on_demand"
