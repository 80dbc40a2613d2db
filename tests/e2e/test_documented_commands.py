"""Every shell block of README.md and docs/ runs as written, against the demo stack, or says why not.

The blocks run in a copy of the repository (so `.demo/`, `dist/` and `.bench/` are the copy's and a
demo of the developer's own is never touched), with this venv behind the copy's `.venv`, in a shell
whose PATH does not hold the venv (`source .demo/env.sh` must put it there), each block as one
`bash -euo pipefail` script. One demo stack is shared: the blocks run in this order, each group in the
order of the pages:

1. blocks that run the demo and stop it (`make demo`), before any stack is kept;
2. the block that keeps a stack (`--keep`);
3. every other block: the ones that use the kept stack (`source .demo/env.sh && airflow ...`) and the
   ones that need none (`make dist`, `make bench`, `bedrock-emulator`);
4. blocks that stop it (`make demo-stop`), beside an unrelated process whose command line says
   airflow: it must survive, and every process the stack recorded must be gone.

A block preceded by `<!-- not-run: reason -->` is not run (Docker, Kubernetes, an AWS account, the test
suite itself); every other bash block is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.test_demo_stop import gone

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(\S.*?)\s*-->$")
SHELL_FENCE = re.compile(r"^```(bash|sh|shell|console)\s*$")
STARTS_DEMO = re.compile(r"(make demo(?![-\w])|python -m demo\.run)")
STOPS_DEMO = re.compile(r"(make demo-stop|--stop\b)")
BLOCK_TIMEOUT = 600.0
# The venv's stamps (the Makefile's): fresh in the copy, so make installs nothing there.
STAMPS = (".installed", ".installed-demo")


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    script: str
    not_run: str | None

    @property
    def phase(self) -> int:
        if STOPS_DEMO.search(self.script):
            return 4
        if STARTS_DEMO.search(self.script):
            return 2 if "--keep" in self.script else 1
        return 3

    @property
    def commands(self) -> list[str]:
        return [
            line for line in self.script.splitlines() if line.strip() and not line.lstrip().startswith("#")
        ]

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def shell_blocks(page: Path) -> list[Block]:
    blocks, lines = [], page.read_text().splitlines()
    index = 0
    while index < len(lines):
        if SHELL_FENCE.match(lines[index]):
            end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
            marker = NOT_RUN.match(lines[index - 1].strip()) if index else None
            blocks.append(
                Block(
                    str(page.relative_to(REPO)),
                    index + 1,
                    "\n".join(lines[index + 1 : end]) + "\n",
                    marker.group(1) if marker else None,
                )
            )
            index = end
        index += 1
    return blocks


BLOCKS = [block for page in PAGES for block in shell_blocks(page)]
RUN = sorted((block for block in BLOCKS if block.not_run is None), key=lambda block: block.phase)


def test_the_pages_hold_the_blocks_this_test_runs() -> None:
    """A guard against a parser that finds nothing: the stack is started, kept, used and stopped."""
    phases = {block.phase for block in RUN}
    assert phases == {1, 2, 3, 4}, [f"{block} phase {block.phase}" for block in RUN]
    assert [block for block in RUN if block.phase == 2], "no block keeps a stack"
    assert any("source .demo/env.sh && airflow" in block.script for block in RUN)


def _copy_repository(destination: Path) -> Path:
    """The repository's files as the working tree has them (tracked and untracked, not ignored), and a
    .venv of links into this venv with fresh stamps."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file() and not name.startswith(".venv"):
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    venv = Path(sys.prefix)
    (destination / ".venv").mkdir()
    for entry in venv.iterdir():
        if entry.name not in STAMPS:
            (destination / ".venv" / entry.name).symlink_to(entry)
    for stamp in STAMPS:
        (destination / ".venv" / stamp).touch()
    return destination


def _shell_env(copy: Path) -> dict[str, str]:
    """A user's shell: no Airflow or test settings, no venv on PATH; the copy's code first on the path
    (the venv's editable install may point at another checkout)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "BEDROCK", "PYTHON", "VIRTUAL_ENV", "AWS_"))
    }
    env.update(
        PATH="/usr/local/bin:/usr/bin:/bin", PYTHONPATH=str(copy), HOME=os.environ.get("HOME", "/root")
    )
    return env


def _run(block: Block, copy: Path, env: dict[str, str]) -> str:
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.script],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
        check=False,
    )
    output = result.stdout + result.stderr
    took = time.monotonic() - started
    print(f"{block} ({len(block.commands)} commands): exit {result.returncode} in {took:.0f} s")
    assert result.returncode == 0, (
        f"{block} failed (exit {result.returncode}):\n{block.script}\n{output[-4000:]}"
    )
    return output


@pytest.fixture
def copy(tmp_path: Path) -> Iterator[Path]:
    destination = _copy_repository(tmp_path / "repo")
    yield destination
    # Whatever a failed block left running.
    subprocess.run(
        [sys.executable, "-m", "demo.run", "--home", str(destination / ".demo"), "--stop"],
        cwd=destination,
        env=_shell_env(destination),
        capture_output=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def other_airflow() -> Iterator[subprocess.Popen[bytes]]:
    """Someone else's Airflow on the same host: its command line says airflow, and no demo started it."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(3600)", "airflow", "scheduler"],
        start_new_session=True,
    )
    yield process
    process.kill()
    process.wait()


@pytest.mark.timeout(1800)
def test_every_documented_shell_block_runs(copy: Path, other_airflow: subprocess.Popen[bytes]) -> None:
    env = _shell_env(copy)
    recorded: dict[str, int] = {}
    print(f"{len(RUN)} blocks, {sum(len(block.commands) for block in RUN)} commands to run")
    for block in RUN:
        if block.phase == 4:
            recorded = json.loads((copy / ".demo" / "pids.json").read_text())["pids"]
            assert recorded, "the kept stack recorded no process"
        output = _run(block, copy, env)
        if block.phase == 4:
            for name, pid in recorded.items():
                assert f"{name} (pid {pid})" in output, f"demo-stop did not name {name}:\n{output}"
    assert recorded, "no block stopped the kept stack"
    deadline = time.monotonic() + 60
    while not all(gone(pid) for pid in recorded.values()):
        assert time.monotonic() < deadline, f"still running after demo-stop: {recorded}"
        time.sleep(0.5)
    assert other_airflow.poll() is None, "demo-stop stopped a process the demo did not start"
