"""The list half of the triggerer's shared loops: one paginated ListModelCustomizationJobs
(statusEquals=InProgress) per tick for every customization job a triggerer waits for, broadcast as a
core.snapshots.Snapshot, with the failures and refusals of that call turned into what each wait needs
(a ListFailure to weigh against its max_failure_duration, or an unknown snapshot that makes it
describe its own job). The cadence and backoff are core.watch.ListSchedule's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

from bedrock_provider.core.waiting import watch
from bedrock_provider.core.waiting.failure_run import RECONNECT_AFTER_FAILURES
from bedrock_provider.core.waiting.snapshots import LIST_PAGE_SIZE, ListFailure, Snapshot
from bedrock_provider.triggers.hook_lease import HookLease

# The shared loops run once per group, outside any trigger, so they log under the module.
log = logging.getLogger(__name__)


class SharedLister:
    """One shared loop's list: the lease of its client is held for the loop's life (closed with
    ``stack``), so the client is not reopened between ticks."""

    def __init__(self, hook: Any, interval: float, stack: AsyncExitStack) -> None:
        self.lease = HookLease(hook)
        self.schedule = watch.ListSchedule(interval)
        self._first_failure: float | None = None
        stack.push_async_callback(lambda: self.lease.close())

    async def tick(self) -> tuple[Snapshot | ListFailure, float]:
        """What to broadcast (a snapshot, or the run of failures so far) and the seconds to the next tick."""
        from bedrock_provider.hooks.errors import error_message, is_retryable_failure

        started = time.time()
        if not self.schedule.should_list(started):
            return Snapshot.unknown(started), self.schedule.skipped(started, time.time())
        was_denied = self.schedule.denied
        try:
            hook = await self.lease.open()
            summaries = await hook.list_jobs_async(statusEquals="InProgress", maxResults=LIST_PAGE_SIZE)
        except Exception as error:
            if is_retryable_failure(error):
                return await self._failed(started, error_message(error))
            delay = self.schedule.refused(time.time())
            log.error(
                "Listing running customization jobs through connection %r was refused (%s). Each of its "
                "waiting triggers describes its own job until it works again; grant "
                "bedrock:ListModelCustomizationJobs to share one list. Next try in %.0f s",
                self.lease.hook.aws_conn_id,
                error_message(error),
                watch.LIST_RETRY_WHEN_DENIED,
            )
            return Snapshot.unknown(started), delay
        self._first_failure = None
        if was_denied:
            log.info(
                "Listing running customization jobs through connection %r works again; its waits share "
                "one list",
                self.lease.hook.aws_conn_id,
            )
        snapshot = Snapshot.from_summaries(summaries, started)
        log.debug("Shared list: %d running jobs", len(summaries))
        return snapshot, self.schedule.listed(started, time.time())

    async def _failed(self, started: float, message: str) -> tuple[ListFailure, float]:
        """A transient failure: back off, and read the connection again every few failures."""
        delay = self.schedule.transient_failure()
        if self._first_failure is None:
            self._first_failure = started
        if self.schedule.failures % RECONNECT_AFTER_FAILURES == 0:
            await self.lease.reconnect(f"{self.schedule.failures} lists failed in a row")
        log.warning(
            "Listing running customization jobs through connection %r failed (%s, attempt %d); its "
            "waits keep waiting, next try in %.1f s",
            self.lease.hook.aws_conn_id,
            message,
            self.schedule.failures,
            delay,
        )
        return ListFailure(self._first_failure, self.schedule.failures, message), delay


async def list_loop(hook: Any, interval: float) -> AsyncIterator[Snapshot | ListFailure]:
    """The shared stream of a group that polls: a list every ``interval``, forever."""
    async with AsyncExitStack() as stack:
        lister = SharedLister(hook, interval, stack)
        while True:
            item, delay = await lister.tick()
            yield item
            await asyncio.sleep(delay)
