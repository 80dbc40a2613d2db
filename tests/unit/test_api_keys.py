"""core/request/api_keys.py: the connection's extra, and short-term keys as aws-bedrock-token-generator makes
them."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from botocore.credentials import ReadOnlyCredentials

from bedrock_provider.core.request.api_keys import (
    MAX_SHORT_TERM_DURATION,
    ApiKeySetting,
    api_key_setting,
    key_duration,
    mint_short_term_key,
    read_short_term_key,
    renewal_margin,
)
from bedrock_provider.hooks.auth import service_takes_bearer, signature_version

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
CREDENTIALS = ReadOnlyCredentials("AKIAEXAMPLE", "secret", None)


def test_the_extra_reads_as_no_key_a_long_term_key_or_short_term_keys() -> None:
    assert api_key_setting("c", {}) == ApiKeySetting()
    assert api_key_setting("c", {"bedrock_api_key": "ABSKabc"}) == ApiKeySetting(long_term_key="ABSKabc")
    assert api_key_setting("c", {"bedrock_api_key": "short_term"}) == ApiKeySetting(short_term=True)
    assert api_key_setting(
        "c", {"bedrock_api_key": "short_term", "bedrock_short_term_key_duration": 900}
    ) == ApiKeySetting(short_term=True, duration=900)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"bedrock_api_key": 5}, "got a int"),
        ({"bedrock_api_key": " ABSKabc"}, "with spaces around it"),
        ({"bedrock_short_term_key_duration": 60}, "applies only with"),
        ({"bedrock_api_key": "ABSKabc", "bedrock_short_term_key_duration": 60}, "not to a long-term key"),
        ({"bedrock_api_key": "short_term", "bedrock_short_term_key_duration": 0}, "from 1 to 43200"),
        ({"bedrock_api_key": "short_term", "bedrock_short_term_key_duration": 50000}, "from 1 to 43200"),
        ({"bedrock_api_key": "short_term", "bedrock_short_term_key_duration": "60"}, "must be whole seconds"),
    ],
)
def test_a_wrong_extra_is_refused_naming_the_field_and_the_connection(extra: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        api_key_setting("team_conn", extra)
    assert "'team_conn'" in str(raised.value)


def test_a_short_term_key_is_the_token_generators_presigned_url() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    key = mint_short_term_key(CREDENTIALS, "us-west-2", 3600)
    assert key.token.startswith("bedrock-api-key-")
    url = base64.b64decode(key.token[len("bedrock-api-key-") :]).decode()
    assert url.startswith("bedrock.amazonaws.com/?Action=CallWithBearerToken&")
    assert url.endswith("&Version=1")
    assert "X-Amz-Expires=3600" in url
    fields = read_short_term_key(key.token)
    assert (fields.access_key, fields.region) == ("AKIAEXAMPLE", "us-west-2")
    assert before <= fields.signed_at <= dt.datetime.now(dt.UTC)
    assert key.expires_at == fields.expires_at == fields.signed_at + dt.timedelta(hours=1)


@pytest.mark.parametrize(
    "token",
    [
        "ABSKsomething",
        "bedrock-api-key-%%%",
        "bedrock-api-key-" + base64.b64encode(b"example.com/?Action=CallWithBearerToken").decode(),
        "bedrock-api-key-" + base64.b64encode(b"bedrock.amazonaws.com/?Action=CallWithBearerToken").decode(),
    ],
)
def test_what_is_not_a_short_term_key_is_refused(token: str) -> None:
    with pytest.raises(ValueError):
        read_short_term_key(token)


def test_a_key_never_outlives_its_credentials_and_is_replaced_before_it_expires() -> None:
    assert key_duration(MAX_SHORT_TERM_DURATION, None, NOW) == MAX_SHORT_TERM_DURATION
    assert key_duration(MAX_SHORT_TERM_DURATION, NOW + dt.timedelta(minutes=50), NOW) == 3000
    with pytest.raises(ValueError, match="expired"):
        key_duration(3600, NOW, NOW)
    assert renewal_margin(43200) == 600
    assert renewal_margin(2) == 1


def test_only_services_whose_model_takes_bearer_tokens_are_pinned() -> None:
    """botocore's models: bedrock and bedrock-runtime list httpBearerAuth; bedrock-agent and S3 do not."""
    assert service_takes_bearer("bedrock") and service_takes_bearer("bedrock-runtime")
    assert not service_takes_bearer("bedrock-agent") and not service_takes_bearer("s3")
    assert signature_version("bedrock", ApiKeySetting()) == "v4"
    assert signature_version("bedrock-runtime", ApiKeySetting(short_term=True)) == "bearer"
    assert signature_version("s3", ApiKeySetting(long_term_key="k")) is None
