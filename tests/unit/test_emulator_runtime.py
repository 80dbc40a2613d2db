"""bedrock-runtime on the emulator: Converse and InvokeModel through plain boto3, as the chain calls them."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bedrock_provider.emulator import TAG_DURATION, BedrockEmulator
from bedrock_provider.emulator.answers import emulated_answer
from tests.unit.post_training import TITAN_TEXT, emu, emulator, trained_model, until

__all__ = ["emu", "emulator"]

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
PROMPT = "What is the capital of France?"


def _clients(emu: BedrockEmulator) -> tuple[Any, Any]:
    kwargs: dict[str, Any] = {
        "endpoint_url": emu.endpoint_url,
        "region_name": "us-east-1",
        "config": NO_RETRY,
    }
    return boto3.client("bedrock", **kwargs), boto3.client("bedrock-runtime", **kwargs)


def _active_deployment(emu: BedrockEmulator, name: str = "dep1") -> str:
    bedrock, _ = _clients(emu)
    arn = str(
        bedrock.create_custom_model_deployment(modelDeploymentName=name, modelArn=trained_model(emu, name))[
            "customModelDeploymentArn"
        ]
    )
    until(
        lambda: bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)["status"] == "Active"
    )
    return arn


def _served(emu: BedrockEmulator, arn: str) -> str:
    """The custom model a deployment or provisioned throughput serves: the one that answers."""
    bedrock, _ = _clients(emu)
    if ":provisioned-model/" in arn:
        return str(bedrock.get_provisioned_model_throughput(provisionedModelId=arn)["modelArn"])
    return str(bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)["modelArn"])


def _messages(*texts: str) -> list[dict[str, Any]]:
    roles = ("user", "assistant")
    return [{"role": roles[i % 2], "content": [{"text": text}]} for i, text in enumerate(texts)]


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_converse_on_a_deployment_answers_deterministically_with_usage(emu: BedrockEmulator) -> None:
    deployment = _active_deployment(emu)
    _, runtime = _clients(emu)
    system = [{"text": "Answer briefly."}]
    first = runtime.converse(modelId=deployment, messages=_messages(PROMPT), system=system)
    expected = emulated_answer(_served(emu, deployment), f"Answer briefly.\n{PROMPT}")
    assert first["output"]["message"] == {"role": "assistant", "content": [{"text": expected}]}
    assert first["stopReason"] == "end_turn" and first["metrics"]["latencyMs"] >= 0
    usage = first["usage"]
    assert usage["inputTokens"] == len(f"Answer briefly. {PROMPT}".split())
    assert usage["outputTokens"] == len(expected.split())
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    again = runtime.converse(modelId=deployment, messages=_messages(PROMPT), system=system)
    assert again["output"] == first["output"]
    other = runtime.converse(modelId=deployment, messages=_messages("What is 2+2?"))
    assert other["output"] != first["output"]
    assert emu.request_count("Converse") == 3


def test_converse_honours_max_tokens(emu: BedrockEmulator) -> None:
    deployment = _active_deployment(emu)
    _, runtime = _clients(emu)
    cut = runtime.converse(modelId=deployment, messages=_messages(PROMPT), inferenceConfig={"maxTokens": 2})
    assert cut["stopReason"] == "max_tokens" and cut["usage"]["outputTokens"] == 2
    assert (
        cut["output"]["message"]["content"][0]["text"].split()
        == emulated_answer(_served(emu, deployment), PROMPT).split()[:2]
    )


def test_converse_refusals(emu: BedrockEmulator) -> None:
    bedrock, runtime = _clients(emu)
    model = trained_model(emu, "m1")
    creating = bedrock.create_custom_model_deployment(
        modelDeploymentName="slow", modelArn=model, tags=[{"key": TAG_DURATION, "value": "30"}]
    )["customModelDeploymentArn"]
    cases = [
        (creating, _messages(PROMPT), "ValidationException", "Creating"),
        (creating[:-12] + "zzzzzzzzzzzz", _messages(PROMPT), "ResourceNotFoundException", "zzzzzzzzzzzz"),
        # A custom model's own ARN is not invocable (here it even breaks ConversationalModelId's pattern).
        (model, _messages(PROMPT), "ValidationException", "modelId"),
        (
            "amazon.no-such-model-v9",
            _messages(PROMPT),
            "ResourceNotFoundException",
            "amazon.no-such-model-v9",
        ),
        (
            "amazon.nova-micro-v1:0",
            [{"role": "assistant", "content": [{"text": "hi"}]}],
            "ValidationException",
            "user",
        ),
        ("amazon.nova-micro-v1:0", _messages(PROMPT) * 2, "ValidationException", "alternate"),
    ]
    for model_id, messages, code, named in cases:
        with pytest.raises(ClientError) as error:
            runtime.converse(modelId=model_id, messages=messages)
        assert _code(error) == code and named in str(error.value), (model_id, str(error.value))


def test_converse_on_a_provisioned_throughput_and_a_foundation_model(emu: BedrockEmulator) -> None:
    bedrock, runtime = _clients(emu)
    throughput = bedrock.create_provisioned_model_throughput(
        provisionedModelName="pt1", modelId=trained_model(emu, "m1"), modelUnits=1
    )["provisionedModelArn"]
    until(
        lambda: (
            bedrock.get_provisioned_model_throughput(provisionedModelId=throughput)["status"] == "InService"
        )
    )
    served = runtime.converse(modelId=throughput, messages=_messages(PROMPT))["output"]["message"]
    assert served["content"][0]["text"] == emulated_answer(_served(emu, throughput), PROMPT)
    foundation = runtime.converse(modelId="amazon.nova-micro-v1:0", messages=_messages(PROMPT))
    arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0"
    assert foundation["output"]["message"]["content"][0]["text"] == emulated_answer(arn, PROMPT)


def test_invoke_model_takes_each_model_native_body(emu: BedrockEmulator) -> None:
    bedrock, runtime = _clients(emu)
    deployment = _active_deployment(emu)
    nova = {
        "schemaVersion": "messages-v1",
        "messages": _messages(PROMPT),
        "inferenceConfig": {"max_new_tokens": 3},
    }
    answer = json.loads(runtime.invoke_model(modelId=deployment, body=json.dumps(nova))["body"].read())
    assert answer["stopReason"] == "max_tokens" and answer["usage"]["outputTokens"] == 3
    assert (
        answer["output"]["message"]["content"][0]["text"].split()
        == emulated_answer(_served(emu, deployment), PROMPT).split()[:3]
    )
    titan = bedrock.create_provisioned_model_throughput(
        provisionedModelName="pt-titan", modelId=trained_model(emu, "t1", base_model=TITAN_TEXT), modelUnits=1
    )["provisionedModelArn"]
    until(lambda: bedrock.get_provisioned_model_throughput(provisionedModelId=titan)["status"] == "InService")
    native = json.loads(
        runtime.invoke_model(modelId=titan, body=json.dumps({"inputText": PROMPT}))["body"].read()
    )
    assert native["inputTextTokenCount"] == len(PROMPT.split())
    assert native["results"][0]["outputText"] == emulated_answer(_served(emu, titan), PROMPT)
    assert native["results"][0]["completionReason"] == "FINISH"
    with pytest.raises(ClientError) as error:
        runtime.invoke_model(modelId=titan, body=json.dumps({"prompt": PROMPT}))
    assert _code(error) == "ValidationException" and "inputText" in str(error.value)
    assert emu.request_count("InvokeModel") == 3


def test_runtime_calls_take_the_same_fault_injection(emu: BedrockEmulator) -> None:
    deployment = _active_deployment(emu)
    _, runtime = _clients(emu)
    emu.set_fault_rates(throttle=1.0)
    with pytest.raises(ClientError) as error:
        runtime.converse(modelId=deployment, messages=_messages(PROMPT))
    assert _code(error) == "ThrottlingException"
    emu.set_fault_rates(server_error=1.0)
    with pytest.raises(ClientError) as error:
        runtime.invoke_model(modelId=deployment, body=json.dumps({"messages": _messages(PROMPT)}))
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert emu.fault_count("Converse") == 1 and emu.fault_count("InvokeModel") == 1
    emu.set_fault_rates()
    assert runtime.converse(modelId=deployment, messages=_messages(PROMPT))["stopReason"] == "end_turn"


def test_a_bedrock_api_key_reaches_the_runtime(emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = _active_deployment(emu)
    # A key the emulator issued; one it did not issue gets Bedrock's 403 (test_connection_auth).
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", emu.issue_api_key())
    runtime = boto3.client(
        "bedrock-runtime", endpoint_url=emu.endpoint_url, region_name="us-east-1", config=NO_RETRY
    )
    assert runtime.converse(modelId=deployment, messages=_messages(PROMPT))["stopReason"] == "end_turn"
