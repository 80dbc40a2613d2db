"""docker-compose.yaml, checked by parsing: no Docker engine runs where the tests do.

Valid Compose structure, an image or a build (with its Dockerfile stage) for every service, a
healthcheck on each, no host port used twice, and the same connection, bucket, region, DAG folder
and scheduler settings as the demo's stack; no credential but the emulator's dummy ones. The
"celery" profile mirrors Airflow's own compose file: Redis, two Celery workers, a second triggerer,
and Flower in a profile of its own.
"""

from __future__ import annotations

import json
import re
import shlex
from collections import Counter
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from demo.seed import DAG_SETTINGS, DAGS_FOLDER, DUMMY_CREDENTIALS, REPO
from demo.stack import LocalStack

COMPOSE_FILE = REPO / "docker-compose.yaml"
TOP_LEVEL_KEYS = {"version", "name", "services", "networks", "volumes", "configs", "secrets", "include"}
# The Compose specification's service attributes this file may use; a typo is not silently ignored.
SERVICE_KEYS = {
    "build", "image", "command", "entrypoint", "environment", "env_file", "ports", "expose", "volumes",
    "healthcheck", "depends_on", "restart", "init", "user", "working_dir", "networks", "labels",
    "profiles", "hostname", "container_name", "stop_grace_period", "stop_signal", "logging", "deploy",
    "extra_hosts", "tmpfs", "ulimits",
}  # fmt: skip
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
DEPENDS_ON_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
DURATION = re.compile(r"^(\d+(us|ms|s|m|h))+$")
AIRFLOW_COMPONENTS = {"api-server", "scheduler", "dag-processor", "triggerer"}
CELERY_COMPONENTS = {"worker", "flower"}
EMULATOR_SERVICE = "bedrock-emulator"
CONTAINER_DAGS_FOLDER = "/opt/airflow/dags"
# Compose's interpolation: ${NAME:-default}, ${NAME-default}, ${NAME}; $$ is a literal $.
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict), "docker-compose.yaml must hold a mapping"
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict) and found, "no services"
    return found


def airflow_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: svc for name, svc in services.items() if "AIRFLOW__CORE__EXECUTOR" in svc.get("environment", {})
    }


def component(svc: dict[str, Any]) -> str:
    """The Airflow command a service runs (the api-server migrates the database first; a worker
    checks the executor first)."""
    command = svc["command"]
    words = shlex.split(command[-1]) if isinstance(command, list) else shlex.split(command)
    return words[-1] if words[-1] in AIRFLOW_COMPONENTS | CELERY_COMPONENTS else words[0]


def interpolate(value: Any, variables: dict[str, str]) -> str:
    """A value as Compose passes it on, with ``variables`` as the shell's environment."""

    def resolve(match: re.Match[str]) -> str:
        name, op, default = match.group("name"), match.group("op"), match.group("default") or ""
        if name in variables and (variables[name] or op != ":-"):
            return variables[name]
        return default if op else ""

    return INTERPOLATION.sub(resolve, str(value).replace("$$", "\0")).replace("\0", "$")


def in_profiles(svc: dict[str, Any], profiles: set[str]) -> bool:
    """Whether `docker compose` with these --profile options starts the service."""
    return not svc.get("profiles") or bool(set(svc["profiles"]) & profiles)


def started(services: dict[str, dict[str, Any]], profiles: set[str]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in services.items() if in_profiles(svc, profiles)}


def emulator_arguments(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    """--option value pairs of the emulator's command line (and of demo.seed, which it runs)."""
    command = services[EMULATOR_SERVICE]["command"]
    words = shlex.split(command[-1] if isinstance(command, list) else command)
    pairs: dict[str, str] = {}
    for word, following in zip(words, [*words[1:], ""], strict=True):
        if word.startswith("--") and not following.startswith("--"):
            pairs.setdefault(word, following)
    return pairs


def dockerfile_stages() -> dict[str, str]:
    """Stage name to base image, from the FROM lines."""
    stages = {}
    for line in (REPO / "Dockerfile").read_text().splitlines():
        match = re.match(r"^FROM\s+(\S+)\s+AS\s+(\S+)", line, re.IGNORECASE)
        if match:
            stages[match.group(2)] = match.group(1)
    return stages


def test_top_level_structure(compose: dict[str, Any]) -> None:
    unknown = {key for key in compose if not key.startswith("x-")} - TOP_LEVEL_KEYS
    assert not unknown, f"not Compose top-level keys: {unknown}"
    assert compose.get("name"), "a project name keeps the containers' names stable"


def test_every_service_is_valid_and_has_an_image_or_a_build(services: dict[str, dict[str, Any]]) -> None:
    stages = dockerfile_stages()
    for name, svc in services.items():
        unknown = set(svc) - SERVICE_KEYS
        assert not unknown, f"{name}: not Compose service keys: {unknown}"
        assert "image" in svc or "build" in svc, f"{name} has neither image nor build"
        build = svc.get("build")
        if build is not None:
            context = REPO / (build if isinstance(build, str) else build.get("context", "."))
            assert context.is_dir(), f"{name}: build context {context} is missing"
            dockerfile = context / (
                build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
            )
            assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"
            if isinstance(build, dict) and "target" in build:
                assert build["target"] in stages, f"{name}: no stage {build['target']!r} in {dockerfile}"


def test_every_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        check = svc.get("healthcheck")
        assert isinstance(check, dict), f"{name} has no healthcheck"
        assert set(check) <= HEALTHCHECK_KEYS, (
            f"{name}: unknown healthcheck keys {set(check) - HEALTHCHECK_KEYS}"
        )
        test = check.get("test")
        assert isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL"), f"{name}: test {test!r}"
        for key in ("interval", "timeout", "start_period"):
            if key in check:
                assert DURATION.match(str(check[key])), f"{name}: {key}={check[key]!r} is not a duration"


def test_dependencies_exist_and_wait_for_health(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        for dependency, spec in (svc.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert spec.get("condition") in DEPENDS_ON_CONDITIONS, f"{name} -> {dependency}: {spec}"


def test_host_ports_do_not_clash(services: dict[str, dict[str, Any]]) -> None:
    published: dict[int, str] = {}
    for name, svc in services.items():
        for entry in svc.get("ports", []):
            host = int(entry["published"]) if isinstance(entry, dict) else int(str(entry).split(":")[-2])
            assert host not in published, f"host port {host} used by {published[host]} and {name}"
            published[host] = name
    assert 8080 in published, "the UI is published"


def test_volumes_are_declared_and_bind_mounts_exist(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose.get("volumes") or {})
    for name, svc in services.items():
        for mount in svc.get("volumes", []):
            source = str(mount).split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name}: bind mount source {source} does not exist"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"


def test_the_airflow_components_of_the_local_executor(services: dict[str, dict[str, Any]]) -> None:
    airflow = airflow_services(started(services, set()))
    assert sorted(component(svc) for svc in airflow.values()) == sorted(AIRFLOW_COMPONENTS)
    executors = {interpolate(svc["environment"]["AIRFLOW__CORE__EXECUTOR"], {}) for svc in airflow.values()}
    # The LocalExecutor runs tasks in the scheduler: no worker service.
    assert executors == {"LocalExecutor"}
    api_server = next(name for name, svc in airflow.items() if component(svc) == "api-server")
    execution_api = urlsplit(airflow[api_server]["environment"]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert execution_api.hostname == api_server and execution_api.path == "/execution/"


def test_the_celery_profile_mirrors_airflows_compose_file(services: dict[str, dict[str, Any]]) -> None:
    variables = {"AIRFLOW_EXECUTOR": "CeleryExecutor"}
    celery = started(services, {"celery"})
    airflow = airflow_services(celery)
    replicas = Counter()
    for svc in airflow.values():
        replicas[component(svc)] += int((svc.get("deploy") or {}).get("replicas", 1))
    assert replicas == Counter(
        {"api-server": 1, "scheduler": 1, "dag-processor": 1, "triggerer": 2, "worker": 2}
    ), "Celery workers (2 replicas) and two triggerers beside the other components"
    for name, svc in airflow.items():
        env = {key: interpolate(value, variables) for key, value in svc["environment"].items()}
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        broker, backend = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"]), env["AIRFLOW__CELERY__RESULT_BACKEND"]
        assert broker.scheme == "redis" and broker.hostname in celery, name
        assert urlsplit(backend.removeprefix("db+")).hostname == "postgres", name
    redis = celery[
        urlsplit(
            interpolate(airflow["airflow-worker"]["environment"]["AIRFLOW__CELERY__BROKER_URL"], {})
        ).hostname
    ]
    assert redis["image"].startswith("redis:")
    worker = airflow["airflow-worker"]
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "inspect ping" in " ".join(worker["healthcheck"]["test"])
    # The worker refuses to run beside a scheduler of another executor, and says how to start it.
    script = worker["command"][-1]
    assert "CeleryExecutor" in script and "AIRFLOW_EXECUTOR=CeleryExecutor" in script
    # Flower is an option of its own, as in Airflow's compose file.
    flower = next(svc for svc in services.values() if svc.get("command") == "celery flower")
    assert flower["profiles"] == ["flower"] and not in_profiles(flower, {"celery"})


def test_the_default_start_is_unchanged_by_the_profiles(services: dict[str, dict[str, Any]]) -> None:
    default = started(services, set())
    assert not any(component(svc) in CELERY_COMPONENTS for svc in airflow_services(default).values())
    assert all(not svc.get("image", "").startswith("redis:") for svc in default.values())


def test_the_airflow_image_is_the_version_under_test() -> None:
    stages = dockerfile_stages()
    assert stages["airflow"] == f"apache/airflow:{version('apache-airflow')}-python3.11"
    assert f'"apache-airflow=={version("apache-airflow")}"' in (REPO / "Dockerfile").read_text()


def test_the_connection_points_at_the_emulator_as_the_demo_does(services: dict[str, dict[str, Any]]) -> None:
    emulator = emulator_arguments(services)
    for name, svc in airflow_services(services).items():
        connection = json.loads(svc["environment"]["AIRFLOW_CONN_AWS_DEFAULT"])
        endpoint = urlsplit(connection["extra"]["endpoint_url"])
        assert connection["conn_type"] == "aws", name
        assert endpoint.hostname == EMULATOR_SERVICE and str(endpoint.port) == emulator["--port"], name
        assert connection["extra"]["region_name"] == emulator["--region"] == DAG_SETTINGS.DEMO_REGION, name
        assert (connection["login"], connection["password"]) == DUMMY_CREDENTIALS, name
    assert emulator["--seed-bucket"] == emulator["--bucket"] == DAG_SETTINGS.DEMO_BUCKET
    # Inside its container, so that the other containers reach it.
    assert emulator["--host"] == "0.0.0.0"  # noqa: S104


def test_the_dags_are_mounted_where_airflow_reads_them(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in airflow_services(services).items():
        assert svc["environment"]["AIRFLOW__CORE__DAGS_FOLDER"] == CONTAINER_DAGS_FOLDER, name
        mounts = {str(m).split(":")[1]: str(m).split(":")[0] for m in svc["volumes"]}
        assert (REPO / mounts[CONTAINER_DAGS_FOLDER]).resolve() == DAGS_FOLDER, name


def test_scheduler_settings_match_the_demo(services: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    stack = LocalStack(tmp_path, schedules=True)
    try:
        demo = stack.airflow_env()
    finally:
        stack.api.close()
    shared = (
        "AIRFLOW__CORE__EXECUTOR",
        "AIRFLOW__CORE__LOAD_EXAMPLES",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE",
    )
    for name, svc in airflow_services(started(services, set())).items():
        for key in shared:
            assert interpolate(svc["environment"][key], {}).lower() == demo[key].lower(), f"{name}: {key}"


def test_no_credentials_but_the_emulators_dummy_ones(services: dict[str, dict[str, Any]]) -> None:
    text = COMPOSE_FILE.read_text()
    assert not re.search(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", text), "an AWS access key id"
    secret_names = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|PRIVATE", re.IGNORECASE)
    for name, svc in services.items():
        for key, value in (svc.get("environment") or {}).items():
            if secret_names.search(key):
                pytest.fail(f"{name} sets {key}: only the emulator's dummy credentials belong here")
            if key.startswith("AIRFLOW_CONN_"):
                connection = json.loads(value)
                assert (connection.get("login"), connection.get("password")) == DUMMY_CREDENTIALS, key
            if key == "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
                assert urlsplit(value).password is None, f"{name}: a database password in {key}"


def test_what_the_dockerfile_copies_exists_and_reaches_the_build() -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if not line.startswith("COPY "):
            continue
        sources = [word for word in shlex.split(line)[1:-1] if not word.startswith("--")]
        for source in sources:
            assert (REPO / source).exists(), f"Dockerfile copies {source}, which does not exist"
            assert source.split("/")[0] not in ignored, f".dockerignore leaves {source} out of the build"
