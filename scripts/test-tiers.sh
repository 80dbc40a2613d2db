#!/usr/bin/env bash
# Every test tier, as `make test` runs them: the e2e tier beside the unit and integration tiers.
#
# The e2e tier spends most of its time waiting (jobs that run for a set time, the scheduler's and the
# triggerer's loops: a load average near 1 on two cores), while the unit and integration tiers keep a
# core busy in-process. Run one after the other they took 26 minutes on two cores; side by side their
# times overlap. The e2e tier is built to pass with both cores busy (scripts/e2e-under-load.sh).
# Each session has its own temporary folder and AIRFLOW_HOME; the e2e lines are prefixed "[e2e]".
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
base=$(mktemp -d -t bedrock-provider-tests-XXXXXX)
pytest_args=(-q -p no:cacheprovider --durations=10)

"$BIN/pytest" "${pytest_args[@]}" --basetemp="$base/e2e" tests/e2e > >(sed -u 's/^/[e2e] /') 2>&1 &
e2e=$!
"$BIN/pytest" "${pytest_args[@]}" --basetemp="$base/in-process" tests/unit tests/integration
in_process=$?
wait "$e2e"
e2e_status=$?
wait  # the prefixing sed, so its last lines come before the summary

echo "unit and integration tiers: exit $in_process; e2e tier: exit $e2e_status"
[ "$in_process" -eq 0 ] && [ "$e2e_status" -eq 0 ]
