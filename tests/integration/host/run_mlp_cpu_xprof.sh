#!/bin/sh
# Runs mlp_cpu with TBPROF=1 TBPROF_STEPS=2:4 into LOGDIR and checks the profile with xprof's
# converters (xprof_check.py) from $TBPROF_TEST_VENV; exits 77 (a ctest skip) without one.
# Usage: run_mlp_cpu_xprof.sh LOGDIR MLP_CPU XPROF_CHECK_PY
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
TBPROF=1 TBPROF_STEPS=2:4 TBPROF_GPU=off "$mlp_cpu" --steps 6 --logdir "$logdir" ||
  { echo "FAIL: mlp_cpu exited with $?"; exit 1; }
exec "$venv/bin/python" "$check" --logdir "$logdir" --min-steps 3 --expect-thread input \
  --expect-op mlp/dense_1/MatMul --expect-op mlp/dense_2/Relu --expect-op mlp/dense_4/Softmax \
  --expect-op-args mlp/dense_1/MatMul --expect-op-args mlp/dense_4/Softmax
