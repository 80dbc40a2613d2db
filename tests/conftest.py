"""Session-wide Airflow settings: a temporary AIRFLOW_HOME with SQLite, set before Airflow is imported."""

from __future__ import annotations

import importlib.metadata
import json
import os
import tempfile
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
INTEGRATION_DAGS = TESTS_DIR / "integration" / "dags"


def _installed(distribution: str) -> bool:
    """Whether a distribution is installed, asked without importing it (Airflow must not be imported
    before the settings below are in the environment)."""
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


OPENLINEAGE_INSTALLED = _installed("apache-airflow-providers-openlineage")

if "BEDROCK_PROVIDER_TEST_HOME" not in os.environ:
    _home = Path(tempfile.mkdtemp(prefix="bedrock-provider-airflow-"))
    os.environ["BEDROCK_PROVIDER_TEST_HOME"] = str(_home)
    os.environ["AIRFLOW_HOME"] = str(_home)
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home / 'airflow.db'}"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(INTEGRATION_DAGS)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "INFO"
    # Credentials for moto and the emulator only; nothing here reaches AWS.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(_proxy, None)
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    if OPENLINEAGE_INSTALLED:
        # OpenLineage events of the DAGs that enable lineage (selective enable) go to a file the
        # lineage tests read; every other DAG emits nothing.
        os.environ["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(
            {"type": "file", "log_file_path": str(_home / "openlineage.jsonl"), "append": True}
        )
        os.environ["AIRFLOW__OPENLINEAGE__SELECTIVE_ENABLE"] = "True"
        os.environ["AIRFLOW__OPENLINEAGE__NAMESPACE"] = "bedrock-provider-tests"


def pytest_runtest_setup(item: object) -> None:
    """Refuse to start a test while an earlier one left a running event loop on this thread: every
    asyncio.run() in it would fail with a message that points nowhere near the fixture that leaked."""
    import asyncio

    leaked = asyncio._get_running_loop()
    in_browser_tier = Path(str(getattr(item, "fspath", ""))).parent.name == "ui"
    if leaked is not None and not in_browser_tier:
        raise RuntimeError(
            f"an earlier test or fixture left {leaked!r} running on this thread (a sync Playwright "
            "session not closed, or a loop run by hand): close it where it was opened"
        )
