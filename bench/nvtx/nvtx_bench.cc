// NVTX through tbprof's tool (in-process route) against tbprof's own scope and against NVTX with
// no tool attached, each pair timed alternately in the same run. Commands and numbers: README.
//
//   build/bench/nvtx/nvtx_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <nvtx3/nvToolsExt.h>
#include <time.h>

#include <cstdint>
#include <cstdlib>

#include "bench/host/bench_loops.h"
#include "bench/host/bench_time.h"
#include "benchmark/benchmark.h"
#include "src/host/clock.h"
#include "src/host/recorder.h"
#include "tbprof/annotate.h"

namespace tbprof::internal {
namespace {

// Batches are timed by the calling thread's CPU time: a batch preempted on a busy machine is
// not charged for the time it did not run.
using tbprof_bench::ThreadCpuNs;

constexpr int kBatch = 200000;

__attribute__((noinline)) void NvtxLoop(int n) {
  for (int i = 0; i < n; ++i) {
    nvtxRangePushA("bench_range");
    Barrier();
    nvtxRangePop();
  }
}

nvtxDomainHandle_t g_domain;
nvtxStringHandle_t g_registered;

__attribute__((noinline)) void NvtxRegisteredLoop(int n) {
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
  a.message.registered = g_registered;
  for (int i = 0; i < n; ++i) {
    nvtxDomainRangePushEx(g_domain, &a);
    Barrier();
    nvtxDomainRangePop(g_domain);
  }
}

// NVTX as a program sees it with no tool: its function pointers are null (what NVTX's loader
// leaves when no tool attaches). Swapped for the duration of the loop.
__attribute__((noinline)) void NvtxNoToolLoop(int n) {
  auto& g = NVTX_VERSIONED_IDENTIFIER(nvtxGlobals);
  auto push = g.nvtxRangePushA_impl_fnptr;
  auto pop = g.nvtxRangePop_impl_fnptr;
  g.nvtxRangePushA_impl_fnptr = nullptr;
  g.nvtxRangePop_impl_fnptr = nullptr;
  NvtxLoop(n);
  g.nvtxRangePushA_impl_fnptr = push;
  g.nvtxRangePop_impl_fnptr = pop;
}

// Words the recorder holds after `n` NVTX pairs in a fresh session: 2 per pair when recorded.
double WordsPerPair(void (*loop)(int), int n) {
  DiscardRecording();
  StartSession();
  loop(n);
  const double words = static_cast<double>(GetRecorderStats().words_written);
  DiscardRecording();
  return words / n;
}

template <typename A, typename B>
void Compare(benchmark::State& state, A a, B b, double* ns_a, double* ns_b, bool recording) {
  int64_t ta = 0, tb = 0, n = 0;
  for (auto _ : state) {
    if (recording) {
      state.PauseTiming();
      DiscardRecording();
      StartSession();
      state.ResumeTiming();
    }
    int64_t t0 = ThreadCpuNs();
    a(kBatch);
    int64_t t1 = ThreadCpuNs();
    b(kBatch);
    int64_t t2 = ThreadCpuNs();
    ta += t1 - t0;
    tb += t2 - t1;
    n += kBatch;
  }
  if (recording) DiscardRecording();
  *ns_a = static_cast<double>(ta) / n;
  *ns_b = static_cast<double>(tb) / n;
}

// Recording: an NVTX push/pop pair through tbprof vs a TBPROF_SCOPE (goal <= 1.5x).
void BM_NvtxPushPopOn(benchmark::State& state) {
  InitClock();
  double nvtx = 0, scope = 0;
  state.counters["words_per_pair"] = WordsPerPair(NvtxLoop, 10000);
  Compare(state, NvtxLoop, ScopeLoop, &nvtx, &scope, true);
  state.counters["ns_nvtx_pair"] = nvtx;
  state.counters["ns_tbprof_scope"] = scope;
  state.counters["ratio_vs_scope"] = nvtx / scope;
}
BENCHMARK(BM_NvtxPushPopOn);

// Same with a registered string in a domain (no message hashing or comparison).
void BM_NvtxRegisteredOn(benchmark::State& state) {
  InitClock();
  double nvtx = 0, scope = 0;
  state.counters["words_per_pair"] = WordsPerPair(NvtxRegisteredLoop, 10000);
  Compare(state, NvtxRegisteredLoop, ScopeLoop, &nvtx, &scope, true);
  state.counters["ns_nvtx_pair"] = nvtx;
  state.counters["ns_tbprof_scope"] = scope;
  state.counters["ratio_vs_scope"] = nvtx / scope;
}
BENCHMARK(BM_NvtxRegisteredOn);

// Not recording (TBPROF=1, between captures): tbprof's hooks vs NVTX with no tool (goal: at
// most 2 ns more per pair).
void BM_NvtxPushPopOff(benchmark::State& state) {
  DiscardRecording();
  double tool = 0, none = 0;
  Compare(state, NvtxLoop, NvtxNoToolLoop, &tool, &none, false);
  state.counters["ns_tool_off"] = tool;
  state.counters["ns_no_tool"] = none;
  state.counters["ns_over_no_tool"] = tool - none;
}
BENCHMARK(BM_NvtxPushPopOff);

}  // namespace
}  // namespace tbprof::internal

int main(int argc, char** argv) {
  // The tool attaches at the first NVTX call, with TBPROF=1 (no capture runs by itself).
  setenv("TBPROF", "1", 1);
  unsetenv("TBPROF_STEPS");
  unsetenv("NVTX_INJECTION64_PATH");
  tbprof::internal::g_domain = nvtxDomainCreateA("bench");
  tbprof::internal::g_registered =
      nvtxDomainRegisterStringA(tbprof::internal::g_domain, "bench_range");
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
