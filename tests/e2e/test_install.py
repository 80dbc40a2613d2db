"""The package as a user installs it: the wheel `make dist` builds, in a fresh venv without the dev extras.

It is slow (a venv with Airflow in it: about a minute with a warm pip cache), so it runs in the e2e tier,
beside the in-process tiers. pip reads constraints.txt, as `make install` does, and the machine's
package index; nothing of this repository is on the venv's path but the installed wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "bedrock_provider"
# Each example DAG file holds one DAG of its own name (tests/unit/test_example_dags.py).
EXAMPLE_DAGS = sorted(path.stem for path in (REPO / "dags").glob("bedrock_*.py"))
# A DAG parse in the installed venv: the repository's example DAGs, through Airflow's own DagBag, with
# the folder on sys.path as the dag-processor puts a bundle's (the DAGs import _bedrock_demo_config).
PARSE_DAGS = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
import bedrock_provider
sys.path.insert(0, sys.argv[1])
bag = DagBag(dag_folder=sys.argv[1])
found = {"dags": sorted(bag.dag_ids), "errors": bag.import_errors, "package": bedrock_provider.__file__}
print(json.dumps(found))
"""


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    result = subprocess.run(  # noqa: S603 - fixed arguments
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/ as `make dist` writes it: the sdist, and the wheel built from that sdist."""
    out = tmp_path_factory.mktemp("dist")
    # Nothing of the repository on the path: its folders (a build/ of an earlier `pip install .`) would
    # shadow the packages of the same names.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], cwd=out, env=env)
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (found,) = dist.glob("*.whl")
    return found


def _tracked_package_files() -> set[str]:
    listed = _run(["git", "ls-files", PACKAGE], cwd=REPO).split()
    return {name for name in listed if name.endswith((".py", "py.typed"))}


def test_the_wheel_carries_the_package_its_metadata_and_nothing_else(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    package_files = {name for name in names if name.startswith(f"{PACKAGE}/")}
    # Every module of the package, the emulator (the emulator extra's code) and py.typed among them.
    assert package_files == _tracked_package_files()
    assert f"{PACKAGE}/py.typed" in names
    assert any(name.startswith(f"{PACKAGE}/emulator/post_training/") for name in names)
    info = wheel.name.split("-py3")[0] + ".dist-info"
    assert names - package_files == {
        f"{info}/{name}" for name in ("METADATA", "WHEEL", "entry_points.txt", "top_level.txt", "RECORD")
    }, "the wheel holds files outside the package (tests, demo data, DAGs?)"
    archive = zipfile.ZipFile(wheel)
    entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert "[apache_airflow_provider]\nprovider_info = bedrock_provider:get_provider_info" in entry_points
    assert "bedrock-emulator = bedrock_provider.emulator.__main__:main" in entry_points
    metadata = archive.read(f"{info}/METADATA").decode()
    for extra in ("emulator", "plots", "stack", "demo", "dev"):
        assert f"Provides-Extra: {extra}\n" in metadata
    assert 'Requires-Dist: moto[server]>=5.1; extra == "emulator"' in metadata


def test_the_sdist_holds_no_tests_demo_or_dags(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        top_level = {Path(name).parts[1] for name in archive.getnames() if len(Path(name).parts) > 1}
    assert top_level <= {
        PACKAGE,
        "airflow_provider_bedrock.egg-info",
        "PKG-INFO",
        "README.md",
        "pyproject.toml",
        "setup.cfg",
    }
    assert PACKAGE in top_level


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with the wheel installed and no extra: what a deployment's workers run."""
    home = tmp_path_factory.mktemp("installed")
    env = _clean_env(home)
    _run([sys.executable, "-m", "venv", str(home / "venv")], cwd=home, env=env)
    # --no-compile: byte-compiling all of Airflow would take a third of the install.
    pip = [_bin(home, "python"), "-m", "pip", "install", "--quiet", "--no-compile"]
    _run([*pip, "-c", str(REPO / "constraints.txt"), str(wheel)], cwd=home, env=env, timeout=600)
    yield home


def _bin(home: Path, name: str) -> str:
    return str(home / "venv" / "bin" / name)


def _clean_env(home: Path) -> dict[str, str]:
    """The environment of a user's shell: none of the test session's Airflow settings, nothing of this
    repository on PYTHONPATH (pip would take the source tree's metadata for an installed package)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "PYTHON", "VIRTUAL_ENV", "BEDROCK"))
    }
    env.update(
        AIRFLOW_HOME=str(home / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        PATH=f"{home / 'venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def test_airflow_in_the_installed_venv_lists_the_provider(venv: Path) -> None:
    env = _clean_env(venv)
    listed = _run([_bin(venv, "airflow"), "providers", "list", "-o", "json"], cwd=venv, env=env)
    providers = {provider["package_name"]: provider for provider in json.loads(listed[listed.index("[") :])}
    assert providers["airflow-provider-bedrock"]["version"] == "0.1.0"
    # No dev extra: the test and lint tools, and the emulator's moto, are not there.
    installed = _run([_bin(venv, "python"), "-m", "pip", "list", "--format", "json"], cwd=venv, env=env)
    names = {package["name"].lower() for package in json.loads(installed)}
    assert not names & {"pytest", "ruff", "mypy", "playwright", "moto"}


def test_the_example_dags_parse_in_the_installed_venv(venv: Path) -> None:
    env = _clean_env(venv)
    parsed = json.loads(
        _run([_bin(venv, "python"), "-c", PARSE_DAGS, str(REPO / "dags")], cwd=venv, env=env).splitlines()[-1]
    )
    assert parsed["errors"] == {}
    assert parsed["dags"] == EXAMPLE_DAGS
    # The wheel's package, not this repository's sources.
    assert parsed["package"].startswith(str(venv / "venv" / "lib"))
