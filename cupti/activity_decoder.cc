#include "cupti/activity_decoder.h"

#include <cupti.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "cupti/api_names.h"
#include "cupti/cupti_api.h"

namespace tbprof::internal::cupti {
namespace {

// The decoder reads only this prefix of each record type: it is the same in every record
// version since CUDA 11 (Kernel7+, Memcpy5+, Memset3+, PtoP3+), so buffers written by an older
// or newer libcupti decode the same way.
constexpr size_t kKernelPrefix =
    offsetof(CUpti_ActivityKernel10, graphId) + sizeof(uint32_t);
constexpr size_t kMemcpyPrefix = offsetof(CUpti_ActivityMemcpy6, graphId) + sizeof(uint32_t);
constexpr size_t kPeerPrefix = offsetof(CUpti_ActivityMemcpyPtoP4, graphId) + sizeof(uint32_t);
constexpr size_t kMemsetPrefix = offsetof(CUpti_ActivityMemset4, graphId) + sizeof(uint32_t);
constexpr size_t kApiPrefix = sizeof(CUpti_ActivityAPI);
constexpr size_t kExternalPrefix = offsetof(CUpti_ActivityExternalCorrelation, correlationId) +
                                   sizeof(uint32_t);
constexpr size_t kOverheadPrefix = offsetof(CUpti_ActivityOverhead3, end) + sizeof(uint64_t);
constexpr size_t kOverheadCorrelationEnd =
    offsetof(CUpti_ActivityOverhead3, correlationId) + sizeof(uint32_t);
constexpr size_t kSyncPrefix = offsetof(CUpti_ActivitySynchronization2, cudaEventId);
// MEMORY2 up to the memory pool's configuration included (Memory4 only adds `source` after it).
constexpr size_t kMemoryPrefix = offsetof(CUpti_ActivityMemory4, source);

// The offsets the decoder relies on (checked against the 13.0 header; a header that moves them
// breaks the build rather than the data).
static_assert(offsetof(CUpti_ActivityKernel10, start) == 16);
static_assert(offsetof(CUpti_ActivityKernel10, correlationId) == 92);
static_assert(offsetof(CUpti_ActivityKernel10, name) == 104);
static_assert(offsetof(CUpti_ActivityKernel10, graphNodeId) == 144);
static_assert(offsetof(CUpti_ActivityKernel10, graphId) == 156);
static_assert(offsetof(CUpti_ActivityAPI, correlationId) == 32);
static_assert(sizeof(CUpti_ActivityAPI) == 40);
static_assert(sizeof(CUpti_ActivityExternalCorrelation) == 24);

// Copies the first min(sizeof(T), avail) bytes of `p` into a zeroed T (no unaligned or
// out-of-range reads, whatever the writer's record version).
template <typename T>
T Load(const uint8_t* p, size_t avail) {
  T value;
  std::memset(&value, 0, sizeof(T));
  std::memcpy(&value, p, avail < sizeof(T) ? avail : sizeof(T));
  return value;
}

bool ValidInterval(uint64_t start, uint64_t end) { return start != 0 && end != 0 && end >= start; }

uint32_t NonNegative(int32_t v) { return v < 0 ? 0u : static_cast<uint32_t>(v); }

MemcpyKind ToMemcpyKind(uint8_t copy_kind) {
  switch (copy_kind) {
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD:
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOA:
      return MemcpyKind::kHtoD;
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH:
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOH:
      return MemcpyKind::kDtoH;
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD:
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOA:
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOD:
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOA:
      return MemcpyKind::kDtoD;
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOH:
      return MemcpyKind::kHtoH;
    case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP:
      return MemcpyKind::kPtoP;
    default:
      return MemcpyKind::kUnknown;
  }
}

const char* OverheadName(uint32_t kind) {
  switch (kind) {
    case CUPTI_ACTIVITY_OVERHEAD_DRIVER_COMPILER:
      return "CUPTI overhead: driver compiler";
    case CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH:
      return "CUPTI overhead: buffer flush";
    case CUPTI_ACTIVITY_OVERHEAD_CUPTI_INSTRUMENTATION:
      return "CUPTI overhead: instrumentation";
    case CUPTI_ACTIVITY_OVERHEAD_CUPTI_RESOURCE:
      return "CUPTI overhead: resource";
    case CUPTI_ACTIVITY_OVERHEAD_RUNTIME_TRIGGERED_MODULE_LOADING:
      return "CUPTI overhead: module loading";
    case CUPTI_ACTIVITY_OVERHEAD_LAZY_FUNCTION_LOADING:
      return "CUPTI overhead: lazy function loading";
    case CUPTI_ACTIVITY_OVERHEAD_COMMAND_BUFFER_FULL:
      return "CUPTI overhead: command buffer full";
    case CUPTI_ACTIVITY_OVERHEAD_ACTIVITY_BUFFER_REQUEST:
      return "CUPTI overhead: activity buffer request";
    case CUPTI_ACTIVITY_OVERHEAD_UVM_ACTIVITY_INIT:
      return "CUPTI overhead: unified memory init";
    default:
      return "CUPTI overhead";
  }
}

const char* SyncName(uint32_t type) {
  switch (type) {
    case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_EVENT_SYNCHRONIZE:
      return "cudaEventSynchronize";
    case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_WAIT_EVENT:
      return "cudaStreamWaitEvent";
    case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE:
      return "cudaStreamSynchronize";
    case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_CONTEXT_SYNCHRONIZE:
      return "cudaDeviceSynchronize";
    default:
      return "Synchronize";
  }
}

class Decoder {
 public:
  Decoder(const DecodeOptions& options, DecodedActivities* out) : options_(options), out_(out) {}

  // Decodes one record with `avail` readable bytes. False: the record is shorter than the
  // prefix its kind needs (the walk must stop).
  bool Record(const uint8_t* p, size_t avail) {
    DecodeCounters& c = out_->counters;
    ++c.records;
    const uint32_t kind = Load<uint32_t>(p, avail);
    switch (kind) {
      case CUPTI_ACTIVITY_KIND_KERNEL:
      case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
        return Kernel(p, avail);
      case CUPTI_ACTIVITY_KIND_MEMCPY:
        return Memcpy(p, avail);
      case CUPTI_ACTIVITY_KIND_MEMCPY2:
        return Peer(p, avail);
      case CUPTI_ACTIVITY_KIND_MEMSET:
        return Memset(p, avail);
      case CUPTI_ACTIVITY_KIND_RUNTIME:
      case CUPTI_ACTIVITY_KIND_DRIVER:
        return Api(p, avail, kind == CUPTI_ACTIVITY_KIND_RUNTIME ? ApiDomain::kRuntime
                                                                  : ApiDomain::kDriver);
      case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION:
        return External(p, avail);
      case CUPTI_ACTIVITY_KIND_OVERHEAD:
        return Overhead(p, avail);
      case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION:
        return Sync(p, avail);
      case CUPTI_ACTIVITY_KIND_MEMORY2:
        return Memory(p, avail);
      default:
        ++c.ignored_records;
        return true;
    }
  }

 private:
  bool Short(size_t avail, size_t need) {
    if (avail >= need) return false;
    ++out_->counters.truncated_records;
    return true;
  }
  // True when there is room for one more record; counts the drop otherwise.
  bool Room() {
    if (out_->size() < options_.max_records) return true;
    ++out_->counters.cap_dropped_records;
    return false;
  }
  bool CheckTimes(uint64_t start, uint64_t end) {
    if (ValidInterval(start, end)) return true;
    ++out_->counters.invalid_timestamps;
    return false;
  }

  // Decodes a kernel, memcpy, peer copy or memset record (type R, `prefix` bytes read): the
  // fields these kinds share, then `fill(r, g)` for those of the kind.
  template <typename R, typename Fill>
  bool DeviceActivity(const uint8_t* p, size_t avail, size_t prefix, DeviceEventKind kind,
                      Fill fill) {
    if (Short(avail, prefix)) return false;
    const auto r = Load<R>(p, prefix);
    if (!CheckTimes(r.start, r.end) || !Room()) return true;
    GpuRecord g;
    g.kind = kind;
    g.start = r.start;
    g.end = r.end;
    g.device_id = r.deviceId;
    g.context_id = r.contextId;
    g.stream_id = r.streamId;
    g.correlation_id = r.correlationId;
    g.graph_id = r.graphId;
    g.graph_node_id = r.graphNodeId;
    fill(r, g);
    out_->gpu.push_back(g);
    return true;
  }

  // MEMORY2: an allocation or a release; other operation types are ignored.
  bool Memory(const uint8_t* p, size_t avail) {
    if (Short(avail, kMemoryPrefix)) return false;
    const auto r = Load<CUpti_ActivityMemory4>(p, kMemoryPrefix);
    const bool alloc = r.memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION;
    const bool release = r.memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE;
    if (!alloc && !release) {
      ++out_->counters.ignored_records;
      return true;
    }
    if (r.timestamp == 0) {
      ++out_->counters.invalid_timestamps;
      return true;
    }
    if (!Room()) return true;
    MemoryRecord m;
    m.is_free = release;
    m.memory_kind = static_cast<uint32_t>(r.memoryKind);
    switch (r.memoryKind) {
      case CUPTI_ACTIVITY_MEMORY_KIND_DEVICE:
        m.kind = MemoryRecord::Kind::kDevice;
        break;
      case CUPTI_ACTIVITY_MEMORY_KIND_MANAGED:
        m.kind = MemoryRecord::Kind::kManaged;
        break;
      case CUPTI_ACTIVITY_MEMORY_KIND_PINNED:
        m.kind = MemoryRecord::Kind::kPinnedHost;
        break;
      default:
        break;
    }
    m.address = r.address;
    m.bytes = r.bytes;
    m.timestamp = r.timestamp;
    m.device_id = r.deviceId;
    m.correlation_id = r.correlationId;
    m.from_pool = r.memoryPoolConfig.memoryPoolType != CUPTI_ACTIVITY_MEMORY_POOL_TYPE_INVALID;
    if (m.from_pool && r.memoryPoolConfig.memoryPoolType == CUPTI_ACTIVITY_MEMORY_POOL_TYPE_LOCAL) {
      m.pool_bytes = r.memoryPoolConfig.pool.size;
    }
    out_->memory.push_back(m);
    return true;
  }

  bool Kernel(const uint8_t* p, size_t avail) {
    return DeviceActivity<CUpti_ActivityKernel10>(
        p, avail, kKernelPrefix, DeviceEventKind::kKernel,
        [this](const CUpti_ActivityKernel10& r, GpuRecord& g) {
          g.name = out_->InternName(r.name != nullptr ? r.name : "(unnamed kernel)");
          g.kernel.registers_per_thread = r.registersPerThread;
          g.kernel.static_shared_bytes = NonNegative(r.staticSharedMemory);
          g.kernel.dynamic_shared_bytes = NonNegative(r.dynamicSharedMemory);
          g.kernel.grid[0] = NonNegative(r.gridX);
          g.kernel.grid[1] = NonNegative(r.gridY);
          g.kernel.grid[2] = NonNegative(r.gridZ);
          g.kernel.block[0] = NonNegative(r.blockX);
          g.kernel.block[1] = NonNegative(r.blockY);
          g.kernel.block[2] = NonNegative(r.blockZ);
        });
  }

  bool Memcpy(const uint8_t* p, size_t avail) {
    return DeviceActivity<CUpti_ActivityMemcpy6>(
        p, avail, kMemcpyPrefix, DeviceEventKind::kMemcpy,
        [](const CUpti_ActivityMemcpy6& r, GpuRecord& g) {
          g.memcpy_kind = ToMemcpyKind(r.copyKind);
          g.bytes = r.bytes;
          g.async = (r.flags & CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC) != 0;
        });
  }

  bool Peer(const uint8_t* p, size_t avail) {
    return DeviceActivity<CUpti_ActivityMemcpyPtoP4>(
        p, avail, kPeerPrefix, DeviceEventKind::kMemcpy,
        [](const CUpti_ActivityMemcpyPtoP4& r, GpuRecord& g) {
          g.memcpy_kind = MemcpyKind::kPtoP;
          g.bytes = r.bytes;
          g.dst_device_id = static_cast<int32_t>(r.dstDeviceId);
          g.async = (r.flags & CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC) != 0;
        });
  }

  bool Memset(const uint8_t* p, size_t avail) {
    return DeviceActivity<CUpti_ActivityMemset4>(
        p, avail, kMemsetPrefix, DeviceEventKind::kMemset,
        [](const CUpti_ActivityMemset4& r, GpuRecord& g) {
          g.bytes = r.bytes;
          g.async = (r.flags & CUPTI_ACTIVITY_FLAG_MEMSET_ASYNC) != 0;
        });
  }

  bool Api(const uint8_t* p, size_t avail, ApiDomain domain) {
    if (Short(avail, kApiPrefix)) return false;
    const auto r = Load<CUpti_ActivityAPI>(p, kApiPrefix);
    if (LaunchApiName(domain, r.cbid) == nullptr) {
      ++out_->counters.filtered_api_records;
      return true;
    }
    if (!CheckTimes(r.start, r.end) || !Room()) return true;
    ApiRecord a;
    a.domain = domain;
    a.cbid = r.cbid;
    a.start = r.start;
    a.end = r.end;
    a.process_id = r.processId;
    a.thread_id = r.threadId;
    a.correlation_id = r.correlationId;
    a.return_value = r.returnValue;
    out_->api.push_back(a);
    return true;
  }

  bool External(const uint8_t* p, size_t avail) {
    if (Short(avail, kExternalPrefix)) return false;
    if (!Room()) return true;
    const auto r = Load<CUpti_ActivityExternalCorrelation>(p, kExternalPrefix);
    out_->external.push_back({static_cast<uint32_t>(r.externalKind), r.externalId,
                              r.correlationId});
    return true;
  }

  bool Overhead(const uint8_t* p, size_t avail) {
    if (Short(avail, kOverheadPrefix)) return false;
    // correlationId arrived with Overhead3 (CUPTI 12.4, API version 22); from an older writer
    // the bytes after `end` belong to the next record.
    const bool has_correlation = (options_.cupti_version == 0 || options_.cupti_version >= 22) &&
                                 avail >= kOverheadCorrelationEnd;
    const auto r = Load<CUpti_ActivityOverhead3>(
        p, has_correlation ? kOverheadCorrelationEnd : kOverheadPrefix);
    if (!CheckTimes(r.start, r.end) || !Room()) return true;
    GpuRecord g;
    g.kind = DeviceEventKind::kOverhead;
    g.start = r.start;
    g.end = r.end;
    g.correlation_id = r.correlationId;
    g.name = out_->InternName(OverheadName(static_cast<uint32_t>(r.overheadKind)));
    const uint32_t object = static_cast<uint32_t>(r.objectKind);
    g.has_device = object == CUPTI_ACTIVITY_OBJECT_DEVICE ||
                   object == CUPTI_ACTIVITY_OBJECT_CONTEXT ||
                   object == CUPTI_ACTIVITY_OBJECT_STREAM;
    if (g.has_device) {
      g.device_id = r.objectId.dcs.deviceId;
      g.context_id = r.objectId.dcs.contextId;
      g.stream_id = r.objectId.dcs.streamId;
    }
    out_->gpu.push_back(g);
    return true;
  }

  bool Sync(const uint8_t* p, size_t avail) {
    if (Short(avail, kSyncPrefix)) return false;
    const auto r = Load<CUpti_ActivitySynchronization2>(p, kSyncPrefix);
    if (!CheckTimes(r.start, r.end) || !Room()) return true;
    GpuRecord g;
    g.kind = DeviceEventKind::kSync;
    g.start = r.start;
    g.end = r.end;
    g.context_id = r.contextId;
    g.stream_id = r.streamId;
    g.correlation_id = r.correlationId;
    g.has_device = false;  // Sync records carry no device; the builder maps it by context.
    g.name = out_->InternName(SyncName(static_cast<uint32_t>(r.type)));
    out_->gpu.push_back(g);
    return true;
  }

  const DecodeOptions& options_;
  DecodedActivities* out_;
};

}  // namespace

uint32_t DecodedActivities::InternName(const char* name) {
  auto [it, inserted] = name_index.try_emplace(name, static_cast<uint32_t>(names.size()));
  if (inserted) names.emplace_back(name);
  return it->second;
}

void DecodedActivities::Clear() {
  api.clear();
  gpu.clear();
  external.clear();
  memory.clear();
  names.clear();
  name_index.clear();
  counters = DecodeCounters();
}

size_t BuiltinRecordWalker::RecordSize(uint32_t kind) {
  switch (kind) {
    case CUPTI_ACTIVITY_KIND_KERNEL:
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
      return sizeof(CUpti_ActivityKernel10);
    case CUPTI_ACTIVITY_KIND_CDP_KERNEL:
      return sizeof(CUpti_ActivityCdpKernel);
    case CUPTI_ACTIVITY_KIND_MEMCPY:
      return sizeof(CUpti_ActivityMemcpy6);
    case CUPTI_ACTIVITY_KIND_MEMCPY2:
      return sizeof(CUpti_ActivityMemcpyPtoP4);
    case CUPTI_ACTIVITY_KIND_MEMORY2:
      return sizeof(CUpti_ActivityMemory4);
    case CUPTI_ACTIVITY_KIND_MEMORY_POOL:
      return sizeof(CUpti_ActivityMemoryPool3);
    case CUPTI_ACTIVITY_KIND_MEMSET:
      return sizeof(CUpti_ActivityMemset4);
    case CUPTI_ACTIVITY_KIND_RUNTIME:
    case CUPTI_ACTIVITY_KIND_DRIVER:
    case CUPTI_ACTIVITY_KIND_INTERNAL_LAUNCH_API:
      return sizeof(CUpti_ActivityAPI);
    case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION:
      return sizeof(CUpti_ActivityExternalCorrelation);
    case CUPTI_ACTIVITY_KIND_OVERHEAD:
      return sizeof(CUpti_ActivityOverhead3);
    case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION:
      return sizeof(CUpti_ActivitySynchronization2);
    case CUPTI_ACTIVITY_KIND_DEVICE:
      return sizeof(CUpti_ActivityDevice5);
    case CUPTI_ACTIVITY_KIND_CONTEXT:
      return sizeof(CUpti_ActivityContext3);
    case CUPTI_ACTIVITY_KIND_STREAM:
      return sizeof(CUpti_ActivityStream);
    case CUPTI_ACTIVITY_KIND_CUDA_EVENT:
      return sizeof(CUpti_ActivityCudaEvent2);
    case CUPTI_ACTIVITY_KIND_GRAPH_TRACE:
      return sizeof(CUpti_ActivityGraphTrace2);
    default:
      return 0;
  }
}

RecordWalker::Step BuiltinRecordWalker::Next(uint8_t* buffer, size_t valid_size,
                                             uint8_t** record) const {
  if (buffer == nullptr || reinterpret_cast<uintptr_t>(buffer) % 8 != 0) return Step::kInvalid;
  size_t offset = 0;
  if (*record != nullptr) {
    const size_t current = static_cast<size_t>(*record - buffer);
    if (*record < buffer || current + sizeof(uint32_t) > valid_size) return Step::kInvalid;
    uint32_t kind;
    std::memcpy(&kind, *record, sizeof(kind));
    offset = current + RecordSize(kind);  // The current record was validated when handed out.
  }
  if (offset == valid_size) return Step::kEnd;
  if (offset + sizeof(uint32_t) > valid_size) return Step::kInvalid;
  uint32_t kind;
  std::memcpy(&kind, buffer + offset, sizeof(kind));
  const size_t size = RecordSize(kind);
  if (size == 0 || offset + size > valid_size) return Step::kInvalid;
  *record = buffer + offset;
  return Step::kRecord;
}

RecordWalker::Step CuptiRecordWalker::Next(uint8_t* buffer, size_t valid_size,
                                           uint8_t** record) const {
  CUpti_Activity* activity = reinterpret_cast<CUpti_Activity*>(*record);
  const CUptiResult r = api_->ActivityGetNextRecord(buffer, valid_size, &activity);
  if (r == CUPTI_ERROR_MAX_LIMIT_REACHED) return Step::kEnd;
  if (r != CUPTI_SUCCESS || activity == nullptr) return Step::kInvalid;
  uint8_t* next = reinterpret_cast<uint8_t*>(activity);
  if (next < buffer || next >= buffer + valid_size) return Step::kInvalid;
  *record = next;
  return Step::kRecord;
}

void DecodeActivityBuffer(uint8_t* buffer, size_t valid_size, const RecordWalker& walker,
                          const DecodeOptions& options, DecodedActivities* out) {
  if (valid_size == 0) return;
  Decoder decoder(options, out);
  uint8_t* record = nullptr;
  for (;;) {
    const RecordWalker::Step step = walker.Next(buffer, valid_size, &record);
    if (step == RecordWalker::Step::kEnd) return;
    if (step == RecordWalker::Step::kInvalid) {
      ++out->counters.malformed_buffers;
      return;
    }
    const size_t avail = valid_size - static_cast<size_t>(record - buffer);
    if (!decoder.Record(record, avail)) {
      ++out->counters.malformed_buffers;
      return;
    }
  }
}

}  // namespace tbprof::internal::cupti
