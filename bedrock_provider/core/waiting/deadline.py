"""Waiting on the event loop without going past a wait's deadline (``TimedWait.max_wait``).

A trigger sleeping between its own describes, or waiting for the next item of a shared stream, must
still end on time when that sleep or that item takes longer than the time left.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from bedrock_provider.core.waiting.watch import TimedWait

# What ``until_deadline`` yields, once and last, when the deadline passes.
TIMED_OUT = object()


async def sleep_or_time_out(wait: TimedWait, seconds: float) -> bool:
    """Sleep, but not past the deadline; True when the deadline has passed."""
    remaining = wait.remaining()
    if remaining is not None and remaining <= 0:
        return True
    await asyncio.sleep(seconds if remaining is None else min(seconds, remaining))
    return wait.expired()


async def until_deadline(stream: AsyncIterator[Any], wait: TimedWait) -> AsyncIterator[Any]:
    """The stream's items, then TIMED_OUT once max_wait has passed, even while nothing arrives
    (the shared loop may be backing off from throttling for minutes)."""
    iterator = aiter(stream)
    while True:
        remaining = wait.remaining()
        if remaining is not None and remaining <= 0:
            yield TIMED_OUT
            return
        scope = asyncio.timeout(remaining)
        try:
            async with scope:
                item = await anext(iterator)
        except StopAsyncIteration:
            return
        except TimeoutError:
            if not scope.expired():
                raise
            yield TIMED_OUT
            return
        yield item
