#include "src/host/recorder.h"

#include <malloc.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "src/config/config.h"
#include "src/host/block_pool.h"
#include "src/util/hot_tls.h"
#include "src/util/strings.h"
#include "tbprof/annotate.h"
#include "tbprof/memory.h"

namespace tbprof::internal {

std::atomic<uint32_t> g_trace_state{kStateUninitialized};

namespace {

// ---- Record encoding -------------------------------------------------------------------------

constexpr uint64_t kTypeBegin = 0;
constexpr uint64_t kTypeEnd = 1;
constexpr uint64_t kTypeEscape = 2;
constexpr int kTypeShift = 32;
constexpr int kPayloadShift = 34;
constexpr uint64_t kDeltaMask = 0xffffffffull;
constexpr uint32_t kEscAbsTime = 0;
constexpr uint32_t kEscStepBegin = 1;
// Memory records (tbprof/memory.h): the escape's id is the allocator; extra words follow.
//   alloc: address, requested bytes, allocation bytes      (+ 4 stats words with kEscAllocStats)
//   free:  address, bytes                                  (+ 4 stats words with kEscFreeStats)
constexpr uint32_t kEscAlloc = 2;
constexpr uint32_t kEscAllocStats = 3;
constexpr uint32_t kEscFree = 4;
constexpr uint32_t kEscFreeStats = 5;
constexpr int kMaxExtraWords = 7;
// Allocator names kept for the process; beyond, allocators share the last id ("other").
constexpr uint32_t kMaxAllocators = 4096;
// Name ids must fit the escape payload (26 bits) and the NameScope token (25 bits).
constexpr uint32_t kMaxNameId = (1u << 25) - 1;
// Static names (call sites, kept for the process) take ids below kFirstDynamicId; the dynamic
// names of a session take the ids above, handed out in a cycle, and are forgotten after it.
constexpr uint32_t kFirstDynamicId = 1u << 24;
constexpr uint32_t kDynamicIdRange = kMaxNameId - kFirstDynamicId + 1;

constexpr uint64_t BeginWord(uint32_t id) {
  return (kTypeBegin << kTypeShift) | (uint64_t{id} << kPayloadShift);
}
constexpr uint64_t EndWord(uint32_t id) {
  return (kTypeEnd << kTypeShift) | (uint64_t{id} << kPayloadShift);
}
constexpr uint64_t EscapeWord(uint32_t subtype, uint32_t id) {
  return (kTypeEscape << kTypeShift) | (uint64_t{(id << 4) | subtype} << kPayloadShift);
}

// ---- Hashing of dynamic names ------------------------------------------------------------------

inline uint64_t HashBytes(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

inline uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ull + (a << 6) + (a >> 2));
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 29;
  return x;
}

constexpr uint64_t kSaltScope = 0x5c09e5a17ull;
constexpr uint64_t kSaltStep = 0x57e95a17ull;
constexpr uint64_t kSaltOp = 0x0b5a17ull;

// ---- Blocks and thread records -----------------------------------------------------------------

static_assert(kBlockWords == kPoolBlockWords, "blocks come from the BlockPool");

constexpr int kMaxNameScopeDepth = 64;
constexpr size_t kMaxPathBytes = 1024;
constexpr uint32_t kOverflowDepthToken = 0x7f;

struct ThreadState;

struct CacheEntry {
  uint32_t id = 0;
  uint32_t generation = 0xffffffffu;  // Session in which the op's tensors were last recorded.
};

// The name-scope stack and the id cache of a live thread (owner thread only); freed when the
// thread exits, so an exited thread keeps only its records and counters.
struct ThreadScopes {
  char path[kMaxPathBytes] = {};
  uint32_t path_len = 0;
  uint32_t depth = 0;
  uint32_t overflow = 0;
  uint32_t saved_len[kMaxNameScopeDepth] = {};
  uint64_t path_hash[kMaxNameScopeDepth + 1] = {};
  // Dynamic name and op ids by hash, valid in session `cache_generation` only (dynamic ids
  // are forgotten after each session).
  absl::flat_hash_map<uint64_t, CacheEntry> cache;
  uint32_t cache_generation = 0xffffffffu;
};

// Heap part of a thread's recorder, owned by the registry. A thread that exits keeps it only
// while it holds records of the current session (until they are collected).
struct ThreadRecord {
  int64_t tid = 0;
  ThreadState* live = nullptr;  // The thread's state while it runs; nullptr after exit.
  std::string exit_name;        // OS name read at exit.
  char user_name[64] = {};      // SetThreadName.
  // Blocks of the current generation already filled (in order), and the block being written.
  Block* head = nullptr;
  Block* tail = nullptr;
  Block* current = nullptr;
  uint64_t* current_end = nullptr;  // Write position at exit (exited threads only).
  // Exited threads whose last block was mostly empty: its records, copied so that the block
  // goes back to the pool (short-lived threads would otherwise hold 64 KiB each).
  std::vector<uint64_t> exit_words;
  uint32_t generation = 0xffffffffu;
  // Ring mode: ticks of the first record of `current` (blocks in the chain carry theirs in
  // their leading absolute-time record) and of the last record before the thread exited.
  uint64_t current_first_ticks = 0;
  uint64_t exit_ticks = 0;
  std::atomic<uint64_t> dropped_events{0};
  std::atomic<bool> truncated{false};    // Dropped records: open scopes at the end are drops.
  size_t slot = 0;                       // Index in Registry::threads.
  std::unique_ptr<ThreadScopes> scopes;  // Live threads only.
};

// What a thread's record costs the session's budget (in 8-byte words), charged on its first
// record in each session: the record, its registry slot and allocator overhead.
constexpr int64_t kThreadRecordWords = (sizeof(ThreadRecord) + 64) / 8;

// The thread-local part: trivially constructible and destructible, so access is a plain TLS
// load without guard; `cur` is atomic because the collector reads it.
struct ThreadState {
  std::atomic<uint64_t*> cur;
  uint64_t* limit;
  uint64_t last;
  // The state word (g_trace_state) the thread last took the slow path with; its generation is
  // the session the thread records into. While the word is unchanged the fast path needs no
  // other session check. 0 (generation 0, never a session's) before the thread's first record.
  uint32_t state_seen;
  bool exited;
  bool dropping;
  ThreadRecord* rec;
  char user_name[64];
};

constinit thread_local ThreadState t_state TBPROF_HOT_TLS{};

// ---- Process-wide registry ---------------------------------------------------------------------

struct NameEntry {
  const char* static_name = nullptr;  // TBPROF_SCOPE: the literal, never copied.
  std::string text;                   // Dynamic names: the copy; ops: "scope/name:Type".
  HostEventKind kind = HostEventKind::kScope;
  std::string op_name;  // Ops: "scope/name".
  std::string op_type;  // Ops: "Type".
  std::string_view view() const {
    return static_name != nullptr ? std::string_view(static_name) : std::string_view(text);
  }
};

struct OpTensors {
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  int truncated_shapes = 0;
};

struct Registry {
  std::mutex mu;
  std::deque<NameEntry> names;  // Static names: id = index + 1 (< kFirstDynamicId).
  // The session's dynamic names: id = dynamic_first + index (modulo the dynamic range).
  std::deque<NameEntry> dynamic_names;
  uint32_t dynamic_first = kFirstDynamicId;
  uint32_t next_dynamic = kFirstDynamicId;
  std::unordered_map<std::string, uint32_t> dynamic_ids[4];  // Per HostEventKind.
  std::vector<ThreadRecord*> threads;
  int64_t blocks_in_use = 0;
  int64_t budget_words = 0;  // Words the current session may still take.
  uint32_t generation = 0;
  bool recording = false;
  bool stopped_uncollected = false;
  // Ring (flight recorder) mode: blocks are recycled instead of the capture ending at its cap.
  bool ring = false;
  uint64_t ring_window_ticks = 0;  // Blocks whose records are all older are recycled.
  int64_t ring_window_ns = 0;
  int64_t ring_reserve_words = 0;  // Extra words threads may take while a snapshot reads.
  int snapshots = 0;               // Snapshots reading detached chains (ring mode).
  // Changes whenever recording starts or stops: a snapshot that finds it changed when it
  // splices its chains back does not touch the thread records (they may be gone).
  uint64_t epoch = 0;
  RecorderOptions options;
  ClockSample start_sample;
  ClockSample end_sample;
  std::unordered_map<uint32_t, OpTensors> tensors;  // Current session, by op id.
  int64_t names_dropped = 0;
  // Events of the session dropped because the budget could not hold their name, and events
  // dropped by threads that exited with no record left (their state is gone).
  int64_t budget_dropped_events = 0;
  int64_t exited_dropped_events = 0;
  int64_t tensors_dropped = 0;  // Ops whose tensors did not fit the budget.
  // Allocator names (tbprof/memory.h), id = index; kept for the process.
  std::vector<std::string> allocator_names;
};

Registry& Reg() {
  static Registry* r = new Registry();  // Never destroyed: threads may record during exit.
  return *r;
}

// Free blocks, pre-faulted off the recording threads (block_pool.h). Never destroyed.
BlockPool& Pool() {
  static BlockPool* p = new BlockPool();
  return *p;
}

uint32_t CurrentGeneration(uint32_t state) { return state >> kStateGenerationShift; }

// Called with the registry lock held.
uint32_t AddNameLocked(Registry& r, NameEntry entry) {
  if (r.names.size() + 1 >= kFirstDynamicId) {
    ++r.names_dropped;
    return 0;
  }
  r.names.push_back(std::move(entry));
  return static_cast<uint32_t>(r.names.size());
}

// Budget words a dynamic name takes: its copies (entry and index key) and their overhead.
int64_t DynamicNameWords(const NameEntry& e) {
  return static_cast<int64_t>(sizeof(NameEntry) + 2 * e.text.size() + e.op_name.size() +
                              e.op_type.size() + 128) /
         8;
}

// Adds a dynamic name of the current session, charged to its budget. 0 (the event is
// dropped and counted) when no session records or the budget cannot hold it. Lock held.
uint32_t AddDynamicNameLocked(Registry& r, NameEntry entry) {
  const int64_t words = DynamicNameWords(entry);
  if (!r.recording || r.budget_words < words || r.dynamic_names.size() >= kDynamicIdRange) {
    if (r.recording) ++r.budget_dropped_events;
    return 0;
  }
  r.budget_words -= words;
  r.dynamic_names.push_back(std::move(entry));
  uint32_t id = r.next_dynamic;
  r.next_dynamic = id == kMaxNameId ? kFirstDynamicId : id + 1;
  return id;
}

// The entry of `id`, or nullptr. Lock held.
const NameEntry* FindNameLocked(const Registry& r, uint32_t id) {
  if (id == 0) return nullptr;
  if (id < kFirstDynamicId) return id <= r.names.size() ? &r.names[id - 1] : nullptr;
  uint32_t offset =
      id >= r.dynamic_first ? id - r.dynamic_first : id + kDynamicIdRange - r.dynamic_first;
  return offset < r.dynamic_names.size() ? &r.dynamic_names[offset] : nullptr;
}

// Forgets the dynamic names (after a session is collected or dropped), giving their memory
// back. Their ids are not handed out again before the whole dynamic range has cycled.
void ResetDynamicNamesLocked(Registry& r) {
  std::deque<NameEntry>().swap(r.dynamic_names);
  for (auto& index : r.dynamic_ids) std::unordered_map<std::string, uint32_t>().swap(index);
  r.dynamic_first = r.next_dynamic;
}

// Kept out of line (and off the hot pages) so that ScopeBegin's fast path needs no stack frame.
__attribute__((noinline, cold)) uint32_t RegisterStaticSite(StaticSite* site) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  uint32_t id = site->id.load(std::memory_order_relaxed);
  if (id != 0) return id;
  NameEntry e;
  e.static_name = site->name;
  id = AddNameLocked(r, std::move(e));
  site->id.store(id, std::memory_order_release);
  return id;
}

uint32_t RegisterDynamicName(std::string_view text, HostEventKind kind) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  auto& index = r.dynamic_ids[static_cast<int>(kind) & 3];
  auto it = index.find(std::string(text));
  if (it != index.end()) return it->second;
  NameEntry e;
  e.text = std::string(text);
  e.kind = kind;
  uint32_t id = AddDynamicNameLocked(r, std::move(e));
  if (id != 0) index.emplace(std::string(text), id);
  return id;
}

// ---- Blocks ------------------------------------------------------------------------------------

// Takes a block for the current session, reserving up to a block's worth of the budget.
// Lock held. Returns nullptr when the cap is reached.
Block* AcquireBlockLocked(Registry& r, int64_t* words) {
  int64_t reserve = std::min<int64_t>(kBlockWords, r.budget_words);
  if (reserve < 8) return nullptr;
  Block* b = Pool().Take();
  if (b == nullptr) return nullptr;
  r.budget_words -= reserve;
  ++r.blocks_in_use;
  *words = reserve;
  return b;
}

void ReleaseBlockLocked(Registry& r, Block* b) {
  Pool().Give(b);
  --r.blocks_in_use;
}

void ReleaseChainLocked(Registry& r, Block* head) {
  while (head != nullptr) {
    Block* next = head->next;
    ReleaseBlockLocked(r, head);
    head = next;
  }
}

// ---- Ring mode (flight recorder) ---------------------------------------------------------

// Ticks of the first record of the block that follows `b` in `rec`'s ring (its newest record
// is older than that).
uint64_t NextFirstTicks(const ThreadRecord* rec, const Block* b) {
  if (b->next != nullptr) return b->next->words[1];  // Every block starts with an AbsTime.
  return rec->current != nullptr ? rec->current_first_ticks : rec->exit_ticks;
}

// Unlinks and returns `rec`'s oldest filled block. Lock held.
Block* PopOldestLocked(ThreadRecord* rec) {
  Block* h = rec->head;
  rec->head = h->next;
  if (rec->head == nullptr) rec->tail = nullptr;
  h->next = nullptr;
  return h;
}

// Ring mode: a block for `rec`, whose current block is full. Recycles the thread's own oldest
// block when all its records left the window or the budget is spent; otherwise takes one from
// the pool within the budget (plus the reserve while a snapshot holds detached chains).
// nullptr when none can be had: the record is dropped. Lock held.
Block* RingAcquireBlockLocked(Registry& r, ThreadRecord* rec, uint64_t now, int64_t* words) {
  *words = kBlockWords;
  if (Block* h = rec->head; h != nullptr) {
    const uint64_t newer = NextFirstTicks(rec, h);
    const bool outside_window =
        r.ring_window_ticks > 0 && now > newer && now - newer > r.ring_window_ticks;
    if (outside_window || r.budget_words < kBlockWords) return PopOldestLocked(rec);
  }
  const int64_t floor = r.snapshots > 0 ? kBlockWords - r.ring_reserve_words : kBlockWords;
  if (r.budget_words < floor) return nullptr;
  Block* b = Pool().Take();
  if (b == nullptr) return nullptr;
  r.budget_words -= kBlockWords;
  ++r.blocks_in_use;
  return b;
}

// Ring mode: gives back blocks beyond the budget (globally oldest first) and blocks whose
// records all left the window. Lock held; no snapshot may hold detached chains when
// `window` is true for exited threads (their records are deleted).
void RingTrimLocked(Registry& r, uint64_t now) {
  while (r.budget_words < 0) {
    ThreadRecord* oldest = nullptr;
    for (ThreadRecord* rec : r.threads) {
      if (rec->head == nullptr) continue;
      if (oldest == nullptr || rec->head->words[1] < oldest->head->words[1]) oldest = rec;
    }
    if (oldest == nullptr) break;
    ReleaseBlockLocked(r, PopOldestLocked(oldest));
    r.budget_words += kBlockWords;
  }
  if (r.ring_window_ticks == 0) return;
  std::vector<ThreadRecord*> kept;
  for (ThreadRecord* rec : r.threads) {
    while (rec->head != nullptr) {
      const uint64_t newer = NextFirstTicks(rec, rec->head);
      if (!(now > newer && now - newer > r.ring_window_ticks)) break;
      ReleaseBlockLocked(r, PopOldestLocked(rec));
      r.budget_words += kBlockWords;
    }
    const bool gone = rec->live == nullptr && rec->generation == r.generation && r.snapshots == 0 &&
                      now > rec->exit_ticks && now - rec->exit_ticks > r.ring_window_ticks;
    if (gone) {
      if (rec->current != nullptr) {
        ReleaseBlockLocked(r, rec->current);
        r.budget_words += kBlockWords;
      }
      delete rec;
    } else {
      kept.push_back(rec);
    }
  }
  r.threads = std::move(kept);
}

// The window in ticks, from the slope measured since the session started. Lock held.
void UpdateRingWindowTicksLocked(Registry& r) {
  if (r.ring_window_ns <= 0) {
    r.ring_window_ticks = 0;
    return;
  }
  const ClockKind kind = g_clock_kind.load();
  TickMap map = FitTickMap(r.start_sample, SampleClocks(), FirstClockSample(), kind);
  const double ticks = static_cast<double>(r.ring_window_ns) / std::max(map.ns_per_tick, 1e-6);
  r.ring_window_ticks = static_cast<uint64_t>(ticks);
}

// Keeps the pool from holding on to a big capture's memory forever.
void TrimPoolLocked(Registry& r) {
  constexpr int64_t kKeepBlocks = 64;  // 4 MiB.
  Pool().Trim(kKeepBlocks);
}

std::string ReadOsThreadName(int64_t tid) {
  std::ifstream in(absl::StrCat("/proc/self/task/", tid, "/comm"));
  std::string name;
  std::getline(in, name);
  return name;
}

// ---- Thread registration and exit ------------------------------------------------------------

void AddThreadLocked(Registry& r, ThreadRecord* rec) {
  rec->slot = r.threads.size();
  r.threads.push_back(rec);
}

void RemoveThreadLocked(Registry& r, ThreadRecord* rec) {
  ThreadRecord* last = r.threads.back();
  r.threads[rec->slot] = last;
  last->slot = rec->slot;
  r.threads.pop_back();
}

// After r.threads was rebuilt.
void ReindexThreadsLocked(Registry& r) {
  for (size_t i = 0; i < r.threads.size(); ++i) r.threads[i]->slot = i;
}

struct ThreadExitHook {
  bool armed = false;
  ~ThreadExitHook();
};
thread_local ThreadExitHook t_exit_hook;

ThreadExitHook::~ThreadExitHook() {
  if (!armed) return;
  ThreadState& t = t_state;
  ThreadRecord* rec = t.rec;
  if (rec == nullptr) return;
  std::string os_name = ReadOsThreadName(rec->tid);
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  rec->exit_name = std::move(os_name);
  uint64_t* pos = t.cur.load(std::memory_order_relaxed);
  rec->current_end = pos;
  if (rec->current != nullptr && pos != nullptr) {
    // Give the unused part of the block's reservation back to the session's budget.
    const bool ring = r.recording && r.ring && rec->generation == r.generation;
    if (r.recording && rec->generation == r.generation && t.limit > pos && !ring) {
      r.budget_words += t.limit - pos;
    }
    rec->exit_ticks = t.last;
    if (pos - rec->current->words < kBlockWords / 4) {
      rec->exit_words.assign(rec->current->words, pos);
      ReleaseBlockLocked(r, rec->current);
      if (ring) r.budget_words += kBlockWords;
      rec->current = nullptr;
      rec->current_end = nullptr;
    }
  }
  rec->live = nullptr;
  rec->scopes.reset();
  t.exited = true;
  t.limit = nullptr;
  t.cur.store(nullptr, std::memory_order_relaxed);
  t.rec = nullptr;
  // A thread with no record of the session being recorded or waiting for collection is
  // forgotten now (a thread per request must not keep its state); its drops are kept.
  const bool session_open = r.recording || r.stopped_uncollected;
  const bool current = session_open && rec->generation == r.generation;
  const bool has_records =
      rec->head != nullptr || rec->current != nullptr || !rec->exit_words.empty();
  // A flight-recorder snapshot holds this record until it splices the chains back.
  if (current && (has_records || r.snapshots > 0)) return;
  if (current) {
    r.exited_dropped_events +=
        static_cast<int64_t>(rec->dropped_events.load(std::memory_order_relaxed));
  }
  ReleaseChainLocked(r, rec->head);
  if (rec->current != nullptr) ReleaseBlockLocked(r, rec->current);
  RemoveThreadLocked(r, rec);
  delete rec;
}

// Creates the calling thread's record (no block yet). Returns false after the thread's exit
// hook ran (a scope in another thread_local's destructor).
bool EnsureRegistered(ThreadState& t) {
  if (t.rec != nullptr) return !t.exited;
  if (t.exited) return false;
  auto* rec = new ThreadRecord();
  rec->scopes = std::make_unique<ThreadScopes>();
  rec->tid = static_cast<int64_t>(syscall(SYS_gettid));
  rec->live = &t;
  std::memcpy(rec->user_name, t.user_name, sizeof(rec->user_name));
  t_exit_hook.armed = true;  // Registers the exit hook's destructor for this thread.
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  AddThreadLocked(r, rec);
  t.rec = rec;
  t.state_seen = 0;  // Forces the first record into the new-session path.
  return true;
}

// ---- Emitting records ----------------------------------------------------------------------

// Writes the absolute-time escape (2 words). Room must have been checked.
inline uint64_t* WriteAbsTime(uint64_t* p, uint64_t now) {
  p[0] = EscapeWord(kEscAbsTime, 0);
  p[1] = now;
  return p + 2;
}

// The slow path of Emit: registration, new session, new block, long delta, drops, and
// records with extra words (steps, memory).
__attribute__((noinline)) void EmitSlow(uint64_t word, uint64_t now, uint32_t state,
                                        const uint64_t* extra, int num_extra) {
  ThreadState& t = t_state;
  if (!EnsureRegistered(t)) return;
  ThreadRecord* rec = t.rec;
  Registry& r = Reg();
  const uint32_t gen = CurrentGeneration(state);
  const uint64_t type = (word >> kTypeShift) & 3;
  const bool is_event = type == kTypeBegin || type == kTypeEscape;

  if (CurrentGeneration(t.state_seen) != gen) {
    // First record of this thread in a new session.
    if (type == kTypeEnd) return;  // Its begin belonged to an older session.
    std::lock_guard<std::mutex> lock(r.mu);
    if (!r.recording || r.generation != gen) return;  // The session ended meanwhile.
    // Stale filled blocks were released by StartRecording; the old current block holds only
    // stale records: give it back and start afresh.
    if (rec->current != nullptr) {
      ReleaseBlockLocked(r, rec->current);
      rec->current = nullptr;
    }
    rec->head = rec->tail = nullptr;
    rec->generation = gen;
    rec->dropped_events.store(0, std::memory_order_relaxed);
    rec->truncated.store(false, std::memory_order_relaxed);
    t.dropping = false;
    t.limit = nullptr;
    t.cur.store(nullptr, std::memory_order_relaxed);
    // The thread's state is part of the capture's memory: charged once per session.
    if (r.budget_words < kThreadRecordWords) {
      t.dropping = true;
      rec->truncated.store(true, std::memory_order_relaxed);
    } else {
      r.budget_words -= kThreadRecordWords;
    }
  }
  t.state_seen = state;  // The thread records into this state's session from here on.
  if (t.dropping) {
    if (is_event) rec->dropped_events.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const int64_t needed = 2 + 1 + num_extra;
  uint64_t* p = t.cur.load(std::memory_order_relaxed);
  bool fresh = false;
  if (p == nullptr || p + needed > t.limit) {
    std::lock_guard<std::mutex> lock(r.mu);
    if (!r.recording || r.generation != gen) return;
    int64_t words = 0;
    Block* b = r.ring ? RingAcquireBlockLocked(r, rec, now, &words) : AcquireBlockLocked(r, &words);
    if (b == nullptr) {
      if (!r.ring) {  // A ring drops only until a block can be recycled again.
        t.dropping = true;
        rec->truncated.store(true, std::memory_order_relaxed);
      }
      if (is_event) rec->dropped_events.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (rec->current != nullptr) {
      // Retire the full block. Its unused tail is filled with a padding word (type 3, never
      // a record) where decoding of the block stops.
      uint64_t* old_end = p;
      uint64_t* block_end = rec->current->words + kBlockWords;
      std::fill(old_end, block_end, ~uint64_t{0});  // Padding marker.
      if (rec->tail == nullptr) {
        rec->head = rec->current;
      } else {
        rec->tail->next = rec->current;
      }
      rec->tail = rec->current;
    }
    rec->current = b;
    rec->current_first_ticks = now;
    p = b->words;
    t.limit = b->words + words;
    fresh = true;
  }
  if (fresh || now - t.last > kDeltaMask) {
    p = WriteAbsTime(p, now);
    t.last = now;
  }
  p[0] = (now - t.last) | word;
  t.last = now;
  ++p;
  for (int i = 0; i < num_extra; ++i) *p++ = extra[i];
  t.cur.store(p, std::memory_order_release);
}

// Appends one record at `now` when the current block has room, the delta fits and the thread's
// session is current: one TLS access, three compares, three stores. False sends it to EmitSlow.
__attribute__((always_inline)) inline bool TryAppend(uint64_t word, uint32_t state, uint64_t now) {
  ThreadState& t = t_state;
  uint64_t* p = t.cur.load(std::memory_order_relaxed);
  const uint64_t delta = now - t.last;
  if (TBPROF_INTERNAL_LIKELY(p < t.limit && delta <= kDeltaMask && t.state_seen == state)) {
    *p = delta | word;
    t.last = now;
    t.cur.store(p + 1, std::memory_order_release);
    return true;
  }
  return false;
}

// Everything Emit's fast path does not do: a clock other than the TSC (a test's injected one
// included; `now` is then not read yet) and EmitSlow. Out of line and returning `ret`, so that
// the annotation entry points reach it with a tail call and need no stack frame of their own.
__attribute__((noinline)) uint32_t EmitOutOfLine(uint64_t word, uint32_t state, uint64_t now,
                                                 uint32_t ret) {
  if ((state & kStateOtherClock) != 0) {
    now = ReadTicks();
    if (TryAppend(word, state, now)) return ret;
  }
  EmitSlow(word, now, state, nullptr, 0);
  return ret;
}

// Appends one record and returns `ret`. Inlined into each annotation entry point, which is then
// a leaf on the fast path: a test of the state word's clock bit, one rdtsc, TryAppend.
__attribute__((always_inline)) inline uint32_t Emit(uint64_t word, uint32_t state,
                                                    uint32_t ret = 0) {
  uint64_t now = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (TBPROF_INTERNAL_LIKELY((state & kStateOtherClock) == 0)) {
    now = __rdtsc();
    if (TBPROF_INTERNAL_LIKELY(TryAppend(word, state, now))) return ret;
  }
#endif
  return EmitOutOfLine(word, state, now, ret);
}

// Appends one record followed by `n` extra words (memory records): the fast path of Emit with
// a copy of the extra words.
inline void EmitWithExtra(uint64_t word, uint32_t state, const uint64_t* extra, int n) {
  ThreadState& t = t_state;
#if defined(__x86_64__) || defined(__i386__)
  const uint64_t now = (state & kStateOtherClock) == 0 ? __rdtsc() : ReadTicks();
#else
  const uint64_t now = ReadTicks();
#endif
  uint64_t* p = t.cur.load(std::memory_order_relaxed);
  const uint64_t delta = now - t.last;
  if (TBPROF_INTERNAL_LIKELY(t.limit - p > n && delta <= kDeltaMask && t.state_seen == state)) {
    p[0] = delta | word;
    for (int i = 0; i < n; ++i) p[1 + i] = extra[i];
    t.last = now;
    t.cur.store(p + 1 + n, std::memory_order_release);
    return;
  }
  EmitSlow(word, now, state, extra, n);
}

inline uint32_t LoadState() {
  uint32_t st = g_trace_state.load(std::memory_order_relaxed);
  if (TBPROF_INTERNAL_UNLIKELY(st & kStateUninitialized)) {
    EnsureInitialized();
    st = g_trace_state.load(std::memory_order_relaxed);
  }
  return st;
}

// The thread's id cache for session `gen`: emptied when the session changed, since the ids
// of an older session's dynamic names are forgotten.
inline absl::flat_hash_map<uint64_t, CacheEntry>& CacheFor(ThreadRecord* rec, uint32_t gen) {
  ThreadScopes& s = *rec->scopes;
  if (TBPROF_INTERNAL_UNLIKELY(s.cache_generation != gen)) {
    if (s.cache.capacity() > 256) {
      absl::flat_hash_map<uint64_t, CacheEntry>().swap(s.cache);
    } else {
      s.cache.clear();
    }
    s.cache_generation = gen;
  }
  return s.cache;
}

// Id of a dynamic name through the thread's cache. 0 when it cannot be registered.
uint32_t DynamicNameId(ThreadRecord* rec, uint32_t gen, std::string_view text, HostEventKind kind,
                       uint64_t salt) {
  auto& cache = CacheFor(rec, gen);
  uint64_t key = Mix(HashBytes(text), salt);
  auto it = cache.find(key);
  if (TBPROF_INTERNAL_LIKELY(it != cache.end())) return it->second.id;
  uint32_t id = RegisterDynamicName(text, kind);
  if (id != 0) cache[key].id = id;
  return id;
}

// Budget words the copies of an op's tensors take.
int64_t TensorWords(const TensorRef* refs, size_t n) {
  int64_t bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    bytes += sizeof(TensorInfo) + 8 * std::min(std::max(0, refs[i].rank), TensorRef::kMaxRank);
    if (refs[i].name != nullptr) bytes += static_cast<int64_t>(std::strlen(refs[i].name));
  }
  return bytes / 8;
}

int32_t CopyTensors(const TensorRef* refs, size_t n, std::vector<TensorInfo>* out) {
  int32_t truncated = 0;
  out->reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const TensorRef& ref = refs[i];
    TensorInfo info;
    info.id = ref.id;
    info.dtype = static_cast<int32_t>(ref.dtype);
    int32_t rank = std::max(0, ref.rank);
    int32_t kept = std::min(rank, static_cast<int32_t>(TensorRef::kMaxRank));
    if (kept < rank) ++truncated;
    info.shape.assign(ref.dims, ref.dims + kept);
    if (ref.name != nullptr) info.name = ref.name;
    info.role = static_cast<int32_t>(ref.role);
    out->push_back(std::move(info));
  }
  return truncated;
}

// First sight of an op by this thread in this session: registers the full name and the tensors.
uint32_t OpSlow(ThreadRecord* rec, uint64_t key, uint32_t gen, std::string_view name,
                std::string_view type, const TensorRef* inputs, size_t num_inputs,
                const TensorRef* outputs, size_t num_outputs) {
  auto& cache = CacheFor(rec, gen);
  auto it = cache.find(key);
  uint32_t id = it != cache.end() ? it->second.id : 0;
  if (id == 0) {
    std::string op_name(rec->scopes->path, rec->scopes->path_len);
    if (!op_name.empty()) op_name.push_back('/');
    size_t at = op_name.size();
    op_name.append(name);
    std::replace(op_name.begin() + at, op_name.end(), ':', '_');
    std::string full = absl::StrCat(op_name, ":", AsAbsl(type));
    Registry& r = Reg();
    std::lock_guard<std::mutex> lock(r.mu);
    auto& index = r.dynamic_ids[static_cast<int>(HostEventKind::kOp)];
    auto found = index.find(full);
    if (found != index.end()) {
      id = found->second;
    } else {
      NameEntry e;
      e.text = full;
      e.kind = HostEventKind::kOp;
      e.op_name = std::move(op_name);
      e.op_type = std::string(type);
      id = AddDynamicNameLocked(r, std::move(e));
      if (id != 0) index.emplace(std::move(full), id);
    }
  }
  if (id == 0) return 0;
  Registry& r = Reg();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.recording && r.generation == gen && r.options.record_tensors &&
        r.tensors.find(id) == r.tensors.end()) {
      const int64_t words =
          TensorWords(inputs, num_inputs) + TensorWords(outputs, num_outputs) + 16;
      if (r.budget_words < words) {
        ++r.tensors_dropped;  // The op is recorded; its tensors are not.
      } else {
        r.budget_words -= words;
        OpTensors& t = r.tensors[id];
        t.truncated_shapes += CopyTensors(inputs, num_inputs, &t.inputs);
        t.truncated_shapes += CopyTensors(outputs, num_outputs, &t.outputs);
      }
    }
  }
  CacheEntry& entry = cache[key];
  entry.id = id;
  entry.generation = gen;
  return id;
}

}  // namespace

// ---- Annotation entry points (annotate_fast.h) ----------------------------------------------

namespace {
// ScopeBegin's first call at a site, or of the process: reads the configuration, registers the
// site. Out of line so that ScopeBegin itself is a leaf on its fast path.
__attribute__((noinline)) uint32_t ScopeBeginSlow(StaticSite* site) {
  const uint32_t st = LoadState();
  if ((st & kStateLevelMask) == 0) return 0;
  uint32_t id = site->id.load(std::memory_order_acquire);
  if (id == 0) {
    id = RegisterStaticSite(site);
    if (id == 0) return 0;
  }
  return Emit(BeginWord(id), st, id);
}
}  // namespace

uint32_t ScopeBegin(StaticSite* site) {
  const uint32_t st = g_trace_state.load(std::memory_order_relaxed);
  const uint32_t id = site->id.load(std::memory_order_acquire);
  // The level is 0 while the configuration is not read yet, so one test sends both that case
  // and a site's first call to the slow path (which returns 0 when tracing is off).
  if (TBPROF_INTERNAL_UNLIKELY((st & kStateLevelMask) == 0 || id == 0)) {
    return ScopeBeginSlow(site);
  }
  return Emit(BeginWord(id), st, id);
}

void ScopeEnd(uint32_t token) {
  const uint32_t st = g_trace_state.load(std::memory_order_relaxed);
  if ((st & kStateLevelMask) == 0) return;
  Emit(EndWord(token), st);
}

uint32_t OpBegin(std::string_view name, std::string_view type, const TensorRef* inputs,
                 size_t num_inputs, const TensorRef* outputs, size_t num_outputs) {
  const uint32_t st = LoadState();
  if ((st & kStateLevelMask) == 0) return 0;
  ThreadState& t = t_state;
  if (TBPROF_INTERNAL_UNLIKELY(t.rec == nullptr || t.exited) && !EnsureRegistered(t)) return 0;
  ThreadRecord* rec = t.rec;
  const uint32_t gen = CurrentGeneration(st);
  const ThreadScopes& scopes = *rec->scopes;
  uint64_t key =
      Mix(Mix(scopes.path_hash[scopes.depth], HashBytes(name)), HashBytes(type) ^ kSaltOp);
  uint32_t id;
  auto& cache = CacheFor(rec, gen);
  auto it = cache.find(key);
  if (TBPROF_INTERNAL_LIKELY(it != cache.end() && it->second.generation == gen)) {
    id = it->second.id;
  } else {
    id = OpSlow(rec, key, gen, name, type, inputs, num_inputs, outputs, num_outputs);
    if (id == 0) return 0;
  }
  return Emit(BeginWord(id), st, id);
}

uint32_t NameScopeBegin(std::string_view name) {
  const uint32_t st = LoadState();
  if ((st & kStateLevelMask) == 0) return 0;
  ThreadState& t = t_state;
  if (TBPROF_INTERNAL_UNLIKELY(t.rec == nullptr || t.exited) && !EnsureRegistered(t)) return 0;
  ThreadRecord* rec = t.rec;
  ThreadScopes& sc = *rec->scopes;
  uint32_t d = sc.depth;
  size_t extra = name.size() + (d > 0 ? 1 : 0);
  if (sc.overflow > 0 || d >= kMaxNameScopeDepth || sc.path_len + extra > kMaxPathBytes) {
    ++sc.overflow;
    return kOverflowDepthToken;
  }
  sc.saved_len[d] = sc.path_len;
  if (d > 0) sc.path[sc.path_len++] = '/';
  std::memcpy(sc.path + sc.path_len, name.data(), name.size());
  sc.path_len += static_cast<uint32_t>(name.size());
  sc.path_hash[d + 1] = Mix(sc.path_hash[d], HashBytes(name));
  sc.depth = d + 1;
  uint32_t id = 0;
  if ((st & kStateLevelMask) >= 2) {
    id = DynamicNameId(rec, CurrentGeneration(st), name, HostEventKind::kScope, kSaltScope);
    if (id != 0) Emit(BeginWord(id), st);
  }
  return (id << 7) | (d + 1);
}

void NameScopeEnd(uint32_t token) {
  ThreadState& t = t_state;
  ThreadRecord* rec = t.rec;
  if (rec == nullptr || t.exited) return;
  ThreadScopes& sc = *rec->scopes;
  uint32_t depth_token = token & 0x7f;
  if (depth_token == kOverflowDepthToken) {
    if (sc.overflow > 0) --sc.overflow;
    return;
  }
  uint32_t d = depth_token - 1;
  if (d < sc.depth) {
    sc.depth = d;
    sc.path_len = sc.saved_len[d];
  }
  uint32_t id = token >> 7;
  if (id != 0) {
    const uint32_t st = g_trace_state.load(std::memory_order_relaxed);
    if ((st & kStateLevelMask) != 0) Emit(EndWord(id), st);
  }
}

uint32_t RecordStepBegin(int64_t step, std::string_view name) {
  const uint32_t st = LoadState();
  if ((st & kStateLevelMask) == 0) return 0;
  ThreadState& t = t_state;
  if (TBPROF_INTERNAL_UNLIKELY(t.rec == nullptr || t.exited) && !EnsureRegistered(t)) return 0;
  uint32_t id = DynamicNameId(t.rec, CurrentGeneration(st), name, HostEventKind::kStep, kSaltStep);
  if (id == 0) return 0;
  const uint64_t extra = static_cast<uint64_t>(step);
  EmitSlow(EscapeWord(kEscStepBegin, id), ReadTicks(), st, &extra, 1);
  return id;
}

uint32_t RegisterAllocator(std::string_view name) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string>& names = r.allocator_names;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<uint32_t>(i);
  }
  if (names.size() + 1 >= kMaxAllocators) {
    if (names.size() + 1 == kMaxAllocators) names.push_back("other");
    return kMaxAllocators - 1;
  }
  names.emplace_back(name);
  return static_cast<uint32_t>(names.size() - 1);
}

namespace {
inline int AppendStats(const AllocatorStats* stats, uint64_t* w) {
  if (stats == nullptr) return 0;
  w[0] = static_cast<uint64_t>(stats->bytes_in_use);
  w[1] = static_cast<uint64_t>(stats->bytes_reserved);
  w[2] = static_cast<uint64_t>(stats->peak_bytes_in_use);
  w[3] = static_cast<uint64_t>(stats->largest_free_block_bytes);
  return 4;
}
}  // namespace

void RecordAllocation(uint32_t allocator, const void* address, int64_t requested_bytes,
                      int64_t allocation_bytes, const AllocatorStats* stats) {
  const uint32_t st = LoadState();
  if ((st & kStateLevelMask) == 0) return;
  uint64_t w[kMaxExtraWords];
  w[0] = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(address));
  w[1] = static_cast<uint64_t>(requested_bytes);
  w[2] = static_cast<uint64_t>(allocation_bytes == 0 ? requested_bytes : allocation_bytes);
  const int n = 3 + AppendStats(stats, w + 3);
  EmitWithExtra(EscapeWord(stats != nullptr ? kEscAllocStats : kEscAlloc, allocator), st, w, n);
}

void RecordDeallocation(uint32_t allocator, const void* address, int64_t bytes,
                        const AllocatorStats* stats) {
  const uint32_t st = LoadState();
  if ((st & kStateLevelMask) == 0) return;
  uint64_t w[2 + 4];
  w[0] = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(address));
  w[1] = static_cast<uint64_t>(bytes);
  const int n = 2 + AppendStats(stats, w + 2);
  EmitWithExtra(EscapeWord(stats != nullptr ? kEscFreeStats : kEscFree, allocator), st, w, n);
}

// ---- Session control -------------------------------------------------------------------------

bool InitializeAndCheck(uint32_t mask) {
  EnsureInitialized();
  return (g_trace_state.load(std::memory_order_relaxed) & mask & ~kStateUninitialized) != 0;
}

void EnsureInitialized() {
  if ((g_trace_state.load(std::memory_order_acquire) & kStateUninitialized) == 0) return;
  ApplyProcessConfig();
}

namespace {

void ForkPrepare() {
  Reg().mu.lock();
  Pool().PrepareFork();
}
void ForkParent() {
  Pool().AfterForkParent();
  Reg().mu.unlock();
}
// Only the forking thread exists in the child; it holds the lock (taken in ForkPrepare).
void ForkChild() {
  Pool().AfterForkChild();
  Registry& r = Reg();
  uint32_t st = g_trace_state.load(std::memory_order_relaxed);
  g_trace_state.store(st & ~kStateLevelMask, std::memory_order_relaxed);
  r.recording = false;
  ++r.epoch;
  r.stopped_uncollected = false;
  r.tensors.clear();
  ThreadRecord* self = t_state.rec;
  for (ThreadRecord* rec : r.threads) {
    if (rec != self && rec->live != nullptr) {
      // Its thread is gone: what it wrote stays where it was (current_end unknown, so its
      // last block is dropped with the record at the next capture start).
      rec->current_end = nullptr;
      rec->live = nullptr;
    }
  }
  r.mu.unlock();
}

}  // namespace

void InstallRecorderForkHandlers() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(&ForkPrepare, &ForkParent, &ForkChild); });
}

namespace {
std::atomic<void (*)()> g_flight_starter{nullptr};
}  // namespace

void SetFlightStarter(void (*start)()) { g_flight_starter.store(start); }

void ApplyProcessConfig() {
  InstallRecorderForkHandlers();
  InitClock();
  const Config& config = ProcessConfig();
  bool armed = config.enabled && config.has_steps;
  Registry& r = Reg();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    uint32_t st = g_trace_state.load(std::memory_order_relaxed);
    st &= ~(kStateUninitialized | kStateStepsArmed);
    if (armed) st |= kStateStepsArmed;
    g_trace_state.store(st, std::memory_order_release);
  }
  if (config.flight) {
    if (void (*start)() = g_flight_starter.load(); start != nullptr) start();
  }
}

void SetStepsArmed(bool armed) {
  EnsureInitialized();
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  uint32_t st = g_trace_state.load(std::memory_order_relaxed);
  st = armed ? (st | kStateStepsArmed) : (st & ~kStateStepsArmed);
  g_trace_state.store(st, std::memory_order_release);
}

namespace {

// Forgets what sessions recorded: the filled blocks of live threads, all blocks and records of
// exited threads, the dynamic names. Current blocks of live threads are rewound by their owners.
void DropSessionRecordsLocked(Registry& r) {
  std::vector<ThreadRecord*> kept;
  for (ThreadRecord* rec : r.threads) {
    ReleaseChainLocked(r, rec->head);
    rec->head = rec->tail = nullptr;
    if (rec->live == nullptr) {  // Exited: nothing of it is needed any more.
      if (rec->current != nullptr) ReleaseBlockLocked(r, rec->current);
      delete rec;
    } else {
      kept.push_back(rec);
    }
  }
  r.threads = std::move(kept);
  ReindexThreadsLocked(r);
  ResetDynamicNamesLocked(r);
}

}  // namespace

absl::Status StartRecording(const RecorderOptions& options) {
  EnsureInitialized();
  if (options.host_level < 1 || options.host_level > 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("host level ", options.host_level, " is not valid: expected 1, 2 or 3"));
  }
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.recording) return absl::FailedPreconditionError("a capture is already recording");
  if (r.stopped_uncollected) {
    return absl::FailedPreconditionError("the previous capture has not been collected yet");
  }
  // Drop whatever is left from older sessions.
  DropSessionRecordsLocked(r);
  r.budget_dropped_events = 0;
  r.exited_dropped_events = 0;
  r.tensors_dropped = 0;
  r.options = options;
  r.budget_words = options.max_events * 2;
  r.ring = options.ring;
  r.ring_window_ns = options.ring ? options.ring_window_ns : 0;
  r.ring_reserve_words = r.budget_words / 4;
  r.snapshots = 0;
  // Fault a few MiB in now and keep pre-faulted blocks ahead of the recording threads, so
  // that a first capture costs what a warm one does (block_pool.h). A ring recycles its
  // blocks once full: a few blocks ahead are enough there.
  const int64_t budget_blocks = r.budget_words / kBlockWords + 1;
  const int64_t ahead_cap = options.ring ? budget_blocks / 8 + 1 : budget_blocks;
  Pool().SetAhead(std::min(kInitialAheadBlocks, ahead_cap), ahead_cap, /*prefill=*/true);
  r.tensors.clear();
  r.generation = (r.generation + 1) & 0xffffffu;
  if (r.generation == 0) r.generation = 1;
  r.recording = true;
  ++r.epoch;
  r.start_sample = SampleClocks();
  UpdateRingWindowTicksLocked(r);
  uint32_t st = g_trace_state.load(std::memory_order_relaxed);
  st &= (kStateStepsArmed);
  st |= (r.generation << kStateGenerationShift) | static_cast<uint32_t>(options.host_level);
  if (g_clock_kind.load(std::memory_order_relaxed) != ClockKind::kTsc) st |= kStateOtherClock;
  g_trace_state.store(st, std::memory_order_release);
  return absl::OkStatus();
}

void StopRecording() {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!r.recording) return;
  uint32_t st = g_trace_state.load(std::memory_order_relaxed);
  g_trace_state.store(st & ~kStateLevelMask, std::memory_order_release);
  r.end_sample = SampleClocks();
  r.recording = false;
  ++r.epoch;
  Pool().SetAhead(0, 0, /*prefill=*/false);
  r.stopped_uncollected = true;
}

void SetRecordingPaused(bool paused) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!r.recording) return;
  uint32_t st = g_trace_state.load(std::memory_order_relaxed) & ~kStateLevelMask;
  if (!paused) st |= static_cast<uint32_t>(r.options.host_level);
  g_trace_state.store(st, std::memory_order_release);
}

bool IsRecording() {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.recording;
}

ClockSample RecordingStartSample() {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.start_sample;
}

void DiscardRecording() {
  StopRecording();
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  r.stopped_uncollected = false;
  std::unordered_map<uint32_t, OpTensors>().swap(r.tensors);
  DropSessionRecordsLocked(r);
  TrimPoolLocked(r);
}

// ---- Collection ------------------------------------------------------------------------------

namespace {

struct Chunk {
  const uint64_t* begin;
  const uint64_t* end;
};

struct ThreadSnapshot {
  ThreadRecord* rec = nullptr;
  std::vector<uint64_t> copy;  // Ring mode: the current block's records, copied.
  int64_t tid = 0;
  std::string name;
  std::vector<Chunk> chunks;
  Block* owned = nullptr;  // Blocks to give back after decoding.
  Block* owned_current = nullptr;
  uint64_t dropped = 0;
  bool truncated = false;
  bool exited = false;
};

struct OpenScope {
  uint32_t id;
  uint64_t start;
  int64_t step;
  bool is_step;
};

struct RawEvent {
  uint64_t start;
  uint64_t end;
  uint32_t id;
  uint32_t depth;
  int64_t step;
  bool is_step;
};

struct RawMemory {
  uint64_t ticks;
  uint32_t allocator;
  bool is_free;
  uint64_t address;
  int64_t requested;
  int64_t allocated;
  int64_t stats[4];  // in use, reserved, peak, largest free; -1 = not given.
};

struct DecodeResult {
  std::vector<RawEvent> events;
  std::vector<RawMemory> memory;
  int64_t ends_without_begin = 0;
  uint32_t first_unmatched_end = 0;
  int64_t left_open = 0;
  uint32_t first_left_open = 0;
  int64_t open_dropped = 0;
};

void Decode(const std::vector<Chunk>& chunks, bool truncated, uint64_t stop_ticks,
            DecodeResult* out) {
  std::vector<OpenScope> stack;
  uint64_t last = 0;
  for (const Chunk& c : chunks) {
    for (const uint64_t* w = c.begin; w < c.end; ++w) {
      uint64_t word = *w;
      if (word == ~uint64_t{0}) break;  // Padding at the end of a retired block.
      uint64_t type = (word >> kTypeShift) & 3;
      uint32_t payload = static_cast<uint32_t>(word >> kPayloadShift);
      uint64_t delta = word & kDeltaMask;
      if (type == kTypeEscape) {
        uint32_t sub = payload & 0xf;
        if (sub == kEscAbsTime) {
          if (w + 1 >= c.end) break;
          last = *++w;
          continue;
        }
        if (sub == kEscStepBegin) {
          if (w + 1 >= c.end) break;
          last += delta;
          int64_t step = static_cast<int64_t>(*++w);
          stack.push_back({payload >> 4, last, step, true});
          continue;
        }
        if (sub >= kEscAlloc && sub <= kEscFreeStats) {
          const bool is_free = sub >= kEscFree;
          const bool with_stats = sub == kEscAllocStats || sub == kEscFreeStats;
          const int n = (is_free ? 2 : 3) + (with_stats ? 4 : 0);
          if (c.end - w <= n) break;
          last += delta;
          RawMemory m{last, payload >> 4, is_free, w[1], 0, 0, {-1, -1, -1, -1}};
          m.requested = static_cast<int64_t>(w[2]);
          m.allocated = is_free ? m.requested : static_cast<int64_t>(w[3]);
          if (with_stats) {
            for (int k = 0; k < 4; ++k) m.stats[k] = static_cast<int64_t>(w[n - 3 + k]);
          }
          out->memory.push_back(m);
          w += n;
        }
        continue;
      }
      last += delta;
      if (type == kTypeBegin) {
        stack.push_back({payload, last, -1, false});
        continue;
      }
      // End: close the innermost open scope with this id.
      size_t i = stack.size();
      while (i > 0 && stack[i - 1].id != payload) --i;
      if (i == 0) {
        if (out->ends_without_begin++ == 0) out->first_unmatched_end = payload;
        continue;
      }
      // Scopes opened after the match and not closed: close them here too (mis-nesting).
      while (stack.size() >= i) {
        const OpenScope& s = stack.back();
        out->events.push_back(
            {s.start, last, s.id, static_cast<uint32_t>(stack.size() - 1), s.step, s.is_step});
        stack.pop_back();
      }
    }
  }
  if (truncated) {
    out->open_dropped = static_cast<int64_t>(stack.size());
    return;
  }
  for (size_t i = stack.size(); i > 0; --i) {
    const OpenScope& s = stack[i - 1];
    if (out->left_open++ == 0) out->first_left_open = s.id;
    uint64_t end = std::max(stop_ticks, s.start);
    out->events.push_back({s.start, end, s.id, static_cast<uint32_t>(i - 1), s.step, s.is_step});
  }
}

// What a collection or a snapshot took under the lock, for BuildHostTrace.
struct Gathered {
  std::vector<ThreadSnapshot> snaps;
  ClockSample start;
  ClockSample end;
  int64_t max_events = 0;
  bool ring = false;
  // Drops of the memory budget (recorder state, names, tensors), from the registry.
  int64_t budget_dropped = 0;
  int64_t exited_dropped = 0;
  int64_t tensors_dropped = 0;
  std::unordered_map<uint32_t, OpTensors> tensors;
};

// Appends the thread's memory records to trace->memory_events, each attributed to the innermost
// op open around it on the thread (else the innermost scope). `track` holds the thread's events,
// sorted and nested; `allocator_index` maps recorder allocator ids to Trace::allocators.
void AttachMemoryRecords(const std::vector<RawMemory>& memory, const ThreadTrack& track,
                         const TickMap& map, const std::vector<std::string>& allocator_names,
                         std::unordered_map<uint32_t, uint32_t>* allocator_index, Trace* trace) {
  if (memory.empty()) return;
  const std::vector<HostEvent>& events = track.events;
  // parent[i]: the event that encloses events[i] (-1: none), from the nesting.
  std::vector<int32_t> parent(events.size(), -1);
  std::vector<int32_t> open;
  for (size_t i = 0; i < events.size(); ++i) {
    while (!open.empty() && events[open.back()].end_ns < events[i].end_ns) open.pop_back();
    parent[i] = open.empty() ? -1 : open.back();
    open.push_back(static_cast<int32_t>(i));
  }
  for (const RawMemory& m : memory) {
    MemoryEvent e;
    e.time_ns = map.ToRelativeNs(m.ticks);
    e.tid = track.tid;
    auto [it, inserted] =
        allocator_index->try_emplace(m.allocator, static_cast<uint32_t>(trace->allocators.size()));
    if (inserted) {
      trace->allocators.push_back(
          {m.allocator < allocator_names.size() ? allocator_names[m.allocator] : "?"});
    }
    e.allocator = it->second;
    e.kind = m.is_free ? MemoryEventKind::kFree : MemoryEventKind::kAlloc;
    e.address = m.address;
    e.requested_bytes = m.requested;
    e.allocation_bytes = m.allocated;
    e.reported_in_use = m.stats[0];
    e.reported_reserved = m.stats[1];
    e.reported_peak = m.stats[2];
    e.reported_largest_free = m.stats[3];
    // The last event that starts no later than the call, then its ancestors: the first that
    // contains the call is the innermost one.
    auto after = std::upper_bound(events.begin(), events.end(), e.time_ns,
                                  [](int64_t v, const HostEvent& h) { return v < h.start_ns; });
    int32_t k = static_cast<int32_t>(after - events.begin()) - 1;
    int64_t enclosing_end = INT64_MAX;  // End of the innermost event around the call.
    while (k >= 0) {
      const HostEvent& h = events[k];
      if (h.end_ns >= e.time_ns) {
        enclosing_end = std::min(enclosing_end, h.end_ns);
        if (h.kind == HostEventKind::kOp) {
          e.op_index = h.op_index;
          break;
        }
        if (h.kind == HostEventKind::kScope && e.scope == kNoName) e.scope = h.name;
      }
      k = parent[k];
    }
    if (e.op_index < 0 && !m.is_free) {
      // Engines often allocate an op's output just before opening its scope (the output's
      // TensorRef must exist at TBPROF_OP): the allocation then belongs to the next op of the
      // thread that lists the address among its outputs, else to the next op whose output has
      // exactly the requested size. Looked for among the few events that follow.
      constexpr int kLookahead = 16;
      int32_t by_size = -1;
      int seen = 0;
      for (auto h = after; h != events.end() && seen < kLookahead; ++h) {
        if (h->start_ns > enclosing_end) break;
        if (h->kind != HostEventKind::kOp) continue;
        ++seen;
        if (h->op_index < 0 || static_cast<size_t>(h->op_index) >= trace->ops.size()) continue;
        bool address = false;
        for (const TensorInfo& t : trace->ops[h->op_index].outputs) {
          if (t.id == m.address) address = true;
          const int64_t elem = DTypeSize(static_cast<DType>(t.dtype));
          int64_t bytes = elem;
          for (int64_t dim : t.shape) bytes *= dim;
          if (by_size < 0 && elem > 0 && bytes == m.requested) by_size = h->op_index;
        }
        if (address) {
          e.op_index = h->op_index;
          break;
        }
      }
      if (e.op_index < 0) e.op_index = by_size;
    }
    trace->memory_events.push_back(std::move(e));
  }
}

// Decodes what a gather took, calls `release` under the registry lock once the blocks have been
// read, and fills `trace`.
void BuildHostTrace(Gathered& g, const std::function<void(Registry&)>& release, Trace* trace) {
  Registry& r = Reg();
  std::vector<ThreadSnapshot>& snaps = g.snaps;
  const ClockSample& start = g.start;
  const ClockSample& end = g.end;
  const int64_t max_events = g.max_events;
  std::unordered_map<uint32_t, OpTensors>& tensors = g.tensors;
  const ClockKind kind = g_clock_kind.load();
  TickMap map = FitTickMap(start, end, FirstClockSample(), kind);
  trace->start_ns = start.monotonic_ns;
  // The tick map and the monotonic clock may differ by the sampling jitter (ns): the capture
  // lasts at least until its end sample as the events see it.
  trace->duration_ns =
      std::max<int64_t>({0, end.monotonic_ns - start.monotonic_ns, map.ToRelativeNs(end.ticks)});
  trace->start_walltime_ns = start.realtime_ns;
  trace->stop_walltime_ns = end.realtime_ns;

  std::vector<DecodeResult> decoded(snaps.size());
  std::vector<uint32_t> used_ids;
  for (size_t i = 0; i < snaps.size(); ++i) {
    Decode(snaps[i].chunks, snaps[i].truncated, end.ticks, &decoded[i]);
    for (const RawEvent& e : decoded[i].events) used_ids.push_back(e.id);
  }
  std::sort(used_ids.begin(), used_ids.end());
  used_ids.erase(std::unique(used_ids.begin(), used_ids.end()), used_ids.end());

  // Resolve names (the table is append-only; entries are copied under the lock).
  std::unordered_map<uint32_t, NameEntry> entries;
  std::vector<std::string> allocator_names;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    allocator_names = r.allocator_names;
    for (uint32_t id : used_ids) {
      const NameEntry* e = FindNameLocked(r, id);
      if (e != nullptr) entries.emplace(id, *e);
    }
    release(r);
  }
  if (g.budget_dropped + g.exited_dropped > 0) {
    trace->dropped_host_events += static_cast<uint64_t>(g.budget_dropped + g.exited_dropped);
    trace->warnings.push_back(absl::StrCat(
        g.budget_dropped + g.exited_dropped,
        " host event(s) dropped: the capture's memory (records, thread state, names) reached "
        "its budget of ",
        max_events, " events x ", kBytesPerScope, " bytes (TBPROF_MAX_EVENTS)"));
  }
  if (g.tensors_dropped > 0) {
    trace->warnings.push_back(absl::StrCat(g.tensors_dropped,
                                           " op(s) recorded without their tensors: the capture's "
                                           "memory reached its budget (TBPROF_MAX_EVENTS)"));
  }

  // Interning into the trace.
  std::unordered_map<std::string, NameId> name_index;
  for (size_t i = 0; i < trace->names.size(); ++i) name_index.emplace(trace->names[i], i);
  auto intern = [&](std::string_view text) -> NameId {
    auto it = name_index.find(std::string(text));
    if (it != name_index.end()) return it->second;
    NameId id = static_cast<NameId>(trace->names.size());
    trace->names.emplace_back(text);
    name_index.emplace(std::string(text), id);
    return id;
  };
  std::unordered_map<uint32_t, NameId> trace_name;
  std::unordered_map<uint32_t, int32_t> op_index;
  for (uint32_t id : used_ids) {
    auto it = entries.find(id);
    std::string_view text = it != entries.end() ? it->second.view() : std::string_view("?");
    trace_name[id] = intern(text);
  }
  auto op_for = [&](uint32_t id) -> int32_t {
    auto it = op_index.find(id);
    if (it != op_index.end()) return it->second;
    const NameEntry& e = entries.at(id);
    OpInfo op;
    op.name = e.op_name;
    op.type = e.op_type;
    auto t = tensors.find(id);
    if (t != tensors.end()) {
      op.inputs = std::move(t->second.inputs);
      op.outputs = std::move(t->second.outputs);
      if (t->second.truncated_shapes > 0) {
        trace->warnings.push_back(absl::StrCat("op ", op.name, ": ", t->second.truncated_shapes,
                                               " tensor shape(s) of rank > ", TensorRef::kMaxRank,
                                               " were truncated"));
      }
    }
    int32_t index = static_cast<int32_t>(trace->ops.size());
    trace->ops.push_back(std::move(op));
    op_index.emplace(id, index);
    return index;
  };

  std::unordered_map<uint32_t, uint32_t> allocator_index;  // Recorder id -> Trace::allocators.
  for (size_t i = 0; i < snaps.size(); ++i) {
    ThreadSnapshot& s = snaps[i];
    DecodeResult& d = decoded[i];
    ThreadTrack track;
    track.tid = s.tid;
    if (s.name.empty()) s.name = ReadOsThreadName(s.tid);
    track.name = s.name.empty() ? absl::StrCat("thread ", s.tid) : s.name;
    auto name_of = [&](uint32_t id) -> std::string {
      auto it = entries.find(id);
      return it != entries.end() ? std::string(it->second.view()) : std::string("?");
    };
    // A ring starts where its oldest block was recycled: ends without begins are expected.
    if (d.ends_without_begin > 0 && !g.ring) {
      trace->warnings.push_back(absl::StrCat("thread ", s.tid, " (", track.name,
                                             "): ", d.ends_without_begin,
                                             " scope end(s) without a begin were ignored (first: '",
                                             name_of(d.first_unmatched_end), "')"));
    }
    if (d.left_open > 0) {
      trace->warnings.push_back(absl::StrCat(
          "thread ", s.tid, " (", track.name, "): ", d.left_open,
          " scope(s) still open at export were closed at the end of the capture (first: '",
          name_of(d.first_left_open), "')"));
    }
    uint64_t dropped = s.dropped + static_cast<uint64_t>(d.open_dropped);
    if (dropped > 0) {
      trace->dropped_host_events += dropped;
      trace->warnings.push_back(
          g.ring ? absl::StrCat("thread ", s.tid, " (", track.name, "): ", dropped,
                                " host event(s) dropped since the flight recorder started: its "
                                "memory budget was full while a dump read the rings")
                 : absl::StrCat("thread ", s.tid, " (", track.name, "): ", dropped,
                                " host event(s) dropped: the capture reached its cap of ",
                                max_events, " events (TBPROF_MAX_EVENTS)"));
    }
    std::sort(d.events.begin(), d.events.end(), [](const RawEvent& a, const RawEvent& b) {
      if (a.start != b.start) return a.start < b.start;
      if (a.end != b.end) return a.end > b.end;
      return a.depth < b.depth;
    });
    track.events.reserve(d.events.size());
    for (const RawEvent& e : d.events) {
      HostEvent h;
      h.start_ns = map.ToRelativeNs(e.start);
      h.end_ns = std::max(h.start_ns, map.ToRelativeNs(e.end));
      h.name = trace_name[e.id];
      auto it = entries.find(e.id);
      HostEventKind k = it != entries.end() ? it->second.kind : HostEventKind::kScope;
      if (e.is_step) k = HostEventKind::kStep;
      h.kind = k;
      if (k == HostEventKind::kStep) {
        h.step = e.step;
        trace->steps.push_back({e.step, h.start_ns, h.end_ns, 0});
      } else if (k == HostEventKind::kOp) {
        h.op_index = op_for(e.id);
      }
      track.events.push_back(h);
    }
    AttachMemoryRecords(d.memory, track, map, allocator_names, &allocator_index, trace);
    if (!track.events.empty()) trace->threads.push_back(std::move(track));
  }
  std::stable_sort(
      trace->memory_events.begin(), trace->memory_events.end(),
      [](const MemoryEvent& a, const MemoryEvent& b) { return a.time_ns < b.time_ns; });
  std::sort(trace->threads.begin(), trace->threads.end(),
            [](const ThreadTrack& a, const ThreadTrack& b) { return a.tid < b.tid; });
  std::sort(trace->steps.begin(), trace->steps.end(), [](const StepInfo& a, const StepInfo& b) {
    return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.step < b.step;
  });
}

// A thread's identity and its filled blocks, detached from its record (under the registry
// lock); what to do with the block being written is the caller's: a collection takes it, a
// ring snapshot copies it.
ThreadSnapshot DetachFilledBlocksLocked(ThreadRecord* rec) {
  ThreadSnapshot s;
  s.rec = rec;
  s.tid = rec->tid;
  s.exited = rec->live == nullptr;
  if (rec->user_name[0] != '\0') {
    s.name = rec->user_name;
  } else if (s.exited) {
    s.name = rec->exit_name;
  }
  for (Block* b = rec->head; b != nullptr; b = b->next) {
    s.chunks.push_back({b->words, b->words + kBlockWords});
  }
  s.owned = rec->head;
  rec->head = rec->tail = nullptr;
  return s;
}

// Where the records of the thread's current block end (nullptr: none written yet).
const uint64_t* CurrentEndLocked(const ThreadRecord& rec, bool exited) {
  const uint64_t* pos = exited ? rec.current_end : rec.live->cur.load(std::memory_order_acquire);
  // A thread that has just switched blocks set `current` under the lock but publishes its
  // position in the new block only after it: until then nothing of the new block is written.
  const uint64_t* begin = rec.current->words;
  if (pos < begin || pos > begin + kBlockWords) return nullptr;
  return pos;
}

}  // namespace

absl::Status CollectHostTrace(Trace* trace) {
  StopRecording();
  Registry& r = Reg();
  Gathered g;
  std::vector<ThreadSnapshot>& snaps = g.snaps;
  uint32_t gen;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    if (!r.stopped_uncollected) {
      return absl::FailedPreconditionError("no recorded capture to collect");
    }
    g.start = r.start_sample;
    g.end = r.end_sample;
    gen = r.generation;
    g.max_events = r.options.max_events;
    g.budget_dropped = r.budget_dropped_events;
    g.exited_dropped = r.exited_dropped_events;
    g.tensors_dropped = r.tensors_dropped;
    g.tensors.swap(r.tensors);
    for (ThreadRecord* rec : r.threads) {
      if (rec->generation != gen) continue;  // Nothing recorded in this session.
      ThreadSnapshot s = DetachFilledBlocksLocked(rec);
      if (rec->current != nullptr) {
        const uint64_t* pos = CurrentEndLocked(*rec, s.exited);
        if (pos != nullptr) s.chunks.push_back({rec->current->words, pos});
        if (s.exited) {
          s.owned_current = rec->current;
          rec->current = nullptr;
        }
      } else if (s.exited && !rec->exit_words.empty()) {
        // Stays valid until the record is deleted, after decoding.
        s.chunks.push_back(
            {rec->exit_words.data(), rec->exit_words.data() + rec->exit_words.size()});
      }
      s.dropped = rec->dropped_events.load(std::memory_order_relaxed);
      s.truncated = rec->truncated.load(std::memory_order_relaxed);
      snaps.push_back(std::move(s));
    }
  }

  BuildHostTrace(
      g,
      [&](Registry& r) {
        // Give the blocks back.
        for (ThreadSnapshot& s : snaps) {
          ReleaseChainLocked(r, s.owned);
          if (s.owned_current != nullptr) ReleaseBlockLocked(r, s.owned_current);
        }
        // Forget exited threads now that their events are out.
        std::vector<ThreadRecord*> kept;
        for (ThreadRecord* rec : r.threads) {
          if (rec->live == nullptr && rec->generation == gen) {
            if (rec->current != nullptr) ReleaseBlockLocked(r, rec->current);
            delete rec;
          } else {
            kept.push_back(rec);
          }
        }
        r.threads = std::move(kept);
        ReindexThreadsLocked(r);
        r.stopped_uncollected = false;
        ResetDynamicNamesLocked(r);
        TrimPoolLocked(r);
      },
      trace);
  return absl::OkStatus();
}

absl::Status SnapshotRing(Trace* trace) {
  // One snapshot at a time: a second one would find the chains detached by the first. Only
  // snapshots wait here, never the recording threads.
  static std::mutex* snapshot_mu = new std::mutex();
  std::lock_guard<std::mutex> one_at_a_time(*snapshot_mu);
  Registry& r = Reg();
  Gathered g;
  g.ring = true;
  uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    if (!r.recording || !r.ring) {
      return absl::FailedPreconditionError("no flight recorder ring is recording");
    }
    g.start = r.start_sample;
    g.end = SampleClocks();
    g.max_events = r.options.max_events;
    g.tensors = r.tensors;
    epoch = r.epoch;
    ++r.snapshots;
    for (ThreadRecord* rec : r.threads) {
      if (rec->generation != r.generation) continue;
      // The filled blocks are detached (the thread records on into new ones meanwhile) and
      // spliced back once decoded; the block being written is copied.
      ThreadSnapshot s = DetachFilledBlocksLocked(rec);
      if (rec->current != nullptr) {
        const uint64_t* pos = CurrentEndLocked(*rec, s.exited);
        if (pos != nullptr) s.copy.assign(static_cast<const uint64_t*>(rec->current->words), pos);
      } else if (s.exited) {
        s.copy = rec->exit_words;
      }
      if (!s.copy.empty()) s.chunks.push_back({s.copy.data(), s.copy.data() + s.copy.size()});
      s.dropped = rec->dropped_events.load(std::memory_order_relaxed);
      g.snaps.push_back(std::move(s));
    }
  }
  BuildHostTrace(
      g,
      [&](Registry& r) {
        // Recording stopped (and maybe started again) while the snapshot decoded: the thread
        // records it read may have been freed, and its blocks belong to no ring any more.
        if (r.epoch != epoch) {
          for (ThreadSnapshot& s : g.snaps) {
            ReleaseChainLocked(r, s.owned);
            s.owned = nullptr;
          }
          if (r.snapshots > 0) --r.snapshots;
          return;
        }
        for (ThreadSnapshot& s : g.snaps) {
          if (s.owned == nullptr) continue;
          Block* last = s.owned;
          while (last->next != nullptr) last = last->next;
          // Older than anything the thread filled since the snapshot began.
          last->next = s.rec->head;
          s.rec->head = s.owned;
          if (s.rec->tail == nullptr) s.rec->tail = last;
          s.owned = nullptr;
        }
        if (r.snapshots > 0) --r.snapshots;
        RingTrimLocked(r, ReadTicks());
      },
      trace);
  return absl::OkStatus();
}

void SetRingWindow(int64_t window_ns) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!r.recording || !r.ring) return;
  r.ring_window_ns = std::max<int64_t>(window_ns, 0);
  UpdateRingWindowTicksLocked(r);
}

void MaintainRing() {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!r.recording || !r.ring) return;
  UpdateRingWindowTicksLocked(r);
  RingTrimLocked(r, ReadTicks());
}

RecorderStats GetRecorderStats() {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  RecorderStats s;
  s.blocks_in_use = r.blocks_in_use;
  s.blocks_pooled = Pool().Stats().pooled;
  s.threads = static_cast<int64_t>(r.threads.size());
  s.dynamic_names = static_cast<int64_t>(r.dynamic_names.size());
  for (ThreadRecord* rec : r.threads) {
    if (rec->generation != r.generation) continue;
    int64_t filled = 0;
    for (Block* b = rec->head; b != nullptr; b = b->next) filled += kBlockWords;
    filled += static_cast<int64_t>(rec->exit_words.size());
    if (rec->current != nullptr) {
      const uint64_t* pos =
          rec->live != nullptr ? rec->live->cur.load(std::memory_order_acquire) : rec->current_end;
      if (pos != nullptr) filled += pos - rec->current->words;
    }
    s.words_written += filled;
  }
  return s;
}

void GiveBackFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace tbprof::internal

namespace tbprof {

void SetThreadName(std::string_view name) {
  using internal::t_state;
  internal::ThreadState& t = t_state;
  size_t n = std::min(name.size(), sizeof(t.user_name) - 1);
  std::memcpy(t.user_name, name.data(), n);
  t.user_name[n] = '\0';
  if (t.rec != nullptr && !t.exited) {
    internal::Registry& r = internal::Reg();
    std::lock_guard<std::mutex> lock(r.mu);
    std::memcpy(t.rec->user_name, t.user_name, sizeof(t.user_name));
  }
}

}  // namespace tbprof
