// Cost of recording allocations (tbprof/memory.h), each a ratio against a baseline measured in
// the same run:
//   build/bench/host/memory_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
// Counters (per allocation + free pair):
//   BM_AllocFreeOff   ns_pair while tracing is off vs the same loop without the calls
//                     (ns_over_baseline)
//   BM_AllocFreeOn    ns_pair while recording vs two raw timestamp reads (ratio_vs_timestamps)
//                     and vs a TBPROF_SCOPE (ratio_vs_scope, goal <= 2)
//   BM_MlpStep        a small MLP step (4 layers, 64x64 matrices, scopes and ops recorded) whose
//                     activations come from a caching arena, with the arena's allocations
//                     recorded vs not: ratio_memory_on_vs_off
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <vector>

#include "bench/host/bench_loops.h"
#include "bench/host/bench_time.h"
#include "bench/host/mlp_step.h"
#include "src/host/clock.h"
#include "src/host/recorder.h"
#include "tbprof/annotate.h"
#include "tbprof/memory.h"

namespace tbprof::internal {
namespace {

using tbprof_bench::WallNs;

constexpr int kBatch = 100000;

const MemoryAllocator& Arena() {
  static const MemoryAllocator* a = new MemoryAllocator("bench_arena");
  return *a;
}

char g_block[4096];

__attribute__((noinline)) void PairLoop(int n) {
  const MemoryAllocator& a = Arena();
  for (int i = 0; i < n; ++i) {
    void* p = g_block + (i & 63) * 64;
    a.RecordAlloc(p, 48, 64);
    Barrier();
    a.RecordFree(p);
  }
}

// Times each loop of `loops` in turn per iteration (a fresh session each time when recording);
// returns ns per call of each.
template <size_t N>
std::vector<double> Compare(benchmark::State& state, void (*const (&loops)[N])(int),
                            bool recording) {
  std::vector<int64_t> t(N, 0);
  int64_t n = 0;
  for (auto _ : state) {
    if (recording) {
      state.PauseTiming();
      DiscardRecording();
      StartSession();
      state.ResumeTiming();
    }
    for (size_t k = 0; k < N; ++k) {
      const int64_t t0 = WallNs();
      loops[k](kBatch);
      t[k] += WallNs() - t0;
    }
    n += kBatch;
  }
  if (recording) DiscardRecording();
  std::vector<double> ns;
  for (int64_t v : t) ns.push_back(static_cast<double>(v) / static_cast<double>(n));
  return ns;
}

void BM_AllocFreeOff(benchmark::State& state) {
  DiscardRecording();
  EnsureInitialized();
  static void (*const loops[])(int) = {PairLoop, EmptyLoop};
  std::vector<double> ns = Compare(state, loops, false);
  state.counters["ns_pair"] = ns[0];
  state.counters["ns_baseline"] = ns[1];
  state.counters["ns_over_baseline"] = ns[0] - ns[1];
}
BENCHMARK(BM_AllocFreeOff);

void BM_AllocFreeOn(benchmark::State& state) {
  InitClock();
  static void (*const loops[])(int) = {PairLoop, TimestampLoop, ScopeLoop};
  std::vector<double> ns = Compare(state, loops, true);
  state.counters["ns_pair"] = ns[0];
  state.counters["ns_two_timestamps"] = ns[1];
  state.counters["ns_scope"] = ns[2];
  state.counters["ratio_vs_timestamps"] = ns[0] / ns[1];
  state.counters["ratio_vs_scope"] = ns[0] / ns[2];
}
BENCHMARK(BM_AllocFreeOn);

void BM_MlpStep(benchmark::State& state) {
  InitClock();
  std::vector<float> x = MlpInput();
  BenchArena on(true), off(false);
  constexpr int kSteps = 50;
  int64_t t_on = 0, t_off = 0, n = 0;
  bool off_first = true;
  for (auto _ : state) {
    state.PauseTiming();
    DiscardRecording();
    StartSession();
    // Warm both arenas (their blocks exist from then on) and the recorder's first blocks.
    for (int s = 0; s < 5; ++s) {
      benchmark::DoNotOptimize(MlpStep(off, x.data()));
      benchmark::DoNotOptimize(MlpStep(on, x.data()));
    }
    state.ResumeTiming();
    // The two kinds of steps alternate in batches, in both orders, so that a slower moment of
    // the machine weighs on both alike.
    for (int round = 0; round < 2; ++round) {
      BenchArena& arena = (round == 0) == off_first ? off : on;
      const int64_t t0 = WallNs();
      for (int s = 0; s < kSteps; ++s) benchmark::DoNotOptimize(MlpStep(arena, x.data()));
      (&arena == &off ? t_off : t_on) += WallNs() - t0;
    }
    off_first = !off_first;
    n += kSteps;
  }
  DiscardRecording();
  state.counters["us_step_memory_off"] = static_cast<double>(t_off) / n / 1000;
  state.counters["us_step_memory_on"] = static_cast<double>(t_on) / n / 1000;
  state.counters["ratio_memory_on_vs_off"] = static_cast<double>(t_on) / static_cast<double>(t_off);
}
BENCHMARK(BM_MlpStep);

}  // namespace
}  // namespace tbprof::internal

BENCHMARK_MAIN();
