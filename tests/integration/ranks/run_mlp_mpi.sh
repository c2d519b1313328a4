#!/bin/sh
# Runs `mpirun -np 4 mlp_mpi` with TBPROF=1 TBPROF_STEPS=10:15 and rank 2 slowed by
# $TBPROF_TEST_SLOW_MS ms a step (default 5, 60 with fewer than 4 cores), then checks:
# one session with four rank files; `tbprof summary` names the slow rank and its lag; the step
# ends of the ranks (after the allreduce) lie within MAX_SPREAD_US of each other; and, with
# $TBPROF_TEST_VENV, xprof's converters list four hosts and aggregate them (ranks_xprof_check.py).
# Exits 77 (a ctest skip) when mpirun is missing.
# Usage: run_mlp_mpi.sh LOGDIR MLP_MPI TBPROF XPROF_CHECK_PY [MAX_SPREAD_US]
set -u
logdir=$1
mlp_mpi=$2
tbprof=$3
check=$4
max_spread_us=${5:-50}
# The step ends can only meet within MAX_SPREAD_US when every rank has a core of its own; with
# fewer cores the ranks take turns, and the slowdown must stand out of that noise.
cores=$(nproc 2>/dev/null || echo 1)
if [ "$cores" -ge 4 ]; then slow_ms=${TBPROF_TEST_SLOW_MS:-5}; else slow_ms=${TBPROF_TEST_SLOW_MS:-60}; fi
if ! command -v mpirun >/dev/null 2>&1; then
  echo "SKIP: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"
  exit 77
fi
rm -rf "$logdir"
# Open MPI refuses to run as root unless told; more ranks than cores is allowed, and waiting
# ranks then yield the core instead of spinning.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1
TBPROF=1 TBPROF_STEPS=10:15 TBPROF_GPU=off mpirun -np 4 "$mlp_mpi" --steps 17 --slow-rank 2 \
  --slow-ms "$slow_ms" --logdir "$logdir" || { echo "FAIL: mpirun mlp_mpi exited with $?"; exit 1; }
sessions=$(ls -d "$logdir"/plugins/profile/*/ 2>/dev/null | wc -l)
files=$(ls "$logdir"/plugins/profile/*/*.xplane.pb 2>/dev/null | wc -l)
echo "sessions: $sessions, xplane files: $files"
ls "$logdir"/plugins/profile/*/
[ "$sessions" -eq 1 ] || { echo "FAIL: expected one session, found $sessions"; exit 1; }
[ "$files" -eq 4 ] || { echo "FAIL: expected 4 rank files, found $files"; exit 1; }
"$tbprof" summary "$logdir" --ranks || { echo "FAIL: tbprof summary --ranks"; exit 1; }
"$tbprof" summary "$logdir" --ranks --json > "$logdir/ranks.json" || exit 1
python3 - "$logdir/ranks.json" "$max_spread_us" "$slow_ms" "$cores" <<'PY' || exit 1
import json, statistics, sys
r = json.load(open(sys.argv[1]))
limit, slow_ms, cores = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
fail = []
if r["slowest_rank"] != 2:
  fail.append(f"slowest rank {r['slowest_rank']}, expected 2")
lags = [s["lag_ms"] for s in r["steps"] if s["slowest_rank"] == 2]
lag = statistics.median(lags) if lags else 0
print(f"rank 2 slowed by {slow_ms} ms a step: median lag {lag:.3f} ms over {len(lags)} steps")
# With fewer cores than ranks the slow rank also waits for a core: its lag only grows.
if lag < 0.5 * slow_ms or (cores >= 4 and lag > 2 * slow_ms):
  fail.append(f"lag {lag} ms, expected about {slow_ms}")
if len(r["steps"]) != 6:
  fail.append(f"{len(r['steps'])} steps compared, expected 6")
if not all(x["same_clock_as_reference"] for x in r["ranks"]):
  fail.append("ranks of one machine should read one clock")
spreads = [s["end_spread_us"] for s in r["steps"]]
print(f"step end spread across ranks (us): {spreads}, limit {limit}")
if cores < 4:
  print(f"step end spread NOT CHECKED: 4 ranks on {cores} core(s) cannot all run at once")
elif any(s > limit for s in spreads):
  fail.append(f"step ends spread over {limit} us: {spreads}")
for f in fail:
  print("FAIL: " + f)
sys.exit(1 if fail else 0)
PY
venv=${TBPROF_TEST_VENV:-}
if [ -z "$venv" ] || [ ! -x "$venv/bin/python" ]; then
  echo "xprof checks skipped: TBPROF_TEST_VENV is not set (scripts/test.sh sets it)"
  exit 0
fi
exec "$venv/bin/python" "$check" --logdir "$logdir" --ranks 4 --steps 6
