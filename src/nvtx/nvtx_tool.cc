#include "src/nvtx/nvtx_tool.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "src/config/config.h"
#include "src/host/clock.h"
#include "src/host/recorder.h"
#include "src/util/hot_tls.h"
#include "src/util/strings.h"
#include "tbprof/annotate.h"
#include "tbprof/trace.h"

#define NVTX_NO_IMPL
#include <nvtx3/nvToolsExt.h>

namespace tbprof::internal::nvtx {
namespace {

// ---- Names -------------------------------------------------------------------------------------

// One distinct range name: never freed (the recorder keeps `site.name` as a pointer), so a
// handle or a cached pointer stays valid whatever the program does with its domains.
struct NameSite {
  explicit NameSite(std::string t) : text(std::move(t)), site(nullptr) { site.name = text.c_str(); }
  const std::string text;
  StaticSite site;
  // Op domains: the op's name and type, split once.
  std::string op_name;
  std::string op_type;
  bool op_split = false;
};

struct Domain {
  std::string name;
  bool is_op = false;
  std::atomic<bool> destroyed{false};
  std::mutex mu;
  std::unordered_map<uint32_t, std::string> categories;
};

struct OpenRange {
  NameSite* name = nullptr;
  Domain* domain = nullptr;
  int64_t start_ns = 0;
  uint32_t generation = 0;
};

struct DoneRange {
  NameSite* name;
  Domain* domain;
  int64_t start_ns;
  int64_t end_ns;
  uint32_t generation;
};

// Warnings kept per capture generation.
struct Counters {
  std::atomic<uint32_t> generation{0};
  std::atomic<int64_t> pops_without_push{0};
  std::atomic<int64_t> ends_without_start{0};
  std::atomic<int64_t> destroyed_domain_calls{0};
  std::atomic<int64_t> deep_pushes{0};
  std::atomic<int64_t> names_dropped{0};
  std::atomic<int64_t> ranges_dropped{0};
};

constexpr size_t kMaxNames = size_t{1} << 20;
constexpr size_t kMaxDoneRanges = size_t{1} << 20;

struct Tool {
  std::mutex mu;
  absl::flat_hash_map<std::string, NameSite*> names;
  std::deque<Domain> domains;
  Domain unnamed;
  OpDomains op_domains;
  absl::flat_hash_map<uint64_t, OpenRange> open_ranges;
  std::vector<DoneRange> done_ranges;
  std::unordered_map<int64_t, std::string> thread_names;
  std::atomic<uint64_t> next_range_id{1};
  Counters counters;
  bool installed = false;
  bool capture_at_exit = false;
};

// Created before NVTX can call a handler (InstallTool) and never destroyed: NVTX calls may
// come during exit. A plain pointer: the handlers read it without a guard.
Tool* g_tool = nullptr;

Tool& T() {
  static Tool* t = [] {
    g_tool = new Tool();
    return g_tool;
  }();
  return *t;
}

// The handlers' view: the tool exists once InstallTool ran, which precedes every handler call.
inline Tool& Installed() { return *g_tool; }

uint32_t GenerationOf(uint32_t state) { return state >> kStateGenerationShift; }

// Counts a misuse for the capture of generation `gen` (rare paths only).
void Count(std::atomic<int64_t> Counters::*field, uint32_t gen) {
  Counters& c = T().counters;
  uint32_t seen = c.generation.load(std::memory_order_relaxed);
  if (seen != gen) {
    std::lock_guard<std::mutex> lock(T().mu);
    if (c.generation.load(std::memory_order_relaxed) != gen) {
      c.pops_without_push = 0;
      c.ends_without_start = 0;
      c.destroyed_domain_calls = 0;
      c.deep_pushes = 0;
      c.names_dropped = 0;
      c.ranges_dropped = 0;
      c.generation.store(gen, std::memory_order_relaxed);
    }
  }
  (c.*field).fetch_add(1, std::memory_order_relaxed);
}

NameSite* InternLocked(Tool& t, std::string text) {
  auto it = t.names.find(text);
  if (it != t.names.end()) return it->second;
  if (t.names.size() >= kMaxNames) return nullptr;
  auto* site = new NameSite(text);
  t.names.emplace(std::move(text), site);
  return site;
}

NameSite* Intern(std::string text) {
  Tool& t = T();
  std::lock_guard<std::mutex> lock(t.mu);
  return InternLocked(t, std::move(text));
}

std::string Utf8(const wchar_t* w) {
  std::string out;
  if (w == nullptr) return out;
  for (; *w != 0; ++w) {
    uint32_t c = static_cast<uint32_t>(*w);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else if (c < 0x110000) {
      out.push_back(static_cast<char>(0xf0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else {
      out.append("\xef\xbf\xbd");
    }
  }
  return out;
}

Domain* DomainOf(nvtxDomainHandle_t handle) {
  return handle == nullptr ? &Installed().unnamed : reinterpret_cast<Domain*>(handle);
}

std::string CategoryName(Domain* d, uint32_t category) {
  if (category == 0) return {};
  std::lock_guard<std::mutex> lock(d->mu);
  auto it = d->categories.find(category);
  return it != d->categories.end() ? it->second : std::string();
}

// ---- The per-thread name cache and push stack ----------------------------------------------

// Direct-mapped cache from (message pointer, category, domain) to the name site. A hit is
// confirmed by comparing the message with the site's text, so a reused pointer never maps to a
// stale name.
constexpr int kCacheSlots = 64;
constexpr int kMaxDepth = 128;

struct CacheSlot {
  const void* key;
  uint32_t category;
  Domain* domain;
  NameSite* site;
  uint32_t message_len;  // Bytes of the message part of site->text.
};

struct StackEntry {
  uint32_t token;  // 0: nothing recorded (still popped in order).
  Domain* domain;
};

struct ThreadNvtx {
  uint32_t generation;
  uint32_t depth;
  StackEntry stack[kMaxDepth];
  CacheSlot cache[kCacheSlots];
};

// A thread's NVTX state (about 4.6 KiB) lives on the heap, allocated at its first push or
// lookup, so that the library's own thread-local storage stays small: it is static TLS
// (src/util/hot_tls.h), which a library loaded with dlopen takes from glibc's small reserve.
// t_nvtx_owner frees it when the thread exits; a thread whose NVTX calls come after that (from
// other thread-local destructors) gets a state that is not freed.
constinit thread_local ThreadNvtx* t_nvtx TBPROF_HOT_TLS = nullptr;
constinit thread_local bool t_nvtx_owner_gone = false;

struct ThreadNvtxOwner {
  ThreadNvtx* state = nullptr;
  ~ThreadNvtxOwner() {
    t_nvtx_owner_gone = true;
    t_nvtx = nullptr;
    delete state;
  }
};
thread_local ThreadNvtxOwner t_nvtx_owner;

__attribute__((noinline)) ThreadNvtx& NewThreadNvtx() {
  auto* tn = new ThreadNvtx{};
  if (!t_nvtx_owner_gone) t_nvtx_owner.state = tn;  // Registers the owner's destructor.
  t_nvtx = tn;
  return *tn;
}

inline ThreadNvtx& Nvtx() {
  ThreadNvtx* tn = t_nvtx;
  return TBPROF_INTERNAL_LIKELY(tn != nullptr) ? *tn : NewThreadNvtx();
}

inline size_t SlotOf(const void* key, uint32_t category, const Domain* domain) {
  uint64_t x = reinterpret_cast<uintptr_t>(key) ^ (uint64_t{category} * 0x9e3779b97f4a7c15ull) ^
               (reinterpret_cast<uintptr_t>(domain) >> 4);
  x ^= x >> 17;
  x *= 0xed5ad4bbull;
  x ^= x >> 11;
  return static_cast<size_t>(x) & (kCacheSlots - 1);
}

// The full name of a range: the message, with " [category]" when the category has a name
// (non-op domains; in op domains the category is the op's type).
NameSite* SiteSlow(Domain* d, std::string_view message, uint32_t category) {
  std::string text(message);
  std::string cat = CategoryName(d, category);
  if (!d->is_op && !cat.empty()) absl::StrAppend(&text, " [", AsAbsl(cat), "]");
  Tool& t = T();
  std::lock_guard<std::mutex> lock(t.mu);
  // Op ranges of different domains or categories may share a message but not a type: their
  // sites are distinct (keyed with an unprintable separator).
  std::string key =
      d->is_op ? absl::StrCat(text, "\x1f", AsAbsl(d->name), "\x1f", AsAbsl(cat)) : text;
  auto it = t.names.find(key);
  if (it != t.names.end()) return it->second;
  if (t.names.size() >= kMaxNames) return nullptr;
  auto* site = new NameSite(text);
  if (d->is_op) {
    SplitOpMessage(message, cat.empty() ? std::string_view(d->name) : std::string_view(cat),
                   &site->op_name, &site->op_type);
    site->op_split = true;
  }
  t.names.emplace(std::move(key), site);
  return site;
}

// Site of an ASCII message (or a registered string's text) through the thread's cache.
NameSite* SiteOf(Domain* d, const char* message, uint32_t category) {
  if (message == nullptr) message = "";
  ThreadNvtx& tn = Nvtx();
  CacheSlot& slot = tn.cache[SlotOf(message, category, d)];
  if (TBPROF_INTERNAL_LIKELY(slot.key == message && slot.category == category && slot.domain == d &&
                             slot.site != nullptr)) {
    const std::string& text = slot.site->text;
    if (std::strncmp(text.data(), message, slot.message_len) == 0 &&
        message[slot.message_len] == '\0') {
      return slot.site;
    }
  }
  NameSite* site = SiteSlow(d, message, category);
  if (site == nullptr) {
    Count(&Counters::names_dropped, GenerationOf(g_trace_state.load(std::memory_order_relaxed)));
    return nullptr;
  }
  slot = {message, category, d, site, static_cast<uint32_t>(std::strlen(message))};
  return site;
}

NameSite* SiteOfAttributes(Domain* d, const nvtxEventAttributes_t* a) {
  if (a == nullptr) return SiteOf(d, "", 0);
  switch (a->messageType) {
    case NVTX_MESSAGE_TYPE_ASCII:
      return SiteOf(d, a->message.ascii, a->category);
    case NVTX_MESSAGE_TYPE_REGISTERED: {
      auto* reg = reinterpret_cast<NameSite*>(a->message.registered);
      return SiteOf(d, reg != nullptr ? reg->text.c_str() : "", a->category);
    }
    case NVTX_MESSAGE_TYPE_UNICODE: {
      std::string text = Utf8(a->message.unicode);
      return SiteSlow(d, text, a->category);
    }
    default:
      return SiteOf(d, "", a->category);
  }
}

// Records the begin of a range; returns the recorder token (0 when nothing was recorded).
uint32_t BeginRange(Domain* d, NameSite* site) {
  if (site == nullptr) return 0;
  if (d->is_op && site->op_split) {
    return OpBegin(site->op_name, site->op_type, nullptr, 0, nullptr, 0);
  }
  return ScopeBegin(&site->site);
}

// ---- Handlers ---------------------------------------------------------------------------------

inline bool Recording() { return MayRecord(kScopeMask); }

int PushSite(Domain* d, NameSite* site, uint32_t gen) {
  ThreadNvtx& tn = Nvtx();
  if (tn.generation != gen) {
    tn.generation = gen;
    tn.depth = 0;
  }
  const uint32_t token = BeginRange(d, site);
  if (tn.depth >= kMaxDepth) {
    if (token != 0) ScopeEnd(token);  // Cannot be popped in order: record as a mark.
    Count(&Counters::deep_pushes, gen);
    return static_cast<int>(tn.depth);
  }
  tn.stack[tn.depth] = {token, d};
  return static_cast<int>(tn.depth++);
}

int Pop(Domain* d) {
  const uint32_t st = g_trace_state.load(std::memory_order_relaxed);
  if (TBPROF_INTERNAL_LIKELY((st & kStateLevelMask) == 0)) return NVTX_NO_PUSH_POP_TRACKING;
  ThreadNvtx* state = t_nvtx;  // None: this thread pushed nothing.
  const uint32_t gen = GenerationOf(st);
  if (state != nullptr && state->generation == gen) {
    ThreadNvtx& tn = *state;
    if (TBPROF_INTERNAL_LIKELY(tn.depth > 0 && tn.stack[tn.depth - 1].domain == d)) {
      const uint32_t token = tn.stack[--tn.depth].token;
      if (token != 0) ScopeEnd(token);
      return static_cast<int>(tn.depth);
    }
    for (uint32_t i = tn.depth; i > 0; --i) {
      if (tn.stack[i - 1].domain != d) continue;
      const uint32_t token = tn.stack[i - 1].token;
      std::memmove(&tn.stack[i - 1], &tn.stack[i], (tn.depth - i) * sizeof(StackEntry));
      --tn.depth;
      if (token != 0) ScopeEnd(token);
      return static_cast<int>(i - 1);
    }
  }
  Count(&Counters::pops_without_push, gen);
  return -1;
}

bool LiveDomain(Domain* d) {
  if (TBPROF_INTERNAL_LIKELY(!d->destroyed.load(std::memory_order_relaxed))) return true;
  Count(&Counters::destroyed_domain_calls,
        GenerationOf(g_trace_state.load(std::memory_order_relaxed)));
  return false;
}

void MarkSite(NameSite* site) {
  if (site == nullptr) return;
  uint32_t token = ScopeBegin(&site->site);
  if (token != 0) ScopeEnd(token);
}

nvtxRangeId_t StartSite(Domain* d, NameSite* site) {
  if (site == nullptr) return 0;
  const uint32_t gen = GenerationOf(g_trace_state.load(std::memory_order_relaxed));
  Tool& t = T();
  uint64_t id = t.next_range_id.fetch_add(1, std::memory_order_relaxed);
  OpenRange r{site, d, MonotonicNs(), gen};
  std::lock_guard<std::mutex> lock(t.mu);
  t.open_ranges[id] = r;
  return id;
}

void End(nvtxRangeId_t id) {
  if (!Recording()) {
    if (id != 0) {  // Forget a range started in a capture that has ended.
      Tool& t = T();
      std::lock_guard<std::mutex> lock(t.mu);
      t.open_ranges.erase(id);
    }
    return;
  }
  const int64_t now = MonotonicNs();
  const uint32_t gen = GenerationOf(g_trace_state.load(std::memory_order_relaxed));
  Tool& t = T();
  bool missing = false, dropped = false;
  {
    std::lock_guard<std::mutex> lock(t.mu);
    auto it = id == 0 ? t.open_ranges.end() : t.open_ranges.find(id);
    if (it == t.open_ranges.end()) {
      missing = true;
    } else {
      OpenRange r = it->second;
      t.open_ranges.erase(it);
      if (r.generation != gen) {
        missing = true;  // Started before this capture.
      } else if (t.done_ranges.size() >= kMaxDoneRanges) {
        dropped = true;
      } else {
        t.done_ranges.push_back({r.name, r.domain, r.start_ns, now, gen});
      }
    }
  }
  if (missing) Count(&Counters::ends_without_start, gen);
  if (dropped) Count(&Counters::ranges_dropped, gen);
}

// Core module.
void MarkEx(const nvtxEventAttributes_t* a) {
  if (!Recording()) return;
  MarkSite(SiteOfAttributes(&Installed().unnamed, a));
}
void MarkA(const char* m) {
  if (!Recording()) return;
  MarkSite(SiteOf(&Installed().unnamed, m, 0));
}
void MarkW(const wchar_t* m) {
  if (!Recording()) return;
  MarkSite(SiteSlow(&Installed().unnamed, Utf8(m), 0));
}
nvtxRangeId_t RangeStartEx(const nvtxEventAttributes_t* a) {
  if (!Recording()) return 0;
  return StartSite(&Installed().unnamed, SiteOfAttributes(&Installed().unnamed, a));
}
nvtxRangeId_t RangeStartA(const char* m) {
  if (!Recording()) return 0;
  return StartSite(&Installed().unnamed, SiteOf(&Installed().unnamed, m, 0));
}
nvtxRangeId_t RangeStartW(const wchar_t* m) {
  if (!Recording()) return 0;
  return StartSite(&Installed().unnamed, SiteSlow(&Installed().unnamed, Utf8(m), 0));
}
void RangeEnd(nvtxRangeId_t id) { End(id); }
int RangePushEx(const nvtxEventAttributes_t* a) {
  if (TBPROF_INTERNAL_LIKELY(!Recording())) return NVTX_NO_PUSH_POP_TRACKING;
  const uint32_t gen = GenerationOf(g_trace_state.load(std::memory_order_relaxed));
  return PushSite(&Installed().unnamed, SiteOfAttributes(&Installed().unnamed, a), gen);
}
int RangePushA(const char* m) {
  if (TBPROF_INTERNAL_LIKELY(!Recording())) return NVTX_NO_PUSH_POP_TRACKING;
  const uint32_t gen = GenerationOf(g_trace_state.load(std::memory_order_relaxed));
  return PushSite(&Installed().unnamed, SiteOf(&Installed().unnamed, m, 0), gen);
}
int RangePushW(const wchar_t* m) {
  if (TBPROF_INTERNAL_LIKELY(!Recording())) return NVTX_NO_PUSH_POP_TRACKING;
  const uint32_t gen = GenerationOf(g_trace_state.load(std::memory_order_relaxed));
  return PushSite(&Installed().unnamed, SiteSlow(&Installed().unnamed, Utf8(m), 0), gen);
}
int RangePop() { return Pop(&Installed().unnamed); }

void NameCategory(Domain* d, uint32_t category, std::string name) {
  std::lock_guard<std::mutex> lock(d->mu);
  d->categories[category] = std::move(name);
}
void NameCategoryA(uint32_t c, const char* n) {
  NameCategory(&Installed().unnamed, c, n != nullptr ? n : "");
}
void NameCategoryW(uint32_t c, const wchar_t* n) { NameCategory(&Installed().unnamed, c, Utf8(n)); }
void NameThread(uint32_t tid, std::string name) {
  Tool& t = T();
  std::lock_guard<std::mutex> lock(t.mu);
  t.thread_names[static_cast<int64_t>(tid)] = std::move(name);
}
void NameOsThreadA(uint32_t tid, const char* n) { NameThread(tid, n != nullptr ? n : ""); }
void NameOsThreadW(uint32_t tid, const wchar_t* n) { NameThread(tid, Utf8(n)); }

// Core2 module (domains).
void DomainMarkEx(nvtxDomainHandle_t h, const nvtxEventAttributes_t* a) {
  if (!Recording()) return;
  Domain* d = DomainOf(h);
  if (!LiveDomain(d)) return;
  MarkSite(SiteOfAttributes(d, a));
}
nvtxRangeId_t DomainRangeStartEx(nvtxDomainHandle_t h, const nvtxEventAttributes_t* a) {
  if (!Recording()) return 0;
  Domain* d = DomainOf(h);
  if (!LiveDomain(d)) return 0;
  return StartSite(d, SiteOfAttributes(d, a));
}
void DomainRangeEnd(nvtxDomainHandle_t, nvtxRangeId_t id) { End(id); }
int DomainRangePushEx(nvtxDomainHandle_t h, const nvtxEventAttributes_t* a) {
  if (TBPROF_INTERNAL_LIKELY(!Recording())) return NVTX_NO_PUSH_POP_TRACKING;
  Domain* d = DomainOf(h);
  if (!LiveDomain(d)) return -1;
  const uint32_t gen = GenerationOf(g_trace_state.load(std::memory_order_relaxed));
  return PushSite(d, SiteOfAttributes(d, a), gen);
}
int DomainRangePop(nvtxDomainHandle_t h) {
  Domain* d = DomainOf(h);
  if (TBPROF_INTERNAL_UNLIKELY(d->destroyed.load(std::memory_order_relaxed)) && Recording()) {
    LiveDomain(d);  // Counted; the range it closes is still ended in order.
  }
  return Pop(d);
}
nvtxResourceHandle_t DomainResourceCreate(nvtxDomainHandle_t, nvtxResourceAttributes_t*) {
  return nullptr;
}
void DomainResourceDestroy(nvtxResourceHandle_t) {}
void DomainNameCategoryA(nvtxDomainHandle_t h, uint32_t c, const char* n) {
  NameCategory(DomainOf(h), c, n != nullptr ? n : "");
}
void DomainNameCategoryW(nvtxDomainHandle_t h, uint32_t c, const wchar_t* n) {
  NameCategory(DomainOf(h), c, Utf8(n));
}
nvtxStringHandle_t RegisterString(std::string text) {
  return reinterpret_cast<nvtxStringHandle_t>(Intern(std::move(text)));
}
nvtxStringHandle_t DomainRegisterStringA(nvtxDomainHandle_t, const char* s) {
  return RegisterString(s != nullptr ? s : "");
}
nvtxStringHandle_t DomainRegisterStringW(nvtxDomainHandle_t, const wchar_t* s) {
  return RegisterString(Utf8(s));
}

bool IsOpDomain(const OpDomains& ops, std::string_view name) {
  if (ops.all) return true;
  return std::find(ops.names.begin(), ops.names.end(), name) != ops.names.end();
}

nvtxDomainHandle_t CreateDomain(std::string name) {
  Tool& t = T();
  std::lock_guard<std::mutex> lock(t.mu);
  Domain& d = t.domains.emplace_back();
  d.is_op = IsOpDomain(t.op_domains, name);
  d.name = std::move(name);
  return reinterpret_cast<nvtxDomainHandle_t>(&d);
}
nvtxDomainHandle_t DomainCreateA(const char* n) { return CreateDomain(n != nullptr ? n : ""); }
nvtxDomainHandle_t DomainCreateW(const wchar_t* n) { return CreateDomain(Utf8(n)); }
// The domain stays allocated (handles may still be used by mistake): its later calls are
// counted and ignored.
void DomainDestroy(nvtxDomainHandle_t h) {
  if (h != nullptr) DomainOf(h)->destroyed.store(true, std::memory_order_relaxed);
}
void Initialize(const void*) {}

template <typename F>
NvtxFunctionPointer Fn(F f) {
  return reinterpret_cast<NvtxFunctionPointer>(f);
}

bool Fill(const NvtxExportTableCallbacks* callbacks, NvtxCallbackModule module,
          std::initializer_list<std::pair<int, NvtxFunctionPointer>> entries) {
  NvtxFunctionTable table = nullptr;
  unsigned int size = 0;
  if (callbacks->GetModuleFunctionTable(module, &table, &size) == 0 || table == nullptr) {
    return false;
  }
  for (const auto& [index, fn] : entries) {
    if (index > 0 && static_cast<unsigned int>(index) <= size && table[index] != nullptr) {
      *table[index] = fn;
    }
  }
  return true;
}

std::string ProgramName() {
  std::ifstream in("/proc/self/comm");
  std::string name;
  std::getline(in, name);
  std::string out;
  for (char c : name) {
    out.push_back((std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')
                      ? c
                      : '_');
  }
  return out.empty() ? std::string("run") : out;
}

void ExportWholeRun() {
  static std::atomic<bool> done{false};
  if (done.exchange(true)) return;
  absl::Status s = TraceExport(ProgramName(), 0);
  if (!s.ok()) {
    std::fprintf(stderr, "tbprof: writing the NVTX capture of this run failed: %s\n",
                 s.ToString().c_str());
  } else if (std::optional<ExportInfo> info = LastExportInfo()) {
    std::fprintf(stderr, "tbprof: captured this run's NVTX ranges into %s\n",
                 info->session_dir.c_str());
  }
}

}  // namespace

OpDomains ParseOpDomains(std::string_view value, std::string* error) {
  OpDomains out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = value.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) {
      if (value.find_first_not_of(' ') != std::string_view::npos) {
        if (error != nullptr) {
          *error = absl::StrCat("TBPROF_NVTX_OP_DOMAINS='", AsAbsl(value),
                                "': empty domain name in the list; expected comma-separated "
                                "domain names, 'default' or '*'; using '",
                                kDefaultOpDomains, "'");
        }
        return ParseOpDomains(kDefaultOpDomains, nullptr);
      }
    } else if (item == "*") {
      out.all = true;
    } else if (item == "default") {
      out.unnamed = true;
    } else {
      out.names.emplace_back(item);
    }
    start = comma + 1;
  }
  return out;
}

std::string OpTypeFrom(std::string_view text) {
  std::string type;
  for (char c : text) {
    type.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_');
  }
  if (type.empty()) return "NVTX";
  if (std::isdigit(static_cast<unsigned char>(type[0]))) type.insert(type.begin(), '_');
  type[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(type[0])));
  return type;
}

void SplitOpMessage(std::string_view message, std::string_view fallback_type, std::string* name,
                    std::string* type) {
  size_t colon = message.rfind(':');
  bool split =
      colon != std::string_view::npos && colon > 0 && colon + 1 < message.size() &&
      message[colon - 1] != ':' &&
      (std::isupper(static_cast<unsigned char>(message[colon + 1])) || message[colon + 1] == '_');
  for (size_t i = colon + 1; split && i < message.size(); ++i) {
    split = std::isalnum(static_cast<unsigned char>(message[i])) || message[i] == '_';
  }
  if (split) {
    *name = std::string(message.substr(0, colon));
    *type = std::string(message.substr(colon + 1));
    return;
  }
  *name = std::string(message);
  *type = OpTypeFrom(fallback_type);
}

int InstallTool(GetExportTableFunc get_export_table, bool capture_whole_run) {
  if (get_export_table == nullptr) return 0;
  const Config& config = ProcessConfig();
  if (!config.enabled) return 0;
  auto* callbacks =
      static_cast<const NvtxExportTableCallbacks*>(get_export_table(NVTX_ETID_CALLBACKS));
  if (callbacks == nullptr || callbacks->GetModuleFunctionTable == nullptr) return 0;
  Tool& t = T();
  {
    std::lock_guard<std::mutex> lock(t.mu);
    const char* env = std::getenv("TBPROF_NVTX_OP_DOMAINS");
    std::string error;
    t.op_domains = ParseOpDomains(env != nullptr ? env : kDefaultOpDomains, &error);
    if (!error.empty()) std::fprintf(stderr, "tbprof: %s\n", error.c_str());
    t.unnamed.name = "NVTX";
    t.unnamed.is_op = t.op_domains.all || t.op_domains.unnamed;
  }
  bool core = Fill(callbacks, NVTX_CB_MODULE_CORE,
                   {{NVTX_CBID_CORE_MarkEx, Fn(&MarkEx)},
                    {NVTX_CBID_CORE_MarkA, Fn(&MarkA)},
                    {NVTX_CBID_CORE_MarkW, Fn(&MarkW)},
                    {NVTX_CBID_CORE_RangeStartEx, Fn(&RangeStartEx)},
                    {NVTX_CBID_CORE_RangeStartA, Fn(&RangeStartA)},
                    {NVTX_CBID_CORE_RangeStartW, Fn(&RangeStartW)},
                    {NVTX_CBID_CORE_RangeEnd, Fn(&RangeEnd)},
                    {NVTX_CBID_CORE_RangePushEx, Fn(&RangePushEx)},
                    {NVTX_CBID_CORE_RangePushA, Fn(&RangePushA)},
                    {NVTX_CBID_CORE_RangePushW, Fn(&RangePushW)},
                    {NVTX_CBID_CORE_RangePop, Fn(&RangePop)},
                    {NVTX_CBID_CORE_NameCategoryA, Fn(&NameCategoryA)},
                    {NVTX_CBID_CORE_NameCategoryW, Fn(&NameCategoryW)},
                    {NVTX_CBID_CORE_NameOsThreadA, Fn(&NameOsThreadA)},
                    {NVTX_CBID_CORE_NameOsThreadW, Fn(&NameOsThreadW)}});
  if (!core) return 0;
  Fill(callbacks, NVTX_CB_MODULE_CORE2,
       {{NVTX_CBID_CORE2_DomainMarkEx, Fn(&DomainMarkEx)},
        {NVTX_CBID_CORE2_DomainRangeStartEx, Fn(&DomainRangeStartEx)},
        {NVTX_CBID_CORE2_DomainRangeEnd, Fn(&DomainRangeEnd)},
        {NVTX_CBID_CORE2_DomainRangePushEx, Fn(&DomainRangePushEx)},
        {NVTX_CBID_CORE2_DomainRangePop, Fn(&DomainRangePop)},
        {NVTX_CBID_CORE2_DomainResourceCreate, Fn(&DomainResourceCreate)},
        {NVTX_CBID_CORE2_DomainResourceDestroy, Fn(&DomainResourceDestroy)},
        {NVTX_CBID_CORE2_DomainNameCategoryA, Fn(&DomainNameCategoryA)},
        {NVTX_CBID_CORE2_DomainNameCategoryW, Fn(&DomainNameCategoryW)},
        {NVTX_CBID_CORE2_DomainRegisterStringA, Fn(&DomainRegisterStringA)},
        {NVTX_CBID_CORE2_DomainRegisterStringW, Fn(&DomainRegisterStringW)},
        {NVTX_CBID_CORE2_DomainCreateA, Fn(&DomainCreateA)},
        {NVTX_CBID_CORE2_DomainCreateW, Fn(&DomainCreateW)},
        {NVTX_CBID_CORE2_DomainDestroy, Fn(&DomainDestroy)},
        {NVTX_CBID_CORE2_Initialize, Fn(&Initialize)}});
  t.installed = true;
  if (capture_whole_run && !config.has_steps) {
    absl::Status s = TraceOn();
    if (!s.ok()) {
      std::fprintf(stderr, "tbprof: the NVTX capture of this run could not start: %s\n",
                   s.ToString().c_str());
    } else {
      t.capture_at_exit = true;
      std::atexit(&ExportWholeRun);
    }
  }
  return 1;
}

void CollectNvtx(Trace* trace) {
  Tool& t = T();
  const uint32_t gen = GenerationOf(g_trace_state.load(std::memory_order_acquire));
  std::vector<DoneRange> ranges;
  std::unordered_map<int64_t, std::string> thread_names;
  int64_t still_open = 0;
  {
    std::lock_guard<std::mutex> lock(t.mu);
    ranges.swap(t.done_ranges);
    thread_names = t.thread_names;
    for (auto it = t.open_ranges.begin(); it != t.open_ranges.end();) {
      if (it->second.generation == gen) {
        ++still_open;
        ranges.push_back({it->second.name, it->second.domain, it->second.start_ns,
                          trace->start_ns + trace->duration_ns, gen});
      }
      // Ranges of this or older captures can no longer end in a capture.
      t.open_ranges.erase(it++);
    }
  }
  // Thread names given through NVTX.
  for (ThreadTrack& track : trace->threads) {
    auto it = thread_names.find(track.tid);
    if (it != thread_names.end() && !it->second.empty()) track.name = it->second;
  }
  // Start/end ranges: one group of lines per domain, ranges packed into lines where they nest.
  ranges.erase(std::remove_if(ranges.begin(), ranges.end(),
                              [&](const DoneRange& r) { return r.generation != gen; }),
               ranges.end());
  std::sort(ranges.begin(), ranges.end(), [](const DoneRange& a, const DoneRange& b) {
    if (a.domain != b.domain) return a.domain < b.domain;
    if (a.start_ns != b.start_ns) return a.start_ns < b.start_ns;
    return a.end_ns > b.end_ns;
  });
  std::unordered_map<std::string, NameId> name_index;
  for (size_t i = 0; i < trace->names.size(); ++i) name_index.emplace(trace->names[i], i);
  auto intern = [&](const std::string& text) -> NameId {
    auto it = name_index.find(text);
    if (it != name_index.end()) return it->second;
    NameId id = static_cast<NameId>(trace->names.size());
    trace->names.push_back(text);
    name_index.emplace(text, id);
    return id;
  };
  // Synthetic line ids above any OS thread id (Linux pid_max is at most 2^22).
  int64_t next_line_id = int64_t{1} << 40;
  size_t i = 0;
  while (i < ranges.size()) {
    Domain* d = ranges[i].domain;
    std::vector<ThreadTrack> lanes;
    std::vector<std::vector<int64_t>> open_ends;  // Per lane: ends of the enclosing ranges.
    for (; i < ranges.size() && ranges[i].domain == d; ++i) {
      const DoneRange& r = ranges[i];
      HostEvent e;
      e.start_ns = std::max<int64_t>(0, r.start_ns - trace->start_ns);
      e.end_ns = std::max(e.start_ns, r.end_ns - trace->start_ns);
      e.name = intern(r.name->text);
      size_t lane = 0;
      for (; lane < lanes.size(); ++lane) {
        std::vector<int64_t>& ends = open_ends[lane];
        while (!ends.empty() && ends.back() <= e.start_ns) ends.pop_back();
        if (ends.empty() || ends.back() >= e.end_ns) break;
      }
      if (lane == lanes.size()) {
        ThreadTrack track;
        track.tid = next_line_id++;
        track.name = absl::StrCat("NVTX ", AsAbsl(d->name), " ranges",
                                  lanes.empty() ? "" : absl::StrCat(" ", lanes.size() + 1));
        lanes.push_back(std::move(track));
        open_ends.emplace_back();
      }
      lanes[lane].events.push_back(e);
      open_ends[lane].push_back(e.end_ns);
    }
    for (ThreadTrack& lane : lanes) trace->threads.push_back(std::move(lane));
  }
  // Misuse counts of this capture.
  Counters& c = t.counters;
  if (c.generation.load() == gen) {
    auto warn = [&](std::atomic<int64_t>& n, std::string_view what) {
      int64_t v = n.exchange(0);
      if (v > 0) trace->warnings.push_back(absl::StrCat("NVTX: ", v, " ", AsAbsl(what)));
    };
    warn(c.pops_without_push,
         "range pop(s) without a push in this capture were ignored (unbalanced, or pushed "
         "before the capture started)");
    warn(c.ends_without_start,
         "range end(s) without a start in this capture were ignored (unknown id, or started "
         "before the capture)");
    warn(c.destroyed_domain_calls, "call(s) on a destroyed domain were ignored");
    warn(c.deep_pushes, "range push(es) deeper than 128 levels were recorded as marks");
    warn(c.names_dropped, "range(s) dropped: more than 1048576 distinct names");
    warn(c.ranges_dropped, "start/end range(s) dropped: more than 1048576 in the capture");
  }
  if (still_open > 0) {
    trace->warnings.push_back(absl::StrCat("NVTX: ", still_open,
                                           " start/end range(s) still open at export were "
                                           "closed at the end of the capture"));
  }
}

}  // namespace tbprof::internal::nvtx

// The in-process route: NVTX's loader (nvtxInit.h, load sequence version 2) calls this when no
// NVTX_INJECTION64_PATH names a library. It binds to the weak symbol that NVTX defines in every
// translation unit of the program that includes its implementation.
extern "C" {
int TbprofNvtxInitializeInProcess(NvtxGetExportTableFunc_t get_export_table) {
  return tbprof::internal::nvtx::InstallTool(get_export_table, /*capture_whole_run=*/false);
}
int (*InitializeInjectionNvtx2_fnptr)(NvtxGetExportTableFunc_t) = &TbprofNvtxInitializeInProcess;
}
