"""Async clients shared by every trigger of a process that waits through the same connection.

``LeasedClientHook`` is an AwsBaseHook whose aiobotocore client is leased from one registry per
event loop instead of being opened per wait: every trigger of a triggerer process that waits through
the same connection and service shares one session and client.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import threading
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook, SessionFactory
from botocore.loaders import JSONFileLoader

from bedrock_provider.core.request.api_keys import API_KEY_EXTRA, ApiKeySetting, api_key_setting
from bedrock_provider.core.waiting.loops import PerLoop
from bedrock_provider.hooks.auth import (
    install_token_provider,
    log_ignored_environment_once,
    service_takes_bearer,
    signature_version,
)


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


# What botocore reads from disk (JSON, some of it compressed) to create a client: about 0.5 s the
# first time, enough for the triggerer to warn that a trigger blocked its event loop.
_CLIENT_DATA = ("endpoints", "partitions", "sdk-default-configuration", "_retry")


# Every data file parsed in this process, by its path: one copy, whatever the number of sessions.
_PARSED_DATA: dict[str, Any] = {}
_PARSED_DATA_LOCK = threading.Lock()


class _PlainJSONFileLoader(JSONFileLoader):
    """botocore's JSON file loader, parsing into plain dicts (ordered, like the OrderedDicts it makes),
    each file once per process.

    endpoints.json (1.2 MB) took one C call of 0.3-0.5 s, holding the GIL the whole time, so the
    event loop stalled even while a worker thread did the parsing. Plain dicts, and no cyclic GC
    passes over the new objects, make it about 20 ms.

    botocore's loader caches per session, and every connection's client has a session of its own
    (and a role connection one more, whose STS client assumes the role): parsed per session,
    endpoints.json alone held 1.6 MB per session as plain dicts and 6.8 MB as OrderedDicts, 27 MB of
    a triggerer waiting in push mode on five connections (benchmarks/README.md). One session already
    hands the same parsed data to all its clients, so sharing it between sessions is no new use.
    """

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        with _PARSED_DATA_LOCK:
            if full_path in _PARSED_DATA:
                return _PARSED_DATA[full_path]
            if not os.path.isfile(full_path):
                return None
            with open_method(full_path, "rb") as file:
                payload = file.read().decode("utf-8")
            # The cyclic GC would run many times over the parse's new objects (none of them cyclic
            # garbage), inside the same C call: most of its time.
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                parsed = _PARSED_DATA[full_path] = json.loads(payload)
            finally:
                if was_enabled:
                    gc.enable()
            return parsed


def share_parsed_data(botocore_session: Any) -> None:
    """Make a botocore session read its data files through the process-wide parsed copies; before it
    loads any (a file it loaded already stays its own)."""
    botocore_session.get_component("data_loader").file_loader = _PlainJSONFileLoader()


def load_client_data(session: Any, service: str) -> None:
    """Load, into the session's caches, the data files botocore reads when it creates a client.

    AwsBaseHook makes the session in a worker thread (get_async_conn), but aiobotocore creates the
    client on the event loop, and would read these there. Read here, in the thread, the client's
    creation on the loop finds them cached.
    """
    loader = session.get_component("data_loader")
    for name in _CLIENT_DATA:
        with suppress(Exception):  # a botocore release without one of them simply does not read it
            loader.load_data(name)
    with suppress(Exception):
        session._get_internal_component("endpoint_resolver")
    for kind in ("service-2", "endpoint-rule-set-1"):
        with suppress(Exception):
            # As aiobotocore asks, api_version included: the loader's cache keys on its arguments.
            loader.load_service_model(service, kind, api_version=None)


def refresh_credentials_off_the_loop(session: Any) -> None:
    """Make an aiobotocore session's refreshable credentials (a connection's role_arn) call STS in a
    worker thread.

    AwsBaseHook gives them its synchronous AssumeRole call as the refresh; aiobotocore would run it on
    the event loop (credentials.AioRefreshableCredentials._protected_refresh), stalling every wait of
    the triggerer for an STS round trip each time an assumed role's credentials are renewed.
    """
    credentials = getattr(session, "_credentials", None)
    refresh = getattr(credentials, "_refresh_using", None)
    if credentials is None or refresh is None or asyncio.iscoroutinefunction(refresh):
        return

    async def refresh_in_a_thread() -> Any:
        return await asyncio.to_thread(refresh)

    credentials._refresh_using = refresh_in_a_thread


@dataclass
class _Lease:
    """One connection's client in one event loop, and how many waits use it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    context: Any = None
    client: Any = None
    users: int = 0
    # Calls in flight on the client: at most its connection pool's size (_SharedAsyncClients.call).
    calls: asyncio.Semaphore | None = None


class _SharedAsyncClients:
    """One aiobotocore client per (connection, region, settings, event loop), leased by its users.

    Every trigger of a triggerer process that waits through the same connection shares it, instead of
    opening a session and client per waiting job. A client belongs to the loop it was opened in (the
    triggerer runs one loop; dag.test starts one per trigger), so each loop has its own; the last
    user to return its lease closes the client, so no loop ends with a client left open.
    """

    def __init__(self) -> None:
        self._leases: PerLoop[_Lease] = PerLoop(_Lease)

    def lease(self, hook: LeasedClientHook) -> AbstractAsyncContextManager[Any]:
        """The connection's client in the running loop, for as long as the context is entered."""
        return self._leased(hook, self._leases.get(hook.client_key()))

    @asynccontextmanager
    async def _leased(self, hook: LeasedClientHook, lease: _Lease) -> AsyncIterator[Any]:
        # The entry is looked up by the caller: a call reads it once, for the client and the semaphore.
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

    @asynccontextmanager
    async def call(self, hook: LeasedClientHook) -> AsyncIterator[Any]:
        """The shared client for one call, made once one of the client's pooled connections is free.

        The other calls wait here as small coroutines, not as built and signed requests parked in
        aiohttp's connector queue: 5,000 push-mode waits describing their jobs at once when they start
        left the process 6 KiB a wait bigger for good (memory freed, but kept by the allocator).
        """
        lease = self._leases.get(hook.client_key())
        async with self._leased(hook, lease) as client:
            if lease.calls is None:
                lease.calls = asyncio.Semaphore(client.meta.config.max_pool_connections)
            async with lease.calls:
                yield client

    def discard(self, hook: LeasedClientHook) -> None:
        """Make the next lease of this connection (in the running loop) create a new client; the old
        one closes when its last user returns it (each user's lease keeps its own client)."""
        self._leases.replace(hook.client_key())


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
        self._arguments: dict[str, Any] = {"region_name": region_name, "verify": verify, "config": config}

    def client_key(self) -> tuple[Any, ...]:
        """What makes two hooks' clients interchangeable: the service, the connection, the settings.

        The endpoint is part of the connection, hence of its id.
        """
        return (self.client_type, self.aws_conn_id, *self._client_settings)

    def async_client(self) -> AbstractAsyncContextManager[Any]:
        """Lease the process-wide shared aiobotocore client of this connection (see _SharedAsyncClients)."""
        return shared_async_clients.lease(self)

    def client_for_call(self) -> AbstractAsyncContextManager[Any]:
        """The shared client for one call, which waits for a free pooled connection first; for calls
        that thousands of waits may make at once (see _SharedAsyncClients.call)."""
        return shared_async_clients.call(self)

    def reconnected(self) -> Any:
        """A new hook of the same arguments, which reads the connection again (an endpoint fixed or
        credentials rotated since), and, in an event loop, no longer shares the old client."""
        with suppress(RuntimeError):  # no running loop: a synchronous caller
            shared_async_clients.discard(self)
        return type(self)(aws_conn_id=self.aws_conn_id, **self._arguments)

    def api_key_setting(self) -> ApiKeySetting:
        """What the connection's extra says about Bedrock API keys (checked; reads the connection)."""
        return api_key_setting(self.aws_conn_id, self.conn_config.extra_config)

    def _get_config(self, config: Any = None) -> Any:
        """The client's config, its signature version pinned for services that take bearer tokens,
        so that the connection, not AWS_BEARER_TOKEN_BEDROCK in the environment, decides (hooks/auth.py)."""
        merged = super()._get_config(config)
        pinned = signature_version(str(self.client_type), self.api_key_setting())
        if pinned is None:
            return merged
        if merged.signature_version is None:
            from botocore.config import Config

            return merged.merge(Config(signature_version=pinned))
        if merged.signature_version != pinned and pinned == "bearer":
            raise ValueError(
                f"AWS connection {self.aws_conn_id!r}: its extra {API_KEY_EXTRA} asks for bearer auth, but "
                f"the botocore config pins signature_version={merged.signature_version!r}; remove one of them"
            )
        return merged

    def get_session(self, region_name: str | None = None, deferrable: bool = False) -> Any:
        # AwsBaseHook.get_session, its factory's basic session sharing the parsed data files first: a
        # role connection's STS client is made from it, and kept for every later refresh.
        factory = SessionFactory(conn=self.conn_config, region_name=region_name, config=self.config)
        share_parsed_data(factory.basic_session._session)
        session: Any = factory.create_session(deferrable=deferrable)
        botocore_session = session if deferrable else session._session
        share_parsed_data(botocore_session)
        if service_takes_bearer(str(self.client_type)):
            log_ignored_environment_once()
            install_token_provider(
                botocore_session,
                self.aws_conn_id,
                self.api_key_setting(),
                region_name or self.region_name or botocore_session.get_config_variable("region"),
                deferrable,
            )
        if deferrable:
            # botocore parses every timestamp with dateutil (about 0.25 ms each), and a list of 500
            # running jobs carries 4,000 of them: most of the shared loop's CPU. Only the async
            # (trigger) clients get the faster parser; the sync API is left as it was.
            session.get_component("response_parser_factory").set_parser_defaults(
                timestamp_parser=parse_timestamp
            )
            load_client_data(session, str(self.client_type))
            refresh_credentials_off_the_loop(session)
        return session
