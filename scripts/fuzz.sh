#!/usr/bin/env bash
# Builds the libFuzzer programs of tests/fuzz (clang, AddressSanitizer and
# UndefinedBehaviorSanitizer) in build-fuzz/ and runs each for SECONDS seconds on a working copy
# of its seed corpus (tests/fuzz/corpus/<target>) and of the inputs that once crashed
# (tests/fuzz/regressions/<target>). A crash leaves its input in build-fuzz/artifacts/<target>/:
# add it to tests/fuzz/regressions/<target>/ with the fix, and fuzz_regression_test replays it.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET...]
#   targets: event_file xspace graphdef cli (default: all)
# Exit status: 0 no crash, 1 a crash (or a build failure), 77 clang with libFuzzer is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TBPROF_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${1:-60}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(event_file xspace graphdef cli)

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"$probe/p.cc"
if ! command -v clang++ >/dev/null ||
  ! clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cc" -o "$probe/p" 2>/dev/null; then
  echo "tbprof: fuzzing skipped: clang++ with libFuzzer not found (Debian/Ubuntu: apt-get install clang libclang-rt-dev)" >&2
  exit 77
fi

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DTBPROF_FUZZ=ON -DTBPROF_SANITIZE=address,undefined -DTBPROF_BUILD_BENCHMARKS=OFF \
    -DTBPROF_BUILD_EXAMPLES=OFF -DTBPROF_CUPTI=OFF -DTBPROF_GRPC=OFF "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/tbprof_fuzz_}"

status=0
for t in "${targets[@]}"; do
  work=$build/corpus/$t
  artifacts=$build/artifacts/$t/
  mkdir -p "$work" "$artifacts"
  cp -n "$root/tests/fuzz/corpus/$t/"* "$work/" 2>/dev/null || true
  cp -n "$root/tests/fuzz/regressions/$t/"* "$work/" 2>/dev/null || true
  log=$build/fuzz-$t.log
  echo "tbprof: fuzzing $t for ${seconds}s (log: $log)"
  if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    "$build/tests/fuzz/tbprof_fuzz_$t" -max_total_time="$seconds" -timeout=20 \
    -rss_limit_mb=2560 -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts" \
    "$work" >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$log" | tr '\n' ' ' | \
      sed "s/^/tbprof: $t: /; s/ $/\n/"
  else
    echo "tbprof: fuzzing $t FOUND A CRASH; input in $artifacts; last lines of $log:" >&2
    tail -40 "$log" >&2
    status=1
  fi
done
exit $status
