"""EventsQueueHook: the SQS queue of Bedrock's job state-change events (push mode, docs/push-mode.md)."""

from __future__ import annotations

from typing import Any

from bedrock_provider.core.waiting.push_mode import MAX_MESSAGES_PER_RECEIVE
from bedrock_provider.hooks.clients import LeasedClientHook


class EventsQueueHook(LeasedClientHook):
    """The SQS queue an EventBridge rule fills with Bedrock's job state-change events (push mode).

    Same connection arguments as BedrockCustomizationHook; only the service differs.
    """

    hook_name = "Amazon Bedrock job events queue"

    def __init__(self, **kwargs: Any) -> None:
        kwargs["client_type"] = "sqs"
        super().__init__(**kwargs)

    async def receive_async(
        self,
        queue_url: str,
        wait_seconds: int,
        visibility_timeout: int,
        max_messages: int = MAX_MESSAGES_PER_RECEIVE,
    ) -> list[dict[str, Any]]:
        """Long-poll the queue; messages carry their body, receipt handle and ApproximateReceiveCount."""
        async with self.async_client() as client:
            response = await client.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=max_messages,
                WaitTimeSeconds=wait_seconds,
                VisibilityTimeout=visibility_timeout,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    async def delete_async(self, queue_url: str, receipt_handles: list[str]) -> int:
        """Delete messages, ten per call as SQS allows; returns how many SQS reported as failed."""
        failed = 0
        async with self.async_client() as client:
            for start in range(0, len(receipt_handles), 10):
                chunk = receipt_handles[start : start + 10]
                response = await client.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": handle} for i, handle in enumerate(chunk)],
                )
                failed += len(response.get("Failed", []))
        return failed
