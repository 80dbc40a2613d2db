"""Async clients shared by every trigger of a process that waits through the same connection.

``LeasedClientHook`` is an AwsBaseHook whose aiobotocore client is leased from one registry per
event loop instead of being opened per wait: every trigger of a triggerer process that waits through
the same connection and service shares one session and client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

from bedrock_provider.core.loops import PerLoop


def parse_timestamp(value: Any) -> Any:
    """A response timestamp as botocore returns it (an aware datetime), without dateutil for ISO 8601."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    from botocore.utils import parse_timestamp as botocore_parse_timestamp

    return botocore_parse_timestamp(value)


@dataclass
class _Lease:
    """One connection's client in one event loop, and how many waits use it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    context: Any = None
    client: Any = None
    users: int = 0


class _SharedAsyncClients:
    """One aiobotocore client per (connection, region, settings, event loop), leased by its users.

    Every trigger of a triggerer process that waits through the same connection shares it, instead of
    opening a session and client per waiting job. A client belongs to the loop it was opened in (the
    triggerer runs one loop; dag.test starts one per trigger), so each loop has its own; the last
    user to return its lease closes the client, so no loop ends with a client left open.
    """

    def __init__(self) -> None:
        self._leases: PerLoop[_Lease] = PerLoop(_Lease)

    @asynccontextmanager
    async def lease(self, hook: LeasedClientHook) -> AsyncIterator[Any]:
        lease = self._leases.get(hook.client_key())
        async with lease.lock:
            if lease.client is None:
                context = await hook.get_async_conn()
                lease.client = await context.__aenter__()
                lease.context = context
            lease.users += 1
        client = lease.client
        try:
            yield client
        finally:
            lease.users -= 1
            if lease.users == 0 and lease.client is client:
                context, lease.client, lease.context = lease.context, None, None
                with suppress(Exception):
                    await context.__aexit__(None, None, None)


shared_async_clients = _SharedAsyncClients()


class LeasedClientHook(AwsBaseHook):
    """An AWS hook whose async client is shared by every trigger of the process using the same
    connection and service, instead of one session and client per waiting trigger."""

    def __init__(
        self,
        *,
        region_name: str | None = None,
        verify: bool | str | None = None,
        config: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(region_name=region_name, verify=verify, config=config, **kwargs)
        # Kept from the arguments, not read back from AwsBaseHook: its properties read the connection
        # (a blocking call on the triggerer's event loop), and its private attributes may change.
        config_key = repr(sorted(vars(config).items())) if config is not None else None
        self._client_settings = (region_name, repr(verify), config_key)

    def client_key(self) -> tuple[Any, ...]:
        """What makes two hooks' clients interchangeable: the service, the connection, the settings.

        The endpoint is part of the connection, hence of its id.
        """
        return (self.client_type, self.aws_conn_id, *self._client_settings)

    def async_client(self) -> AbstractAsyncContextManager[Any]:
        """Lease the process-wide shared aiobotocore client of this connection (see _SharedAsyncClients)."""
        return shared_async_clients.lease(self)

    def get_session(self, region_name: str | None = None, deferrable: bool = False) -> Any:
        session: Any = super().get_session(region_name=region_name, deferrable=deferrable)
        if deferrable:
            # botocore parses every timestamp with dateutil (about 0.25 ms each), and a list of 500
            # running jobs carries 4,000 of them: most of the shared loop's CPU. Only the async
            # (trigger) clients get the faster parser; the sync API is left as it was.
            session.get_component("response_parser_factory").set_parser_defaults(
                timestamp_parser=parse_timestamp
            )
        return session
