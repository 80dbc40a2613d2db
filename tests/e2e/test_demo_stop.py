"""`make demo-stop` stops exactly what the demo started, by the process ids it recorded, and says what.

The processes here are stand-ins started the way LocalStack starts the demo's components (its own
_spawn, which records them in pids.json), so the test takes seconds; tests/e2e/test_documented_commands.py
stops a real demo stack the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.stack import LocalStack

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SLEEP = "import time; time.sleep(300)"
# A component whose child leaves its process group, as a task process does; the child's pid goes to argv[1].
WITH_TASK = (
    "import subprocess, sys, time\n"
    f"child = subprocess.Popen([sys.executable, '-c', {SLEEP!r}, 'airflow', 'tasks', 'run'], "
    "start_new_session=True)\n"
    "open(sys.argv[1], 'w').write(str(child.pid))\n"
    "time.sleep(300)\n"
)


def gone(pid: int) -> bool:
    """No process has this pid, or only a zombie waiting for its parent."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state == "Z"


def wait_until(condition: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def other_airflow() -> Iterator[subprocess.Popen[bytes]]:
    """Someone else's Airflow on the same host: its command line says airflow, and nothing recorded it."""
    process = subprocess.Popen([sys.executable, "-c", SLEEP, "airflow", "scheduler"], start_new_session=True)
    yield process
    process.kill()
    process.wait()


def test_demo_stop_stops_the_recorded_processes_and_spares_another_airflow(
    tmp_path: Path, other_airflow: subprocess.Popen[bytes]
) -> None:
    home = tmp_path / "demo"
    stack = LocalStack(home)
    stack.logs_dir.mkdir(parents=True)
    task_pid_file = tmp_path / "task.pid"
    try:
        scheduler = stack._spawn(
            "scheduler", [sys.executable, "-c", WITH_TASK, str(task_pid_file), "airflow", "scheduler"]
        )
        triggerer = stack._spawn("triggerer", [sys.executable, "-c", SLEEP, "airflow", "triggerer"])
        wait_until(lambda: task_pid_file.exists() and task_pid_file.read_text(), "the task process")
        task_pid = int(task_pid_file.read_text())
        # A component that ended, its pid reused since by the other Airflow: the record still names the
        # pid, with the start time of the process that had it.
        ended = stack._spawn("dag-processor", [sys.executable, "-c", SLEEP, "airflow", "dag-processor"])
        ended.kill()
        ended.wait()
        del stack.processes["dag-processor"]
        record = json.loads((home / "pids.json").read_text())
        record["pids"]["dag-processor"] = other_airflow.pid
        (home / "pids.json").write_text(json.dumps(record))

        # The stack's processes are children of this test, as of `make demo DEMO_ARGS=--keep` until it
        # exits: reap them as they end, or their zombies would hold their process groups.
        reapers = [threading.Thread(target=process.wait, daemon=True) for process in (scheduler, triggerer)]
        for reaper in reapers:
            reaper.start()
        result = subprocess.run(
            ["make", "--no-print-directory", "demo-stop", f"DEMO_HOME={home}"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert f"scheduler (pid {scheduler.pid})" in result.stdout
        assert f"triggerer (pid {triggerer.pid})" in result.stdout
        assert "dag-processor" not in result.stdout
        scheduler.wait(timeout=30)
        triggerer.wait(timeout=30)
        wait_until(lambda: gone(task_pid), "the task process to be stopped")
        assert other_airflow.poll() is None, "demo-stop stopped a process the demo did not start"
        assert not (home / "pids.json").exists()
    finally:
        stack.stop(timeout=5)
