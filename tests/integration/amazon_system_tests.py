"""What the Amazon provider's system-test DAGs import from its test tree, for running them here.

``example_bedrock.py`` (apache/airflow, providers/amazon/tests/system/amazon/aws/) imports
``SystemTestContextBuilder`` from ``system.amazon.aws.utils`` and ``watcher`` from
``tests_common.test_utils.watcher``. These stand in for both, so that the DAG runs on the emulator with
only its import lines changed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import attrs
from airflow.sdk import TriggerRule, task
from airflow.sdk.definitions.xcom_arg import PlainXComArg

ENV_ID_KEY = "ENV_ID"
ENV_ID_ENVIRON = "SYSTEM_TESTS_ENV_ID"


@attrs.define
class SystemTestContext(PlainXComArg):
    """The context task's output. A variable is known when the DAG is parsed (the Amazon system tests
    read them from the environment), so subscripting gives its value, which the example also uses in
    task bodies, where a template would never be rendered."""

    values: dict[str, str] = attrs.field(factory=dict)

    def __getitem__(self, item: str) -> Any:
        return self.values[item]


class SystemTestContextBuilder:
    """``ENV_ID`` and each added variable, read from the environment (SYSTEM_TESTS_ENV_ID, then the
    variable's own name)."""

    def __init__(self) -> None:
        self.variables: list[str] = []

    def add_variable(self, name: str) -> SystemTestContextBuilder:
        self.variables.append(name)
        return self

    def build(self) -> Callable[[], SystemTestContext]:
        names = list(self.variables)

        def make_context() -> SystemTestContext:
            values = {ENV_ID_KEY: os.environ[ENV_ID_ENVIRON], **{name: os.environ[name] for name in names}}

            @task(task_id="variable_fetcher", multiple_outputs=True)
            def variable_fetcher() -> dict[str, str]:
                return values

            output = variable_fetcher()
            return SystemTestContext(operator=output.operator, values=values)

        return make_context


@task(trigger_rule=TriggerRule.ONE_FAILED, retries=0)
def watcher() -> None:
    """Fails the run when any task failed, even when a teardown task after it succeeded."""
    raise RuntimeError("Failing the DAG run because a task failed upstream")
