"""End-to-end: real Airflow processes (api-server, scheduler, dag-processor, triggerer) on PostgreSQL
against the emulator.

One LocalExecutor stack per session, in a temporary directory, with short jobs and fast scheduler
loops: tests/e2e/harness.py E2EStack, the demo's own stack (demo/stack.py LocalStack) with what only
the tests do. test_celery.py starts one CeleryExecutor stack for its module (Redis, two workers, two
triggerers) and stops it before the other modules start theirs, so the two never load the machine at
once. DAG runs start through the REST API. A stack is stopped when its tests end, whatever happened;
a failing test gets the tails of the process logs in its report.

Tests may kill and restart components (``stack.restart_component("triggerer")``); they leave the
stack running and healthy for the next test. Tests wait on states and events with deadlines, and do
not rely on what earlier tests left behind (runs, backfills, jobs, champions).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from demo.processes import StackError
from tests.e2e.harness import JOB_DURATION, E2EStack, HarnessApi

pytestmark = pytest.mark.e2e

RUN_TIMEOUT = 180.0
MANUAL_DAG = "bedrock_finetune_manual"


def running_stack(home: Path, **options: Any) -> Iterator[E2EStack]:
    """Start a stack for the tests (the demo's, through the harness); stop it when they are done."""
    local = E2EStack(home, **options)
    try:
        local.start()
    except StackError as error:
        pytest.fail(f"the {local.executor} stack did not start: {error}\n{local.logs_hint()}", pytrace=False)
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EStack]:
    yield from running_stack(tmp_path_factory.mktemp("e2e-stack"))


@pytest.fixture
def api(stack: E2EStack) -> HarnessApi:
    return stack.api


@pytest.fixture
def emulator(stack: E2EStack) -> Any:
    """EmulatorClient: request counts, jobs and fault rates of the stack's emulator."""
    return stack.emulator


def jobs_for(emulator: Any, name: str) -> list[dict[str, Any]]:
    """The emulator's jobs of one task's job name: the name itself and its retry names (-r2, -r3).

    Counted per name rather than by the emulator's global counters, which a run another test left
    going may move at the same time.
    """
    retry_name = re.compile(re.escape(name) + r"-r[0-9]+")
    return [job for job in emulator.jobs() if job["jobName"] == name or retry_name.fullmatch(job["jobName"])]


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """A job name no other test of the session uses (the emulator keeps its jobs for the session)."""

    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    return make


@pytest.fixture
def trigger_manual(api: HarnessApi) -> Callable[..., str]:
    """Trigger bedrock_finetune_manual with a conf; returns the run id.

    ``duration`` and ``outcome`` become the emulator's job tags, which decide how long the job runs
    and how it ends.
    """

    def trigger(
        job_name: str, duration: float = JOB_DURATION, outcome: str = "Completed", **conf: Any
    ) -> str:
        tags = {"emulator:duration": str(duration), "emulator:outcome": outcome, **conf.pop("job_tags", {})}
        run = api.trigger(MANUAL_DAG, conf={"job_name": job_name, "job_tags": tags, **conf})
        return str(run["dag_run_id"])

    return trigger


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    funcargs = getattr(item, "funcargs", {})
    if report.when == "call" and report.failed:
        for fixture in ("stack", "celery_stack"):
            if fixture in funcargs:
                local: E2EStack = funcargs[fixture]
                for name in ("scheduler", *local.triggerers, *local.workers, "emulator"):
                    report.sections.append((f"{name} log", local.log_tail(name, 60)))
                report.sections.append(("logs", local.logs_hint()))
