// The one in-memory result of a capture: what the recorder, the device source and the graph
// recorder hand to the merge step and the exporters. Plain data, no behaviour: exporters are
// pure functions of a Trace.
//
// Times are nanoseconds on tbprof's host clock, relative to `Trace::start_ns` (the session
// start), so they fit comfortably in picoseconds for XPlane (see spec §2, "Time origin").
#ifndef TBPROF_SRC_TRACE_TRACE_DATA_H_
#define TBPROF_SRC_TRACE_TRACE_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

namespace tbprof::internal {

// Index into Trace::names. Names are interned once per trace at collection time.
using NameId = uint32_t;
inline constexpr NameId kNoName = 0xffffffffu;

enum class HostEventKind : uint8_t {
  kScope = 0,   // TBPROF_SCOPE / internal spans: plain name.
  kOp = 1,      // OpScope: name is the full "scope/name:Type".
  kStep = 2,    // StepScope: a step root (`_r`, `step_num` in XPlane).
  kLaunch = 3,  // A CUDA runtime/driver API call that launched device work (has correlation_id).
};

struct HostEvent {
  int64_t start_ns = 0;  // Relative to Trace::start_ns.
  int64_t end_ns = 0;    // >= start_ns.
  NameId name = kNoName;
  HostEventKind kind = HostEventKind::kScope;
  int64_t step = -1;            // kStep: the step number.
  uint64_t correlation_id = 0;  // kLaunch: CUPTI correlation id (0 = none).
  int32_t device_id = -1;       // kLaunch: GPU ordinal.
  int32_t op_index = -1;        // kOp: index into Trace::ops (the traced graph node), -1 = none.
  // Cause and effect (tbprof/flow.h): the id this event produced / consumed, 0 = none. An
  // arrow goes from the producer of an id to each of its consumers.
  uint64_t flow_produced = 0;
  uint64_t flow_consumed = 0;
};

// One OS thread's timeline. Events are sorted by start time, properly nested (a child ends no
// later than its parent), as the recorder's scopes are.
struct ThreadTrack {
  int64_t tid = 0;   // OS thread id (gettid).
  std::string name;  // Thread name, or "thread <tid>".
  std::vector<HostEvent> events;
  // Extra arguments of events[i] for the Chrome trace: JSON object members without braces
  // ("\"hlo_op\":\"fusion.1\",\"program_id\":7"). Empty, or one entry per event; filled
  // only when a trace is read back from another producer's profile.
  std::vector<std::string> args;
};

enum class DeviceEventKind : uint8_t {
  kKernel = 0,
  kMemcpy = 1,
  kMemset = 2,
  kOverhead = 3,  // CUPTI's own overhead (shown on a "CUPTI overhead" line).
  kSync = 4,      // Synchronization.
};

enum class MemcpyKind : uint8_t {
  kUnknown = 0,
  kHtoD = 1,
  kDtoH = 2,
  kDtoD = 3,
  kHtoH = 4,
  kPtoP = 5,
};

struct KernelDetails {
  uint32_t registers_per_thread = 0;
  uint32_t static_shared_bytes = 0;
  uint32_t dynamic_shared_bytes = 0;
  uint32_t grid[3] = {0, 0, 0};
  uint32_t block[3] = {0, 0, 0};
  double occupancy_pct = 0;  // Theoretical occupancy, computed from the device limits.
};

struct DeviceEvent {
  int64_t start_ns = 0;  // Host clock, relative to Trace::start_ns.
  int64_t end_ns = 0;
  NameId name = kNoName;  // Kernel (demangled) name, or "MemcpyHtoD" etc.
  DeviceEventKind kind = DeviceEventKind::kKernel;
  int32_t device_id = 0;
  int64_t stream_id = 0;
  uint64_t correlation_id = 0;
  int32_t op_index = -1;  // Index into Trace::ops of the OpScope that launched it, -1 = none.
  KernelDetails kernel;   // kKernel only.
  MemcpyKind memcpy_kind = MemcpyKind::kUnknown;  // kMemcpy only.
  uint64_t bytes = 0;                             // kMemcpy / kMemset.
  int32_t dst_device_id = -1;                     // kMemcpy peer-to-peer.
  bool async = true;
  // Work launched by a CUDA graph: CUPTI's graph id and graph node id (0 when not from a graph).
  uint32_t graph_id = 0;
  uint64_t graph_node_id = 0;
  // The graph the launching graph was instantiated or cloned from, when known and different.
  uint32_t graph_orig_id = 0;
  // Index into Trace::ops of the op whose scope captured or built the graph node, -1 = unknown
  // (set by the device source; the merge step prefers it over the graph launch's op).
  int32_t graph_op_index = -1;
};

// What xprof shows on the device plane and in the run environment (spec §3.4).
struct DeviceInfo {
  int32_t ordinal = 0;
  std::string name;  // "NVIDIA H100 80GB HBM3".
  int32_t compute_cap_major = 0;
  int32_t compute_cap_minor = 0;
  int32_t sm_count = 0;
  int64_t clock_rate_khz = 0;
  uint64_t memory_bytes = 0;
  uint64_t memory_bandwidth_bytes_per_s = 0;
  // Limits used for theoretical occupancy.
  int32_t max_threads_per_sm = 0;
  int32_t max_blocks_per_sm = 0;
  int32_t max_registers_per_sm = 0;
  int32_t max_shared_per_sm = 0;
  int32_t warp_size = 32;
};

// A tensor as seen by an OpScope: identity plus what it holds.
struct TensorInfo {
  uint64_t id = 0;    // Buffer address or user id; 0 = unknown.
  int32_t dtype = 0;  // tensorflow.DataType value (DT_FLOAT = 1 ...).
  std::vector<int64_t> shape;
  std::string name;  // For graph inputs named by the user; may be empty.
  int32_t role = 0;  // tbprof::TensorRole of the TensorRef (0 = kAuto).
};

// One traced op: a node of the traced graph, with everything the merge step fills in.
struct OpInfo {
  std::string name;  // Full node name "dense_1/MatMul".
  std::string type;  // "MatMul".
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  // Filled by src/merge.
  int64_t executions = 0;
  int64_t host_total_ns = 0;
  int64_t host_self_ns = 0;
  int64_t gpu_ns = 0;
  int64_t kernel_count = 0;
  uint64_t bytes_copied = 0;
  uint64_t output_bytes = 0;
  int64_t first_start_ns = -1;  // Earliest start of any execution (relative to trace start).
};

struct StepInfo {
  int64_t step = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t gpu_busy_ns = 0;  // Filled by src/merge.
};

enum class MemoryEventKind : uint8_t { kAlloc = 0, kFree = 1 };

// One call of tbprof::MemoryAllocator::RecordAlloc / RecordFree (tbprof/memory.h), as recorded
// and then completed by src/memory (AnalyzeMemory).
struct MemoryEvent {
  int64_t time_ns = 0;     // Relative to Trace::start_ns.
  int64_t tid = 0;         // Thread that made the call.
  uint32_t allocator = 0;  // Index into Trace::allocators.
  MemoryEventKind kind = MemoryEventKind::kAlloc;
  uint64_t address = 0;
  int64_t requested_bytes = 0;   // Free: as passed (0 = unknown); AnalyzeMemory copies the alloc's.
  int64_t allocation_bytes = 0;  // Free: as passed (0 = unknown); AnalyzeMemory copies the alloc's.
  // The allocator's own numbers after the call (AllocatorStats; -1 = not given).
  int64_t reported_in_use = -1;
  int64_t reported_reserved = -1;
  int64_t reported_peak = -1;
  int64_t reported_largest_free = -1;
  // Attribution at collection: the op open on the thread (index into Trace::ops, -1 = none),
  // else the innermost recorded scope's name.
  int32_t op_index = -1;
  NameId scope = kNoName;
  // Filled by AnalyzeMemory.
  int64_t step = -1;           // The step whose time contains the call, -1 = none.
  bool valid = true;           // False: left out of the totals (see the trace's warnings).
  int64_t bytes_in_use = 0;    // The allocator's bytes in use after the call.
  int64_t bytes_reserved = 0;  // Reported reserved bytes, else 0.
  int64_t peak_bytes_in_use = 0;
  double fragmentation = 0;    // 0..1.
  int32_t dtype = 0;           // Of the op's output tensor at this address (0 = unknown).
  std::vector<int64_t> shape;  // Likewise; empty = unknown.
  bool has_shape = false;
};

struct AllocatorInfo {
  std::string name;  // "cpu_arena".
};

struct Trace {
  std::string hostname;
  // A process of a multi-process job (src/ranks): its rank and the job's size; -1 / 0 otherwise.
  int64_t rank = -1;
  int64_t world_size = 0;
  // A training job: the XSpace carries the signal xprof's overview page reads as "Is training
  // job: true" (src/export/training_marker.h). Set at export (src/session/export_steps.h).
  bool training = false;
  int64_t start_ns = 0;            // Host clock at session start (absolute, CLOCK_MONOTONIC ns).
  int64_t duration_ns = 0;         // Session length.
  int64_t start_walltime_ns = 0;   // CLOCK_REALTIME ns since epoch at session start.
  int64_t stop_walltime_ns = 0;    // CLOCK_REALTIME ns since epoch at session stop.
  std::vector<std::string> names;  // Interned names; NameId indexes this.
  std::vector<ThreadTrack> threads;
  std::vector<DeviceInfo> devices;
  std::vector<DeviceEvent> device_events;
  std::vector<std::string> device_event_args;  // Like ThreadTrack::args, for device_events.
  std::vector<OpInfo> ops;
  std::vector<StepInfo> steps;
  std::vector<AllocatorInfo> allocators;
  std::vector<MemoryEvent> memory_events;  // Sorted by time (then thread, then record order).
  std::vector<std::string> warnings;       // XSpace.warnings: drops, clock problems, no GPU...
  std::vector<std::string> errors;         // XSpace.errors.
  uint64_t dropped_host_events = 0;
  uint64_t dropped_device_events = 0;
};

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_TRACE_TRACE_DATA_H_
