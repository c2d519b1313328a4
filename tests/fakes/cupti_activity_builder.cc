#include "tests/fakes/cupti_activity_builder.h"

#include <cstring>

namespace tbprof::testing {
namespace {

template <typename T>
T Zeroed() {
  T value;
  std::memset(&value, 0, sizeof(T));
  return value;
}

}  // namespace

ActivityBufferBuilder& ActivityBufferBuilder::AddBytes(const void* bytes, size_t size) {
  const auto* p = static_cast<const uint8_t*>(bytes);
  bytes_.insert(bytes_.end(), p, p + size);
  bytes_.resize((bytes_.size() + 7) / 8 * 8, 0);
  return *this;
}

ActivityBuffer ActivityBufferBuilder::Build() const {
  ActivityBuffer buffer(bytes_.size());
  if (!bytes_.empty()) std::memcpy(buffer.data(), bytes_.data(), bytes_.size());
  return buffer;
}

CUpti_ActivityKernel10 MakeKernel(const char* name, uint64_t start, uint64_t end,
                                  uint32_t correlation_id, uint32_t device_id,
                                  uint32_t stream_id) {
  auto r = Zeroed<CUpti_ActivityKernel10>();
  r.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
  r.start = start;
  r.end = end;
  r.deviceId = device_id;
  r.contextId = 1;
  r.streamId = stream_id;
  r.correlationId = correlation_id;
  r.name = name;
  r.gridX = r.gridY = r.gridZ = 1;
  r.blockX = 128;
  r.blockY = r.blockZ = 1;
  r.registersPerThread = 32;
  return r;
}

CUpti_ActivityMemcpy6 MakeMemcpy(CUpti_ActivityMemcpyKind kind, uint64_t bytes, uint64_t start,
                                 uint64_t end, uint32_t correlation_id, uint32_t device_id,
                                 uint32_t stream_id, bool async) {
  auto r = Zeroed<CUpti_ActivityMemcpy6>();
  r.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
  r.copyKind = static_cast<uint8_t>(kind);
  r.flags = async ? CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC : 0;
  r.bytes = bytes;
  r.start = start;
  r.end = end;
  r.deviceId = device_id;
  r.contextId = 1;
  r.streamId = stream_id;
  r.correlationId = correlation_id;
  r.runtimeCorrelationId = correlation_id;
  r.copyCount = 1;
  return r;
}

CUpti_ActivityMemcpyPtoP4 MakePeerCopy(uint64_t bytes, uint64_t start, uint64_t end,
                                       uint32_t correlation_id, uint32_t src_device,
                                       uint32_t dst_device, uint32_t stream_id) {
  auto r = Zeroed<CUpti_ActivityMemcpyPtoP4>();
  r.kind = CUPTI_ACTIVITY_KIND_MEMCPY2;
  r.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_PTOP;
  r.flags = CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC;
  r.bytes = bytes;
  r.start = start;
  r.end = end;
  r.deviceId = src_device;
  r.contextId = 1;
  r.streamId = stream_id;
  r.srcDeviceId = src_device;
  r.dstDeviceId = dst_device;
  r.correlationId = correlation_id;
  return r;
}

CUpti_ActivityMemset4 MakeMemset(uint64_t bytes, uint64_t start, uint64_t end,
                                 uint32_t correlation_id, uint32_t device_id,
                                 uint32_t stream_id) {
  auto r = Zeroed<CUpti_ActivityMemset4>();
  r.kind = CUPTI_ACTIVITY_KIND_MEMSET;
  r.bytes = bytes;
  r.start = start;
  r.end = end;
  r.deviceId = device_id;
  r.contextId = 1;
  r.streamId = stream_id;
  r.correlationId = correlation_id;
  r.flags = CUPTI_ACTIVITY_FLAG_MEMSET_ASYNC;
  return r;
}

CUpti_ActivityAPI MakeApi(CUpti_ActivityKind kind, uint32_t cbid, uint64_t start, uint64_t end,
                          uint32_t thread_id, uint32_t correlation_id) {
  auto r = Zeroed<CUpti_ActivityAPI>();
  r.kind = kind;
  r.cbid = cbid;
  r.start = start;
  r.end = end;
  r.processId = 1;
  r.threadId = thread_id;
  r.correlationId = correlation_id;
  return r;
}

CUpti_ActivityExternalCorrelation MakeExternalCorrelation(CUpti_ExternalCorrelationKind kind,
                                                          uint64_t external_id,
                                                          uint32_t correlation_id) {
  auto r = Zeroed<CUpti_ActivityExternalCorrelation>();
  r.kind = CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION;
  r.externalKind = kind;
  r.externalId = external_id;
  r.correlationId = correlation_id;
  return r;
}

CUpti_ActivityOverhead3 MakeOverhead(CUpti_ActivityOverheadKind kind, uint64_t start,
                                     uint64_t end, uint32_t device_id) {
  auto r = Zeroed<CUpti_ActivityOverhead3>();
  r.kind = CUPTI_ACTIVITY_KIND_OVERHEAD;
  r.overheadKind = kind;
  r.objectKind = CUPTI_ACTIVITY_OBJECT_DEVICE;
  r.objectId.dcs.deviceId = device_id;
  r.start = start;
  r.end = end;
  return r;
}

CUpti_ActivitySynchronization2 MakeSync(CUpti_ActivitySynchronizationType type, uint64_t start,
                                        uint64_t end, uint32_t context_id, uint32_t stream_id,
                                        uint32_t correlation_id) {
  auto r = Zeroed<CUpti_ActivitySynchronization2>();
  r.kind = CUPTI_ACTIVITY_KIND_SYNCHRONIZATION;
  r.type = type;
  r.start = start;
  r.end = end;
  r.contextId = context_id;
  r.streamId = stream_id;
  r.correlationId = correlation_id;
  return r;
}

CUpti_ActivityMemory4 MakeMemory(CUpti_ActivityMemoryOperationType op, uint64_t address,
                                 uint64_t bytes, uint64_t timestamp, uint32_t device_id,
                                 CUpti_ActivityMemoryKind kind, uint64_t pool_bytes) {
  auto r = Zeroed<CUpti_ActivityMemory4>();
  r.kind = CUPTI_ACTIVITY_KIND_MEMORY2;
  r.memoryOperationType = op;
  r.memoryKind = kind;
  r.address = address;
  r.bytes = bytes;
  r.timestamp = timestamp;
  r.deviceId = device_id;
  if (pool_bytes > 0) {
    r.memoryPoolConfig.memoryPoolType = CUPTI_ACTIVITY_MEMORY_POOL_TYPE_LOCAL;
    r.memoryPoolConfig.pool.size = pool_bytes;
  }
  return r;
}

}  // namespace tbprof::testing
