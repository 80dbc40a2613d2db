"""Hooks of the provider. Importing this package loads no AWS SDK."""

from __future__ import annotations

from typing import Any


def aws_hook_kwargs(
    aws_conn_id: str | None,
    region_name: str | None,
    verify: bool | str | None,
    botocore_config: dict[str, Any] | None,
) -> dict[str, Any]:
    """Operator and trigger parameters as the arguments of any AwsBaseHook (ours, the Amazon
    provider's S3Hook): the botocore config dict becomes a Config, built only when there is one."""
    config = None
    if botocore_config:
        from botocore.config import Config

        config = Config(**botocore_config)
    return {"aws_conn_id": aws_conn_id, "region_name": region_name, "verify": verify, "config": config}
