"""A hook and its lease of the process-wide shared async client."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from typing import Any

log = logging.getLogger(__name__)


class HookLease:
    """A hook and its lease of the shared client, held for a whole wait instead of per call, and made
    again from a fresh read of the connection (an endpoint fixed, credentials rotated) when calls keep
    failing."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook
        # The entered lease itself, not an AsyncExitStack around it: a triggerer holds one HookLease
        # per waiting job, and the stack (its deque of callbacks) was 0.8 KiB of the 21 KiB a wait cost.
        self._lease: AbstractAsyncContextManager[Any] | None = None

    async def open(self) -> Any:
        if self._lease is None:
            lease = self.hook.async_client()
            await lease.__aenter__()
            self._lease = lease
        return self.hook

    async def reconnect(self, reason: str) -> Any:
        log.warning("Reading AWS connection %s again: %s", self.hook.aws_conn_id, reason)
        await self.close()
        self.hook = self.hook.reconnected()
        return await self.open()

    async def close(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            await lease.__aexit__(None, None, None)
