"""How the emulator reads the Authorization header: which scheme signed each call, and bearer keys.

Bedrock takes a bearer token (a Bedrock API key) instead of a SigV4 signature on its own APIs
(https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html). The emulator accepts:
- a long-term key it issued (``BedrockEmulator.issue_api_key``), until its expiry;
- a short-term key (``bedrock-api-key-`` + a presigned SigV4 URL, as aws-bedrock-token-generator
  makes them) signed for Bedrock, until the expiry it was signed with.
Anything else, and an expired key, is refused as Bedrock refuses it: HTTP 403 with the message
Bedrock answers for a bad key ("Authentication failed: Please make sure your API Key is valid.",
as users report it, e.g. github.com/ai4s-research/open-science/issues/53). Like moto, the emulator
does not verify SigV4 signatures themselves, but a call signed with assumed-role credentials (moto's
STS) after they expired gets ExpiredTokenException, HTTP 403, "The security token included in the
request is expired" (https://docs.aws.amazon.com/bedrock/latest/APIReference/CommonErrors.html).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bedrock_provider.core.request.api_keys import SHORT_TERM_KEY_PREFIX, read_short_term_key
from bedrock_provider.emulator.errors import BedrockError

_CREDENTIAL_RE = re.compile(r"Credential=(?P<key>[^/,\s]+)/[^/]+/(?P<region>[^/]+)/(?P<service>[^/]+)/")
INVALID_KEY_MESSAGE = "Authentication failed: Please make sure your API Key is valid."


def invalid_api_key() -> BedrockError:
    return BedrockError("AccessDeniedException", INVALID_KEY_MESSAGE, 403)


def expired_token() -> BedrockError:
    return BedrockError("ExpiredTokenException", "The security token included in the request is expired", 403)


def assumed_role_expiry(access_key: str) -> float | None:
    """When the moto STS credentials of that access key id expire (epoch seconds); None for others."""
    from moto.sts.models import sts_backends

    for account_id in list(sts_backends.keys()):
        for partition in ("aws",):
            backend = sts_backends[account_id][partition]
            role = backend.get_assumed_role_from_access_key(access_key)
            if role is not None:
                return float(role.expiration.replace(tzinfo=dt.UTC).timestamp())
    return None


def scheme_of(authorization: str) -> tuple[str, str]:
    """(service, scheme) of a request: scheme "sigv4", "bearer" or "none"; a bearer call is Bedrock's."""
    if authorization.startswith("Bearer "):
        return "bedrock", "bearer"
    credential = _CREDENTIAL_RE.search(authorization)
    if authorization.startswith("AWS4-HMAC-SHA256") and credential is not None:
        return credential.group("service"), "sigv4"
    return "unknown", "none"


def access_key_of(authorization: str) -> str | None:
    credential = _CREDENTIAL_RE.search(authorization)
    return credential.group("key") if credential is not None else None


class BearerKeys:
    """The long-term keys the emulator issued, the check of every bearer key, and per-scheme counts."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._issued: dict[str, float | None] = {}
        self._schemes: Counter[tuple[str, str]] = Counter()
        self._access_keys: Counter[tuple[str, str]] = Counter()
        self._bearer_keys: set[str] = set()  # digests of the keys received, never the keys

    def issue(self, lifetime: float | None = None) -> str:
        """A new long-term key, valid ``lifetime`` seconds (None: until the emulator stops)."""
        key = "ABSK" + base64.b64encode(secrets.token_bytes(36)).decode()
        with self._lock:
            self._issued[key] = None if lifetime is None else self._clock() + float(lifetime)
        return key

    def record(self, authorization: str) -> None:
        service, scheme = scheme_of(authorization)
        with self._lock:
            self._schemes[(service, scheme)] += 1
            access_key = access_key_of(authorization)
            if access_key is not None:
                self._access_keys[(service, access_key)] += 1
            if scheme == "bearer":
                self._bearer_keys.add(hashlib.sha256(authorization.encode()).hexdigest())

    def scheme_counts(self) -> dict[str, int]:
        """Calls received by "service:scheme", e.g. {"bedrock:sigv4": 12, "s3:sigv4": 3}."""
        with self._lock:
            return {f"{service}:{scheme}": n for (service, scheme), n in self._schemes.items()}

    def access_key_counts(self) -> dict[str, int]:
        """SigV4 calls received by "service:access key id" (which credentials signed them)."""
        with self._lock:
            return {f"{service}:{key}": n for (service, key), n in self._access_keys.items()}

    def reset_counts(self) -> None:
        with self._lock:
            self._schemes.clear()
            self._access_keys.clear()
            self._bearer_keys.clear()

    def distinct_bearer_keys(self) -> int:
        """How many different bearer keys were received (a renewed short-term key is a new one)."""
        with self._lock:
            return len(self._bearer_keys)

    def check(self, authorization: str) -> None:
        """Raise Bedrock's error for a bearer token that is not a valid key, or for SigV4 credentials
        of an assumed role that expired."""
        if not authorization.startswith("Bearer "):
            access_key = access_key_of(authorization)
            expiry = assumed_role_expiry(access_key) if access_key is not None else None
            if expiry is not None and self._clock() >= expiry:
                raise expired_token()
            return
        token = authorization[len("Bearer ") :].strip()
        now = self._clock()
        with self._lock:
            issued = token in self._issued
            expires_at = self._issued.get(token)
        if issued:
            if expires_at is not None and now >= expires_at:
                raise invalid_api_key()
            return
        if not token.startswith(SHORT_TERM_KEY_PREFIX):
            raise invalid_api_key()
        try:
            fields = read_short_term_key(token)
        except ValueError:
            raise invalid_api_key() from None
        if now >= fields.expires_at.timestamp():
            raise invalid_api_key()

    def summary(self) -> dict[str, Any]:
        return {
            "schemes": self.scheme_counts(),
            "access_keys": self.access_key_counts(),
            "distinct_bearer_keys": self.distinct_bearer_keys(),
        }
