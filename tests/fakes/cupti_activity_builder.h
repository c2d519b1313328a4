// Packs real CUPTI activity records (the structs of cupti_activity.h) back to back into an
// 8-byte-aligned buffer, as CUPTI fills its activity buffers, so tests and benchmarks can run
// the real decoder, the real cuptiActivityGetNextRecord and the event builder without a GPU.
#ifndef TBPROF_TESTS_FAKES_CUPTI_ACTIVITY_BUILDER_H_
#define TBPROF_TESTS_FAKES_CUPTI_ACTIVITY_BUILDER_H_

#include <cupti.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace tbprof::testing {

// An 8-byte-aligned byte buffer holding packed records.
class ActivityBuffer {
 public:
  ActivityBuffer() = default;
  explicit ActivityBuffer(size_t size) : words_((size + 7) / 8, 0), size_(size) {}
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words_.data()); }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(words_.data()); }
  size_t size() const { return size_; }
  // Keeps only the first `size` bytes as valid (to fake a truncated buffer).
  void Truncate(size_t size) { size_ = size < size_ ? size : size_; }

 private:
  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

class ActivityBufferBuilder {
 public:
  // Appends `record` as CUPTI would: its full size, padded to 8 bytes.
  template <typename Record>
  ActivityBufferBuilder& Add(const Record& record) {
    AddBytes(&record, sizeof(Record));
    return *this;
  }
  // Appends raw bytes (for malformed records).
  ActivityBufferBuilder& AddBytes(const void* bytes, size_t size);
  ActivityBuffer Build() const;
  size_t size() const { return bytes_.size(); }

 private:
  std::vector<uint8_t> bytes_;
};

// Record makers with the fields tbprof reads; everything else zero.
CUpti_ActivityKernel10 MakeKernel(const char* name, uint64_t start, uint64_t end,
                                  uint32_t correlation_id, uint32_t device_id = 0,
                                  uint32_t stream_id = 7);
CUpti_ActivityMemcpy6 MakeMemcpy(CUpti_ActivityMemcpyKind kind, uint64_t bytes, uint64_t start,
                                 uint64_t end, uint32_t correlation_id, uint32_t device_id = 0,
                                 uint32_t stream_id = 7, bool async = true);
CUpti_ActivityMemcpyPtoP4 MakePeerCopy(uint64_t bytes, uint64_t start, uint64_t end,
                                       uint32_t correlation_id, uint32_t src_device,
                                       uint32_t dst_device, uint32_t stream_id = 7);
CUpti_ActivityMemset4 MakeMemset(uint64_t bytes, uint64_t start, uint64_t end,
                                 uint32_t correlation_id, uint32_t device_id = 0,
                                 uint32_t stream_id = 7);
// kind: CUPTI_ACTIVITY_KIND_RUNTIME or _DRIVER.
CUpti_ActivityAPI MakeApi(CUpti_ActivityKind kind, uint32_t cbid, uint64_t start, uint64_t end,
                          uint32_t thread_id, uint32_t correlation_id);
CUpti_ActivityExternalCorrelation MakeExternalCorrelation(CUpti_ExternalCorrelationKind kind,
                                                          uint64_t external_id,
                                                          uint32_t correlation_id);
CUpti_ActivityOverhead3 MakeOverhead(CUpti_ActivityOverheadKind kind, uint64_t start,
                                     uint64_t end, uint32_t device_id);
CUpti_ActivitySynchronization2 MakeSync(CUpti_ActivitySynchronizationType type, uint64_t start,
                                        uint64_t end, uint32_t context_id, uint32_t stream_id,
                                        uint32_t correlation_id);
// MEMORY2: `op` CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION or _RELEASE; `pool_bytes` > 0
// makes it a memory-pool (stream-ordered) record of a local pool of that size.
CUpti_ActivityMemory4 MakeMemory(CUpti_ActivityMemoryOperationType op, uint64_t address,
                                 uint64_t bytes, uint64_t timestamp, uint32_t device_id = 0,
                                 CUpti_ActivityMemoryKind kind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE,
                                 uint64_t pool_bytes = 0);

}  // namespace tbprof::testing

#endif  // TBPROF_TESTS_FAKES_CUPTI_ACTIVITY_BUILDER_H_
