#include "src/host/block_pool.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <new>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tbprof::internal {
namespace {

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL and we touch pages.
#endif

uintptr_t SlabOf(const Block* b) {
  return reinterpret_cast<uintptr_t>(b) & ~(uintptr_t{kSlabBytes} - 1);
}

}  // namespace

Block* BlockPool::MapSlab() {
  // Map twice the size and keep the 2 MiB-aligned middle so that a huge page can back it.
  const size_t span = 2 * kSlabBytes;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (begin + kSlabBytes - 1) & ~(uintptr_t{kSlabBytes} - 1);
  if (aligned > begin) munmap(raw, aligned - begin);
  const uintptr_t end = begin + span;
  if (end > aligned + kSlabBytes) {
    munmap(reinterpret_cast<void*>(aligned + kSlabBytes), end - (aligned + kSlabBytes));
  }
  void* slab = reinterpret_cast<void*>(aligned);
#ifdef MADV_HUGEPAGE
  (void)madvise(slab, kSlabBytes, MADV_HUGEPAGE);
#endif
  if (madvise(slab, kSlabBytes, MADV_POPULATE_WRITE) != 0) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    auto* bytes = static_cast<volatile char*>(slab);
    for (size_t off = 0; off < kSlabBytes; off += page) bytes[off] = 0;
  }
  Block* blocks = static_cast<Block*>(slab);
  for (int64_t i = 0; i < kBlocksPerSlab; ++i) {
    new (&blocks[i]) Block;  // Trivial: only `next` is written.
    blocks[i].next = i + 1 < kBlocksPerSlab ? &blocks[i + 1] : nullptr;
  }
  return blocks;
}

void BlockPool::AddSlabLocked(Block* slab) {
  slab[kBlocksPerSlab - 1].next = free_;
  free_ = slab;
  pooled_ += kBlocksPerSlab;
  ++slabs_;
}

Block* BlockPool::Take() {
  std::unique_lock<std::mutex> lock(mu_);
  if (free_ == nullptr) {
    ++misses_;
    if (ahead_ > 0) ahead_ = std::min(ahead_ * 2, kMaxAheadBlocks);
    lock.unlock();
    Block* slab = MapSlab();
    lock.lock();
    if (slab == nullptr) return nullptr;
    AddSlabLocked(slab);
  }
  Block* b = free_;
  free_ = b->next;
  --pooled_;
  b->next = nullptr;
  const bool wake = ahead_ > 0 && pooled_ < std::min(ahead_, cap_) / 2 && !refill_signalled_;
  if (wake) refill_signalled_ = true;
  lock.unlock();
  if (wake) wake_.notify_one();
  return b;
}

void BlockPool::Give(Block* b) {
  std::lock_guard<std::mutex> lock(mu_);
  b->next = free_;
  free_ = b;
  ++pooled_;
}

void BlockPool::SetAhead(int64_t ahead, int64_t cap, bool prefill) {
  std::unique_lock<std::mutex> lock(mu_);
  ahead_ = std::clamp<int64_t>(ahead, 0, kMaxAheadBlocks);
  cap_ = std::max<int64_t>(cap, 0);
  if (ahead_ == 0) return;
  if (prefill) {
    while (pooled_ < std::min(ahead_, cap_)) {
      lock.unlock();
      Block* slab = MapSlab();
      lock.lock();
      if (slab == nullptr) break;
      AddSlabLocked(slab);
    }
  }
  if (!refill_running_) {
    refill_running_ = true;
    std::thread([this] { RefillLoop(); }).detach();
  }
}

void BlockPool::RefillLoop() {
  pthread_setname_np(pthread_self(), "tbprof-refill");
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return ahead_ > 0 && pooled_ < std::min(ahead_, cap_); });
    refill_signalled_ = false;
    lock.unlock();
    Block* slab = MapSlab();
    lock.lock();
    if (slab == nullptr) {
      ahead_ = 0;  // Out of memory: stop getting ahead; takers still map on demand.
      continue;
    }
    AddSlabLocked(slab);
    ++refill_slabs_;
  }
}

void BlockPool::Trim(int64_t keep) {
  std::vector<uintptr_t> unmap;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pooled_ <= keep) return;
    std::unordered_map<uintptr_t, int64_t> free_per_slab;
    for (Block* b = free_; b != nullptr; b = b->next) ++free_per_slab[SlabOf(b)];
    int64_t left = pooled_;
    for (const auto& [slab, n] : free_per_slab) {
      if (n != kBlocksPerSlab || left - kBlocksPerSlab < keep) continue;
      unmap.push_back(slab);
      left -= kBlocksPerSlab;
    }
    if (unmap.empty()) return;
    std::unordered_set<uintptr_t> gone(unmap.begin(), unmap.end());
    Block** link = &free_;
    while (*link != nullptr) {
      if (gone.count(SlabOf(*link)) != 0) {
        *link = (*link)->next;
      } else {
        link = &(*link)->next;
      }
    }
    pooled_ = left;
    slabs_ -= static_cast<int64_t>(unmap.size());
  }
  for (uintptr_t slab : unmap) munmap(reinterpret_cast<void*>(slab), kSlabBytes);
}

BlockPoolStats BlockPool::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return {pooled_, slabs_, ahead_, misses_, refill_slabs_};
}

void BlockPool::PrepareFork() { mu_.lock(); }
void BlockPool::AfterForkParent() { mu_.unlock(); }
void BlockPool::AfterForkChild() {
  // Only the forking thread exists: no refill thread, and nobody waits on the condition.
  refill_running_ = false;
  refill_signalled_ = false;
  ahead_ = 0;
  new (&wake_) std::condition_variable();
  mu_.unlock();
}

}  // namespace tbprof::internal
