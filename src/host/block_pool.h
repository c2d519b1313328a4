// Memory for the recorder's 64 KiB event blocks, made ready off the recording threads.
//
// The first write to a fresh page faults: about 16 faults per 64 KiB block, paid by the thread
// that records, in the middle of its step, when a capture outgrows the blocks already touched.
// BlockPool keeps blocks whose pages are already faulted in ahead of demand:
//   - blocks come in slabs of 32 (2 MiB, aligned to 2 MiB), mapped with mmap, advised
//     MADV_HUGEPAGE (one fault maps the whole slab where transparent huge pages are enabled
//     for madvise) and pre-faulted with MAP_POPULATE, or touched page by page otherwise;
//   - while a capture records, a refill thread ("tbprof-refill") keeps `ahead` free blocks in
//     the pool. A recording thread that finds fewer than ahead/2 wakes it (once per 64 KiB at
//     most); one that finds the pool empty maps a slab itself (a miss) and the target doubles,
//     up to the cap given by the recorder (the capture's remaining budget and kMaxAheadBlocks):
//     the pre-population follows the observed event rate and is never unbounded;
//   - Trim unmaps whole slabs whose blocks are all free, keeping at least `keep` blocks.
//
// Locking: the pool has its own mutex, taken after the recorder's registry lock (never
// before); the refill thread takes only the pool's. Fork: PrepareFork/AfterFork* keep the
// mutex consistent; the child has no refill thread until a capture starts one again.
#ifndef TBPROF_SRC_HOST_BLOCK_POOL_H_
#define TBPROF_SRC_HOST_BLOCK_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace tbprof::internal {

// Words (8 bytes) per block after its `next` link; the block is exactly 64 KiB.
inline constexpr int64_t kPoolBlockWords = 8191;

struct Block {
  Block* next = nullptr;
  uint64_t words[kPoolBlockWords];
};
static_assert(sizeof(Block) == 65536, "a block is 64 KiB: 32 of them fill a 2 MiB slab");

inline constexpr int64_t kBlocksPerSlab = 32;
inline constexpr size_t kSlabBytes = sizeof(Block) * kBlocksPerSlab;  // 2 MiB.
// Blocks kept ahead when a capture starts (4 MiB) and the most ever kept ahead (64 MiB).
inline constexpr int64_t kInitialAheadBlocks = 64;
inline constexpr int64_t kMaxAheadBlocks = 1024;

struct BlockPoolStats {
  int64_t pooled = 0;        // Free blocks, all pre-faulted.
  int64_t slabs = 0;         // Slabs mapped.
  int64_t ahead = 0;         // Current refill target (0: not refilling).
  int64_t misses = 0;        // Takes that found the pool empty (a slab mapped by the taker).
  int64_t refill_slabs = 0;  // Slabs mapped by the refill thread.
};

class BlockPool {
 public:
  BlockPool() = default;
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;
  // The pool is meant to live as long as the process (the recorder never destroys it).
  ~BlockPool() = delete;

  // A pre-faulted block, nullptr only when memory cannot be mapped. Thread-safe.
  Block* Take();
  // Gives a block back. Thread-safe.
  void Give(Block* b);
  // Starts keeping up to `ahead` free blocks while a capture records (0: stop refilling), never
  // more than `cap` (the blocks the capture may still take). Fills the pool to min(ahead, cap)
  // synchronously when `prefill`. Thread-safe.
  void SetAhead(int64_t ahead, int64_t cap, bool prefill);
  // Lowers the cap (blocks the capture may still take) without waking anyone.
  void SetCap(int64_t cap);
  // Unmaps slabs whose blocks are all free while more than `keep` blocks are pooled.
  void Trim(int64_t keep);
  BlockPoolStats Stats();

  void PrepareFork();
  void AfterForkParent();
  void AfterForkChild();

 private:
  // Maps one slab and faults its pages in. nullptr on failure.
  static Block* MapSlab();
  void AddSlabLocked(Block* slab);
  void RefillLoop();

  std::mutex mu_;
  std::condition_variable wake_;
  Block* free_ = nullptr;
  int64_t pooled_ = 0;
  int64_t slabs_ = 0;
  int64_t ahead_ = 0;
  int64_t cap_ = 0;
  int64_t misses_ = 0;
  int64_t refill_slabs_ = 0;
  bool refill_running_ = false;
  bool refill_signalled_ = false;
};

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_HOST_BLOCK_POOL_H_
