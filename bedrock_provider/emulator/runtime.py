"""bedrock-runtime, emulated: Converse and InvokeModel on deployments, provisioned and foundation models.

A custom model is invoked through what serves it: its on-demand deployment's ARN or its provisioned
throughput's ARN is the ``modelId`` (https://docs.aws.amazon.com/bedrock/latest/userguide/
deploy-custom-model-on-demand.html: "you use the deployment's ARN as the modelId"); a custom model's own
ARN is refused, as Bedrock refuses it. The service model (botocore's ``bedrock-runtime``) shapes the
requests and the answers: Converse answers ``output.message``, ``stopReason``, ``usage`` and
``metrics`` (ConverseResponse); InvokeModel answers the model's native body (Amazon Nova's
messages-v1 schema, Titan Text's ``results``).

The answer is deterministic: it is derived from the served model and the prompt
(``answers.emulated_answer``), so a test can compute what to expect. Tokens are counted as
whitespace-separated words (``answers.count_tokens``), a stand-in for the model's tokenizer;
``inferenceConfig.maxTokens`` cuts the answer and says ``max_tokens``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_provider.core.catalog import resolve
from bedrock_provider.emulator.answers import count_tokens, emulated_answer
from bedrock_provider.emulator.arns import CUSTOM_MODEL_ARN_RE, DEPLOYMENT_ARN_RE, PROVISIONED_ARN_RE
from bedrock_provider.emulator.errors import BedrockError, not_found, validation_error
from bedrock_provider.emulator.post_training.backend import PostTrainingBackend
from bedrock_provider.emulator.post_training.refusals import serving_throughput
from bedrock_provider.emulator.responses import OperationResponses
from bedrock_provider.emulator.validation import check_input

Answer = tuple[int, dict[str, Any]]
Params = dict[str, str]

# bedrock-runtime's request URIs (botocore: Converse POST /model/{modelId}/converse, InvokeModel
# POST /model/{modelId}/invoke), signed with the signing name "bedrock" like the control plane.
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/model/(?P<id>[^/]+)/converse/?$"), "Converse"),
    ("POST", re.compile(r"^/model/(?P<id>[^/]+)/invoke/?$"), "InvokeModel"),
]
OPERATIONS = frozenset(operation for _, _, operation in ROUTES)
RUNTIME_SERVICE = "bedrock-runtime"
# Latency reported in ConverseMetrics.latencyMs: fixed, as the answer is.
LATENCY_MS = 100
_ROLES = ("user", "assistant")


@dataclass(frozen=True)
class InvokedModel:
    """What a modelId names: the ARN that serves it, and the base model whose request format it takes."""

    arn: str
    base_model_id: str


def invoked_model(backend: PostTrainingBackend, model_id: str) -> InvokedModel:
    """The model a runtime call invokes, or Bedrock's refusal (not found, not ready, not invocable)."""
    with backend.lock:
        backend.tick()
        if DEPLOYMENT_ARN_RE.match(model_id):
            deployment = backend.deployments.find(model_id)
            if deployment is None:
                raise not_found(f"The custom model deployment {model_id} (modelId) was not found.")
            if deployment.status != "Active":
                raise validation_error(
                    f"The custom model deployment {deployment.name} (modelId) is {deployment.status}: a "
                    "deployment serves inference once it is Active."
                )
            return InvokedModel(deployment.arn, _custom_base_model(backend, deployment.model_arn))
        if PROVISIONED_ARN_RE.match(model_id):
            throughput = serving_throughput(backend.throughputs, model_id, "modelId")
            return InvokedModel(throughput.arn, _custom_base_model(backend, throughput.model_arn))
    if CUSTOM_MODEL_ARN_RE.match(model_id) or backend.customization.find_custom_model(model_id) is not None:
        raise validation_error(
            f"The custom model {model_id} (modelId) cannot be invoked directly: invoke the ARN of its "
            "custom model deployment (on demand) or of its provisioned throughput."
        )
    ref = resolve(model_id)
    if ref is None:
        raise not_found(f"The model {model_id} (modelId) was not found. Check the model id and the Region.")
    return InvokedModel(backend.customization.arns.foundation_model_arn(ref.versioned_id), ref.model_id)


def _custom_base_model(backend: PostTrainingBackend, model_arn: str) -> str:
    """The base model id of what a deployment or throughput serves (a custom model or a foundation model)."""
    model = backend.customization.find_custom_model(model_arn)
    if model is not None:
        return model.job.base_model_id.split(":", 1)[0]
    return model_arn.rsplit("/", 1)[-1].split(":", 1)[0]


def _texts(blocks: Any) -> Iterable[str]:
    for block in blocks or []:
        if isinstance(block, Mapping) and isinstance(block.get("text"), str):
            yield block["text"]


def _check_conversation(messages: Any) -> None:
    """Bedrock's rules of a conversation: it starts with a user message, and the roles alternate."""
    if not messages:
        raise validation_error("The messages field is required: a conversation starts with a user message.")
    if messages[0].get("role") != "user":
        raise validation_error(
            "A conversation must start with a user message. Try again with a conversation "
            "that starts with a user message."
        )
    for earlier, later in zip(messages, messages[1:], strict=False):
        if earlier.get("role") == later.get("role"):
            raise validation_error(
                "A conversation must alternate between user and assistant roles. Make sure the conversation "
                "alternates between user and assistant roles and try again."
            )


def _reply(
    model: InvokedModel, system: Any, messages: list[Mapping[str, Any]], max_tokens: Any
) -> dict[str, Any]:
    """The answer, its stop reason and token counts, for a conversation already checked."""
    prompt = "\n".join([*_texts(system), *(text for m in messages for text in _texts(m.get("content")))])
    words = emulated_answer(model.arn, prompt).split()
    stop = "end_turn"
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and len(words) > max_tokens:
        words, stop = words[:max_tokens], "max_tokens"
    text = " ".join(words)
    input_tokens = count_tokens(prompt)
    return {
        "text": text,
        "stop": stop,
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": len(words),
            "totalTokens": input_tokens + len(words),
        },
    }


class RuntimeResponses(OperationResponses[PostTrainingBackend]):
    """bedrock-runtime's Converse and InvokeModel over the emulator's deployments and throughputs."""

    def converse(self, identifier: str | None, body: dict[str, Any], params: Params) -> Answer:
        check_input("Converse", {**body, "modelId": identifier}, RUNTIME_SERVICE)
        model = invoked_model(self.backend, identifier or "")
        messages = body.get("messages") or []
        _check_conversation(messages)
        reply = _reply(
            model, body.get("system"), messages, (body.get("inferenceConfig") or {}).get("maxTokens")
        )
        return 200, {
            "output": {"message": {"role": "assistant", "content": [{"text": reply["text"]}]}},
            "stopReason": reply["stop"],
            "usage": reply["usage"],
            "metrics": {"latencyMs": LATENCY_MS},
        }

    def invoke_model(self, identifier: str | None, body: dict[str, Any], params: Params) -> Answer:
        check_input("InvokeModel", {"modelId": identifier}, RUNTIME_SERVICE)
        model = invoked_model(self.backend, identifier or "")
        if model.base_model_id.startswith("amazon.nova-"):
            return 200, _nova_invocation(model, body)
        if model.base_model_id.startswith("amazon.titan-text-"):
            return 200, _titan_text_invocation(model, body)
        raise validation_error(
            f"InvokeModel on {model.base_model_id} is not emulated: the emulator answers InvokeModel in the "
            "Amazon Nova and Titan Text request formats. Use Converse, which every text model takes."
        )


def _nova_invocation(model: InvokedModel, body: Mapping[str, Any]) -> dict[str, Any]:
    """Amazon Nova's native request (messages-v1: messages, system, inferenceConfig.max_new_tokens)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, Mapping) for m in messages):
        raise _malformed("messages: expected a list of {role, content} messages")
    _check_conversation(messages)
    config = body.get("inferenceConfig") or {}
    reply = _reply(model, body.get("system"), messages, config.get("max_new_tokens", config.get("maxTokens")))
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": reply["text"]}]}},
        "stopReason": reply["stop"],
        "usage": reply["usage"],
    }


def _titan_text_invocation(model: InvokedModel, body: Mapping[str, Any]) -> dict[str, Any]:
    """Titan Text's native request (inputText, textGenerationConfig.maxTokenCount)."""
    prompt = body.get("inputText")
    if not isinstance(prompt, str) or not prompt:
        raise _malformed("inputText: expected the prompt as a non-empty string")
    config = body.get("textGenerationConfig") or {}
    reply = _reply(
        model, None, [{"role": "user", "content": [{"text": prompt}]}], config.get("maxTokenCount")
    )
    return {
        "inputTextTokenCount": reply["usage"]["inputTokens"],
        "results": [
            {
                "tokenCount": reply["usage"]["outputTokens"],
                "outputText": reply["text"],
                "completionReason": "LENGTH" if reply["stop"] == "max_tokens" else "FINISH",
            }
        ],
    }


def _malformed(detail: str) -> BedrockError:
    return validation_error(f"Malformed input request: {detail}, please reformat your input and try again.")
