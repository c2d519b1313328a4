// The memory section of `tbprof summary`: per allocator, the peak of bytes in use within the
// capture, when it happened (time, step, op), the allocations alive at the peak and those never
// freed, read from the "MemoryAllocation" / "MemoryDeallocation" events of the host plane (what
// tbprof's MemoryAllocator writes, and TensorFlow's allocators too) with the stats xprof's
// Memory Profile tool reads.
#ifndef TBPROF_TOOLS_MEMORY_SUMMARY_H_
#define TBPROF_TOOLS_MEMORY_SUMMARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tensorflow/profiler/xplane.pb.h"

namespace tbprof::cli {

// One allocation (as its MemoryAllocation event describes it).
struct MemoryAllocationRow {
  std::string op;      // tf_op stat ("scope/name:Type"), else tbprof_scope, else "".
  std::string tensor;  // "float32[64, 1024]" when the dtype or shape is known, else "".
  int64_t bytes = 0;   // allocation_bytes.
  int64_t requested_bytes = 0;
  uint64_t address = 0;
  int64_t time_ps = 0;  // From the profile start.
  int64_t step = -1;    // tbprof_step, else group_id; -1 = none.
};

struct AllocatorMemorySummary {
  std::string name;
  int64_t peak_bytes = 0;  // Highest bytes_allocated (bytes in use) of its events.
  int64_t peak_time_ps = 0;
  int64_t peak_step = -1;
  std::string peak_op;         // The op of the event that first reached the peak.
  int64_t capacity_bytes = 0;  // In use + available at the peak (the allocator's pool).
  double fragmentation = 0;    // At the peak.
  int64_t allocations = 0;
  int64_t frees = 0;
  std::vector<MemoryAllocationRow> alive_at_peak;  // Largest first.
  std::vector<MemoryAllocationRow> leaks;          // Allocated in the capture, never freed.
  int64_t leaked_bytes = 0;
};

// Event names that are memory events.
bool IsMemoryEventName(std::string_view name);

// One entry per allocator, by name. Empty when the profile has no memory events.
std::vector<AllocatorMemorySummary> SummarizeMemory(const tensorflow::profiler::XSpace& space);

}  // namespace tbprof::cli

#endif  // TBPROF_TOOLS_MEMORY_SUMMARY_H_
