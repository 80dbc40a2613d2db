"""Every benchmark of this folder, one after the other (`make bench`).

    python benchmarks/run_all.py            # a quick pass: small sizes, about a minute on two cores
    python benchmarks/run_all.py --full     # the sizes benchmarks/README.md reports (15 minutes or more)

Each benchmark runs as its own process with the arguments below and prints its own table; this script
adds a line with each one's wall time and exits non-zero when one of them failed. The quick pass shows
that every benchmark works and gives numbers of the right shape; the figures in benchmarks/README.md
come from the full sizes (its goals are stated for the largest N, 500: at the quick pass's N they may
show as missed).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (quick arguments, full arguments); the full ones are each script's defaults.
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "bench_dataset_validation.py": (["--size-mb", "32", "--repeat", "1"], []),
    "bench_waiting.py": (["--sizes", "10,50", "--interval", "1", "--steady", "3", "--spread", "2"], []),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the full sizes (see benchmarks/README.md)")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only this one")
    args = parser.parse_args(argv)
    failed = []
    for name, (quick, full) in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        command = [sys.executable, str(HERE / name), *(full if args.full else quick)]
        print(f"===== {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        status = subprocess.call(command)  # noqa: S603 - this interpreter and a script beside this file
        print(f"===== {name}: exit {status} in {time.monotonic() - started:.0f} s\n", flush=True)
        if status != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
