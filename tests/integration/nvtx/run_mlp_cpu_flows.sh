#!/bin/sh
# mlp_cpu's input-thread -> step arrows: the Chrome traces (the one written with the profile and
# `tbprof chrome`'s) always; xprof's trace viewer when $TBPROF_TEST_VENV is set (else exit 77).
# Usage: run_mlp_cpu_flows.sh chrome|xprof MLP_CPU TBPROF WORKDIR
set -u
mode=$1 mlp_cpu=$2 tbprof=$3 dir=$4
here=$(dirname "$0")
venv=${TBPROF_TEST_VENV:-}
if [ "$mode" = xprof ] && { [ -z "$venv" ] || [ ! -x "$venv/bin/python" ]; }; then
  echo "SKIP: TBPROF_TEST_VENV is not set or has no bin/python (scripts/test.sh sets it)"
  exit 77
fi
rm -rf "$dir" && mkdir -p "$dir"
# Steps 2..6: batches are made up to two steps ahead, so steps 4..6 consume batches produced
# inside the capture.
TBPROF=1 TBPROF_STEPS=2:6 TBPROF_GPU=off "$mlp_cpu" --steps 8 --logdir "$dir/logs" > /dev/null ||
  { echo "FAIL: mlp_cpu exited with $?"; exit 1; }
if [ "$mode" = xprof ]; then
  exec "$venv/bin/python" "$here/xprof_nvtx_check.py" --logdir "$dir/logs" \
    --flow "input>mlp_cpu" --min-flows 3
fi
set -e
python3 "$here/check_chrome_flows.py" "$(ls "$dir"/logs/plugins/profile/*/*.trace.json.gz)" \
  input mlp_cpu 3
"$tbprof" chrome "$dir/logs" -o "$dir/chrome.json"
python3 "$here/check_chrome_flows.py" "$dir/chrome.json" input mlp_cpu 3
