#!/bin/sh
# Runs mlp_cpu with a deliberately slow input thread (TBPROF=1 TBPROF_STEPS=2:7) into LOGDIR and
# checks that xprof's overview page and input-pipeline analyzer report the input share the trace
# has (check_input_share.py) with the venv in $TBPROF_TEST_VENV; exits 77 (a ctest skip) without
# one. Usage: run_mlp_cpu_input.sh LOGDIR MLP_CPU CHECK_PY
set -u
logdir=$1
mlp_cpu=$2
check=$3
venv=${TBPROF_TEST_VENV:-}
if [ -z "$venv" ] || [ ! -x "$venv/bin/python" ]; then
  echo "SKIP: TBPROF_TEST_VENV is not set or has no bin/python (scripts/test.sh sets it)"
  exit 77
fi
rm -rf "$logdir"
# A batch of one row takes about a millisecond of compute (tens on a loaded machine); 80 ms of
# extra input time makes every step wait for most of its time.
TBPROF=1 TBPROF_STEPS=2:7 TBPROF_GPU=off "$mlp_cpu" --steps 9 --batch 1 --slow-input-ms 80 \
  --logdir "$logdir" || { echo "FAIL: mlp_cpu exited with $?"; exit 1; }
exec "$venv/bin/python" "$check" --logdir "$logdir" --min-share 20 --tolerance 5 \
  --expect-input-op Iterator::generate_batch
