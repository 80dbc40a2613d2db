"""Real Airflow (SQLite metadata DB, dag.test()) against a BedrockEmulator on loopback.

DAG files live in tests/integration/dags (the dags folder of the test AIRFLOW_HOME): Airflow 3.3's
dag.test() refuses a DAG that is not in a bundle.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from bedrock_provider.emulator import BedrockEmulator

pytestmark = pytest.mark.integration

DEMO_BUCKET = "bedrock-it"
ROLE_ARN = "arn:aws:iam::123456789012:role/BedrockCustomization"
TRAINING_KEY = "data/train.jsonl"
VALIDATION_KEY = "data/validation.jsonl"
# What the Amazon provider's system-test DAG (dags/amazon_example_bedrock.py) reads from the
# environment when it is parsed; an empty SKIP_LONG_SYSTEM_TEST_TASKS runs its customization tasks.
os.environ.setdefault("SYSTEM_TESTS_ENV_ID", f"env{uuid.uuid4().hex[:8]}")
os.environ.setdefault("ROLE_ARN", ROLE_ARN)
os.environ.setdefault("SKIP_LONG_SYSTEM_TEST_TASKS", "")
TRAINING_LINES = [json.dumps({"prompt": f"Question {i}?", "completion": f"Answer {i}."}) for i in range(40)]


@pytest.fixture(scope="session")
def airflow_db() -> None:
    from airflow.utils import db

    db.initdb()


@pytest.fixture(scope="session")
def emulator(airflow_db: None) -> Iterator[BedrockEmulator]:
    # Suites here run several jobs at once; the concurrent-jobs quota has its own tests.
    with BedrockEmulator(
        job_duration=1.0, max_concurrent_jobs=100, deployment_duration=1.0, evaluation_duration=1.0
    ) as emu:
        assert emu.create_service_role(ROLE_ARN.rsplit("/", 1)[1]) == ROLE_ARN
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": emu.endpoint_url, "region_name": "us-east-1"},
            }
        )
        s3 = boto3.client("s3", endpoint_url=emu.endpoint_url, region_name="us-east-1")
        s3.create_bucket(Bucket=DEMO_BUCKET)
        s3.put_object(Bucket=DEMO_BUCKET, Key=TRAINING_KEY, Body="\n".join(TRAINING_LINES).encode() + b"\n")
        s3.put_object(
            Bucket=DEMO_BUCKET, Key=VALIDATION_KEY, Body="\n".join(TRAINING_LINES[:8]).encode() + b"\n"
        )
        yield emu
        os.environ.pop("AIRFLOW_CONN_AWS_DEFAULT", None)


@pytest.fixture(autouse=True)
def _clean_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").set_fault_rates(throttle=0.0, server_error=0.0)


@pytest.fixture
def bedrock(emulator: BedrockEmulator) -> Any:
    return boto3.client("bedrock", endpoint_url=emulator.endpoint_url, region_name="us-east-1")


@pytest.fixture
def s3(emulator: BedrockEmulator) -> Any:
    return boto3.client("s3", endpoint_url=emulator.endpoint_url, region_name="us-east-1")


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Job names unique per test, since the emulator lives for the whole session."""

    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    return make


class DagRunResult:
    """What a dag.test() run left in the metadata DB."""

    def __init__(self, dag_run: Any):
        self.dag_run = dag_run
        self.state = str(dag_run.state)
        self.run_id = dag_run.run_id

    def _task_instances(self) -> list[Any]:
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session

        with create_session() as session:
            tis = (
                session.query(TaskInstance)
                .filter(TaskInstance.dag_id == self.dag_run.dag_id, TaskInstance.run_id == self.run_id)
                .all()
            )
            session.expunge_all()
            return tis

    def task_states(self) -> dict[str, str]:
        return {
            (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): str(ti.state)
            for ti in self._task_instances()
        }

    def try_numbers(self) -> dict[str, int]:
        return {ti.task_id: ti.try_number for ti in self._task_instances()}

    def xcom(self, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            row = (
                session.query(XComModel)
                .filter(
                    XComModel.dag_id == self.dag_run.dag_id,
                    XComModel.run_id == self.run_id,
                    XComModel.task_id == task_id,
                    XComModel.key == key,
                    XComModel.map_index == map_index,
                )
                .one_or_none()
            )
            if row is None:
                return None
            value = row.value
        if isinstance(value, str | bytes):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


@pytest.fixture
def run_dag(emulator: BedrockEmulator) -> Callable[..., DagRunResult]:
    """Run a DAG of tests/integration/dags with dag.test(); the same logical_date means the same run_id."""
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import INTEGRATION_DAGS

    bag = DagBag(dag_folder=str(INTEGRATION_DAGS))
    assert not bag.import_errors, bag.import_errors

    def run(
        dag_id: str, conf: dict[str, Any] | None = None, logical_date: datetime | None = None
    ) -> DagRunResult:
        dag = bag.get_dag(dag_id)
        assert dag is not None, f"no DAG {dag_id} in {INTEGRATION_DAGS}"
        when = logical_date or datetime.now(UTC) - timedelta(seconds=1)
        return DagRunResult(dag.test(run_after=when, logical_date=when, run_conf=conf or {}))

    return run
