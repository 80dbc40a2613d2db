"""Bedrock API keys: which clients take one, what a connection asks for, and short-term keys.

Two kinds exist (https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html):
- long-term: tied to an IAM user, made with IAM CreateServiceSpecificCredential;
- short-term: a SigV4-presigned URL made from IAM credentials, valid up to 12 hours and no longer
  than those credentials; the AWS package ``aws-bedrock-token-generator``
  (https://github.com/aws/aws-bedrock-token-generator-python, token_generator.py) mints them in a
  few lines of botocore, which ``mint_short_term_key`` follows, so no dependency is added for it.

Pure logic: no Airflow import, no network.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

# The connection extras this module reads. Airflow masks extras whose names contain "api_key".
API_KEY_EXTRA = "bedrock_api_key"
SHORT_TERM = "short_term"
KEY_DURATION_EXTRA = "bedrock_short_term_key_duration"

# botocore's service models mark the services that take a bearer token with this auth trait
# (botocore/data/bedrock/*/service-2.json and bedrock-runtime: metadata.auth lists
# "smithy.api#httpBearerAuth"; bedrock-agent and the others with signing name "bedrock" do not).
BEARER_AUTH_TRAIT = "smithy.api#httpBearerAuth"

# aws-bedrock-token-generator's constants (token_generator.py).
SHORT_TERM_KEY_PREFIX = "bedrock-api-key-"
_PRESIGN_HOST = "bedrock.amazonaws.com"
_PRESIGN_ACTION = "CallWithBearerToken"
_TOKEN_VERSION = "&Version=1"  # noqa: S105 (a format version, not a secret)
# "Short-term: lasts up to 12 hours (or the duration of your session, whichever is shorter)".
MAX_SHORT_TERM_DURATION = 12 * 3600


def bearer_env_variable(signing_name: str) -> str:
    """The variable botocore reads a bearer token from (botocore.utils._get_bearer_env_var_name)."""
    return "AWS_BEARER_TOKEN_" + signing_name.replace("-", "_").replace(" ", "_").upper()


def takes_bearer(service_auth: list[str] | None) -> bool:
    """Whether a service's model (metadata.auth) lets botocore sign its calls with a bearer token."""
    return BEARER_AUTH_TRAIT in (service_auth or [])


@dataclass(frozen=True)
class ApiKeySetting:
    """What a connection's extra asks for: no key (SigV4), a long-term key, or short-term keys."""

    long_term_key: str | None = None
    short_term: bool = False
    duration: int = MAX_SHORT_TERM_DURATION

    @property
    def uses_key(self) -> bool:
        return self.short_term or self.long_term_key is not None


def api_key_setting(conn_id: str | None, extra: Mapping[str, Any]) -> ApiKeySetting:
    """Read and check the connection's extra; a wrong value is refused before any AWS call."""
    value = extra.get(API_KEY_EXTRA)
    duration_value = extra.get(KEY_DURATION_EXTRA)
    if value is None or value == "":
        if duration_value is not None:
            raise ValueError(
                f"AWS connection {conn_id!r}: extra {KEY_DURATION_EXTRA}={duration_value!r} applies "
                f'only with {API_KEY_EXTRA}="{SHORT_TERM}"; remove it or set {API_KEY_EXTRA}'
            )
        return ApiKeySetting()
    if not isinstance(value, str) or value != value.strip():
        raise ValueError(
            f"AWS connection {conn_id!r}: extra {API_KEY_EXTRA} must be a Bedrock API key or "
            f'"{SHORT_TERM}", got a {type(value).__name__}'
            + (" with spaces around it" if isinstance(value, str) else "")
        )
    if value != SHORT_TERM:
        if duration_value is not None:
            raise ValueError(
                f"AWS connection {conn_id!r}: extra {KEY_DURATION_EXTRA} applies only to short-term keys "
                f'({API_KEY_EXTRA}="{SHORT_TERM}"), not to a long-term key; remove it'
            )
        return ApiKeySetting(long_term_key=value)
    duration = MAX_SHORT_TERM_DURATION if duration_value is None else duration_value
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int)
        or not 1 <= duration <= MAX_SHORT_TERM_DURATION
    ):
        raise ValueError(
            f"AWS connection {conn_id!r}: extra {KEY_DURATION_EXTRA}={duration_value!r} must be whole "
            f"seconds from 1 to {MAX_SHORT_TERM_DURATION} (12 hours, the longest a short-term key lives)"
        )
    return ApiKeySetting(short_term=True, duration=duration)


@dataclass(frozen=True)
class ShortTermKey:
    token: str
    expires_at: dt.datetime  # aware, UTC


def mint_short_term_key(frozen_credentials: Any, region: str, duration: int) -> ShortTermKey:
    """A short-term Bedrock API key for ``region``, valid ``duration`` seconds from now (the time
    botocore signs with).

    ``frozen_credentials``: botocore ReadOnlyCredentials (access_key, secret_key, token). The key never
    outlives temporary credentials: ``duration`` is cut to their remaining life by the caller.
    """
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest

    if not region:
        raise ValueError("a short-term Bedrock API key is minted for one Region; the connection has none")
    request = AWSRequest(
        method="POST",
        url=f"https://{_PRESIGN_HOST}/",
        headers={"host": _PRESIGN_HOST},
        params={"Action": _PRESIGN_ACTION},
    )
    signer = SigV4QueryAuth(frozen_credentials, "bedrock", region, expires=duration)
    signer.add_auth(request)
    presigned = str(request.url).replace("https://", "", 1) + _TOKEN_VERSION
    token = SHORT_TERM_KEY_PREFIX + base64.b64encode(presigned.encode()).decode()
    return ShortTermKey(token, read_short_term_key(token).expires_at)


@dataclass(frozen=True)
class ShortTermKeyFields:
    access_key: str
    region: str
    signed_at: dt.datetime
    expires_at: dt.datetime


def read_short_term_key(token: str) -> ShortTermKeyFields:
    """The signer, Region and validity of a short-term key; ValueError when it is not one."""
    if not token.startswith(SHORT_TERM_KEY_PREFIX):
        raise ValueError(f"a short-term key starts with {SHORT_TERM_KEY_PREFIX!r}")
    try:
        url = base64.b64decode(token[len(SHORT_TERM_KEY_PREFIX) :], validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError("a short-term key is base64 after its prefix") from None
    parts = urlsplit("https://" + url)
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    if parts.hostname != _PRESIGN_HOST or query.get("Action") != _PRESIGN_ACTION:
        raise ValueError(f"a short-term key presigns {_PRESIGN_ACTION} on {_PRESIGN_HOST}")
    try:
        access_key, _date, region, service, _terminator = query["X-Amz-Credential"].split("/")
        signed_at = dt.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        lifetime = int(query["X-Amz-Expires"])
        query["X-Amz-Signature"]
    except (KeyError, ValueError):
        raise ValueError("a short-term key carries a SigV4 credential, date, expiry and signature") from None
    if service != "bedrock":
        raise ValueError(f"a short-term key is signed for bedrock, this one for {service!r}")
    return ShortTermKeyFields(access_key, region, signed_at, signed_at + dt.timedelta(seconds=lifetime))


def renewal_margin(duration: float) -> float:
    """Seconds before expiry at which a key is replaced: 10 minutes (botocore's mandatory refresh
    window for tokens, tokens.DeferredRefreshableToken), but at most half of a shorter key's life."""
    return min(600.0, duration / 2)


def key_duration(wanted: int, credentials_expire_at: dt.datetime | None, now: dt.datetime) -> int:
    """A key lives as long as asked, never past the credentials that sign it (AWS's rule)."""
    if credentials_expire_at is None:
        return wanted
    remaining = math.floor((credentials_expire_at - now).total_seconds())
    if remaining < 1:
        raise ValueError(
            "the connection's credentials have expired; a short-term Bedrock API key cannot outlive them"
        )
    return min(wanted, remaining)
