"""A hook and its lease of the process-wide shared async client."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import Any

log = logging.getLogger(__name__)


class HookLease:
    """A hook and its lease of the shared client, held for a whole wait instead of per call, and made
    again from a fresh read of the connection (an endpoint fixed, credentials rotated) when calls keep
    failing."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook
        self._lease = AsyncExitStack()
        self._open = False

    async def open(self) -> Any:
        if not self._open:
            await self._lease.enter_async_context(self.hook.async_client())
            self._open = True
        return self.hook

    async def reconnect(self, reason: str) -> Any:
        log.warning("Reading AWS connection %s again: %s", self.hook.aws_conn_id, reason)
        await self.close()
        self.hook = self.hook.reconnected()
        return await self.open()

    async def close(self) -> None:
        await self._lease.aclose()
        self._lease = AsyncExitStack()
        self._open = False
