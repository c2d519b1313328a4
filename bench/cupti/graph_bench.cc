// CPU-side cost of attributing CUDA-graph work to ops (cupti/graph_nodes.h).
//
// Capture time: what tbprof's resource callback adds per graph node created or cloned (CUPTI's
// own callback dispatch not included): BM_NodeCreatedCallback during a session,
// BM_NodeCreatedOutsideSession, BM_NodeClonedCallback (instantiation clones every node).
// Replay time: no tbprof code runs on cudaGraphLaunch (no callback is enabled for it); what is
// left is the work at collection, BM_CollectGraphKernels (BuildTrace + the registry's Resolve
// for 100,000 replayed kernels of a 100-node graph) against BM_CollectPlainKernels (BuildTrace of
// the same records without graph ids); counter "ratio_vs_plain" (same run, thread CPU time).
//
//   build/bench/cupti/cupti_graph_bench --benchmark_min_time=0.5
#include <cupti.h>
#include <time.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "cupti/activity_decoder.h"
#include "cupti/event_builder.h"
#include "cupti/graph_nodes.h"
#include "src/trace/trace_data.h"
#include "tests/fakes/cupti_activity_builder.h"
#include "tests/fakes/fake_device_source.h"

namespace tbprof::internal::cupti {
namespace {

using ::tbprof::testing::ActivityBuffer;
using ::tbprof::testing::ActivityBufferBuilder;

constexpr int kNodes = 100;
constexpr int kReplays = 1000;

void BM_NodeCreatedCallback(benchmark::State& state) {
  const GraphIdFunctions ids = ::tbprof::testing::FakeGraphIdFunctions();
  uint64_t node = 1;
  for (auto _ : state) {
    GraphNodeRegistry registry;
    for (int i = 0; i < 1000; ++i) {
      const CUpti_GraphData data = ::tbprof::testing::MakeGraphNodeCreated(1, node++);
      OnGraphResourceCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED, &data, ids, true, 42,
                              HostClockNs(), &registry);
    }
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.counters["ns_per_node"] =
      benchmark::Counter(static_cast<double>(state.iterations() * 1000),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_NodeCreatedCallback);

void BM_NodeCreatedOutsideSession(benchmark::State& state) {
  const GraphIdFunctions ids = ::tbprof::testing::FakeGraphIdFunctions();
  GraphNodeRegistry registry;
  const CUpti_GraphData data = ::tbprof::testing::MakeGraphNodeCreated(1, 7);
  for (auto _ : state) {
    benchmark::DoNotOptimize(OnGraphResourceCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED, &data,
                                                     ids, false, 0, 0, &registry));
  }
}
BENCHMARK(BM_NodeCreatedOutsideSession);

void BM_NodeClonedCallback(benchmark::State& state) {
  const GraphIdFunctions ids = ::tbprof::testing::FakeGraphIdFunctions();
  uint64_t node = 1;
  GraphNodeRegistry registry;
  for (auto _ : state) {
    const CUpti_GraphData data =
        ::tbprof::testing::MakeGraphNodeCloned(2, (node % 100000) + 1000000, 1, node % 100000 + 1);
    ++node;
    OnGraphResourceCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED, &data, ids, true, 0, 0,
                            &registry);
  }
}
BENCHMARK(BM_NodeClonedCallback);

// kReplays replays of a kNodes-kernel graph (graph ids set or not), decoded.
DecodedActivities Replays(bool graph) {
  ActivityBufferBuilder b;
  uint64_t t = 1'000'000;
  for (int r = 0; r < kReplays; ++r) {
    for (int n = 0; n < kNodes; ++n) {
      CUpti_ActivityKernel10 k = ::tbprof::testing::MakeKernel("_Z4gemmv", t, t + 500, 1 + r);
      if (graph) {
        k.graphId = 1;
        k.graphNodeId = 1000 + n;
      }
      b.Add(k);
      t += 600;
    }
  }
  ActivityBuffer buffer = b.Build();
  DecodedActivities decoded;
  DecodeActivityBuffer(buffer.data(), buffer.size(), BuiltinRecordWalker(), DecodeOptions(),
                       &decoded);
  return decoded;
}

// A trace whose only thread captured kNodes nodes, one per op.
Trace CaptureTrace() {
  Trace t;
  ThreadTrack track;
  track.tid = 42;
  for (int n = 0; n < kNodes; ++n) {
    OpInfo op;
    op.name = "layer/op" + std::to_string(n);
    op.type = "Op";
    t.ops.push_back(op);
    HostEvent e;
    e.kind = HostEventKind::kOp;
    e.op_index = n;
    e.start_ns = n * 100;
    e.end_ns = n * 100 + 50;
    track.events.push_back(e);
  }
  t.threads.push_back(track);
  return t;
}

// Thread CPU time: the machine may be shared, wall time is not the work done.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

double plain_seconds = 0;

void BM_CollectPlainKernels(benchmark::State& state) {
  const DecodedActivities decoded = Replays(false);
  double total = 0;
  for (auto _ : state) {
    Trace trace = CaptureTrace();
    const double t0 = CpuSeconds();
    BuildTrace(decoded, BuildOptions(), &trace).IgnoreError();
    total += CpuSeconds() - t0;
    benchmark::DoNotOptimize(trace.device_events.data());
  }
  plain_seconds = total / state.iterations();
  state.SetItemsProcessed(state.iterations() * kNodes * kReplays);
}
BENCHMARK(BM_CollectPlainKernels)->Unit(benchmark::kMillisecond);

void BM_CollectGraphKernels(benchmark::State& state) {
  const DecodedActivities decoded = Replays(true);
  const GraphIdFunctions ids = ::tbprof::testing::FakeGraphIdFunctions();
  double total = 0;
  for (auto _ : state) {
    state.PauseTiming();
    GraphNodeRegistry registry;
    for (int n = 0; n < kNodes; ++n) {
      registry.NodeCreated(1 + n, 1, 42, n * 100 + 10);
      registry.NodeCloned(1000 + n, 1 + n);
    }
    Trace trace = CaptureTrace();
    state.ResumeTiming();
    const double t0 = CpuSeconds();
    BuildTrace(decoded, BuildOptions(), &trace).IgnoreError();
    registry.Resolve(0, &trace);
    total += CpuSeconds() - t0;
    benchmark::DoNotOptimize(trace.device_events.data());
  }
  state.SetItemsProcessed(state.iterations() * kNodes * kReplays);
  if (plain_seconds > 0)
    state.counters["ratio_vs_plain"] = total / state.iterations() / plain_seconds;
}
BENCHMARK(BM_CollectGraphKernels)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tbprof::internal::cupti

BENCHMARK_MAIN();
