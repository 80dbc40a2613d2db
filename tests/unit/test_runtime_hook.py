"""BedrockRuntimeHook.converse: throttling backs off with the project's backoff, then gives up."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_provider.hooks.runtime import MAX_ATTEMPTS, BedrockRuntimeHook, InvocationTally

ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "4"}]}},
    "usage": {"inputTokens": 5, "outputTokens": 1, "totalTokens": 6},
    "ResponseMetadata": {"RetryAttempts": 2},
}


def throttled(retry_attempts: int = 4) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "ThrottlingException", "Message": "Too many requests"},
            "ResponseMetadata": {"HTTPStatusCode": 429, "RetryAttempts": retry_attempts},
        },
        "Converse",
    )


class ScriptedClient:
    """Answers Converse with the scripted errors first, then ANSWER."""

    def __init__(self, errors: list[Exception]) -> None:
        self.errors = errors

    def converse(self, **request: Any) -> dict[str, Any]:
        if self.errors:
            raise self.errors.pop(0)
        return ANSWER


def hook_with(client: ScriptedClient, monkeypatch: pytest.MonkeyPatch) -> BedrockRuntimeHook:
    hook = BedrockRuntimeHook(aws_conn_id=None, region_name="us-east-1")
    monkeypatch.setattr(BedrockRuntimeHook, "client", property(lambda self: client))
    return hook


def test_throttling_is_retried_with_backoff_and_every_request_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hook = hook_with(ScriptedClient([throttled(), throttled()]), monkeypatch)
    delays: list[float] = []
    tally = InvocationTally()
    response = hook.converse({"modelId": "m", "messages": []}, tally, sleep=delays.append)
    assert response is ANSWER
    # Two calls botocore gave up on after 4 retries each, then one that took 2 of botocore's retries.
    assert tally.calls == 5 + 5 + 3 and tally.retries == 4 + 1 + 4 + 1 + 2
    assert (tally.input_tokens, tally.output_tokens) == (5, 1)
    assert len(delays) == 2 and 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0


def test_a_caller_error_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = ClientError({"Error": {"Code": "ValidationException", "Message": "bad"}}, "Converse")
    hook = hook_with(ScriptedClient([refused]), monkeypatch)
    with pytest.raises(ClientError, match="bad"):
        hook.converse({"modelId": "m", "messages": []}, InvocationTally(), sleep=pytest.fail)


def test_throttling_that_does_not_end_fails_naming_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = hook_with(ScriptedClient([throttled(0) for _ in range(MAX_ATTEMPTS)]), monkeypatch)
    delays: list[float] = []
    with pytest.raises(RuntimeError, match=f"Converse on m failed {MAX_ATTEMPTS} times in a row"):
        hook.converse({"modelId": "m", "messages": []}, InvocationTally(), sleep=delays.append)
    assert len(delays) == MAX_ATTEMPTS - 1 and max(delays) <= 30.0
