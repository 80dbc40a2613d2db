"""How a hook's clients authenticate: as its Airflow connection says, never as the environment says.

botocore (1.39 and later) signs every call of a service that takes bearer tokens (``bedrock``,
``bedrock-runtime``) with ``AWS_BEARER_TOKEN_BEDROCK`` when that variable is in the environment,
unless the client's config pins a signature version in code (botocore/handlers.py,
``_set_auth_scheme_preference_signer`` and ``_should_prefer_bearer_auth``; aiobotocore registers the
same handler). A worker where some other code uses an API key would then act as whoever owns the
key, not as the connection. So every such client gets its signature version pinned: ``v4`` with the
connection's credentials, or ``bearer`` with the key the connection's extra ``bedrock_api_key``
names; and its session's token provider hands out only that key, never the environment's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import os
import threading
from typing import Any

from bedrock_provider.core.request.api_keys import (
    API_KEY_EXTRA,
    ApiKeySetting,
    ShortTermKey,
    bearer_env_variable,
    key_duration,
    mint_short_term_key,
    renewal_margin,
    takes_bearer,
)

log = logging.getLogger(__name__)

_ignored_variable_logged = threading.Event()


@functools.cache
def service_takes_bearer(service: str) -> bool:
    """Whether botocore's model of ``service`` lists bearer auth (read once per process)."""
    from botocore.loaders import create_loader

    try:
        model = create_loader().load_service_model(service, "service-2")
    except Exception:  # an unknown service: botocore itself refuses it when the client is made
        return False
    return takes_bearer(model.get("metadata", {}).get("auth"))


def signature_version(service: str, setting: ApiKeySetting) -> str | None:
    """The signature version a client of ``service`` is pinned to; None leaves botocore's choice
    (services that never take a bearer token)."""
    if not service_takes_bearer(service):
        return None
    return "bearer" if setting.uses_key else "v4"


def log_ignored_environment_once() -> None:
    """Say once per process that the bearer variable is set and not used; never its value."""
    variable = bearer_env_variable("bedrock")
    if os.environ.get(variable) and not _ignored_variable_logged.is_set():
        _ignored_variable_logged.set()
        log.info(
            "%s is set in this process's environment; Bedrock calls made through Airflow connections "
            "ignore it and authenticate as each connection says (its credentials, or its extra %s)",
            variable,
            API_KEY_EXTRA,
        )


class ConnectionTokenProvider:
    """A session's token provider (botocore's "token_provider" component) that hands out the
    connection's key and nothing else: botocore's default chain would read the environment."""

    def __init__(self, token: Any) -> None:
        self._token = token

    def load_token(self, **kwargs: Any) -> Any:
        return self._token


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _credentials_expiry(credentials: Any) -> dt.datetime | None:
    # RefreshableCredentials (assumed roles) keep their expiry here; static keys have none.
    expiry = getattr(credentials, "_expiry_time", None)
    return expiry if isinstance(expiry, dt.datetime) else None


class _ShortTermKeys:
    """The current short-term key, minted again ``renewal_margin`` before it expires."""

    def __init__(self, conn_id: str | None, session: Any, region: str | None, duration: int) -> None:
        if not region:
            raise ValueError(
                f"AWS connection {conn_id!r}: a short-term Bedrock API key is valid in one Region; set "
                "region_name in the connection's extra or on the operator"
            )
        self._conn_id = conn_id
        self._session = session  # its credentials are resolved when the first key is minted
        self._credentials: Any = None
        self._region = region
        self._duration = duration
        self._key: ShortTermKey | None = None
        self._margin = 0.0

    def _due(self, now: dt.datetime) -> bool:
        return self._key is None or (self._key.expires_at - now).total_seconds() <= self._margin

    def _signer(self, credentials: Any) -> Any:
        if credentials is None:
            raise ValueError(
                f'AWS connection {self._conn_id!r}: {API_KEY_EXTRA}="short_term" mints keys from the '
                "connection's credentials, and none were found; give it credentials (login/password, "
                "a role_arn, a profile) or a long-term key"
            )
        self._credentials = credentials
        return credentials

    def _mint(self, frozen: Any, now: dt.datetime) -> Any:
        from botocore.tokens import FrozenAuthToken

        duration = key_duration(self._duration, _credentials_expiry(self._credentials), now)
        self._key = mint_short_term_key(frozen, self._region, duration)
        self._margin = renewal_margin(duration)
        log.debug("Minted a short-term Bedrock API key valid until %s", self._key.expires_at.isoformat())
        return FrozenAuthToken(self._key.token, self._key.expires_at)

    def _current(self) -> Any:
        from botocore.tokens import FrozenAuthToken

        key = self._key
        if key is None:  # _due() is True without a key, so the callers mint first
            raise RuntimeError("no short-term key minted yet")
        return FrozenAuthToken(key.token, key.expires_at)


class ShortTermKeys(_ShortTermKeys):
    """For botocore clients: the signer calls get_frozen_token() before each call."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._lock = threading.Lock()

    def get_frozen_token(self) -> Any:
        with self._lock:
            now = _utc_now()
            if self._due(now):
                credentials = self._signer(self._credentials or self._session.get_credentials())
                return self._mint(credentials.get_frozen_credentials(), now)
            return self._current()


class AsyncShortTermKeys(_ShortTermKeys):
    """For aiobotocore clients: the signer awaits get_frozen_token() before each call."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._lock = asyncio.Lock()

    async def get_frozen_token(self) -> Any:
        async with self._lock:
            now = _utc_now()
            if self._due(now):
                credentials = self._signer(self._credentials or await self._session.get_credentials())
                return self._mint(await credentials.get_frozen_credentials(), now)
            return self._current()


def install_token_provider(
    botocore_session: Any, conn_id: str | None, setting: ApiKeySetting, region: str | None, deferrable: bool
) -> None:
    """Make the session's clients take their bearer token from the connection only."""
    from botocore.tokens import FrozenAuthToken

    token: Any = None
    if setting.long_term_key is not None:
        token = FrozenAuthToken(setting.long_term_key)
    elif setting.short_term:
        # aiobotocore's session resolves credentials with a coroutine, botocore's with a call.
        keys = AsyncShortTermKeys if deferrable else ShortTermKeys
        token = keys(conn_id, botocore_session, region, setting.duration)
    botocore_session.register_component("token_provider", ConnectionTokenProvider(token))
