"""BedrockRuntimeHook: invoke a deployed model through bedrock-runtime (Converse)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_provider.core.waiting.retry import backoff_delay
from bedrock_provider.hooks.clients import LeasedClientHook
from bedrock_provider.hooks.errors import error_message, is_transient_error

# A throttled or failing call is tried this many times in all before the task fails (and Airflow's
# retries take over); the waits between tries follow the project's one backoff (core/waiting/retry.py).
MAX_ATTEMPTS = 8
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0


@dataclass
class InvocationTally:
    """What a run of Converse calls cost: requests sent (every retry included, botocore's own as well,
    which ResponseMetadata.RetryAttempts reports), the retries among them, tokens."""

    calls: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add_request(self, response: Mapping[str, Any] | None) -> None:
        """One call: its request, and the ones botocore's retry handler sent before it."""
        retried = int(((response or {}).get("ResponseMetadata") or {}).get("RetryAttempts") or 0)
        self.calls += 1 + retried
        self.retries += retried

    def add_usage(self, response: Mapping[str, Any]) -> None:
        usage = response.get("usage") or {}
        self.input_tokens += int(usage.get("inputTokens") or 0)
        self.output_tokens += int(usage.get("outputTokens") or 0)


class BedrockRuntimeHook(LeasedClientHook):
    """bedrock-runtime through an Airflow AWS connection (the Amazon provider's AwsBaseHook arguments)."""

    hook_name = "Amazon Bedrock runtime"

    def __init__(self, **kwargs: Any) -> None:
        kwargs["client_type"] = "bedrock-runtime"
        super().__init__(**kwargs)

    @property
    def client(self) -> Any:
        return self.conn

    def converse(
        self,
        request: Mapping[str, Any],
        tally: InvocationTally,
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict[str, Any]:
        """Converse once, retrying throttling and server errors with backoff; other errors raise at once."""
        failures = 0
        while True:
            try:
                response: dict[str, Any] = self.client.converse(**request)
            except Exception as error:
                tally.add_request(getattr(error, "response", None))
                if not is_transient_error(error):
                    raise
                failures += 1
                if failures >= MAX_ATTEMPTS:
                    raise RuntimeError(
                        f"Converse on {request.get('modelId')} failed {failures} times in a row, last with: "
                        f"{error_message(error)}"
                    ) from error
                delay = backoff_delay(failures, base=FIRST_BACKOFF_SECONDS, cap=MAX_BACKOFF_SECONDS)
                tally.retries += 1
                self.log.warning(
                    "Converse on %s: %s; retrying in %.1f s",
                    request.get("modelId"),
                    error_message(error),
                    delay,
                )
                sleep(delay)
                continue
            tally.add_request(response)
            tally.add_usage(response)
            return response
