#!/bin/sh
# Runs memory_check.py with the Python of $TBPROF_TEST_VENV; exits 77 (a ctest skip) without it.
# Usage: run_memory_check.sh WORKDIR MLP_CPU
set -u
venv=${TBPROF_TEST_VENV:-}
if [ -z "$venv" ] || [ ! -x "$venv/bin/python" ]; then
  echo "SKIP: TBPROF_TEST_VENV is not set or has no bin/python (scripts/test.sh sets it)"
  exit 77
fi
exec "$venv/bin/python" "$(dirname "$0")/memory_check.py" --workdir "$1" --program "$2"
