// What the flight recorder costs the steps of a program that keeps it on, measured inside one
// process: batches of MLP steps (bench/host/mlp_step.h) alternate between the flight recorder
// recording and the same recorder paused (every annotation then takes the tracing-off path,
// exactly the cost of a program without TBPROF), in both orders. One process and interleaved
// batches: a machine whose speed changes between processes or over seconds weighs on both sides
// alike, which separate processes (bench/host/flight_soak.py's overhead part) cannot give.
//
//   build/bench/host/flight_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
//
// The flight recorder runs as TBPROF=flight would start it (its thread trimming the rings every
// 500 ms, SIGUSR2 left alone), with a 2 s window and a 4 MiB budget so that the rings are full
// and recycling after the warm-up; the arena's allocations are recorded too, as mlp_cpu's are.
// Counters:
//   us_step_off, us_step_flight   microseconds per step, paused vs recording (wall clock)
//   ratio_flight_vs_off           their ratio (goal <= 1.02)
//   cpu_ratio_flight_vs_off       the same from the stepping thread's CPU time
//   records_per_step              records the recorder kept per step (what is being paid for)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/host/bench_time.h"
#include "bench/host/mlp_step.h"
#include "src/host/clock.h"
#include "src/host/recorder.h"
#include "src/session/flight_recorder.h"

namespace tbprof::internal {
namespace {

using tbprof_bench::ThreadCpuNs;
using tbprof_bench::WallNs;

constexpr int kStepsPerBatch = 20;  // About 30 ms: the machine changes little within a pair.
constexpr int64_t kWarmupNs = 3'000'000'000;  // Longer than the window: the rings recycle.

void BM_FlightStep(benchmark::State& state) {
  InitClock();
  std::vector<float> x = MlpInput();
  BenchArena arena(true);
  char dir[] = "/tmp/tbprof_flight_bench_XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  FlightOptions o;
  o.logdir = dir;
  o.window_ms = 2000;
  o.budget_bytes = int64_t{4} << 20;
  o.install_signal_handler = false;
  absl::StatusOr<std::unique_ptr<FlightRecorder>> flight = FlightRecorder::Start(o);
  if (!flight.ok()) {
    state.SkipWithError(std::string(flight.status().message()).c_str());
    return;
  }
  const int64_t warm_end = WallNs() + kWarmupNs;
  while (WallNs() < warm_end) benchmark::DoNotOptimize(MlpStep(arena, x.data()));
  // What a recording step leaves in the rings: scopes, ops and the step (events) plus the
  // arena's allocations and frees (memory events), per step of the window.
  double records_per_step = 0;
  {
    Trace trace;
    if (SnapshotRing(&trace).ok() && !trace.steps.empty()) {
      size_t records = trace.memory_events.size();
      for (const ThreadTrack& track : trace.threads) records += track.events.size();
      records_per_step = static_cast<double>(records) / static_cast<double>(trace.steps.size());
    }
  }
  int64_t t[2] = {0, 0}, cpu[2] = {0, 0}, n = 0;  // [0] paused, [1] recording.
  bool paused_first = true;
  for (auto _ : state) {
    for (int round = 0; round < 2; ++round) {
      const bool paused = (round == 0) == paused_first;
      SetRecordingPaused(paused);
      const int64_t c0 = ThreadCpuNs();
      const int64_t t0 = WallNs();
      for (int s = 0; s < kStepsPerBatch; ++s) benchmark::DoNotOptimize(MlpStep(arena, x.data()));
      t[paused ? 0 : 1] += WallNs() - t0;
      cpu[paused ? 0 : 1] += ThreadCpuNs() - c0;
    }
    paused_first = !paused_first;
    n += kStepsPerBatch;
  }
  SetRecordingPaused(false);
  (*flight)->Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) std::fprintf(stderr, "could not remove %s: %s\n", dir, ec.message().c_str());
  state.counters["us_step_off"] = static_cast<double>(t[0]) / n / 1000;
  state.counters["us_step_flight"] = static_cast<double>(t[1]) / n / 1000;
  state.counters["ratio_flight_vs_off"] = static_cast<double>(t[1]) / static_cast<double>(t[0]);
  state.counters["cpu_ratio_flight_vs_off"] =
      static_cast<double>(cpu[1]) / static_cast<double>(cpu[0]);
  state.counters["records_per_step"] = records_per_step;
}
BENCHMARK(BM_FlightStep)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(100);

}  // namespace
}  // namespace tbprof::internal

BENCHMARK_MAIN();
