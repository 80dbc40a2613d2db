"""The local stack's processes: ports, waits, process groups, and stopping what a stack recorded.

Pure process plumbing, no Airflow: the stack (demo/stack.py) starts each component in a process group
of its own and records it in ``home/pids.json``; ``stop_recorded`` stops what such a record names (a
stack left running by ``python -m demo.run --keep``), and only that. The e2e harness
(tests/e2e/harness.py) kills, freezes and resumes components with the same signal helpers.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

POSTGRES = "postgres"
REDIS = "redis"
# Started first and stopped last: the Airflow processes need them until they have shut down.
SERVICES = (POSTGRES, REDIS)
PIDS_FILE = "pids.json"

T = TypeVar("T")


class StackError(RuntimeError):
    """The stack did not start, a component died, or a wait ran out of time."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the api-server binds: connections of an earlier server in TIME_WAIT do not block it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for(
    check: Callable[[], T | None],
    timeout: float,
    what: str,
    interval: float = 1.0,
    details: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` every ``interval`` seconds until it returns something truthy; at most ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            extra = details() if details else ""
            raise StackError(
                f"timed out after {timeout:.0f} s waiting for {what}" + (f"\n{extra}" if extra else "")
            )
        time.sleep(interval)


def stop_recorded(home: Path, timeout: float = 20.0) -> list[str]:
    """Stop the processes a stack recorded in home/pids.json (a stack left running by --keep), and only
    those; returns what it stopped, as "name (pid N)".

    A recorded pid counts only while the process that has it started when the recorded one did: the pid
    of a process that has ended may belong to another by now (someone else's Airflow too), and a
    command line proves nothing. Each recorded process's group goes, and every process below it that
    left the group (a task process leads one of its own).
    """
    record_path = Path(home) / PIDS_FILE
    if not record_path.exists():
        return []
    record = json.loads(record_path.read_text())
    started = record.get("started", {})
    ours = {
        name: int(pid)
        for name, pid in record.get("pids", {}).items()
        if started.get(name) is not None and start_time(int(pid)) == started[name]
    }
    below = {pid: start_time(pid) for leader in ours.values() for pid in descendants(leader)}
    stop_stack(ours, timeout)
    for pid, started_at in below.items():
        if started_at is not None and start_time(pid) == started_at:
            signal_process(pid, signal.SIGKILL)
    if record.get("postgres_data"):
        shutil.rmtree(record["postgres_data"], ignore_errors=True)
    record_path.unlink(missing_ok=True)
    return [f"{name} (pid {pid})" for name, pid in ours.items()]


def start_time(pid: int) -> int | None:
    """When a process started, in clock ticks after boot (field 22 of /proc/PID/stat), or None when no
    process has that pid."""
    try:
        # The command name (field 2) may hold spaces and parentheses: field 3 follows the last ")".
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name (field 2) may hold spaces and parentheses: the parent pid follows the last ")".
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(children.get(child, []))
    return found


def signal_process(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_groups(
    pgids: list[int],
    timeout: float,
    reap: Callable[[], object] = lambda: None,
    sig: int = signal.SIGTERM,
) -> None:
    """``sig`` to every group at once (each component takes seconds to shut down), SIGKILL after timeout.

    ``reap`` collects exited children of ours: an unreaped leader still counts as a member of its group.
    """
    for pgid in pgids:
        signal_group(pgid, sig)
        # A group a test froze (tests/e2e/harness.py) acts on the signal only once it runs again.
        signal_group(pgid, signal.SIGCONT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reap()
        if not any(group_alive(pgid) for pgid in pgids):
            return
        time.sleep(0.2)
    for pgid in pgids:
        signal_group(pgid, signal.SIGKILL)
    reap()


def stop_stack(leaders: Mapping[str, int], timeout: float, reap: Callable[[], object] = lambda: None) -> None:
    """Stop a stack's process groups, by component name: the Airflow processes and the emulator first
    (SIGTERM), the database and the broker once those have shut down (SIGINT: a fast shutdown)."""
    stop_groups([pid for name, pid in leaders.items() if name not in SERVICES], timeout, reap)
    stop_groups([pid for name, pid in leaders.items() if name in SERVICES], timeout, reap, sig=signal.SIGINT)


def as_user(user: str | None) -> dict[str, Any]:
    """Popen arguments that run a child as ``user`` with that user's group only (root drops to it)."""
    if user is None:
        return {}
    account = pwd.getpwnam(user)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return f"--- last lines of {path} ---\n" + "\n".join(text.splitlines()[-lines:])
