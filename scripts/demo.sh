#!/usr/bin/env bash
# The main job: builds tbprof, runs the instrumented MLP forward pass with tracing on (and the
# other examples), each writing a log directory and saying where it is and what it holds.
# Installs what it needs. Usage: scripts/demo.sh [LOGDIR]   (default ./tbprof_logs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TBPROF_BUILD_DIR:-$root/build}
logdir=$(realpath -m "${1:-${TBPROF_LOGDIR:-$PWD/tbprof_logs}}")
echo "tbprof: building (first run installs packages and takes a few minutes)..." >&2
"$root/scripts/build.sh" >"${TMPDIR:-/tmp}/tbprof-demo-build.log" 2>&1 || {
  tail -n 40 "${TMPDIR:-/tmp}/tbprof-demo-build.log" >&2; exit 1; }

run() {  # run NAME ARGS...: one example, its output indented under a heading.
  local name=$1; shift
  local exe=$build/examples/$name/$name
  if [[ ! -x $exe ]]; then echo "== $name: not built, skipped"; return; fi
  echo "== $name"
  "$@" "$exe" --logdir "$logdir/$name"
  echo
}
run mlp_cpu env TBPROF=1 TBPROF_STEPS=2:6
run mlp_cuda env TBPROF=1 TBPROF_STEPS=2:6 || echo "(mlp_cuda needs an NVIDIA GPU; skipped)"
run conditional env TBPROF=1
run static_graph env
# Four ranks under mpirun, rank 2 slowed on purpose: one session, four files, the slow rank named.
if command -v mpirun >/dev/null 2>&1 && [[ -x $build/examples/mlp_mpi/mlp_mpi ]]; then
  echo "== mlp_mpi (mpirun -np 4, rank 2 slowed by 3 ms a step)"
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
    TBPROF=1 TBPROF_STEPS=10:12 mpirun -np 4 "$build/examples/mlp_mpi/mlp_mpi" --steps 14 \
    --slow-rank 2 --logdir "$logdir/mlp_mpi"
  "$build/tools/tbprof" summary "$logdir/mlp_mpi" --ranks || true
  echo
else
  echo "== mlp_mpi: needs Open MPI (apt-get install openmpi-bin libopenmpi-dev); skipped"
fi
run training_callbacks env
echo "View everything with:"
echo "  tensorboard --logdir $logdir"
