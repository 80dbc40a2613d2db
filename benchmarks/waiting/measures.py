"""What the waiting benchmarks measure a process and the machine by: RSS, CPU, load, percentiles, and
the picture of a process's memory (dump_memory)."""

from __future__ import annotations

import json
import os
import resource
import threading
import tracemalloc
from pathlib import Path


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used since boot (from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    """CPU seconds this process and its finished children (the emulator, the measured children) used."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def dump_memory(point: str) -> None:
    """With BENCH_MEMORY_DUMP=DIR, write the process's memory at ``point`` (where RSS is measured):
    its threads, /proc/self/smaps, and a tracemalloc snapshot when run under PYTHONTRACEMALLOC=N.
    Compare two rows' snapshots with tracemalloc.Snapshot.load(...).compare_to(other, "traceback")."""
    where = os.environ.get("BENCH_MEMORY_DUMP")
    if not where:
        return
    out = Path(where)
    out.mkdir(parents=True, exist_ok=True)
    info = {
        "rss_kb": rss_kb(),
        "threads": [t.name for t in threading.enumerate()],
        "os_threads": len(os.listdir("/proc/self/task")),
        "traced": tracemalloc.get_traced_memory() if tracemalloc.is_tracing() else None,
    }
    (out / f"{point}.json").write_text(json.dumps(info, indent=1))
    (out / f"{point}.smaps").write_text(Path("/proc/self/smaps").read_text())
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(str(out / f"{point}.snap"))
