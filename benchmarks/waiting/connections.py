"""The five connections of bench_connections.py: their Airflow connections, the account and Region
each one acts in, its push-mode queue, and the per-connection count of the calls its waits send."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from waiting.processes import REGION

WEST = "us-west-2"
ACCOUNT_A, ACCOUNT_B = "123456789012", "222222222222"
ROLE_B = f"arn:aws:iam::{ACCOUNT_B}:role/bench-waiter"
# (connection id, what its extra adds, its access key id or None for the API key, its account)
CONNECTIONS: tuple[tuple[str, dict[str, Any], str | None, str], ...] = (
    ("acct_a_us_east_1", {"region_name": REGION}, "bench-account-a", ACCOUNT_A),
    ("acct_a_us_west_2", {"region_name": WEST}, "bench-account-a", ACCOUNT_A),
    ("acct_b_us_east_1", {"region_name": REGION, "role_arn": ROLE_B}, "bench-account-b", ACCOUNT_B),
    ("acct_b_us_west_2", {"region_name": WEST, "role_arn": ROLE_B}, "bench-account-b", ACCOUNT_B),
    ("api_key_us_east_1", {"region_name": REGION}, None, ACCOUNT_A),
)


def connection_env(targets: dict[str, dict[str, str]], api_key: str) -> dict[str, str]:
    env = {}
    for conn_id, extra, access_key, _ in CONNECTIONS:
        endpoint = targets[conn_id]["endpoint"]
        full: dict[str, Any] = {"endpoint_url": endpoint, **extra}
        if "role_arn" in extra:
            full["service_config"] = {"sts": {"endpoint_url": endpoint}}
        if access_key is None:
            full["bedrock_api_key"] = api_key
        connection: dict[str, Any] = {"conn_type": "aws", "extra": full}
        if access_key is not None:
            connection.update(login=access_key, password="bench-secret")  # noqa: S106 (the emulator takes any)
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(connection)
    return env


def count_calls(calls: Counter[tuple[str, str]], rounds: Counter[str]) -> None:
    """Count, per connection, the Bedrock calls every async client sends and the shared list rounds."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    from bedrock_provider.hooks.customization import BedrockCustomizationHook

    original_conn = AwsBaseHook._get_async_conn

    class Counted:
        """The client context, its client counting what it sends (``async with`` looks the methods
        up on the type, so the context is wrapped rather than patched)."""

        def __init__(self, context: Any, conn_id: str) -> None:
            self._context, self._conn_id = context, conn_id

        async def __aenter__(self) -> Any:
            client = await self._context.__aenter__()

            def count(event_name: str, **kwargs: Any) -> None:
                calls[(self._conn_id, event_name.rsplit(".", 1)[-1])] += 1

            client.meta.events.register("before-send.bedrock", count)
            return client

        async def __aexit__(self, *exc_info: Any) -> Any:
            return await self._context.__aexit__(*exc_info)

    def counted_conn(self: Any) -> Any:
        return Counted(original_conn(self), str(self.aws_conn_id))

    original_list = BedrockCustomizationHook.list_jobs_async

    async def counted_list(self: Any, **filters: Any) -> Any:
        rounds[str(self.aws_conn_id)] += 1
        return await original_list(self, **filters)

    AwsBaseHook._get_async_conn = counted_conn  # type: ignore[method-assign]
    BedrockCustomizationHook.list_jobs_async = counted_list  # type: ignore[method-assign]


def account_session(endpoint: str, account: str) -> Any:
    """A boto3 session of the emulator at ``endpoint`` acting in ``account`` (moto maps the keys STS
    hands out to the role's account)."""
    import boto3

    if account == ACCOUNT_A:
        return boto3.Session()  # the environment's keys (testing): account A
    sts = boto3.client("sts", endpoint_url=endpoint, region_name=REGION)
    role = sts.assume_role(RoleArn=ROLE_B, RoleSessionName="bench-setup")["Credentials"]
    return boto3.Session(
        aws_access_key_id=role["AccessKeyId"],
        aws_secret_access_key=role["SecretAccessKey"],
        aws_session_token=role["SessionToken"],
    )


def events_queue(endpoint: str, account: str, region: str, name: str) -> str:
    """The push-mode queue and rule in the connection's own account and Region."""
    import boto3

    from bedrock_provider.emulator.events import create_events_queue

    # create_events_queue makes its clients from boto3's default session.
    saved = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = account_session(endpoint, account)
    try:
        return create_events_queue(endpoint, queue_name=name, rule_name=name, region=region)
    finally:
        boto3.DEFAULT_SESSION = saved
