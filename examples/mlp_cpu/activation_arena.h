// A caching allocator for the MLP's activations, as inference engines keep one: memory taken from
// the system is never given back, freed blocks are kept by size and handed out again. Every
// allocation and free is told to tbprof (tbprof/memory.h), so the Memory Profile shows the
// per-step sawtooth, and the arena keeps its own count of bytes in use and peak to compare with.
#ifndef TBPROF_EXAMPLES_MLP_CPU_ACTIVATION_ARENA_H_
#define TBPROF_EXAMPLES_MLP_CPU_ACTIVATION_ARENA_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory_resource>
#include <mutex>
#include <new>
#include <vector>

#include "tbprof/memory.h"

class ActivationArena : public std::pmr::memory_resource {
 public:
  static constexpr size_t kAlignment = 256;

  explicit ActivationArena(const char* name) : tracker_(name) {}
  ~ActivationArena() override {
    for (auto& [bytes, blocks] : free_) {
      for (void* p : blocks) ::operator delete(p, std::align_val_t(kAlignment));
    }
  }

  // Bytes handed out and not given back (rounded sizes), and their highest value so far.
  int64_t in_use_bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return in_use_;
  }
  int64_t peak_bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peak_;
  }

 private:
  void* do_allocate(size_t bytes, size_t alignment) override {
    const size_t rounded = (std::max<size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
    std::lock_guard<std::mutex> lock(mu_);
    void* p = nullptr;
    auto it = free_.find(rounded);
    if (it != free_.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
    } else {
      p = ::operator new(rounded, std::align_val_t(kAlignment));
      reserved_ += static_cast<int64_t>(rounded);
    }
    in_use_ += static_cast<int64_t>(rounded);
    peak_ = std::max(peak_, in_use_);
    // The pool's size and largest cached block; tbprof counts the bytes in use itself.
    tbprof::AllocatorStats stats = Stats();
    tracker_.RecordAlloc(p, static_cast<int64_t>(bytes), static_cast<int64_t>(rounded), &stats);
    return p;
  }

  void do_deallocate(void* p, size_t bytes, size_t alignment) override {
    const size_t rounded = (std::max<size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
    std::lock_guard<std::mutex> lock(mu_);
    free_[rounded].push_back(p);
    in_use_ -= static_cast<int64_t>(rounded);
    tbprof::AllocatorStats stats = Stats();
    tracker_.RecordFree(p, static_cast<int64_t>(bytes), &stats);
  }

  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  // Lock held.
  tbprof::AllocatorStats Stats() const {
    tbprof::AllocatorStats stats;
    stats.bytes_reserved = reserved_;
    stats.largest_free_block_bytes = 0;
    for (auto it = free_.rbegin(); it != free_.rend(); ++it) {
      if (!it->second.empty()) {
        stats.largest_free_block_bytes = static_cast<int64_t>(it->first);
        break;
      }
    }
    return stats;
  }

  tbprof::MemoryAllocator tracker_;
  mutable std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;  // Cached blocks by rounded size.
  int64_t in_use_ = 0;
  int64_t peak_ = 0;
  int64_t reserved_ = 0;
};

#endif  // TBPROF_EXAMPLES_MLP_CPU_ACTIVATION_ARENA_H_
