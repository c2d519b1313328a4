#include "src/memory/memory_analysis.h"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tbprof/graph.h"

namespace tbprof::internal {
namespace {

// The step whose time holds t (steps sorted by start), -1 = none. Steps of several threads may
// overlap: the few steps that start before t are looked at.
int64_t StepAt(const std::vector<StepInfo>& steps, int64_t t) {
  auto it = std::upper_bound(steps.begin(), steps.end(), t,
                             [](int64_t v, const StepInfo& s) { return v < s.start_ns; });
  for (int looked = 0; it != steps.begin() && looked < 4; ++looked) {
    --it;
    if (it->end_ns >= t) return it->step;
  }
  return -1;
}

int64_t TensorBytes(const TensorInfo& t) {
  int64_t bytes = DTypeSize(static_cast<DType>(t.dtype));
  for (int64_t d : t.shape) bytes *= std::max<int64_t>(d, 0);
  return bytes;
}

// The output of `op` that an allocation at `address` of `requested` bytes holds, or nullptr.
const TensorInfo* OutputFor(const OpInfo& op, uint64_t address, int64_t requested) {
  for (const TensorInfo& t : op.outputs) {
    if (t.id == address && t.id != 0) return &t;
  }
  const TensorInfo* found = nullptr;
  for (const TensorInfo& t : op.outputs) {
    if (t.dtype != 0 && TensorBytes(t) == requested) {
      if (found != nullptr) return nullptr;  // Ambiguous.
      found = &t;
    }
  }
  return found;
}

// a + b and a - b clamped to the int64 range: sizes come from the program, unchecked.
int64_t Add(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? INT64_MAX : INT64_MIN;
}
int64_t Sub(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_sub_overflow(a, b, &r)) return r;
  return b < 0 ? INT64_MAX : INT64_MIN;
}

struct Counts {
  int64_t unknown_free = 0;
  int64_t double_free = 0;
  int64_t bad_size = 0;
  int64_t live_address = 0;
};

}  // namespace

void AnalyzeMemory(Trace* trace) {
  std::vector<MemoryEvent>& events = trace->memory_events;
  if (events.empty()) return;
  // Sources append in their own order (the recorder, then CUPTI's device memory).
  std::stable_sort(events.begin(), events.end(), [](const MemoryEvent& a, const MemoryEvent& b) {
    return a.time_ns < b.time_ns;
  });
  const size_t n_alloc = trace->allocators.size();
  struct State {
    std::unordered_map<uint64_t, size_t> live;  // Address -> allocation event.
    std::unordered_set<uint64_t> freed;         // Freed and not allocated again.
    int64_t in_use = 0;
    int64_t live_requested = 0;
    int64_t peak = 0;
    Counts counts;
  };
  std::vector<State> states(n_alloc);
  for (size_t i = 0; i < events.size(); ++i) {
    MemoryEvent& e = events[i];
    if (e.allocator >= n_alloc) {
      e.valid = false;
      continue;
    }
    State& s = states[e.allocator];
    e.step = StepAt(trace->steps, e.time_ns);
    e.valid = true;
    if (e.kind == MemoryEventKind::kAlloc) {
      e.dtype = 0;
      e.shape.clear();
      e.has_shape = false;
      if (e.requested_bytes <= 0 || e.allocation_bytes <= 0) {
        e.valid = false;
        ++s.counts.bad_size;
      } else if (s.live.count(e.address) != 0) {
        e.valid = false;
        ++s.counts.live_address;
      } else {
        s.live.emplace(e.address, i);
        s.freed.erase(e.address);
        s.in_use = Add(s.in_use, e.allocation_bytes);
        s.live_requested = Add(s.live_requested, e.requested_bytes);
        if (e.op_index >= 0 && static_cast<size_t>(e.op_index) < trace->ops.size()) {
          if (const TensorInfo* t =
                  OutputFor(trace->ops[e.op_index], e.address, e.requested_bytes)) {
            e.dtype = t->dtype;
            e.shape = t->shape;
            e.has_shape = true;
          }
        }
      }
    } else {
      auto it = s.live.find(e.address);
      if (it == s.live.end()) {
        e.valid = false;
        if (s.freed.count(e.address) != 0) {
          ++s.counts.double_free;
        } else {
          ++s.counts.unknown_free;
        }
      } else {
        const MemoryEvent& a = events[it->second];
        e.requested_bytes = a.requested_bytes;
        e.allocation_bytes = a.allocation_bytes;
        e.op_index = a.op_index;
        e.scope = a.scope;
        e.dtype = a.dtype;
        e.shape = a.shape;
        e.has_shape = a.has_shape;
        s.in_use = Sub(s.in_use, a.allocation_bytes);
        s.live_requested = Sub(s.live_requested, a.requested_bytes);
        s.live.erase(it);
        s.freed.insert(e.address);
      }
    }
    e.bytes_in_use = e.reported_in_use >= 0 ? e.reported_in_use : s.in_use;
    s.peak = std::max(s.peak, e.bytes_in_use);
    e.peak_bytes_in_use = std::max(s.peak, e.reported_peak);
    e.bytes_reserved = std::max<int64_t>(e.reported_reserved, 0);
    const int64_t free_bytes = Sub(e.bytes_reserved, e.bytes_in_use);
    if (e.reported_largest_free >= 0 && free_bytes > 0) {
      e.fragmentation =
          std::clamp(1.0 - static_cast<double>(e.reported_largest_free) / free_bytes, 0.0, 1.0);
    } else if (s.in_use > 0) {
      e.fragmentation = std::clamp(
          1.0 - static_cast<double>(s.live_requested) / static_cast<double>(s.in_use), 0.0, 1.0);
    } else {
      e.fragmentation = 0;
    }
  }
  for (size_t a = 0; a < n_alloc; ++a) {
    const Counts& c = states[a].counts;
    const std::string& name = trace->allocators[a].name;
    auto warn = [&](int64_t count, const char* what) {
      if (count == 0) return;
      std::string w = absl::StrCat("memory: allocator '", name, "': ", count, " ", what,
                                   " (left out of the bytes in use)");
      if (std::find(trace->warnings.begin(), trace->warnings.end(), w) == trace->warnings.end()) {
        trace->warnings.push_back(std::move(w));
      }
    };
    warn(c.unknown_free, "free(s) of an address not allocated within the capture");
    warn(c.double_free, "double free(s)");
    warn(c.bad_size, "allocation(s) with a zero or negative size");
    warn(c.live_address, "allocation(s) at an address already allocated and not freed");
  }
}

std::vector<AllocatorSummary> SummarizeMemory(const Trace& trace) {
  const std::vector<MemoryEvent>& events = trace.memory_events;
  std::vector<AllocatorSummary> out(trace.allocators.size());
  std::vector<size_t> peak_index(out.size(), events.size());
  for (size_t a = 0; a < out.size(); ++a) out[a].name = trace.allocators[a].name;
  for (size_t i = 0; i < events.size(); ++i) {
    const MemoryEvent& e = events[i];
    if (e.allocator >= out.size()) continue;
    AllocatorSummary& s = out[e.allocator];
    if (!e.valid) {
      ++s.invalid_records;
      continue;
    }
    if (e.kind == MemoryEventKind::kAlloc) {
      ++s.allocations;
    } else {
      ++s.frees;
    }
    if (s.peak_time_ns < 0 || e.bytes_in_use > s.peak_bytes) {
      s.peak_bytes = e.bytes_in_use;
      s.peak_time_ns = e.time_ns;
      s.peak_step = e.step;
      s.peak_op = e.op_index;
      s.peak_scope = e.scope;
      s.reserved_bytes = e.bytes_reserved;
      peak_index[e.allocator] = i;
    }
  }
  // Replay: what is alive right after the peak event, and what is never freed.
  std::vector<std::unordered_map<uint64_t, size_t>> live(out.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const MemoryEvent& e = events[i];
    if (e.allocator >= out.size() || !e.valid) continue;
    auto& l = live[e.allocator];
    if (e.kind == MemoryEventKind::kAlloc) {
      l[e.address] = i;
    } else {
      l.erase(e.address);
    }
    if (i == peak_index[e.allocator]) {
      for (const auto& [addr, index] : l) out[e.allocator].alive_at_peak.push_back(index);
    }
  }
  for (size_t a = 0; a < out.size(); ++a) {
    AllocatorSummary& s = out[a];
    std::sort(s.alive_at_peak.begin(), s.alive_at_peak.end(), [&](size_t x, size_t y) {
      if (events[x].allocation_bytes != events[y].allocation_bytes) {
        return events[x].allocation_bytes > events[y].allocation_bytes;
      }
      return x < y;
    });
    for (const auto& [addr, index] : live[a]) s.leaks.push_back(index);
    std::sort(s.leaks.begin(), s.leaks.end());
    for (size_t index : s.leaks)
      s.leaked_bytes = Add(s.leaked_bytes, events[index].allocation_bytes);
  }
  return out;
}

std::string MemoryEventTensorText(const MemoryEvent& e) {
  if (!e.has_shape) return "";
  std::string out(DTypeName(static_cast<DType>(e.dtype)));
  out += '[';
  for (size_t i = 0; i < e.shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += e.shape[i] < 0 ? std::string("?") : std::to_string(e.shape[i]);
  }
  out += ']';
  return out;
}

std::string MemoryEventOwner(const Trace& trace, const MemoryEvent& e) {
  if (e.op_index >= 0 && static_cast<size_t>(e.op_index) < trace.ops.size()) {
    return trace.ops[e.op_index].name;
  }
  if (e.scope < trace.names.size()) return trace.names[e.scope];
  return "";
}

std::vector<ScopeMemory> MemoryPerScope(const Trace& trace) {
  std::map<std::string, ScopeMemory> scopes;
  std::map<std::string, int64_t> live;
  auto for_each_scope = [](const std::string& owner, const auto& fn) {
    for (size_t at = owner.find('/'); at != std::string::npos; at = owner.find('/', at + 1)) {
      fn(owner.substr(0, at));
    }
  };
  for (const MemoryEvent& e : trace.memory_events) {
    if (!e.valid) continue;
    const std::string owner = MemoryEventOwner(trace, e);
    if (owner.empty()) continue;
    const bool alloc = e.kind == MemoryEventKind::kAlloc;
    // An op "mlp/dense_1/MatMul" counts in "mlp" and "mlp/dense_1"; a scope owner in itself too.
    const bool owner_is_scope =
        !(e.op_index >= 0 && static_cast<size_t>(e.op_index) < trace.ops.size());
    auto update = [&](const std::string& scope) {
      ScopeMemory& s = scopes[scope];
      s.scope = scope;
      int64_t& bytes = live[scope];
      bytes = alloc ? Add(bytes, e.allocation_bytes) : Sub(bytes, e.allocation_bytes);
      if (alloc) s.allocated_bytes = Add(s.allocated_bytes, e.allocation_bytes);
      s.peak_bytes = std::max(s.peak_bytes, bytes);
    };
    for_each_scope(owner, update);
    if (owner_is_scope) update(owner);
  }
  std::vector<ScopeMemory> out;
  for (auto& [name, s] : scopes) out.push_back(std::move(s));
  return out;
}

std::string MemoryMarkdown(const Trace& trace) {
  const std::vector<AllocatorSummary> allocators = SummarizeMemory(trace);
  bool any = false;
  for (const AllocatorSummary& a : allocators) any = any || a.allocations > 0;
  if (!any) return "";
  std::string out = "\n**Memory** (recorded allocations):\n\n";
  for (const AllocatorSummary& a : allocators) {
    if (a.allocations == 0) continue;
    absl::StrAppend(&out, "- allocator `", a.name, "`: peak ", a.peak_bytes, " bytes in use");
    if (a.peak_step >= 0) absl::StrAppend(&out, " in step ", a.peak_step);
    const std::string owner =
        a.peak_op >= 0 && static_cast<size_t>(a.peak_op) < trace.ops.size()
            ? trace.ops[a.peak_op].name
            : (a.peak_scope < trace.names.size() ? trace.names[a.peak_scope] : std::string());
    if (!owner.empty()) absl::StrAppend(&out, " (`", owner, "`)");
    absl::StrAppend(&out, ", ", a.allocations, " allocations, ", a.leaks.size(),
                    " never freed in the capture\n");
  }
  const std::vector<ScopeMemory> scopes = MemoryPerScope(trace);
  if (scopes.empty()) return out;
  out +=
      "\n| Scope | Peak bytes in use | Bytes allocated in capture |\n"
      "|:---|---:|---:|\n";
  for (const ScopeMemory& s : scopes) {
    absl::StrAppend(&out, "| `", s.scope, "` | ", s.peak_bytes, " | ", s.allocated_bytes, " |\n");
  }
  return out;
}

}  // namespace tbprof::internal
