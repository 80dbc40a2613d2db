"""bedrock_provider.triggers.hook_lease: one per waiting job, so what it holds is paid thousands of times."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bedrock_provider.triggers.hook_lease import HookLease


class SharedClientHook:
    aws_conn_id = "aws_default"

    def __init__(self) -> None:
        self.users = 0

    @asynccontextmanager
    async def async_client(self) -> AsyncIterator[SharedClientHook]:
        self.users += 1
        try:
            yield self
        finally:
            self.users -= 1


def test_an_open_lease_holds_the_shared_client_and_little_else():
    """A triggerer holds one open lease per waiting job. Each one kept an AsyncExitStack (its deque of
    exit callbacks), about 1 KiB of a wait's 21 KiB; the entered lease alone is half of that."""

    async def scenario() -> tuple[float, int, int]:
        hook = SharedClientHook()
        warm = HookLease(hook)
        await warm.open()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            leases = [HookLease(hook) for _ in range(500)]
            for lease in leases:
                await lease.open()
                await lease.open()  # a second open is the same lease
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        per_lease = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / len(leases)
        users_open = hook.users
        for lease in [warm, *leases]:
            await lease.close()
            await lease.close()  # closing twice returns the lease once
        return per_lease, users_open, hook.users

    per_lease, users_open, users_closed = asyncio.run(scenario())
    assert (users_open, users_closed) == (501, 0)
    assert per_lease < 1024, f"{per_lease:.0f} bytes per open lease"
