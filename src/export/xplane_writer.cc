#include "src/export/xplane_writer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "src/export/proto_wire.h"
#include "src/export/text_util.h"
#include "src/export/timeline.h"
#include "src/export/training_marker.h"
#include "src/memory/memory_analysis.h"
#include "tbprof/graph.h"

namespace tbprof::internal {
namespace {

using wire::BytesField;
using wire::Int64Field;
using wire::LengthDelimitedSize;
using wire::Message;
using wire::MessageHeader;
using wire::SizeSink;
using wire::VarintField;
using wire::VarintSize;
using wire::WriteSink;

// Field numbers of tensorflow.profiler's xplane.proto (spec §2).
namespace xspace {
constexpr uint32_t kPlanes = 1, kErrors = 2, kWarnings = 3, kHostnames = 4;
}
namespace xplane {
constexpr uint32_t kId = 1, kName = 2, kLines = 3, kEventMetadata = 4, kStatMetadata = 5,
                   kStats = 6;
}
namespace xline {
constexpr uint32_t kId = 1, kName = 2, kTimestampNs = 3, kEvents = 4, kDurationPs = 9;
}
namespace xevent {
constexpr uint32_t kMetadataId = 1, kOffsetPs = 2, kDurationPs = 3, kStats = 4;
}
namespace xstat {
constexpr uint32_t kMetadataId = 1, kDouble = 2, kUint64 = 3, kInt64 = 4, kStr = 5;
}
// XEventMetadata / XStatMetadata, and map entries.
constexpr uint32_t kMetaId = 1, kMetaName = 2, kMapKey = 1, kMapValue = 2;

constexpr int64_t kHostPlaneId = 49;  // TensorFlow's id for "/host:CPU".

// The stats this writer emits, identified in the file by name (spec §3.4).
enum Stat : uint8_t {
  kR,
  kStepNum,
  kCorrelationId,
  kDeviceId,
  kKernelDetails,
  kMemcpyDetails,
  kMemsetDetails,
  kTfOp,
  kDeviceVendor,
  kGpuDeviceName,
  kClockRate,
  kCoreCount,
  kMemoryBandwidth,
  kMemorySize,
  kComputeCapMajor,
  kComputeCapMinor,
  kProfileStartTime,
  kProfileStopTime,
  kCudaGraphId,
  kCudaGraphOrigId,
  kCudaGraphNodeId,
  kRank,
  kWorldSize,
  kLineTimeBase,
  kProducerType,
  kProducerId,
  kConsumerType,
  kConsumerId,
  kInputs,
  kOutputs,
  kOutputBytes,
  kLongName,
  // Memory events (xprof's memory_profile tool reads them by these names).
  kAllocatorName,
  kBytesReserved,
  kBytesAllocated,
  kBytesAvailable,
  kFragmentation,
  kPeakBytesInUse,
  kRequestedBytes,
  kAllocationBytes,
  kAddr,
  kRegionType,
  kDataType,
  kTensorShape,
  kMemoryStep,
  kMemoryScope,
  kNumStats,
};
constexpr std::string_view kStatNames[kNumStats] = {
    "_r",
    "step_num",
    "correlation_id",
    "device_id",
    "kernel_details",
    "memcpy_details",
    "Memset_details",
    "tf_op",
    "device_vendor",
    "gpu_device_name",
    "clock_rate",
    "core_count",
    "memory_bandwidth",
    "memory_size",
    "compute_cap_major",
    "compute_cap_minor",
    "profile_start_time",
    "profile_stop_time",
    "cuda_graph_id",  // xprof's names for the graph ids.
    "cuda_graph_orig_id",
    "cuda_graph_node_id",  // tbprof's: xprof has no stat for the node.
    "tbprof_rank",
    "tbprof_world_size",
    "tbprof_line_time_base_ns",
    "_pt",
    "_p",
    "_ct",
    "_c",
    "inputs",
    "outputs",
    "output_bytes",
    "long_name",
    "allocator_name",
    "bytes_reserved",
    "bytes_allocated",
    "bytes_available",
    "fragmentation",
    "peak_bytes_in_use",
    "requested_bytes",
    "allocation_bytes",
    "addr",
    "region_type",
    "data_type",
    "shape",        // xprof's name for its kTensorShapes stat.
    "tbprof_step",  // Not group_id: see MemoryEventBody.
    "tbprof_scope",
};
// Stat metadata ids are 1..kNumStats, so each encodes in one byte whatever subset a plane uses:
// event sizes can be computed before the ids are assigned.
static_assert(kNumStats < 128);
using StatIds = std::array<uint8_t, kNumStats>;
constexpr StatIds kSizingIds = [] {
  StatIds ids{};
  for (auto& id : ids) id = 1;
  return ids;
}();

// One XStat as a (field 4 / field 6) message.
template <typename S>
inline void IntStat(S& s, uint32_t field, uint8_t id, int64_t v) {
  MessageHeader(s, field, 1 + 1 + 1 + VarintSize(static_cast<uint64_t>(v)));
  VarintField(s, xstat::kMetadataId, id);
  Int64Field(s, xstat::kInt64, v);
}
template <typename S>
inline void UintStat(S& s, uint32_t field, uint8_t id, uint64_t v) {
  MessageHeader(s, field, 1 + 1 + 1 + VarintSize(v));
  VarintField(s, xstat::kMetadataId, id);
  VarintField(s, xstat::kUint64, v);
}
template <typename S>
inline void DoubleStat(S& s, uint32_t field, uint8_t id, double v) {
  MessageHeader(s, field, 1 + 1 + 1 + 8);
  VarintField(s, xstat::kMetadataId, id);
  wire::DoubleField(s, xstat::kDouble, v);
}
template <typename S>
inline void StrStat(S& s, uint32_t field, uint8_t id, std::string_view v) {
  MessageHeader(s, field, 1 + 1 + LengthDelimitedSize(xstat::kStr, v.size()));
  VarintField(s, xstat::kMetadataId, id);
  BytesField(s, xstat::kStr, v);
}

// A plane-level stat (few per plane; owns its string).
struct PlaneStat {
  enum Type : uint8_t { kInt, kUint, kStr } type = kInt;
  Stat stat = kR;
  int64_t i = 0;
  uint64_t u = 0;
  std::string s;

  static PlaneStat Int(Stat stat, int64_t v) {
    PlaneStat ps;
    ps.type = kInt;
    ps.stat = stat;
    ps.i = v;
    return ps;
  }
  static PlaneStat Uint(Stat stat, uint64_t v) {
    PlaneStat ps;
    ps.type = kUint;
    ps.stat = stat;
    ps.u = v;
    return ps;
  }
  static PlaneStat Str(Stat stat, std::string v) {
    PlaneStat ps;
    ps.type = kStr;
    ps.stat = stat;
    ps.s = std::move(v);
    return ps;
  }
};

template <typename S>
void WritePlaneStat(S& s, const PlaneStat& st, const StatIds& ids) {
  switch (st.type) {
    case PlaneStat::kInt:
      IntStat(s, xplane::kStats, ids[st.stat], st.i);
      break;
    case PlaneStat::kUint:
      UintStat(s, xplane::kStats, ids[st.stat], st.u);
      break;
    case PlaneStat::kStr:
      StrStat(s, xplane::kStats, ids[st.stat], st.s);
      break;
  }
}

// Event metadata of one plane: ids from 1 in order of first use, one per distinct name.
class EventMetadataTable {
 public:
  explicit EventMetadataTable(const Trace& trace)
      : trace_(trace), by_name_id_(trace.names.size(), 0) {}

  uint32_t ForNameId(NameId id) {
    if (id >= by_name_id_.size()) return ForString(NameOf(trace_, id));
    uint32_t& slot = by_name_id_[id];
    if (slot == 0) slot = ForString(trace_.names[id]);
    return slot;
  }

  // A device event's name: an interned name by its id, any other (a name the trace does not
  // hold) by its text.
  uint32_t ForDeviceEvent(const DeviceEvent& e) {
    const std::string_view name = DeviceEventName(trace_, e);
    const bool interned =
        e.name < trace_.names.size() && name.data() == trace_.names[e.name].data();
    return interned ? ForNameId(e.name) : ForString(name);
  }

  // `name` must outlive the table (it is a key).
  uint32_t ForString(std::string_view name) {
    auto [it, inserted] = by_string_.try_emplace(name, static_cast<uint32_t>(names_.size() + 1));
    if (inserted) {
      names_.push_back(ToValidUtf8(name));
      if (IsTfLoopName(names_.back())) {
        renamed_.push_back(names_.back());
        names_.back().push_back('_');
      }
    }
    return it->second;
  }

  const std::vector<std::string>& names() const { return names_; }
  // Names that were TensorFlow loop markers, exported with a trailing '_'.
  const std::vector<std::string>& renamed() const { return renamed_; }

 private:
  // xprof skips step grouping entirely when any event is named like one of TensorFlow's loop
  // markers (spec §3.3), so such names never reach the file unchanged.
  static bool IsTfLoopName(std::string_view name) {
    return name == "WhileOp-EvalCond" || name == "WhileOp-StartBody" || name == "ForOp" ||
           name == "ParallelForOp" || name == "ForeverOp";
  }

  const Trace& trace_;
  std::vector<uint32_t> by_name_id_;
  std::vector<std::string> renamed_;
  std::unordered_map<std::string_view, uint32_t> by_string_;
  std::vector<std::string> names_;  // names_[id - 1].
};

// Everything needed to write one plane, computed before writing so that every length prefix
// is known.
struct PlanePlan {
  int64_t id = 0;
  std::string name;
  const TimelinePlane* timeline = nullptr;
  std::vector<std::string> event_names;  // Index = metadata id - 1.
  // Host plane: the op (index into Trace::ops) of each event metadata, -1 for none; its
  // tensors become stats of the metadata (the trace viewer's Details pane shows them).
  std::vector<int32_t> event_ops;
  const Trace* trace = nullptr;
  std::vector<std::string> renamed;  // Loop-marker names that got a trailing '_'.
  std::array<bool, kNumStats> used{};
  StatIds ids{};
  std::vector<PlaneStat> stats;
  std::vector<uint64_t> line_sizes;  // Body sizes, one per timeline line (+ the memory line).
  // Host plane: the line of memory events, after the thread lines (see PlanMemoryLine).
  bool memory_line = false;
  int64_t memory_line_id = 0;
  std::vector<int64_t> memory_offsets_ps;  // Per written memory event, strictly increasing.
  std::vector<size_t> memory_events;       // Indices into Trace::memory_events written.
  std::vector<std::string> memory_tf_ops;
  std::vector<std::string> memory_scopes;
  std::vector<std::string> memory_shapes;
  std::vector<uint32_t> memory_sizes;
  // Device planes: the details string of event i is details[detail_off[i], detail_off[i+1]).
  std::string details;
  std::vector<uint32_t> detail_off;
  size_t body_size = 0;

  void AssignStatIds() {
    uint8_t next = 1;
    for (int s = 0; s < kNumStats; ++s) ids[s] = used[s] ? next++ : 0;
  }
};

// Line timestamps of a rank of a multi-process job count from 00:00 UTC of the capture's day
// (CLOCK_REALTIME), a base every rank computes on its own: the ranks' files then share one time
// base (xprof aligns the steps of several hosts by time overlap), and times stay far below the
// int64/uint64 picosecond range the consumer converts them to. 0 (times from the capture start)
// otherwise. Recorded as the Task Environment stat tbprof_line_time_base_ns.
constexpr int64_t kDayNs = int64_t{86400} * 1'000'000'000;
int64_t LineTimeShiftNs(const Trace& trace) {
  if (trace.rank < 0 || trace.start_walltime_ns <= 0) return 0;
  return trace.start_walltime_ns % kDayNs;
}

int64_t LineOrigin(const TimelinePlane& plane, const TimelineLine& line) {
  return line.begin < line.end ? plane.events[line.begin].start_ns : 0;
}

int64_t LineDurationPs(const TimelinePlane& plane, const TimelineLine& line) {
  int64_t last = LineOrigin(plane, line);
  for (uint32_t i = line.begin; i < line.end; ++i) last = std::max(last, plane.events[i].end_ns);
  return (last - LineOrigin(plane, line)) * 1000;
}

template <typename S>
inline void LineHeader(S& s, const TimelineLine& line, int64_t origin_ns) {
  if (line.id != 0) Int64Field(s, xline::kId, line.id);  // proto3: defaults are not written.
  BytesField(s, xline::kName, line.name);
  if (origin_ns != 0) Int64Field(s, xline::kTimestampNs, origin_ns);
}

template <typename S>
inline void LineTrailer(S& s, int64_t duration_ps) {
  if (duration_ps != 0) Int64Field(s, xline::kDurationPs, duration_ps);
}

template <typename S>
inline void EventTimes(S& s, uint32_t meta_id, int64_t offset_ps, int64_t duration_ps) {
  VarintField(s, xevent::kMetadataId, meta_id);
  Int64Field(s, xevent::kOffsetPs, offset_ps);
  if (duration_ps != 0) Int64Field(s, xevent::kDurationPs, duration_ps);
}

template <typename S>
inline void HostEventBody(S& s, uint32_t meta_id, int64_t offset_ps, int64_t duration_ps,
                          const HostEvent& e, const StatIds& ids) {
  EventTimes(s, meta_id, offset_ps, duration_ps);
  if (e.kind == HostEventKind::kStep) {
    IntStat(s, xevent::kStats, ids[kR], 1);
    IntStat(s, xevent::kStats, ids[kStepNum], e.step);
  } else if (e.kind == HostEventKind::kLaunch) {
    if (e.correlation_id != 0) UintStat(s, xevent::kStats, ids[kCorrelationId], e.correlation_id);
    if (e.device_id >= 0) {
      UintStat(s, xevent::kStats, ids[kDeviceId], static_cast<uint64_t>(e.device_id));
    }
  }
  // Producer/consumer context (xprof draws an arrow from producer to consumer and groups by it);
  // context type 0 is xprof's kGeneric.
  if (e.flow_produced != 0) {
    IntStat(s, xevent::kStats, ids[kProducerType], 0);
    UintStat(s, xevent::kStats, ids[kProducerId], e.flow_produced);
  }
  if (e.flow_consumed != 0) {
    IntStat(s, xevent::kStats, ids[kConsumerType], 0);
    UintStat(s, xevent::kStats, ids[kConsumerId], e.flow_consumed);
  }
}

Stat DetailsStat(DeviceEventKind kind) {
  switch (kind) {
    case DeviceEventKind::kKernel:
      return kKernelDetails;
    case DeviceEventKind::kMemcpy:
      return kMemcpyDetails;
    case DeviceEventKind::kMemset:
      return kMemsetDetails;
    default:
      return kNumStats;
  }
}

template <typename S>
inline void DeviceEventBody(S& s, uint32_t meta_id, int64_t offset_ps, int64_t duration_ps,
                            const DeviceEvent& e, std::string_view details, std::string_view tf_op,
                            const StatIds& ids) {
  EventTimes(s, meta_id, offset_ps, duration_ps);
  if (e.correlation_id != 0 && e.kind != DeviceEventKind::kOverhead) {
    UintStat(s, xevent::kStats, ids[kCorrelationId], e.correlation_id);
  }
  const Stat details_stat = DetailsStat(e.kind);
  if (details_stat != kNumStats) StrStat(s, xevent::kStats, ids[details_stat], details);
  if (!tf_op.empty()) StrStat(s, xevent::kStats, ids[kTfOp], tf_op);
  if (e.graph_id != 0) UintStat(s, xevent::kStats, ids[kCudaGraphId], e.graph_id);
  if (e.graph_orig_id != 0) UintStat(s, xevent::kStats, ids[kCudaGraphOrigId], e.graph_orig_id);
  if (e.graph_node_id != 0) UintStat(s, xevent::kStats, ids[kCudaGraphNodeId], e.graph_node_id);
}

// Appends "k:v" text with std::to_chars.
class DetailsFormatter {
 public:
  explicit DetailsFormatter(std::string* out) : out_(out) {}
  DetailsFormatter& Text(std::string_view s) {
    out_->append(s);
    return *this;
  }
  DetailsFormatter& Num(uint64_t v) {
    char buf[24];
    out_->append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
    return *this;
  }
  DetailsFormatter& Int(int64_t v) {
    char buf[24];
    out_->append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
    return *this;
  }
  DetailsFormatter& Fixed1(double v) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, 1);
    out_->append(buf, r.ec == std::errc() ? r.ptr : buf);
    return *this;
  }

 private:
  std::string* out_;
};

std::string_view MemorySide(MemcpyKind kind, bool source) {
  switch (kind) {
    case MemcpyKind::kHtoD:
      return source ? "host" : "device";
    case MemcpyKind::kDtoH:
      return source ? "device" : "host";
    case MemcpyKind::kDtoD:
    case MemcpyKind::kPtoP:
      return "device";
    case MemcpyKind::kHtoH:
      return "host";
    case MemcpyKind::kUnknown:
      break;
  }
  return "unknown";
}

// The CUPTI-style details string of a device event (spec §3.4).
void AppendDetails(const DeviceEvent& e, std::string* out) {
  DetailsFormatter f(out);
  switch (e.kind) {
    case DeviceEventKind::kKernel: {
      const KernelDetails& k = e.kernel;
      f.Text("regs:").Num(k.registers_per_thread);
      f.Text(" static_shared:").Num(k.static_shared_bytes);
      f.Text(" dynamic_shared:").Num(k.dynamic_shared_bytes);
      f.Text(" grid:").Num(k.grid[0]).Text(",").Num(k.grid[1]).Text(",").Num(k.grid[2]);
      f.Text(" block:").Num(k.block[0]).Text(",").Num(k.block[1]).Text(",").Num(k.block[2]);
      f.Text(" occ_pct:").Fixed1(k.occupancy_pct);
      break;
    }
    case DeviceEventKind::kMemcpy:
      f.Text("kind_src:").Text(MemorySide(e.memcpy_kind, true));
      f.Text(" kind_dst:").Text(MemorySide(e.memcpy_kind, false));
      f.Text(" size:").Num(e.bytes);
      f.Text(" dest:").Int(e.dst_device_id >= 0 ? e.dst_device_id : e.device_id);
      f.Text(" async:").Num(e.async ? 1 : 0);
      f.Text(" num_bytes:").Num(e.bytes);
      break;
    case DeviceEventKind::kMemset:
      f.Text("num_bytes:").Num(e.bytes).Text(" async:").Num(e.async ? 1 : 0);
      break;
    default:
      break;
  }
}

// "float32[64, 512], int32[64]": dtype and shape of each tensor.
std::string TensorsText(const std::vector<TensorInfo>& tensors) {
  std::string out;
  for (const TensorInfo& t : tensors) {
    if (!out.empty()) out += ", ";
    out += DTypeName(static_cast<DType>(t.dtype));
    out += '[';
    for (size_t i = 0; i < t.shape.size(); ++i) {
      if (i > 0) out += ", ";
      out += t.shape[i] < 0 ? std::string("?") : std::to_string(t.shape[i]);
    }
    out += ']';
  }
  return out;
}

// An op's event metadata entry: {id, name, stats: inputs, outputs, output_bytes, long_name}.
template <typename S>
void OpMetadataEntry(S& s, uint32_t id, std::string_view name, const OpInfo& op,
                     const StatIds& ids) {
  constexpr uint32_t kMetaStats = 5;  // XEventMetadata.stats.
  const std::string inputs = TensorsText(op.inputs);
  const std::string outputs = TensorsText(op.outputs);
  Message(s, xplane::kEventMetadata, [&](auto& entry) {
    Int64Field(entry, kMapKey, id);
    Message(entry, kMapValue, [&](auto& meta) {
      Int64Field(meta, kMetaId, id);
      BytesField(meta, kMetaName, name);
      StrStat(meta, kMetaStats, ids[kInputs], inputs);
      StrStat(meta, kMetaStats, ids[kOutputs], outputs);
      UintStat(meta, kMetaStats, ids[kOutputBytes], op.output_bytes);
      StrStat(meta, kMetaStats, ids[kLongName],
              ToValidUtf8(std::string(name) + "(" + inputs + ") -> " + outputs));
    });
  });
}

// One map<int64, X{Event,Stat}Metadata> entry: {key: id, value: {id, name}}.
template <typename S>
void MetadataEntry(S& s, uint32_t field, uint32_t id, std::string_view name) {
  Message(s, field, [&](auto& entry) {
    Int64Field(entry, kMapKey, id);
    Message(entry, kMapValue, [&](auto& meta) {
      Int64Field(meta, kMetaId, id);
      BytesField(meta, kMetaName, name);
    });
  });
}

// The plane fields other than lines: id, name, metadata, plane stats. Written around the lines
// in field-number order.
template <typename S>
void PlaneHead(S& s, const PlanePlan& p) {
  if (p.id != 0) Int64Field(s, xplane::kId, p.id);
  BytesField(s, xplane::kName, p.name);
}

template <typename S>
void PlaneTail(S& s, const PlanePlan& p) {
  for (size_t i = 0; i < p.event_names.size(); ++i) {
    const int32_t op = i < p.event_ops.size() ? p.event_ops[i] : -1;
    if (op >= 0) {
      OpMetadataEntry(s, static_cast<uint32_t>(i + 1), p.event_names[i], p.trace->ops[op], p.ids);
    } else {
      MetadataEntry(s, xplane::kEventMetadata, static_cast<uint32_t>(i + 1), p.event_names[i]);
    }
  }
  for (int st = 0; st < kNumStats; ++st) {
    if (p.used[st]) MetadataEntry(s, xplane::kStatMetadata, p.ids[st], kStatNames[st]);
  }
  for (const PlaneStat& st : p.stats) WritePlaneStat(s, st, p.ids);
}

void FinishPlan(PlanePlan& p) {
  for (const PlaneStat& st : p.stats) p.used[st.stat] = true;
  p.AssignStatIds();
  SizeSink s;
  PlaneHead(s, p);
  PlaneTail(s, p);
  size_t size = s.size();
  for (uint64_t line : p.line_sizes) size += LengthDelimitedSize(xplane::kLines, line);
  p.body_size = size;
}

// A recorded allocation or free, as TensorFlow's allocators write them and xprof's memory_profile
// tool reads them ("MemoryAllocation" / "MemoryDeallocation" with allocator stats). Not written:
// group_id, which would make xprof's table of allocations alive at the peak keep only those made
// in the peak's step (earlier ones would show as "unused preallocated"); tbprof_step carries the
// step instead. bytes_reserved is xprof's "stack" reservation, 0 here; the allocator's reserved
// pool shows as bytes_available (reserved - in use), which xprof adds to the capacity.
template <typename S>
void MemoryEventBody(S& s, uint32_t meta_id, int64_t offset_ps, const MemoryEvent& e,
                     std::string_view allocator, std::string_view tf_op, std::string_view scope,
                     std::string_view shape, const StatIds& ids) {
  EventTimes(s, meta_id, offset_ps, 0);
  StrStat(s, xevent::kStats, ids[kAllocatorName], allocator);
  IntStat(s, xevent::kStats, ids[kBytesReserved], 0);
  IntStat(s, xevent::kStats, ids[kBytesAllocated], e.bytes_in_use);
  IntStat(s, xevent::kStats, ids[kBytesAvailable],
          std::max<int64_t>(e.bytes_reserved - e.bytes_in_use, 0));
  DoubleStat(s, xevent::kStats, ids[kFragmentation], e.fragmentation);
  IntStat(s, xevent::kStats, ids[kPeakBytesInUse], e.peak_bytes_in_use);
  IntStat(s, xevent::kStats, ids[kRequestedBytes], e.requested_bytes);
  IntStat(s, xevent::kStats, ids[kAllocationBytes], e.allocation_bytes);
  // Signed: xprof reads the address with IntValue(), which ignores uint64 values.
  IntStat(s, xevent::kStats, ids[kAddr], static_cast<int64_t>(e.address));
  if (!tf_op.empty()) StrStat(s, xevent::kStats, ids[kTfOp], tf_op);
  if (!scope.empty()) StrStat(s, xevent::kStats, ids[kMemoryScope], scope);
  StrStat(s, xevent::kStats, ids[kRegionType], e.has_shape ? "output" : "temp");
  IntStat(s, xevent::kStats, ids[kDataType], e.dtype);
  StrStat(s, xevent::kStats, ids[kTensorShape], shape);
  if (e.step >= 0) IntStat(s, xevent::kStats, ids[kMemoryStep], e.step);
}

constexpr std::string_view kMemoryAllocation = "MemoryAllocation";
constexpr std::string_view kMemoryDeallocation = "MemoryDeallocation";
constexpr std::string_view kMemoryLineName = "tbprof memory";

// The host plane's memory line: every valid memory event, in time order, on one line whose
// origin is the capture start (xprof orders a line's memory events by offset, and compares
// offsets across lines: one line with a fixed origin keeps them comparable). Offsets are made
// strictly increasing (1 ps apart at least) so that an allocation and its free recorded in the
// same nanosecond keep their order through xprof's (unstable) sort. Id: above every thread id.
void PlanMemoryLine(const Trace& trace, const TimelinePlane& tl,
                    const std::vector<std::string>& tf_ops, EventMetadataTable& meta,
                    PlanePlan& p) {
  if (trace.memory_events.empty()) return;
  int64_t id = 0;
  for (const TimelineLine& l : tl.lines) id = std::max(id, l.id + 1);
  while (IsReservedLineId(id)) ++id;
  p.memory_line = true;
  p.memory_line_id = id;
  int64_t last = 0;
  for (size_t i = 0; i < trace.memory_events.size(); ++i) {
    const MemoryEvent& e = trace.memory_events[i];
    if (!e.valid || e.allocator >= trace.allocators.size()) continue;
    int64_t offset = std::max<int64_t>(e.time_ns, 0) * 1000;
    if (!p.memory_offsets_ps.empty() && offset <= last) offset = last + 1;
    last = offset;
    p.memory_events.push_back(i);
    p.memory_offsets_ps.push_back(offset);
    // tf_op is the op's "scope/name:Type" (as on device events); an allocation made outside any
    // op names its scope in tbprof_scope instead.
    const bool has_op = e.op_index >= 0 && static_cast<size_t>(e.op_index) < trace.ops.size();
    p.memory_tf_ops.push_back(has_op ? tf_ops[e.op_index] : std::string());
    p.memory_scopes.push_back(has_op ? std::string() : ToValidUtf8(MemoryEventOwner(trace, e)));
    std::string shape;
    if (e.has_shape) {
      const std::string text = MemoryEventTensorText(e);
      shape = text.substr(text.find('['));
    }
    p.memory_shapes.push_back(shape.empty() ? std::string("unknown") : shape);
  }
  TimelineLine header;
  header.id = id;
  header.name = std::string(kMemoryLineName);
  SizeSink s;
  LineHeader(s, header, LineTimeShiftNs(trace));
  LineTrailer(s, last);
  uint64_t size = s.size();
  for (int st = kAllocatorName; st < kMemoryStep; ++st) p.used[st] = true;
  p.used[kTfOp] = true;
  for (size_t k = 0; k < p.memory_events.size(); ++k) {
    const MemoryEvent& e = trace.memory_events[p.memory_events[k]];
    if (e.step >= 0) p.used[kMemoryStep] = true;
    if (!p.memory_scopes[k].empty()) p.used[kMemoryScope] = true;
    const uint32_t meta_id =
        meta.ForString(e.kind == MemoryEventKind::kAlloc ? kMemoryAllocation : kMemoryDeallocation);
    SizeSink es;
    MemoryEventBody(es, meta_id, p.memory_offsets_ps[k], e, trace.allocators[e.allocator].name,
                    p.memory_tf_ops[k], p.memory_scopes[k], p.memory_shapes[k], kSizingIds);
    p.memory_sizes.push_back(static_cast<uint32_t>(es.size()));
    size += LengthDelimitedSize(xline::kEvents, es.size());
  }
  p.line_sizes.push_back(size);
}

void PlanHostPlane(const Trace& trace, TimelinePlane& tl, const std::vector<std::string>& tf_ops,
                   PlanePlan& p) {
  p.id = kHostPlaneId;
  p.name = "/host:CPU";
  p.timeline = &tl;
  p.trace = &trace;
  EventMetadataTable meta(trace);
  // The timeline's scratch field caches each event's body size for the write pass.
  std::vector<TimelineEvent>& events = tl.events;
  p.line_sizes.reserve(tl.lines.size());
  for (const TimelineLine& line : tl.lines) {
    const std::vector<HostEvent>& src = trace.threads[line.source].events;
    const int64_t origin = LineOrigin(tl, line);
    SizeSink s;
    LineHeader(s, line, origin + LineTimeShiftNs(trace));
    LineTrailer(s, LineDurationPs(tl, line));
    uint64_t size = s.size();
    for (uint32_t i = line.begin; i < line.end; ++i) {
      TimelineEvent& te = events[i];
      const HostEvent& e = src[te.index];
      const uint32_t meta_id = meta.ForNameId(e.name);
      if (e.kind == HostEventKind::kStep) {
        p.used[kR] = p.used[kStepNum] = true;
      } else if (e.kind == HostEventKind::kOp && e.op_index >= 0 &&
                 static_cast<size_t>(e.op_index) < trace.ops.size()) {
        if (p.event_ops.size() < meta_id) p.event_ops.resize(meta_id, -1);
        p.event_ops[meta_id - 1] = e.op_index;
        p.used[kInputs] = p.used[kOutputs] = p.used[kOutputBytes] = p.used[kLongName] = true;
      } else if (e.kind == HostEventKind::kLaunch) {
        if (e.correlation_id != 0) p.used[kCorrelationId] = true;
        if (e.device_id >= 0) p.used[kDeviceId] = true;
      }
      if (e.flow_produced != 0) p.used[kProducerType] = p.used[kProducerId] = true;
      if (e.flow_consumed != 0) p.used[kConsumerType] = p.used[kConsumerId] = true;
      SizeSink es;
      HostEventBody(es, meta_id, (te.start_ns - origin) * 1000, (te.end_ns - te.start_ns) * 1000, e,
                    kSizingIds);
      te.scratch = static_cast<uint32_t>(es.size());
      size += LengthDelimitedSize(xline::kEvents, es.size());
    }
    p.line_sizes.push_back(size);
  }
  PlanMemoryLine(trace, tl, tf_ops, meta, p);
  p.event_names = meta.names();
  p.renamed = meta.renamed();
  FinishPlan(p);
}

// The "name:Type" of a device event's framework op (`tf_ops` by op index), or "".
std::string_view TfOpOf(const std::vector<std::string>& tf_ops, const DeviceEvent& e) {
  const bool has_op = e.op_index >= 0 && static_cast<size_t>(e.op_index) < tf_ops.size();
  return has_op ? std::string_view(tf_ops[e.op_index]) : "";
}

void PlanDevicePlane(const Trace& trace, TimelinePlane& tl, const std::vector<std::string>& tf_ops,
                     PlanePlan& p) {
  p.id = tl.device_ordinal;
  p.name = "/device:GPU:" + std::to_string(tl.device_ordinal);
  p.timeline = &tl;
  if (const DeviceInfo* d = tl.device) {
    std::vector<PlaneStat>& stats = p.stats;
    stats.push_back(PlaneStat::Str(kDeviceVendor, "Nvidia"));
    if (!d->name.empty()) stats.push_back(PlaneStat::Str(kGpuDeviceName, ToValidUtf8(d->name)));
    if (d->clock_rate_khz > 0) stats.push_back(PlaneStat::Int(kClockRate, d->clock_rate_khz));
    if (d->sm_count > 0) stats.push_back(PlaneStat::Int(kCoreCount, d->sm_count));
    if (d->memory_bandwidth_bytes_per_s > 0) {
      stats.push_back(PlaneStat::Uint(kMemoryBandwidth, d->memory_bandwidth_bytes_per_s));
    }
    if (d->memory_bytes > 0) stats.push_back(PlaneStat::Uint(kMemorySize, d->memory_bytes));
    if (d->compute_cap_major > 0) {
      stats.push_back(PlaneStat::Int(kComputeCapMajor, d->compute_cap_major));
      stats.push_back(PlaneStat::Int(kComputeCapMinor, d->compute_cap_minor));
    }
  }
  EventMetadataTable meta(trace);
  std::vector<TimelineEvent>& events = tl.events;
  p.detail_off.assign(tl.events.size() + 1, 0);
  for (const TimelineLine& line : tl.lines) {
    const int64_t origin = LineOrigin(tl, line);
    SizeSink s;
    LineHeader(s, line, origin + LineTimeShiftNs(trace));
    LineTrailer(s, LineDurationPs(tl, line));
    uint64_t size = s.size();
    for (uint32_t i = line.begin; i < line.end; ++i) {
      TimelineEvent& te = events[i];
      const DeviceEvent& e = trace.device_events[te.index];
      const uint32_t meta_id = meta.ForDeviceEvent(e);
      const size_t details_begin = p.details.size();
      AppendDetails(e, &p.details);
      p.detail_off[i + 1] = static_cast<uint32_t>(p.details.size());
      const std::string_view details(p.details.data() + details_begin,
                                     p.details.size() - details_begin);
      const std::string_view tf_op = TfOpOf(tf_ops, e);
      if (e.correlation_id != 0 && e.kind != DeviceEventKind::kOverhead) {
        p.used[kCorrelationId] = true;
      }
      if (DetailsStat(e.kind) != kNumStats) p.used[DetailsStat(e.kind)] = true;
      if (!tf_op.empty()) p.used[kTfOp] = true;
      if (e.graph_id != 0) p.used[kCudaGraphId] = true;
      if (e.graph_orig_id != 0) p.used[kCudaGraphOrigId] = true;
      if (e.graph_node_id != 0) p.used[kCudaGraphNodeId] = true;
      SizeSink es;
      DeviceEventBody(es, meta_id, (te.start_ns - origin) * 1000, (te.end_ns - te.start_ns) * 1000,
                      e, details, tf_op, kSizingIds);
      te.scratch = static_cast<uint32_t>(es.size());
      size += LengthDelimitedSize(xline::kEvents, es.size());
    }
    p.line_sizes.push_back(size);
  }
  p.event_names = meta.names();
  p.renamed = meta.renamed();
  FinishPlan(p);
}

void PlanTaskEnvironment(const Trace& trace, int64_t id, PlanePlan& p) {
  p.id = id;
  p.name = "Task Environment";
  const uint64_t start = static_cast<uint64_t>(std::max<int64_t>(trace.start_walltime_ns, 0));
  int64_t stop_ns = trace.stop_walltime_ns;
  if (stop_ns <= 0 && trace.start_walltime_ns > 0) {
    stop_ns = trace.start_walltime_ns + trace.duration_ns;
  }
  p.stats.push_back(PlaneStat::Uint(kProfileStartTime, start));
  p.stats.push_back(
      PlaneStat::Uint(kProfileStopTime, static_cast<uint64_t>(std::max<int64_t>(stop_ns, 0))));
  // A rank of a multi-process job (src/ranks): which one, so that tools need not parse names.
  if (trace.rank >= 0) {
    p.stats.push_back(PlaneStat::Int(kRank, trace.rank));
    if (trace.world_size > 0) p.stats.push_back(PlaneStat::Int(kWorldSize, trace.world_size));
    // The CLOCK_REALTIME of line timestamp 0 (see LineTimeShiftNs).
    if (LineTimeShiftNs(trace) != 0) {
      p.stats.push_back(
          PlaneStat::Int(kLineTimeBase, trace.start_walltime_ns - LineTimeShiftNs(trace)));
    }
  }
  FinishPlan(p);
}

class XSpaceEncoder {
 public:
  explicit XSpaceEncoder(const Trace& trace) : trace_(trace), timeline_(BuildTimeline(trace)) {}

  std::string Encode() {
    Plan();
    SizeSink total;
    for (const PlanePlan& p : plans_) {
      total.Bytes(nullptr, LengthDelimitedSize(xspace::kPlanes, p.body_size));
    }
    if (!metadata_plane_.empty()) BytesField(total, xspace::kPlanes, metadata_plane_);
    Strings(total);
    std::string out;
    out.resize(total.size());
    WriteSink w(out.data());
    for (const PlanePlan& p : plans_) WritePlane(w, p);
    if (!metadata_plane_.empty()) BytesField(w, xspace::kPlanes, metadata_plane_);
    Strings(w);
    if (w.ptr() != out.data() + out.size()) std::abort();  // Sizing and writing disagree.
    return out;
  }

 private:
  void Plan() {
    tf_ops_.reserve(trace_.ops.size());
    for (const OpInfo& op : trace_.ops) {
      std::string full = ToValidUtf8(op.name);
      full.push_back(':');
      full.append(ToValidUtf8(op.type));
      tf_ops_.push_back(std::move(full));
    }
    plans_.resize(2 + timeline_.devices.size());
    PlanHostPlane(trace_, timeline_.host, tf_ops_, plans_[0]);
    int64_t max_id = kHostPlaneId;
    for (size_t d = 0; d < timeline_.devices.size(); ++d) {
      PlanDevicePlane(trace_, timeline_.devices[d], tf_ops_, plans_[1 + d]);
      max_id = std::max<int64_t>(max_id, timeline_.devices[d].device_ordinal);
    }
    PlanTaskEnvironment(trace_, max_id + 1, plans_.back());
    // A training job: the HLO module xprof reads its "Is training job" from.
    if (trace_.training) metadata_plane_ = EncodeTrainingMarkerPlane(max_id + 2);

    for (const std::string& e : trace_.errors) errors_.push_back(ToValidUtf8(e));
    for (const std::string& w : trace_.warnings) warnings_.push_back(ToValidUtf8(w));
    if (trace_.dropped_host_events != 0) {
      warnings_.push_back("tbprof: " + std::to_string(trace_.dropped_host_events) +
                          " host event(s) dropped: the event buffer was full (raise "
                          "TBPROF_MAX_EVENTS)");
    }
    if (trace_.dropped_device_events != 0) {
      warnings_.push_back("tbprof: " + std::to_string(trace_.dropped_device_events) +
                          " device event(s) dropped by the GPU activity buffers");
    }
    for (const std::string& w : timeline_.warnings) warnings_.push_back(w);
    for (const PlanePlan& p : plans_) {
      for (const std::string& name : p.renamed) {
        warnings_.push_back("tbprof: " + p.name + ": events named '" + name +
                            "' (a TensorFlow loop marker that turns off xprof's step grouping) "
                            "exported as '" +
                            name + "_'");
      }
    }
    hostname_ = trace_.hostname.empty() ? std::string("localhost") : ToValidUtf8(trace_.hostname);
    // "node3 rank 5": what TensorBoard's overview lists as the host of a rank's file.
    if (trace_.rank >= 0) hostname_ += " rank " + std::to_string(trace_.rank);
  }

  template <typename S>
  void Strings(S& s) const {
    for (const std::string& e : errors_) BytesField(s, xspace::kErrors, e);
    for (const std::string& w : warnings_) BytesField(s, xspace::kWarnings, w);
    BytesField(s, xspace::kHostnames, hostname_);
  }

  void WritePlane(WriteSink& w, const PlanePlan& p) {
    MessageHeader(w, xspace::kPlanes, p.body_size);
    PlaneHead(w, p);
    if (p.timeline != nullptr) WriteLines(w, p);
    PlaneTail(w, p);
  }

  void WriteLines(WriteSink& w, const PlanePlan& p) {
    const TimelinePlane& tl = *p.timeline;
    const bool host = tl.device_ordinal < 0;
    // Metadata ids: rebuilt in planning order from the names (same first-use order).
    EventMetadataTable meta(trace_);
    for (size_t li = 0; li < tl.lines.size(); ++li) {
      const TimelineLine& line = tl.lines[li];
      const int64_t origin = LineOrigin(tl, line);
      MessageHeader(w, xplane::kLines, p.line_sizes[li]);
      LineHeader(w, line, origin + LineTimeShiftNs(trace_));
      for (uint32_t i = line.begin; i < line.end; ++i) {
        const TimelineEvent& te = tl.events[i];
        const int64_t offset_ps = (te.start_ns - origin) * 1000;
        const int64_t duration_ps = (te.end_ns - te.start_ns) * 1000;
        MessageHeader(w, xline::kEvents, te.scratch);
        if (host) {
          const HostEvent& e = trace_.threads[line.source].events[te.index];
          HostEventBody(w, meta.ForNameId(e.name), offset_ps, duration_ps, e, p.ids);
        } else {
          const DeviceEvent& e = trace_.device_events[te.index];
          const uint32_t meta_id = meta.ForDeviceEvent(e);
          const std::string_view details(p.details.data() + p.detail_off[i],
                                         p.detail_off[i + 1] - p.detail_off[i]);
          DeviceEventBody(w, meta_id, offset_ps, duration_ps, e, details, TfOpOf(tf_ops_, e),
                          p.ids);
        }
      }
      LineTrailer(w, LineDurationPs(tl, line));
    }
    if (host && p.memory_line) WriteMemoryLine(w, p, meta);
  }

  void WriteMemoryLine(WriteSink& w, const PlanePlan& p, EventMetadataTable& meta) {
    MessageHeader(w, xplane::kLines, p.line_sizes.back());
    TimelineLine header;
    header.id = p.memory_line_id;
    header.name = std::string(kMemoryLineName);
    LineHeader(w, header, LineTimeShiftNs(trace_));
    for (size_t k = 0; k < p.memory_events.size(); ++k) {
      const MemoryEvent& e = trace_.memory_events[p.memory_events[k]];
      const uint32_t meta_id = meta.ForString(
          e.kind == MemoryEventKind::kAlloc ? kMemoryAllocation : kMemoryDeallocation);
      MessageHeader(w, xline::kEvents, p.memory_sizes[k]);
      MemoryEventBody(w, meta_id, p.memory_offsets_ps[k], e, trace_.allocators[e.allocator].name,
                      p.memory_tf_ops[k], p.memory_scopes[k], p.memory_shapes[k], p.ids);
    }
    LineTrailer(w, p.memory_offsets_ps.empty() ? 0 : p.memory_offsets_ps.back());
  }

  const Trace& trace_;
  Timeline timeline_;
  std::vector<std::string> tf_ops_;
  std::vector<PlanePlan> plans_;
  std::string metadata_plane_;  // Serialized "/host:metadata" plane; empty when not written.
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
  std::string hostname_;
};

}  // namespace

std::string EncodeXSpace(const Trace& trace) { return XSpaceEncoder(trace).Encode(); }

const std::string_view* XSpaceStatNames(size_t* count) {
  // The writer's own stats, then those of the training marker's metadata plane.
  static constexpr auto kAll = [] {
    std::array<std::string_view, kNumStats + 2> all{};
    for (int i = 0; i < kNumStats; ++i) all[i] = kStatNames[i];
    all[kNumStats] = kHloProtoStatName;
    all[kNumStats + 1] = kProgramIdStatName;
    return all;
  }();
  *count = kAll.size();
  return kAll.data();
}

}  // namespace tbprof::internal
