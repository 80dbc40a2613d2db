"""A local Amazon Bedrock model-customization service on top of moto's server.

For the demo, the tests and users' own tests; the provider's runtime never imports it.

    from bedrock_provider.emulator import BedrockEmulator

    with BedrockEmulator(job_duration=5.0) as emu:
        emu.endpoint_url        # http://127.0.0.1:PORT, for every AWS service
        emu.set_fault_rates(throttle=0.1, server_error=0.05, connection_drop=0.0)
        emu.request_count("CreateModelCustomizationJob")

``BedrockEmulator`` imports moto; ``EmulatorClient`` (counts and faults of an emulator
running in another process) does not, hence the lazy import below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bedrock_provider.emulator.client import EmulatorClient, EmulatorError
from bedrock_provider.emulator.models import (
    TAG_DURATION,
    TAG_FAILURE_MESSAGE,
    TAG_FINAL_LOSS,
    TAG_FINAL_VALIDATION_LOSS,
    TAG_OUTCOME,
)

if TYPE_CHECKING:
    from bedrock_provider.emulator.server import BedrockEmulator

__all__ = [
    "TAG_DURATION",
    "TAG_FAILURE_MESSAGE",
    "TAG_FINAL_LOSS",
    "TAG_FINAL_VALIDATION_LOSS",
    "TAG_OUTCOME",
    "BedrockEmulator",
    "EmulatorClient",
    "EmulatorError",
]


def __getattr__(name: str) -> Any:
    if name == "BedrockEmulator":
        from bedrock_provider.emulator.server import BedrockEmulator

        return BedrockEmulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
