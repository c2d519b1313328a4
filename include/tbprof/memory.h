// Memory: what an engine's allocator tells tbprof, for TensorBoard's Memory Profile tool and the
// Graphs tab's Memory view.
//
//   tbprof::MemoryAllocator arena("cpu_arena");     // one per allocator, usually static
//   void* p = Grab(bytes, &rounded);
//   arena.RecordAlloc(p, bytes, rounded);            // after the allocator handed it out
//   ...
//   arena.RecordFree(p);                             // before it takes it back
//
// or, for an allocator with Allocate(size_t) / Deallocate(void*, size_t) members, the adapter
// TrackedAllocator<Inner> below does both calls.
//
// Each allocation is attributed to the op (OpScope / TBPROF_OP) open on the calling thread, or
// failing that to the innermost recorded scope, and to the step being recorded. When the op lists
// an output TensorRef whose id is the allocation's address, the allocation carries that tensor's
// dtype and shape. Without `stats`, tbprof computes the allocator's bytes in use and peak itself
// from the recorded allocations (allocation_bytes); with them, the allocator's own numbers are
// shown.
//
// Cost. While tracing is off every call is one relaxed atomic load and a branch predicted not
// taken (nothing else is evaluated). While on, one timestamp and four (seven with stats) 8-byte
// words appended to the calling thread's buffer: no lock, no allocation in steady state. The
// bookkeeping (in-use, peak, attribution, checks) happens at export.
//
// Bad input never crashes the program nor loses the trace: a free of an address the capture never
// saw allocated, a double free, a zero or negative size, an allocation at an address already
// live are counted and listed in the profile's warnings (XSpace.warnings, `tbprof summary`),
// and left out of the in-use totals.
//
// Thread-safety: every call may be made from any thread at any time, including while a capture
// starts or is exported. An allocation and its free may come from different threads.
#ifndef TBPROF_MEMORY_H_
#define TBPROF_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tbprof/internal/annotate_fast.h"

namespace tbprof {

// What the allocator itself knows, after the call it is passed to (all bytes; -1 = unknown).
struct AllocatorStats {
  int64_t bytes_in_use = -1;    // Bytes handed out and not yet freed.
  int64_t bytes_reserved = -1;  // Bytes the allocator holds from the system (pool size).
  int64_t peak_bytes_in_use = -1;
  // The largest free block in the pool: makes the Memory Profile's fragmentation the allocator's
  // (1 - largest free block / free bytes, TensorFlow's definition). Unknown: tbprof shows the
  // rounding waste of the live allocations instead (1 - requested / allocated).
  int64_t largest_free_block_bytes = -1;
};

namespace internal {
// Out-of-line recording (src/host/recorder.cc). `allocator` is the id from RegisterAllocator.
uint32_t RegisterAllocator(std::string_view name);
void RecordAllocation(uint32_t allocator, const void* address, int64_t requested_bytes,
                      int64_t allocation_bytes, const AllocatorStats* stats);
void RecordDeallocation(uint32_t allocator, const void* address, int64_t bytes,
                        const AllocatorStats* stats);
}  // namespace internal

// One allocator as the Memory Profile lists it ("cpu_arena", "GPU_0_bfc"). Cheap to construct
// (the name is copied once into a process-wide table; at most 4096 distinct names, later ones
// share the name "other"). Copyable; may be a static or a member of the allocator.
class MemoryAllocator {
 public:
  explicit MemoryAllocator(std::string_view name)
#if !defined(TBPROF_COMPILE_OUT) || !TBPROF_COMPILE_OUT
      : id_(internal::RegisterAllocator(name))
#endif
  {
#if defined(TBPROF_COMPILE_OUT) && TBPROF_COMPILE_OUT
    (void)name;
#endif
  }

  // Records that `address` was handed out: `requested_bytes` asked for, `allocation_bytes` taken
  // (the rounded size; 0 = same as requested). Call it after the allocation succeeded.
  void RecordAlloc(const void* address, int64_t requested_bytes, int64_t allocation_bytes = 0,
                   const AllocatorStats* stats = nullptr) const {
#if !defined(TBPROF_COMPILE_OUT) || !TBPROF_COMPILE_OUT
    if (internal::MayRecord(internal::kScopeMask)) {
      internal::RecordAllocation(id_, address, requested_bytes, allocation_bytes, stats);
    }
#else
    (void)address, (void)requested_bytes, (void)allocation_bytes, (void)stats;
#endif
  }

  // Records that `address` was given back. `bytes` is optional (0: the size recorded with the
  // allocation). Call it before the memory may be handed out again.
  void RecordFree(const void* address, int64_t bytes = 0,
                  const AllocatorStats* stats = nullptr) const {
#if !defined(TBPROF_COMPILE_OUT) || !TBPROF_COMPILE_OUT
    if (internal::MayRecord(internal::kScopeMask)) {
      internal::RecordDeallocation(id_, address, bytes, stats);
    }
#else
    (void)address, (void)bytes, (void)stats;
#endif
  }

 private:
  uint32_t id_ = 0;
};

// Wraps an allocator that has `void* Allocate(size_t bytes)` and `void Deallocate(void* p,
// size_t bytes)` members so that every call is recorded:
//
//   tbprof::TrackedAllocator<MyArena> arena("cpu_arena", /*arena constructor args...*/);
//   float* x = static_cast<float*>(arena.Allocate(n * sizeof(float)));
//   arena.Deallocate(x, n * sizeof(float));
//
// `inner()` reaches the wrapped allocator. When Inner also has `size_t AllocationSize(size_t)`
// (its rounding), record the rounded size by calling RecordAlloc yourself instead.
template <typename Inner>
class TrackedAllocator {
 public:
  template <typename... Args>
  explicit TrackedAllocator(std::string_view name, Args&&... args)
      : inner_(static_cast<Args&&>(args)...), tracker_(name) {}

  void* Allocate(size_t bytes) {
    void* p = inner_.Allocate(bytes);
    if (p != nullptr) tracker_.RecordAlloc(p, static_cast<int64_t>(bytes));
    return p;
  }
  void Deallocate(void* p, size_t bytes) {
    if (p != nullptr) tracker_.RecordFree(p, static_cast<int64_t>(bytes));
    inner_.Deallocate(p, bytes);
  }

  Inner& inner() { return inner_; }
  const MemoryAllocator& tracker() const { return tracker_; }

 private:
  Inner inner_;
  MemoryAllocator tracker_;
};

}  // namespace tbprof

#endif  // TBPROF_MEMORY_H_
