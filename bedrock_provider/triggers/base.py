"""What every trigger of this provider shares, written once (operators/base.py does the same for the
operators and sensors): the four AWS connection parameters, their serialization with the trigger's
own, the hook made from them, and on_kill (a user's action means the same for every kind: core.kill).

A trigger is rebuilt in the triggerer from ``serialize()``'s kwargs, so every constructor parameter
is kept as an attribute of the same name, and serialized from the constructor's signature: a
parameter added to a trigger cannot be left out of what it is rebuilt from.
"""

from __future__ import annotations

import abc
import functools
import importlib
import inspect
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow.triggers.base import BaseTrigger

from bedrock_provider.core.waiting.kill import KillRule
from bedrock_provider.hooks import aws_hook_kwargs

AWS_CONNECTION_PARAMETERS = ("aws_conn_id", "region_name", "verify", "botocore_config")


class BedrockAwsTrigger(BaseTrigger):
    """A trigger that reaches AWS through an Airflow connection, as the provider's operators do."""

    # The import path of the hook ``make_hook`` makes; a path, so that building a trigger in a DAG
    # file imports no AWS SDK.
    aws_hook_class: ClassVar[str]

    def __init__(
        self,
        *,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The class path and every constructor parameter, in the constructor's order."""
        kwargs = {name: getattr(self, name) for name in _constructor_parameters(type(self))}
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    def connection_kwargs(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in AWS_CONNECTION_PARAMETERS}

    def connection_key(self) -> tuple[str | None, ...]:
        """The connection as a hashable value: triggers with equal keys reach AWS the same way."""
        return (
            self.aws_conn_id,
            self.region_name,
            repr(self.verify),
            json.dumps(self.botocore_config, sort_keys=True, default=repr),
        )

    @classmethod
    def make_hook(cls, kwargs: Mapping[str, Any]) -> Any:
        """The hook for serialized kwargs: a shared stream's loop has those, and no trigger."""
        module, _, name = cls.aws_hook_class.rpartition(".")
        return getattr(importlib.import_module(module), name)(**hook_kwargs(kwargs))

    def hook(self) -> Any:
        return self.make_hook(self.connection_kwargs())

    # -- a user's action on the deferred task (bedrock_provider.core.waiting.kill) ---------------------------

    @abc.abstractmethod
    def kill_rule(self) -> KillRule:
        """Which user actions stop or delete what this trigger waits for."""

    @abc.abstractmethod
    async def act_on_kill(self) -> bool:
        """Stop or delete what this trigger waits for; False when there was nothing left to do."""

    async def warm_up_for_kill(self) -> None:
        """Called when a wait starts: ready the task-state lookup, so a kill does not wait for it."""
        if self.kill_rule().actions:
            from bedrock_provider.triggers.user_action import warm_up

            await warm_up(getattr(self, "task_instance", None))

    async def on_kill(self) -> None:
        """Airflow 3.3 calls this when a user marks the deferred task failed or succeeded, or clears
        it, and when the trigger moves to another triggerer. The task instance's state tells which;
        the resource is stopped or deleted only for the actions of kill_rule (default: mark-failed)."""
        from bedrock_provider.triggers.user_action import act_on_kill_async

        await act_on_kill_async(
            self.kill_rule(), getattr(self, "task_instance", None), self.act_on_kill, self.log
        )


def hook_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments of an AwsBaseHook from a trigger's serialized kwargs."""
    return aws_hook_kwargs(
        kwargs.get("aws_conn_id", "aws_default"),
        kwargs.get("region_name"),
        kwargs.get("verify"),
        kwargs.get("botocore_config"),
    )


@functools.cache
def _constructor_parameters(trigger_class: type[BedrockAwsTrigger]) -> tuple[str, ...]:
    parameters = inspect.signature(trigger_class.__init__).parameters.values()
    plain = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return tuple(p.name for p in parameters if p.name != "self" and p.kind in plain)
