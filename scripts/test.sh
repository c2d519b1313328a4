#!/usr/bin/env bash
# Runs every test: builds tbprof, prepares TensorBoard/xprof in a virtual environment, runs
# ctest (integration tests, the checks through TensorBoard and xprof), then builds the unit
# tests with AddressSanitizer and UndefinedBehaviorSanitizer and runs them, then builds the
# concurrency tests (recorder, event file writer, sessions and the public API) with
# ThreadSanitizer and runs them. Installs what it needs. Exit status 0 only when everything
# passed.
#
# The unit tests are compiled once, in the sanitizer build, where they catch more: building
# them a second time in build/ doubled the run's time. With TBPROF_SKIP_SANITIZERS=1 they are
# built and run in build/ instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TBPROF_BUILD_DIR:-$root/build}
unit_in_main=OFF
[[ "${TBPROF_SKIP_SANITIZERS:-0}" == 1 ]] && unit_in_main=ON
"$root/scripts/build.sh" -DTBPROF_BUILD_UNIT_TESTS=$unit_in_main
if venv=$("$root/scripts/venv.sh" "$build/venv"); then
  export TBPROF_TEST_VENV=$venv
else
  echo "tbprof: integration tests with TensorBoard/xprof will be skipped (no virtual environment)" >&2
fi
# Timing checks (capture start spread, flight dumps) run on shared CI machines: a test that
# fails is run once more, and only a second failure fails the run.
(cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 600 --repeat until-pass:2)

if [[ "${TBPROF_SKIP_SANITIZERS:-0}" != 1 ]]; then
  asan=$root/build-asan
  if [[ ! -f "$asan/CMakeCache.txt" ]]; then
    cmake -S "$root" -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
      -DTBPROF_SANITIZE=address,undefined -DTBPROF_BUILD_BENCHMARKS=OFF \
      -DTBPROF_BUILD_EXAMPLES=OFF -DTBPROF_BUILD_INTEGRATION_TESTS=OFF -DTBPROF_CUPTI=AUTO >/dev/null
  fi
  cmake --build "$asan" -j"$(nproc)"
  (cd "$asan" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$(nproc)" -L unit -LE venv --timeout 600 \
    --repeat until-pass:2)

  # ThreadSanitizer: only the targets whose tests run threads against the recorder and the
  # writers, to keep the time small. The two tests that start threads in a forked child of a
  # threaded process are left out: ThreadSanitizer does not support that (it stops the child).
  tsan=$root/build-tsan
  if [[ ! -f "$tsan/CMakeCache.txt" ]]; then
    # -O1 with line tables only: what ThreadSanitizer needs, a third faster to compile than -O2 -g.
    cmake -S "$root" -B "$tsan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
      -DTBPROF_SANITIZE=thread -DTBPROF_BUILD_BENCHMARKS=OFF \
      -DTBPROF_BUILD_EXAMPLES=OFF -DTBPROF_BUILD_INTEGRATION_TESTS=OFF -DTBPROF_CUPTI=OFF \
      -DTBPROF_GRPC=OFF >/dev/null
  fi
  cmake --build "$tsan" -j"$(nproc)" --target recorder_test ring_test event_file_writer_test \
    session_test flight_recorder_test
  (cd "$tsan" && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --output-on-failure -j"$(nproc)" -R '^(RecorderTest|RingTest|EventFileWriterTest|SessionTest|TraceApiTest|SignalTest|FlightRecorderTest)\.' \
    -E '(ForkDuringACapture|KilledExports)' --timeout 600)
fi

# A bounded fuzzing run (about 24 s: 6 s per reader) when clang with libFuzzer is present;
# scripts/fuzz.sh SECONDS runs it longer by hand.
if [[ "${TBPROF_SKIP_FUZZ:-0}" != 1 ]]; then
  fuzz_status=0
  "$root/scripts/fuzz.sh" "${TBPROF_FUZZ_SECONDS:-6}" || fuzz_status=$?
  if [[ $fuzz_status == 77 ]]; then
    echo "tbprof: fuzzing skipped (no clang with libFuzzer)" >&2
  elif [[ $fuzz_status != 0 ]]; then
    exit "$fuzz_status"
  fi
fi
