#!/usr/bin/env bash
# The e2e tier on a loaded machine: two busy loops (nice -n 5) keep both cores busy while the tier runs
# RUNS times in a row (default 3); prints each run's wall time and stops at the first failure.
#
#   bash scripts/e2e-under-load.sh          # or RUNS=5 bash scripts/e2e-under-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
loops=()
stop_loops() { for pid in "${loops[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_loops EXIT
for _ in 1 2; do
  nice -n 5 sh -c 'while :; do :; done' &
  loops+=($!)
done
for run in $(seq 1 "$runs"); do
  start=$(date +%s)
  if .venv/bin/pytest -q -p no:cacheprovider tests/e2e; then result=passed; else result=failed; fi
  echo "e2e under load, run $run of $runs: $result in $(( $(date +%s) - start )) s"
  [ "$result" = passed ] || exit 1
done
