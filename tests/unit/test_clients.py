"""Client leasing (hooks/clients.py) and state per event loop (core/waiting/loops.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from botocore.config import Config

from bedrock_provider.core.waiting.loops import PerLoop
from bedrock_provider.hooks.clients import LeasedClientHook
from bedrock_provider.hooks.customization import BedrockCustomizationHook
from bedrock_provider.hooks.events_queue import EventsQueueHook


def test_one_value_per_key_and_loop() -> None:
    made: list[object] = []
    registry: PerLoop[object] = PerLoop(lambda: made.append(object()) or made[-1])

    async def twice(key: str) -> tuple[object, object]:
        return registry.get(key), registry.get(key)

    first, again = asyncio.run(twice("a"))
    assert first is again
    # A new loop (dag.test starts one per trigger) never sees the closed loop's value, and the closed
    # loop's entry is dropped.
    second, _ = asyncio.run(twice("a"))
    assert second is not first
    assert len(registry) == 1
    other, _ = asyncio.run(twice("b"))
    assert other is not second


def test_client_key_comes_from_the_constructor_arguments() -> None:
    """Two hooks share a client exactly when service, connection, Region, verify and config agree; the
    key is built from the arguments, never from AwsBaseHook's private attributes or its properties
    (which would read the connection)."""
    base = {"aws_conn_id": "aws_default", "region_name": "us-east-1", "verify": None}
    config = Config(retries={"mode": "standard"})
    key = BedrockCustomizationHook(**base, config=config).client_key()
    assert key == BedrockCustomizationHook(**base, config=Config(retries={"mode": "standard"})).client_key()
    assert key != BedrockCustomizationHook(**base).client_key()
    assert key != BedrockCustomizationHook(**{**base, "region_name": "eu-west-1"}, config=config).client_key()
    assert key != EventsQueueHook(**base, config=config).client_key()
    assert key[:3] == ("bedrock", "aws_default", "us-east-1")


def test_leases_share_one_client_per_loop_and_close_it_with_the_last() -> None:
    opened: list[Any] = []
    closed: list[Any] = []

    class Context:
        async def __aenter__(self) -> object:
            opened.append(object())
            return opened[-1]

        async def __aexit__(self, *exc: object) -> None:
            closed.append(opened[-1])

    class Hook(LeasedClientHook):
        async def get_async_conn(self) -> Any:
            return Context()

    hook = Hook(aws_conn_id="aws_default", client_type="bedrock")

    async def use() -> Any:
        async with hook.async_client() as first, hook.async_client() as second:
            assert first is second
            assert first not in closed
        assert closed[-1] is first
        return first

    first_loop = asyncio.run(use())
    second_loop = asyncio.run(use())
    assert second_loop is not first_loop  # a client belongs to the loop it was opened in
    assert opened == closed == [first_loop, second_loop]


def test_calls_beyond_the_connection_pool_wait_before_they_are_made() -> None:
    """In push mode every wait describes its job when it starts: 5,000 describes built and signed at once,
    parked in aiohttp's queue for one of the pool's 10 connections, left the process 6 KiB a wait bigger
    for good. Calls past the pool's size wait for a free connection before they are made."""
    in_flight: list[int] = []
    most = 0

    class Client:
        class meta:  # noqa: N801 (an aiobotocore client's attribute)
            config = Config(max_pool_connections=3)

    class Context:
        async def __aenter__(self) -> Client:
            return Client()

        async def __aexit__(self, *exc: object) -> None:
            return None

    class Hook(LeasedClientHook):
        async def get_async_conn(self) -> Any:
            return Context()

    hook = Hook(aws_conn_id="aws_default", client_type="bedrock")

    async def call(release: asyncio.Event) -> None:
        nonlocal most
        async with hook.client_for_call():
            in_flight.append(1)
            most = max(most, len(in_flight))
            await release.wait()
            in_flight.pop()

    async def scenario() -> None:
        release = asyncio.Event()
        async with hook.async_client():  # a wait's lease, held throughout, takes no call's place
            calls = [asyncio.create_task(call(release)) for _ in range(20)]
            while len(in_flight) < 3:
                await asyncio.sleep(0)
            for _ in range(50):  # give every other call the chance to start
                await asyncio.sleep(0)
            assert len(in_flight) == 3
            release.set()
            await asyncio.gather(*calls)

    asyncio.run(scenario())
    assert most == 3
