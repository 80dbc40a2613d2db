"""The connection's secret key never shows: not in task logs, XCom, rendered templates or exceptions.

Every task of tests/integration/dags/reliability_secrets_dags.py uses the connection ``aws_canary``,
whose password (the AWS secret key) and session token are unique canaries. After each run, passing,
failing, or refusing bad input, the test looks for them in everything captured from the process
(stdout, stderr, log records), every file under AIRFLOW_HOME/logs, every XCom row, every
rendered_task_instance_fields row, and the raw bytes of the metadata database.

Also here: no credentials in the repository beyond the emulator's dummy ones.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.reliability import submit_elsewhere

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TAIL = uuid.uuid4().hex
SECRET_KEY = f"wJalrXUtnFEMI-CANARY-{TAIL}"
SESSION_TOKEN = f"FwoGZXIvYXdzECANARYTOKEN{TAIL[::-1]}"
ACCESS_KEY_ID = "AKIDCANARYNOTASECRET"
# A secret cut short still gives itself away by its unique part.
CANARIES = (SECRET_KEY, SESSION_TOKEN, TAIL, TAIL[::-1])


def _connection(endpoint_url: str, password: str, token: str) -> str:
    return json.dumps(
        {
            "conn_type": "aws",
            "login": ACCESS_KEY_ID,
            "password": password,
            "extra": {"endpoint_url": endpoint_url, "region_name": "us-east-1", "aws_session_token": token},
        }
    )


@pytest.fixture
def canary_connection(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_CANARY", _connection(emulator.endpoint_url, SECRET_KEY, SESSION_TOKEN)
    )


# -- where secrets could end up ------------------------------------------------------------------------------


def _database_rows() -> Iterator[tuple[str, str]]:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        for xcom in session.query(XComModel).all():
            yield (
                f"xcom {xcom.dag_id}/{xcom.run_id}/{xcom.task_id}[{xcom.map_index}]/{xcom.key}",
                repr(xcom.value),
            )
        for rendered in session.query(RenderedTaskInstanceFields).all():
            where = f"rendered_task_instance_fields {rendered.dag_id}/{rendered.run_id}/{rendered.task_id}"
            yield where, json.dumps(rendered.rendered_fields, default=repr) + repr(rendered.k8s_pod_yaml)


def _files() -> Iterator[tuple[str, str]]:
    home = Path(os.environ["AIRFLOW_HOME"])
    for path in sorted(home.rglob("*")):
        if path.is_file() and (path.is_relative_to(home / "logs") or path.name.startswith("airflow.db")):
            yield str(path), path.read_bytes().decode("utf-8", errors="replace")


def leaks(canaries: tuple[str, ...], captured: str) -> list[str]:
    places = [("captured output and log records", captured), *_database_rows(), *_files()]
    return [f"{canary[:12]}... in {where}" for where, text in places for canary in canaries if canary in text]


def _count_rows() -> tuple[int, int]:
    rows = [where for where, _ in _database_rows()]
    return sum(w.startswith("xcom") for w in rows), sum(w.startswith("rendered") for w in rows)


# -- full runs ---------------------------------------------------------------------------------------------

ALL_SUCCEED = {"prepare": "success", "train": "success", "wait": "success", "export": "success"}
TRAIN_FAILS = {
    "prepare": "success",
    "train": "failed",
    "wait": "upstream_failed",
    "export": "upstream_failed",
}


@pytest.mark.parametrize(
    ("dag_id", "conf", "states"),
    [
        pytest.param("reliability_secrets_deferred", {}, ALL_SUCCEED, id="deferred-success"),
        pytest.param("reliability_secrets_blocking", {}, ALL_SUCCEED, id="blocking-success"),
        pytest.param("reliability_secrets_deferred", {"outcome": "Failed"}, TRAIN_FAILS, id="job-failed"),
        pytest.param(
            "reliability_secrets_blocking",
            {"hyperparameters": {"epochCount": 99, "learning_rate": 1}},
            TRAIN_FAILS,
            id="bad-hyperparameters",
        ),
        pytest.param(
            "reliability_secrets_deferred",
            {"validation_split": 0.9},
            {
                "prepare": "failed",
                "train": "upstream_failed",
                "wait": "upstream_failed",
                "export": "upstream_failed",
            },
            id="bad-dataset-settings",
        ),
        pytest.param(
            "reliability_secrets_deferred",
            {"max_training_loss": 0.000001},
            {**ALL_SUCCEED, "export": "failed"},
            id="metrics-gate-failed",
        ),
    ],
)
def test_no_secret_after_a_full_run(
    run_dag, canary_connection, unique_name, capfd, caplog, dag_id, conf, states
):
    result = run_dag(dag_id, conf={"prefix": unique_name("rel-secret"), **conf})
    captured = capfd.readouterr()
    output = captured.out + captured.err + caplog.text

    assert result.task_states() == states
    assert not leaks(CANARIES, output)
    if states["prepare"] == "success":
        # The canaries were in use: the tasks read both from the connection.
        loaded = [line for line in output.splitlines() if "conn_id='aws_canary'" in line]
        assert any("credentials retrieved from login and password" in line for line in loaded)
        assert any("session token retrieved from extra" in line for line in loaded)
    if "failed" in states.values():
        # The failure's traceback was printed, so it was searched.
        assert "Traceback (most recent call last)" in output
    xcom_rows, rendered_rows = _count_rows()
    assert xcom_rows and rendered_rows, "the scan read rows"


def test_no_secret_after_the_sensor_fails_on_a_failed_job(
    run_dag, canary_connection, bedrock, unique_name, capfd, caplog
):
    name = unique_name("rel-secret-sensor")
    submit_elsewhere(bedrock, name, outcome="Failed")
    result = run_dag("reliability_secrets_sensor", conf={"job_identifier": name})
    captured = capfd.readouterr()

    assert result.task_states() == {"wait": "failed"}
    assert not leaks(CANARIES, captured.out + captured.err + caplog.text)


def test_the_scan_finds_a_secret_that_is_there(run_dag, emulator, monkeypatch, capfd, caplog):
    """The control: a task that puts its connection's password in XCom is caught."""
    control = f"wJalrXUtnFEMI-CONTROL-{uuid.uuid4().hex}"
    monkeypatch.setenv("AIRFLOW_CONN_AWS_CANARY_CONTROL", _connection(emulator.endpoint_url, control, "t"))
    result = run_dag("reliability_secrets_control")
    captured = capfd.readouterr()

    assert result.state == "success"
    found = leaks((control,), captured.out + captured.err + caplog.text)
    assert any(" in xcom reliability_secrets_control/" in place for place in found), found
    assert not leaks(CANARIES, "")


# -- the repository ------------------------------------------------------------------------------------------

AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b")
# An assignment of a long opaque value to something named like a secret.
SECRET_ASSIGNMENT = re.compile(
    r"(?i)(secret|password|passwd|token|private[_-]?key|credential)[\w-]*[\"']?\s*[:=]\s*[\"']?"
    r"(?P<value>[A-Za-z0-9/+=_-]{20,})"
)
PRIVATE_KEY = re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----")
# The emulator's dummy credentials, and values that only look like secrets: test canaries built at run
# time, and names of settings or environment variables.
DUMMY = {"testing"}
NOT_A_SECRET = re.compile(r"^(?:[A-Z0-9_]+|[a-z0-9_]+|[a-z]+(?:-[a-z]+)+)$")


def _repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [REPO / name for name in listed.split("\0") if name and (REPO / name).is_file()]


def test_no_credentials_in_the_repository():
    found = []
    for path in _repository_files():
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        relative = path.relative_to(REPO)
        for number, line in enumerate(text.splitlines(), 1):
            if AWS_KEY_ID.search(line) or PRIVATE_KEY.search(line):
                found.append(f"{relative}:{number}: {line.strip()[:120]}")
            for match in SECRET_ASSIGNMENT.finditer(line):
                value = match.group("value")
                if value not in DUMMY and not NOT_A_SECRET.match(value):
                    found.append(f"{relative}:{number}: {line.strip()[:120]}")
    assert not found, "credentials in the repository:\n" + "\n".join(found)


def test_compose_file_uses_only_the_emulators_dummy_credentials():
    import yaml

    compose_files = [
        path for path in _repository_files() if re.fullmatch(r"(docker-)?compose\.ya?ml", path.name)
    ]
    assert compose_files, "the repository ships a docker-compose.yaml"
    for path in compose_files:
        compose = yaml.safe_load(path.read_text())
        for name, service in (compose.get("services") or {}).items():
            environment = service.get("environment") or {}
            if isinstance(environment, list):
                environment = dict(item.split("=", 1) for item in environment if "=" in item)
            for key, value in environment.items():
                text = str(value)
                if re.search(r"(?i)secret|password|token|aws_access_key", key):
                    assert text in DUMMY or text.startswith("${"), f"{path.name}: {name}.{key}={text!r}"
                # Any URI with credentials in it (a database, an aws:// connection).
                for user, password in re.findall(r"://([^:/@\s]+):([^@\s]+)@", text):
                    assert password in DUMMY, f"{path.name}: {name}.{key} has a password for {user}"
                if key.startswith("AIRFLOW_CONN_") and text.lstrip().startswith("{"):
                    parsed = json.loads(text)
                    for field in ("login", "password"):
                        assert parsed.get(field) in DUMMY | {None}, f"{path.name}: {name}.{key}.{field}"
