// The bookkeeping of recorded allocations (tbprof/memory.h), done once per export off the
// program's threads: checks the records, computes each allocator's bytes in use and peak when
// the allocator did not report them, finds steps and tensor shapes, and summarizes the peak.
#ifndef TBPROF_SRC_MEMORY_MEMORY_ANALYSIS_H_
#define TBPROF_SRC_MEMORY_MEMORY_ANALYSIS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "src/trace/trace_data.h"

namespace tbprof::internal {

// Completes trace->memory_events (sorted by time): for each event its `valid` flag, step, bytes
// in use / reserved / peak after it, fragmentation, and for allocations the dtype and shape of
// the op output at that address (else of the op's only output of exactly the requested size);
// frees take the sizes and attribution of their allocation. Invalid records (a free of an address
// not allocated in the capture, a double free, a size <= 0, an allocation at a live address) are
// counted per allocator and listed in trace->warnings, and left out of the totals. Idempotent.
// Pure function of the trace; thread-compatible.
void AnalyzeMemory(Trace* trace);

// One allocator's peak within the capture (from events AnalyzeMemory completed).
struct AllocatorSummary {
  std::string name;
  int64_t peak_bytes = 0;     // Highest bytes in use after any of its events.
  int64_t peak_time_ns = -1;  // When it was first reached; -1 = no event.
  int64_t peak_step = -1;     // The step then, -1 = none.
  int32_t peak_op = -1;       // The op of the event that reached it (index into Trace::ops).
  NameId peak_scope = kNoName;
  int64_t reserved_bytes = 0;  // Reported reserved bytes at the peak (0 = not reported).
  int64_t allocations = 0;     // Valid allocations / frees recorded.
  int64_t frees = 0;
  // Indices into Trace::memory_events of the allocations alive at the peak, largest first.
  std::vector<size_t> alive_at_peak;
  // Allocations never freed within the capture (indices, in time order) and their bytes.
  std::vector<size_t> leaks;
  int64_t leaked_bytes = 0;
  int64_t invalid_records = 0;
};

// One summary per Trace::allocators entry, same order. Run AnalyzeMemory first.
std::vector<AllocatorSummary> SummarizeMemory(const Trace& trace);

// "float32[64, 512]" for an event with a known shape, "" otherwise.
std::string MemoryEventTensorText(const MemoryEvent& e);

// The name an event is attributed to: its op "scope/name", else its scope, else "".
std::string MemoryEventOwner(const Trace& trace, const MemoryEvent& e);

// The peak bytes in use of what the ops of each name scope allocated ("mlp", "mlp/dense_1": every
// prefix of the op names that own allocations), all allocators together, by scope name.
struct ScopeMemory {
  std::string scope;
  int64_t peak_bytes = 0;
  int64_t allocated_bytes = 0;  // Sum of the allocations made in the capture.
};
std::vector<ScopeMemory> MemoryPerScope(const Trace& trace);

// For the model summary (TensorBoard's Text tab): each allocator's peak (bytes, step, op) and a
// table of the peak bytes per name scope. "" when the trace has no recorded allocation.
std::string MemoryMarkdown(const Trace& trace);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_MEMORY_MEMORY_ANALYSIS_H_
