// A DeviceSource that replays hand-packed CUPTI activity buffers through the real decoding,
// clock conversion and event building of cupti/, as if CUPTI had delivered them during the
// session. CPU-only tests use it to drive a whole capture (and the merge and export steps
// after it) without a GPU.
#ifndef TBPROF_TESTS_FAKES_FAKE_DEVICE_SOURCE_H_
#define TBPROF_TESTS_FAKES_FAKE_DEVICE_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "cupti/clock_sync.h"
#include "cupti/graph_nodes.h"
#include "src/trace/device_source.h"
#include "src/trace/trace_data.h"
#include "tests/fakes/cupti_activity_builder.h"

namespace tbprof::internal::cupti {
struct CuptiApi;
}  // namespace tbprof::internal::cupti

namespace tbprof::testing {

struct FakeDeviceSourceConfig {
  // Buffers "completed" by CUPTI during the session, decoded in this order at Collect().
  std::vector<ActivityBuffer> buffers;
  // What cuptiActivityGetNumDroppedRecords reported over the session.
  uint64_t dropped_records = 0;
  // Devices the fake driver reports (limits for occupancy, names).
  std::vector<internal::DeviceInfo> devices;
  // Empty: records are on the host clock already (CUPTI's timestamp callback). Otherwise the
  // records are on another clock, converted with these paired samples.
  std::vector<internal::cupti::ClockSample> clock_samples;
  // Walk the buffers with this library's cuptiActivityGetNextRecord instead of the built-in
  // walker (must outlive the source).
  const internal::cupti::CuptiApi* cupti = nullptr;
  // What Start() returns (e.g. Unavailable, to test the CPU-only fallback).
  absl::Status start_status;
  // Correlation id -> OS thread id, as the launch-callback fallback records it.
  absl::flat_hash_map<uint32_t, int64_t> launch_tids;
  // Cap on kept records (like DeviceSourceOptions::max_buffer_bytes for the real source).
  size_t max_records = SIZE_MAX;
  // What CUPTI's graph resource callbacks taught, shared by the sessions of one "process" (the
  // real tracer keeps it for the process). Null: the source keeps its own.
  std::shared_ptr<internal::cupti::GraphNodeRegistry> graphs;
};

// Fake CUDA graph handles: the id CUPTI would report for the handle is kept in its bits, and
// FakeGraphIdFunctions() reads it back, standing in for cuptiGetGraphNodeId / cuptiGetGraphId.
CUgraphNode FakeGraphNode(uint64_t node_id);
CUgraph FakeGraph(uint32_t graph_id);
internal::cupti::GraphIdFunctions FakeGraphIdFunctions();
// The CUpti_GraphData of a GRAPHNODE_CREATED / GRAPHNODE_CLONED / GRAPH_CLONED callback.
CUpti_GraphData MakeGraphNodeCreated(uint32_t graph_id, uint64_t node_id);
CUpti_GraphData MakeGraphNodeCloned(uint32_t graph_id, uint64_t node_id, uint32_t original_graph,
                                    uint64_t original_node);
CUpti_GraphData MakeGraphCloned(uint32_t graph_id, uint32_t original_graph);

class FakeDeviceSource final : public internal::DeviceSource {
 public:
  explicit FakeDeviceSource(FakeDeviceSourceConfig config);

  absl::Status Start(const internal::DeviceSourceOptions& options) override;
  absl::Status Stop() override;
  // Decodes every buffer and builds the events into `trace` (once; later calls add nothing).
  absl::Status Collect(internal::Trace* trace) override;
  std::string Describe() const override { return "fake"; }

  // A buffer CUPTI "completes" now (e.g. built inside the test's OpScope with real timestamps).
  void AddBuffer(ActivityBuffer buffer) { config_.buffers.push_back(std::move(buffer)); }

  // A CUPTI resource callback about a CUDA graph (cbid of CUPTI_CB_DOMAIN_RESOURCE, `data` its
  // CUpti_GraphData), delivered now on the calling thread as CUPTI delivers it inside the call
  // that captures, adds or clones: it goes through the real callback handling with the calling
  // thread's id and the host clock, as in the real tracer.
  void GraphCallback(CUpti_CallbackId cbid, const CUpti_GraphData& data);

  int start_calls() const { return start_calls_; }
  int stop_calls() const { return stop_calls_; }

 private:
  FakeDeviceSourceConfig config_;
  internal::DeviceSourceOptions options_;
  std::shared_ptr<internal::cupti::GraphNodeRegistry> graphs_;
  bool started_ = false;
  bool collected_ = false;
  int start_calls_ = 0;
  int stop_calls_ = 0;
};

}  // namespace tbprof::testing

#endif  // TBPROF_TESTS_FAKES_FAKE_DEVICE_SOURCE_H_
