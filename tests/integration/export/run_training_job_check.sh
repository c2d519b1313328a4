#!/bin/sh
# Runs the conditional example (exports "model_training" and "model_inference") into LOGDIR,
# then mlp_cpu with TBPROF_STEPS into LOGDIR/steps, and checks with xprof's overview_page
# converter (check_training_job.py, venv in $TBPROF_TEST_VENV) that only the training export is
# a training job. Exits 77 (a ctest skip) without the venv.
# Usage: run_training_job_check.sh LOGDIR CONDITIONAL MLP_CPU CHECK_PY
set -u
logdir=$1
conditional=$2
mlp_cpu=$3
check=$4
venv=${TBPROF_TEST_VENV:-}
if [ -z "$venv" ] || [ ! -x "$venv/bin/python" ]; then
  echo "SKIP: TBPROF_TEST_VENV is not set or has no bin/python (scripts/test.sh sets it)"
  exit 77
fi
rm -rf "$logdir"
TBPROF=1 TBPROF_GPU=off "$conditional" --logdir "$logdir" ||
  { echo "FAIL: conditional exited with $?"; exit 1; }
TBPROF=1 TBPROF_STEPS=1:2 TBPROF_GPU=off "$mlp_cpu" --steps 3 --batch 8 --logdir "$logdir/steps" ||
  { echo "FAIL: mlp_cpu exited with $?"; exit 1; }
exec "$venv/bin/python" "$check" --logdir "$logdir" --expect model_training=true \
  --expect model_inference=false --expect steps_1_2=false
