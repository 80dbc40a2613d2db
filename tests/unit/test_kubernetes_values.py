"""docs/kubernetes/values.yaml and the snippet of docs/kubernetes.md, checked by parsing: no cluster
runs where the tests do.

The KubernetesExecutor, the image with the provider at the Airflow version under test, at least two
triggerers, AWS credentials from IRSA (or Pod Identity) on the service accounts that call Bedrock and
never keys, and a snippet that says what the checked-in values say.
"""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from typing import Any

import pytest
import yaml

from demo.seed import REPO

GUIDE = REPO / "docs" / "kubernetes.md"
VALUES = REPO / "docs" / "kubernetes" / "values.yaml"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]+$")
# Every service account that calls Bedrock: task pods (workers) and the triggerer.
CALLERS = ("workers", "triggerer")


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    loaded = yaml.safe_load(VALUES.read_text())
    assert isinstance(loaded, dict), f"{VALUES} must hold a mapping"
    return loaded


def yaml_blocks(text: str) -> list[Any]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]


def is_subset(part: Any, whole: Any) -> bool:
    """Whether every key and value of ``part`` is in ``whole`` (lists: item by item)."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(k in whole and is_subset(v, whole[k]) for k, v in part.items())
    if isinstance(part, list):
        return isinstance(whole, list) and all(any(is_subset(p, w) for w in whole) for p in part)
    return bool(part == whole)


def connection(values: dict[str, Any]) -> dict[str, Any]:
    env = {entry["name"]: entry["value"] for entry in values.get("env", [])}
    found: dict[str, Any] = json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])
    return found


def test_kubernetes_executor_with_the_image_of_the_airflow_under_test(values: dict[str, Any]) -> None:
    assert values["executor"] == "KubernetesExecutor"
    assert values["airflowVersion"] == version("apache-airflow")
    image = values["images"]["airflow"]
    assert image["repository"] and not image["repository"].startswith("apache/airflow"), (
        "the official image lacks the provider: build the Dockerfile's airflow target"
    )
    assert str(image["tag"]).startswith(version("apache-airflow"))
    assert (
        f"apache/airflow:{version('apache-airflow')}-python3.11 AS airflow"
        in (REPO / "Dockerfile").read_text()
    )


def test_at_least_two_triggerers(values: dict[str, Any]) -> None:
    assert int(values["triggerer"]["replicas"]) >= 2


def test_bedrock_callers_get_credentials_from_irsa_not_keys(values: dict[str, Any]) -> None:
    for component in CALLERS:
        account = values[component]["serviceAccount"]
        assert account.get("create") is True and account.get("name"), component
        assert ROLE_ARN.match(account["annotations"][IRSA_ANNOTATION]), component
    for component in ("scheduler",):
        assert IRSA_ANNOTATION not in (values[component]["serviceAccount"].get("annotations") or {}), (
            f"the {component} never calls Bedrock: it gets no AWS role"
        )
    aws = connection(values)
    assert aws["conn_type"] == "aws"
    assert not aws.get("login") and not aws.get("password"), "no keys in the connection"
    assert set(aws["extra"]) == {"region_name"}, "no endpoint_url (the emulator) or keys in production values"
    text = VALUES.read_text()
    assert not re.search(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", text)
    assert not re.search(r"aws_(secret_)?access_key", text, re.IGNORECASE)


def test_no_broker_and_an_external_database(values: dict[str, Any]) -> None:
    assert values["redis"]["enabled"] is False
    assert values["postgresql"]["enabled"] is False and values["data"]["metadataSecretName"]


def test_the_guides_snippet_says_what_the_values_file_says(values: dict[str, Any]) -> None:
    blocks = yaml_blocks(GUIDE.read_text())
    snippets = [block for block in blocks if isinstance(block, dict) and block.get("executor")]
    assert len(snippets) == 1, "one values snippet in docs/kubernetes.md"
    assert is_subset(snippets[0], values), "the snippet differs from docs/kubernetes/values.yaml"
    assert snippets[0]["triggerer"]["replicas"] >= 2
    # The staging snippet is the only place the emulator appears, with its dummy credentials.
    staging = [block for block in blocks if isinstance(block, dict) and "endpoint_url" in json.dumps(block)]
    assert len(staging) == 1
    assert (connection(staging[0])["login"], connection(staging[0])["password"]) == ("testing", "testing")
