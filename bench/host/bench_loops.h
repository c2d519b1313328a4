// What the annotation benchmarks (recorder_bench, memory_bench, nvtx_bench) time their subject
// against: an empty loop, a TBPROF_SCOPE per iteration, two raw timestamp reads per iteration,
// and the recording session they start. Each loop is noinline so that what is timed is the loop
// itself; Barrier keeps the compiler from merging or dropping iterations.
#ifndef TBPROF_BENCH_HOST_BENCH_LOOPS_H_
#define TBPROF_BENCH_HOST_BENCH_LOOPS_H_

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>

#include "src/host/clock.h"
#include "src/host/recorder.h"
#include "tbprof/annotate.h"

namespace tbprof::internal {

inline void Barrier() { asm volatile("" ::: "memory"); }

// A session at host level 2 with room for 2^30 events; aborts when it cannot start.
inline void StartSession() {
  RecorderOptions o;
  o.host_level = 2;
  o.max_events = int64_t{1} << 30;
  if (!StartRecording(o).ok()) std::abort();
}

__attribute__((noinline)) inline void EmptyLoop(int n) {
  for (int i = 0; i < n; ++i) Barrier();
}

__attribute__((noinline)) inline void ScopeLoop(int n) {
  for (int i = 0; i < n; ++i) {
    TBPROF_SCOPE("bench_scope");
    Barrier();
  }
}

// The floor of a recorded scope: the recorder's two timestamp reads and nothing else.
__attribute__((noinline)) inline void TimestampLoop(int n) {
  for (int i = 0; i < n; ++i) {
    uint64_t a = ReadTicks();
    benchmark::DoNotOptimize(a);
    Barrier();
    uint64_t b = ReadTicks();
    benchmark::DoNotOptimize(b);
  }
}

}  // namespace tbprof::internal

#endif  // TBPROF_BENCH_HOST_BENCH_LOOPS_H_
