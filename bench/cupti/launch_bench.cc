// Launch-bound cost of GPU tracing on a real GPU: 100,000 empty kernels per iteration, untraced
// and with the CUPTI device source recording (kernel + launch API records, flush thread).
// Counters: ns_per_launch, and "ratio_vs_untraced" (traced time / untraced time of the same run).
// BM_LaunchCuptiAlone is the floor: CUPTI's activity API alone (kernel + runtime API records into
// plain buffers, no tbprof code), run in its own process since CUPTI has one set of buffer
// callbacks per process. Needs a GPU and a driver; elsewhere every benchmark reports an error
// and exits cleanly.
//
//   build/bench/cupti/cupti_launch_bench --benchmark_min_time=1 \
//     --benchmark_filter='BM_Launch(Untraced|Traced)/'
//   build/bench/cupti/cupti_launch_bench --benchmark_min_time=1 \
//     --benchmark_filter='BM_Launch(Untraced|CuptiAlone)/'
//   build/bench/cupti/cupti_launch_bench --benchmark_filter='BM_GraphReplay'
#include <cuda_runtime.h>
#include <cupti.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "cupti/clock_sync.h"
#include "cupti/cupti_api.h"
#include "src/trace/device_source.h"
#include "src/trace/trace_data.h"

cudaError_t TbprofLaunchEmptyKernels(int n, cudaStream_t stream);
cudaError_t TbprofCaptureEmptyGraph(int nodes, cudaStream_t stream, cudaGraphExec_t* exec);

namespace tbprof::internal {
namespace {

constexpr int kLaunches = 100000;

bool GpuReady(benchmark::State& state) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    state.SkipWithError("no CUDA GPU");
    return false;
  }
  return true;
}

// Seconds for kLaunches launches + sync.
double LaunchBatch() {
  const auto t0 = std::chrono::steady_clock::now();
  TbprofLaunchEmptyKernels(kLaunches, nullptr);
  cudaDeviceSynchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double untraced_seconds = 0;
bool tbprof_started = false;  // tbprof's tracer owns CUPTI's buffer callbacks from then on.

void BM_LaunchUntraced(benchmark::State& state) {
  if (!GpuReady(state)) return;
  LaunchBatch();  // Warm-up: module load, context.
  double total = 0;
  for (auto _ : state) total += LaunchBatch();
  untraced_seconds = total / state.iterations();
  state.counters["ns_per_launch"] = untraced_seconds * 1e9 / kLaunches;
  state.SetItemsProcessed(state.iterations() * kLaunches);
}
BENCHMARK(BM_LaunchUntraced)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LaunchTraced(benchmark::State& state) {
  if (!GpuReady(state)) return;
  std::unique_ptr<DeviceSource> source = CreateGpuDeviceSource();
  DeviceSourceOptions options;
  options.session_start_ns = cupti::HostClockNs();
  options.max_buffer_bytes = 1ull << 30;
  tbprof_started = true;
  if (absl::Status s = source->Start(options); !s.ok()) {
    state.SkipWithError(std::string(s.message()).c_str());
    return;
  }
  LaunchBatch();  // Warm-up with CUPTI's instrumentation in place.
  double total = 0;
  for (auto _ : state) total += LaunchBatch();
  const double traced = total / state.iterations();
  source->Stop().IgnoreError();
  Trace trace;
  source->Collect(&trace).IgnoreError();
  state.counters["ns_per_launch"] = traced * 1e9 / kLaunches;
  if (untraced_seconds > 0) state.counters["ratio_vs_untraced"] = traced / untraced_seconds;
  state.counters["kernel_events"] = static_cast<double>(trace.device_events.size());
  state.counters["warnings"] = static_cast<double>(trace.warnings.size());
  state.SetItemsProcessed(state.iterations() * kLaunches);
}
BENCHMARK(BM_LaunchTraced)->Unit(benchmark::kMillisecond)->UseRealTime();

// Replay of a captured 100-kernel graph, 200 launches per iteration, untraced and traced: what
// graph attribution adds at replay is nothing (no tbprof callback runs on cudaGraphLaunch), so the
// traced ratio here is CUPTI's own per-kernel cost. Counter "ratio_vs_untraced".
constexpr int kGraphNodes = 100;
constexpr int kGraphLaunches = 200;
double graph_untraced_seconds = 0;

double GraphBatch(cudaGraphExec_t exec, cudaStream_t stream) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kGraphLaunches; ++i) cudaGraphLaunch(exec, stream);
  cudaStreamSynchronize(stream);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void GraphReplay(benchmark::State& state, bool traced) {
  if (!GpuReady(state)) return;
  cudaStream_t stream = nullptr;
  cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
  std::unique_ptr<DeviceSource> source;
  if (traced) {
    tbprof_started = true;
    source = CreateGpuDeviceSource();
    DeviceSourceOptions options;
    options.session_start_ns = cupti::HostClockNs();
    options.max_buffer_bytes = 1ull << 30;
    if (absl::Status s = source->Start(options); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
  }
  cudaGraphExec_t exec = nullptr;
  if (TbprofCaptureEmptyGraph(kGraphNodes, stream, &exec) != cudaSuccess) {
    state.SkipWithError("graph capture failed");
    return;
  }
  GraphBatch(exec, stream);  // Warm-up.
  double total = 0;
  for (auto _ : state) total += GraphBatch(exec, stream);
  const double seconds = total / state.iterations();
  if (traced) {
    source->Stop().IgnoreError();
    Trace trace;
    source->Collect(&trace).IgnoreError();
    state.counters["kernel_events"] = static_cast<double>(trace.device_events.size());
    if (graph_untraced_seconds > 0)
      state.counters["ratio_vs_untraced"] = seconds / graph_untraced_seconds;
  } else {
    graph_untraced_seconds = seconds;
  }
  state.counters["ns_per_kernel"] = seconds * 1e9 / (kGraphNodes * kGraphLaunches);
  cudaGraphExecDestroy(exec);
  cudaStreamDestroy(stream);
}

void BM_GraphReplayUntraced(benchmark::State& state) { GraphReplay(state, false); }
BENCHMARK(BM_GraphReplayUntraced)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_GraphReplayTraced(benchmark::State& state) { GraphReplay(state, true); }
BENCHMARK(BM_GraphReplayTraced)->Unit(benchmark::kMillisecond)->UseRealTime();

// CUPTI alone: 8 MB buffers from malloc, records counted (walked) on completion.
std::atomic<uint64_t> cupti_alone_records{0};
const cupti::CuptiApi* cupti_alone_api = nullptr;

void CUPTIAPI AloneRequested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *size = 8u << 20;
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(8, *size));
  *max_records = 0;
}

void CUPTIAPI AloneCompleted(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid) {
  CUpti_Activity* record = nullptr;
  uint64_t n = 0;
  while (cupti_alone_api->ActivityGetNextRecord(buffer, valid, &record) == CUPTI_SUCCESS) ++n;
  cupti_alone_records += n;
  std::free(buffer);
}

void BM_LaunchCuptiAlone(benchmark::State& state) {
  if (!GpuReady(state)) return;
  if (tbprof_started) {
    state.SkipWithError("run alone: --benchmark_filter='BM_Launch(Untraced|CuptiAlone)/'");
    return;
  }
  auto api = cupti::LoadCupti(
      cupti::CuptiCandidatePaths(std::getenv("TBPROF_CUPTI_PATH"), std::getenv("CUDA_HOME")));
  if (!api.ok()) {
    state.SkipWithError(std::string(api.status().message()).c_str());
    return;
  }
  static std::unique_ptr<cupti::CuptiApi> keep;  // CUPTI calls back until the process ends.
  keep = std::move(*api);
  cupti_alone_api = keep.get();
  if (keep->ActivityRegisterCallbacks(&AloneRequested, &AloneCompleted) != CUPTI_SUCCESS ||
      keep->ActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) != CUPTI_SUCCESS ||
      keep->ActivityEnable(CUPTI_ACTIVITY_KIND_RUNTIME) != CUPTI_SUCCESS) {
    state.SkipWithError("CUPTI activity could not be enabled");
    return;
  }
  LaunchBatch();  // Warm-up with CUPTI's instrumentation in place.
  double total = 0;
  for (auto _ : state) total += LaunchBatch();
  const double traced = total / state.iterations();
  keep->ActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  keep->ActivityDisable(CUPTI_ACTIVITY_KIND_RUNTIME);
  state.counters["ns_per_launch"] = traced * 1e9 / kLaunches;
  if (untraced_seconds > 0) state.counters["ratio_vs_untraced"] = traced / untraced_seconds;
  state.counters["records"] = static_cast<double>(cupti_alone_records.load());
  state.SetItemsProcessed(state.iterations() * kLaunches);
}
BENCHMARK(BM_LaunchCuptiAlone)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace tbprof::internal

BENCHMARK_MAIN();
