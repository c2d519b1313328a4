#!/bin/sh
# Runs check_foreign.py with the Python of $TBPROF_TEST_VENV (xprof); exits 77 (a ctest skip)
# when there is none. Arguments go to check_foreign.py.
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
exec "$venv/bin/python" "$(dirname "$0")/check_foreign.py" "$@"
