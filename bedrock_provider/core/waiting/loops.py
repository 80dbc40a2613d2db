"""State kept per asyncio event loop.

An async client, a lock or a set of watched jobs belongs to the event loop it was made in: the
triggerer runs one loop, but ``dag.test()`` starts one per trigger, and a value made in one loop must
never be used from another. Entries are kept with their loop object, not its id, so a closed loop's
entries are recognised and dropped instead of being mistaken for those of a new loop that reused the
id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    """One value per (key, running event loop), made by ``factory`` on first use."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._entries: dict[tuple[Hashable, int], tuple[asyncio.AbstractEventLoop, T]] = {}

    def get(self, key: Hashable) -> T:
        loop = asyncio.get_running_loop()
        for stale in [k for k, (entry_loop, _) in self._entries.items() if entry_loop.is_closed()]:
            del self._entries[stale]
        entry = self._entries.get((key, id(loop)))
        if entry is None or entry[0] is not loop:
            entry = self._entries[(key, id(loop))] = (loop, self._factory())
        return entry[1]

    def replace(self, key: Hashable) -> T:
        """A fresh value for ``key`` in the running loop; holders of the old one keep it."""
        loop = asyncio.get_running_loop()
        entry = self._entries[(key, id(loop))] = (loop, self._factory())
        return entry[1]

    def __len__(self) -> int:
        return len(self._entries)
