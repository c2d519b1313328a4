#include "tests/fakes/fake_device_source.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "cupti/activity_decoder.h"
#include "cupti/event_builder.h"

namespace tbprof::testing {

using internal::cupti::BuildOptions;
using internal::cupti::BuiltinRecordWalker;
using internal::cupti::ClockConverter;
using internal::cupti::CuptiRecordWalker;
using internal::cupti::DecodedActivities;
using internal::cupti::DecodeOptions;
using internal::cupti::RecordWalker;

namespace {

CUptiResult FakeNodeId(CUgraphNode node, uint64_t* id) {
  if (id == nullptr) return CUPTI_ERROR_INVALID_PARAMETER;
  *id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(node));
  return CUPTI_SUCCESS;
}

CUptiResult FakeGraphId(CUgraph graph, uint32_t* id) {
  if (id == nullptr) return CUPTI_ERROR_INVALID_PARAMETER;
  *id = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(graph));
  return CUPTI_SUCCESS;
}

}  // namespace

CUgraphNode FakeGraphNode(uint64_t node_id) {
  return reinterpret_cast<CUgraphNode>(static_cast<uintptr_t>(node_id));
}

CUgraph FakeGraph(uint32_t graph_id) {
  return reinterpret_cast<CUgraph>(static_cast<uintptr_t>(graph_id));
}

internal::cupti::GraphIdFunctions FakeGraphIdFunctions() {
  internal::cupti::GraphIdFunctions f;
  f.node_id = &FakeNodeId;
  f.graph_id = &FakeGraphId;
  return f;
}

CUpti_GraphData MakeGraphNodeCreated(uint32_t graph_id, uint64_t node_id) {
  CUpti_GraphData d{};
  d.graph = FakeGraph(graph_id);
  d.node = FakeGraphNode(node_id);
  d.nodeType = CU_GRAPH_NODE_TYPE_KERNEL;
  return d;
}

CUpti_GraphData MakeGraphNodeCloned(uint32_t graph_id, uint64_t node_id, uint32_t original_graph,
                                    uint64_t original_node) {
  CUpti_GraphData d = MakeGraphNodeCreated(graph_id, node_id);
  d.originalGraph = FakeGraph(original_graph);
  d.originalNode = FakeGraphNode(original_node);
  return d;
}

CUpti_GraphData MakeGraphCloned(uint32_t graph_id, uint32_t original_graph) {
  CUpti_GraphData d{};
  d.graph = FakeGraph(graph_id);
  d.originalGraph = FakeGraph(original_graph);
  return d;
}

FakeDeviceSource::FakeDeviceSource(FakeDeviceSourceConfig config)
    : config_(std::move(config)), graphs_(config_.graphs) {
  if (graphs_ == nullptr) graphs_ = std::make_shared<internal::cupti::GraphNodeRegistry>();
}

void FakeDeviceSource::GraphCallback(CUpti_CallbackId cbid, const CUpti_GraphData& data) {
  internal::cupti::OnGraphResourceCallback(cbid, &data, FakeGraphIdFunctions(), started_,
                                           static_cast<int64_t>(syscall(SYS_gettid)),
                                           internal::cupti::HostClockNs(), graphs_.get());
}

absl::Status FakeDeviceSource::Start(const internal::DeviceSourceOptions& options) {
  ++start_calls_;
  if (!config_.start_status.ok()) return config_.start_status;
  if (started_) return absl::FailedPreconditionError("fake device source already started");
  options_ = options;
  graphs_->DiscardPending();
  started_ = true;
  collected_ = false;
  return absl::OkStatus();
}

absl::Status FakeDeviceSource::Stop() {
  ++stop_calls_;
  started_ = false;
  return absl::OkStatus();
}

absl::Status FakeDeviceSource::Collect(internal::Trace* trace) {
  if (trace == nullptr) return absl::InvalidArgumentError("Collect: null trace");
  if (started_) return absl::FailedPreconditionError("Collect() before Stop()");
  if (collected_ || !config_.start_status.ok()) return absl::OkStatus();
  collected_ = true;

  std::unique_ptr<RecordWalker> walker;
  if (config_.cupti != nullptr) {
    walker = std::make_unique<CuptiRecordWalker>(config_.cupti);
  } else {
    walker = std::make_unique<BuiltinRecordWalker>();
  }
  DecodedActivities decoded;
  DecodeOptions decode;
  decode.max_records = config_.max_records;
  for (ActivityBuffer& buffer : config_.buffers) {
    internal::cupti::DecodeActivityBuffer(buffer.data(), buffer.size(), *walker, decode, &decoded);
  }
  decoded.counters.cupti_dropped += config_.dropped_records;

  BuildOptions build;
  build.session_start_ns = options_.session_start_ns;
  build.devices = config_.devices;
  build.launch_tids = config_.launch_tids;
  if (!config_.clock_samples.empty()) {
    auto clock = ClockConverter::FromSamples(config_.clock_samples);
    if (!clock.ok()) return clock.status();
    build.clock = *clock;
  }
  absl::Status status = internal::cupti::BuildTrace(decoded, build, trace);
  graphs_->Resolve(options_.session_start_ns, trace);
  return status;
}

}  // namespace tbprof::testing
