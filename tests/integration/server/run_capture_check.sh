#!/bin/sh
# Runs capture_check.py with the Python of $TBPROF_TEST_VENV; exits 77 (a ctest skip) without it.
# Usage: run_capture_check.sh WORKDIR MLP_CPU XPROF_CHECK_PY [--flight]
set -u
venv=${TBPROF_TEST_VENV:-}
if [ -z "$venv" ]; then
  echo "SKIP: TBPROF_TEST_VENV is not set (scripts/test.sh sets it to the venv with xprof)"
  exit 77
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "SKIP: TBPROF_TEST_VENV=$venv has no bin/python"
  exit 77
fi
exec "$venv/bin/python" "$(dirname "$0")/capture_check.py" --workdir "$1" --program "$2" \
  --xprof-check "$3" ${4:+"$4"}
