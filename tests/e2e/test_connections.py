"""A Bedrock API key in the environment of the processes that run tasks and triggers changes nothing:
every call the emulator receives from the run is SigV4-signed with the connection's credentials."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from demo.seed import DUMMY_CREDENTIALS
from tests.e2e.conftest import MANUAL_DAG, RUN_TIMEOUT
from tests.e2e.harness import E2EStack
from tests.e2e.test_stack import job_named, task_states, trigger_logs

# Not a key the emulator issued: a call that carried it would be refused.
ENVIRONMENT_KEY = "ABSK" + "ZW52aXJvbm1lbnQta2V5LW9mLWFub3RoZXItdGVhbQ" * 2


def _restart_task_and_trigger_runners(stack: E2EStack) -> None:
    # On the LocalExecutor the scheduler runs the tasks; on Celery, the workers.
    for name in ("scheduler", *stack.workers, *stack.triggerers):
        stack.restart_component(name)


@pytest.fixture
def bearer_variable_everywhere(stack: E2EStack) -> Iterator[None]:
    stack.airflow_config["AWS_BEARER_TOKEN_BEDROCK"] = ENVIRONMENT_KEY
    _restart_task_and_trigger_runners(stack)
    try:
        yield
    finally:
        del stack.airflow_config["AWS_BEARER_TOKEN_BEDROCK"]
        _restart_task_and_trigger_runners(stack)


def test_the_bearer_variable_in_worker_and_triggerer_is_ignored(
    stack: E2EStack,
    bearer_variable_everywhere: None,
    trigger_manual: Callable[..., str],
    unique_name: Callable[[str], str],
) -> None:
    api, emulator, name = stack.api, stack.emulator, unique_name("e2e-env-key")
    emulator.reset_counts()
    run_id = trigger_manual(name)

    deferred = api.wait_for_task_state(MANUAL_DAG, run_id, "customize", {"deferred"}, timeout=90)
    assert deferred["trigger"] is not None, deferred
    run = api.wait_for_run(MANUAL_DAG, run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success", task_states(api, MANUAL_DAG, run_id)
    assert job_named(emulator, name)["status"] == "Completed"
    assert "Trigger fired event" in trigger_logs(stack, MANUAL_DAG, run_id, "customize")

    schemes = emulator.auth_counts()
    assert schemes.get("bedrock:sigv4", 0) >= 2, schemes  # the Create (worker) and the waits (triggerer)
    assert schemes.get("s3:sigv4", 0) >= 1, schemes  # the dataset check and the metrics export
    assert not [scheme for scheme in schemes if not scheme.endswith(":sigv4")], schemes
    signers = {entry.split(":", 1)[1] for entry in emulator.access_key_counts()}
    assert signers == {DUMMY_CREDENTIALS[0]}, emulator.access_key_counts()  # the connection's keys
    assert emulator.distinct_bearer_keys() == 0

    logs = [path.read_text(errors="replace") for path in Path(stack.logs_dir).rglob("*.log")]
    assert any("AWS_BEARER_TOKEN_BEDROCK is set" in text for text in logs)
    assert not any(ENVIRONMENT_KEY in text for text in logs)
