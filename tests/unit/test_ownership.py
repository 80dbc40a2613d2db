"""model_family: the customization request tags the custom model as ours (airflow:model-family and
airflow:namespace), merged with the user's custom_model_tags; the operators, the drop-in class included,
send those tags, and retention deletes what they tagged."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.request.amazon_compat import with_api_kwargs
from bedrock_provider.core.request.customization import CustomizationRequest
from bedrock_provider.core.request.ownership import MODEL_FAMILY_TAG, NAMESPACE_TAG, is_owned
from bedrock_provider.emulator import BedrockEmulator
from bedrock_provider.operators.customization import (
    BedrockCustomizeModelOperator,
    BedrockModelCustomizationOperator,
)
from bedrock_provider.operators.retention import BedrockCustomModelRetentionOperator
from tests.unit.post_training import BUCKET, ROLE, clients, context, emu, emulator

__all__ = ["emu", "emulator"]

ARGS: dict[str, Any] = {
    "job_name": "job",
    "custom_model_name": "support-bot-1",
    "role_arn": ROLE,
    "base_model_id": "amazon.titan-text-express-v1",
    "training_data_uri": f"s3://{BUCKET}/train.jsonl",
    "output_data_uri": f"s3://{BUCKET}/out/",
}


def model_tags(**overrides: Any) -> dict[str, str]:
    kwargs = CustomizationRequest(**{**ARGS, **overrides}).validate().create_kwargs(1, "token")
    return {tag["key"]: tag["value"] for tag in kwargs.get("customModelTags", [])}


def test_a_family_tags_the_model_with_the_family_and_the_namespace_beside_the_users_tags() -> None:
    tags = model_tags(model_family="support-bot", namespace="prod-1", custom_model_tags={"team": "support"})
    assert tags == {"team": "support", MODEL_FAMILY_TAG: "support-bot", NAMESPACE_TAG: "prod-1"}
    assert is_owned(tags, "support-bot", "prod-1")
    assert not is_owned(tags, "support-bot", "staging") and not is_owned(tags, "support", "prod-1")
    assert model_tags(custom_model_tags={"team": "support"}) == {"team": "support"}


def test_a_user_tag_colliding_with_ours_is_refused_naming_both_values() -> None:
    with pytest.raises(InvalidInputError) as error:
        model_tags(model_family="support-bot", custom_model_tags={MODEL_FAMILY_TAG: "other-bot"})
    assert error.value.fields == [f"custom_model_tags[{MODEL_FAMILY_TAG!r}]"]
    assert "'other-bot'" in str(error.value) and "'support-bot'" in str(error.value)
    # The same value is no collision.
    assert (
        model_tags(model_family="a-bot", custom_model_tags={MODEL_FAMILY_TAG: "a-bot"})[MODEL_FAMILY_TAG]
        == "a-bot"
    )


@pytest.mark.parametrize("family", ["", "None", " support", "support/bot!", "x" * 257, 7])
def test_a_family_that_is_no_valid_tag_value_is_refused(family: object) -> None:
    with pytest.raises(InvalidInputError) as error:
        model_tags(model_family=family)
    assert error.value.fields == ["model_family"]


def test_the_drop_in_path_merges_the_api_tags_with_ours() -> None:
    request = CustomizationRequest(
        **ARGS,
        model_family="support-bot",
        customization_job_kwargs={"customModelTags": [{"key": "team", "value": "support"}]},
    )
    tags = with_api_kwargs(request).validate().create_kwargs(1, "token")["customModelTags"]
    assert {tag["key"]: tag["value"] for tag in tags} == {
        "team": "support",
        MODEL_FAMILY_TAG: "support-bot",
        NAMESPACE_TAG: "",
    }
    clashing = CustomizationRequest(
        **ARGS,
        model_family="support-bot",
        customization_job_kwargs={"customModelTags": [{"key": NAMESPACE_TAG, "value": "elsewhere"}]},
    )
    with pytest.raises(InvalidInputError, match="elsewhere"):
        with_api_kwargs(clashing).validate()


@pytest.mark.parametrize("operator_class", [BedrockModelCustomizationOperator, BedrockCustomizeModelOperator])
def test_the_trained_model_carries_our_tags_and_retention_deletes_it(
    emu: BedrockEmulator, operator_class: type[BedrockModelCustomizationOperator]
) -> None:
    bedrock, s3 = clients(emu)
    s3.put_object(Bucket=BUCKET, Key="train.jsonl", Body=b'{"prompt": "a", "completion": "b"}\n' * 8)
    arns = []
    for week in (1, 2):
        operator = operator_class(
            task_id=f"train{week}",
            **{**ARGS, "job_name": f"job-{week}", "custom_model_name": f"support-bot-{week}"},
            hyperparameters={"epochCount": 1, "batchSize": 1, "learningRate": 0.00001},
            model_family="support-bot",
            deferrable=False,
            aws_conn_id=None,
            # The drop-in class takes the Amazon operator's name for the poll interval.
            **(
                {"waiter_delay": 1}
                if operator_class is BedrockCustomizeModelOperator
                else {"poll_interval": 0.1}
            ),
        )
        operator.execute(context(task_id=f"train{week}"))
        arns.append(bedrock.get_custom_model(modelIdentifier=f"support-bot-{week}")["modelArn"])
    tags = {t["key"]: t["value"] for t in bedrock.list_tags_for_resource(resourceARN=arns[0])["tags"]}
    assert tags == {MODEL_FAMILY_TAG: "support-bot", NAMESPACE_TAG: ""}
    retire = BedrockCustomModelRetentionOperator(
        task_id="retire", model_family="support-bot", keep_last=1, aws_conn_id=None
    )
    assert retire.execute(context())["deleted"] == [arns[0]]
