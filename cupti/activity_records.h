// CUPTI activity records decoded into plain data, still on CUPTI's clock. The decoder
// (activity_decoder.h) produces them from raw buffers; the event builder (event_builder.h) turns
// them into Trace events. Nothing here depends on CUPTI headers, so the two stages can be
// tested and benchmarked apart.
#ifndef TBPROF_CUPTI_ACTIVITY_RECORDS_H_
#define TBPROF_CUPTI_ACTIVITY_RECORDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "cupti/api_names.h"
#include "src/trace/trace_data.h"

namespace tbprof::internal::cupti {

// A runtime or driver API call that launched device work (other APIs are filtered out).
struct ApiRecord {
  ApiDomain domain = ApiDomain::kRuntime;
  uint32_t cbid = 0;
  uint64_t start = 0;  // CUPTI clock, ns.
  uint64_t end = 0;
  uint32_t process_id = 0;
  uint32_t thread_id = 0;  // As CUPTI reports it (gettid with CUPTI_ACTIVITY_THREAD_ID_TYPE_SYSTEM).
  uint32_t correlation_id = 0;
  uint32_t return_value = 0;
};

// A kernel, copy, memset, synchronization or CUPTI-overhead interval.
struct GpuRecord {
  DeviceEventKind kind = DeviceEventKind::kKernel;
  uint64_t start = 0;  // CUPTI clock, ns.
  uint64_t end = 0;
  uint32_t device_id = 0;
  uint32_t context_id = 0;
  uint32_t stream_id = 0;
  uint32_t correlation_id = 0;
  uint32_t name = 0;  // Index into DecodedActivities::names (kernels, overhead kinds).
  bool has_device = true;  // False for synchronization/overhead records without a device.
  KernelDetails kernel;    // Occupancy not yet computed (needs the device limits).
  MemcpyKind memcpy_kind = MemcpyKind::kUnknown;
  uint64_t bytes = 0;
  int32_t dst_device_id = -1;
  bool async = true;
  uint32_t graph_id = 0;
  uint64_t graph_node_id = 0;
};

// A device-memory allocation or release the driver saw (CUPTI_ACTIVITY_KIND_MEMORY2):
// cudaMalloc/cudaFree, cudaMallocAsync/cudaFreeAsync from a memory pool, managed and pinned host
// memory.
struct MemoryRecord {
  enum class Kind : uint8_t { kOther = 0, kDevice = 1, kManaged = 2, kPinnedHost = 3 };
  bool is_free = false;  // CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE.
  Kind kind = Kind::kOther;
  uint32_t memory_kind = 0;  // CUpti_ActivityMemoryKind as CUPTI gives it.
  uint64_t address = 0;
  uint64_t bytes = 0;
  uint64_t timestamp = 0;  // CUPTI clock, ns.
  uint32_t device_id = 0;
  uint32_t correlation_id = 0;
  // From a memory pool (stream-ordered allocation): the pool's size, 0 when unknown.
  bool from_pool = false;
  uint64_t pool_bytes = 0;
};

struct ExternalCorrelationRecord {
  uint32_t external_kind = 0;  // CUpti_ExternalCorrelationKind.
  uint64_t external_id = 0;
  uint32_t correlation_id = 0;
};

// Counters of what could not be used; each non-zero one becomes a Trace warning.
struct DecodeCounters {
  uint64_t records = 0;              // Records walked (all kinds).
  uint64_t invalid_timestamps = 0;   // start or end zero, or end < start.
  uint64_t truncated_records = 0;    // Record extends past the buffer's valid bytes.
  uint64_t malformed_buffers = 0;    // The walk stopped early (unknown kind, bad size, alignment).
  uint64_t ignored_records = 0;      // Kinds tbprof does not use (device, context, ...).
  uint64_t filtered_api_records = 0; // API records of calls that launch nothing.
  uint64_t cupti_dropped = 0;        // cuptiActivityGetNumDroppedRecords.
  uint64_t cap_dropped_buffers = 0;  // Buffers discarded because the memory cap was reached.
  uint64_t cap_dropped_records = 0;  // Records not kept because the memory cap was reached.
};

// Everything decoded during one session, in arrival order.
struct DecodedActivities {
  std::vector<ApiRecord> api;
  std::vector<GpuRecord> gpu;
  std::vector<ExternalCorrelationRecord> external;
  std::vector<MemoryRecord> memory;
  std::vector<std::string> names;  // Kernel names (mangled, as CUPTI gives them) and labels.
  absl::flat_hash_map<std::string, uint32_t> name_index;
  DecodeCounters counters;

  // Interns `name`, returning its index in `names`.
  uint32_t InternName(const char* name);
  // Total records kept.
  size_t size() const { return api.size() + gpu.size() + external.size() + memory.size(); }
  void Clear();
};

}  // namespace tbprof::internal::cupti

#endif  // TBPROF_CUPTI_ACTIVITY_RECORDS_H_
