#!/bin/sh
# `tbprof run -- python numpy_nvtx.py` (Python's nvtx package over NumPy), checked with xprof's
# trace viewer and framework_op_stats. Needs $TBPROF_NVTX_VENV (a venv with nvtx and numpy) and
# $TBPROF_TEST_VENV (xprof); exits 77 (a ctest skip) without them.
# Usage: run_numpy_nvtx.sh TBPROF WORKDIR
set -u
tbprof=$1 dir=$2
here=$(dirname "$0")
nvenv=${TBPROF_NVTX_VENV:-}
venv=${TBPROF_TEST_VENV:-}
if [ -z "$nvenv" ] || ! "$nvenv/bin/python" -c 'import nvtx, numpy' 2>/dev/null; then
  echo "SKIP: TBPROF_NVTX_VENV is not set or lacks the nvtx and numpy packages"
  exit 77
fi
if [ -z "$venv" ] || [ ! -x "$venv/bin/python" ]; then
  echo "SKIP: TBPROF_TEST_VENV (xprof) is not set"
  exit 77
fi
rm -rf "$dir" && mkdir -p "$dir"
TBPROF_GPU=off "$tbprof" run --logdir "$dir/logs" -- "$nvenv/bin/python" "$here/numpy_nvtx.py" ||
  { echo "FAIL: tbprof run exited with $?"; exit 1; }
exec "$venv/bin/python" "$here/xprof_nvtx_check.py" --logdir "$dir/logs" \
  --event step --event forward --event "load_batch [input]" --event step_done \
  --nested "step>forward" --nested "forward>dense_0/MatMul:MatMul" \
  --nested "step>load_batch [input]" \
  --op dense_0/MatMul --op dense_2/Relu
