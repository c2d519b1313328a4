#include "tools/memory_summary.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "tbprof/graph.h"
#include "tools/xspace_util.h"

namespace tbprof::cli {
namespace {

using tensorflow::profiler::XEvent;
using tensorflow::profiler::XLine;
using tensorflow::profiler::XPlane;
using tensorflow::profiler::XSpace;
using tensorflow::profiler::XStat;

struct Record {
  bool is_free = false;
  std::string allocator;
  MemoryAllocationRow row;
  int64_t in_use = 0;
  int64_t available = 0;
  double fragmentation = 0;
};

}  // namespace

bool IsMemoryEventName(std::string_view name) {
  return name == "MemoryAllocation" || name == "MemoryDeallocation";
}

std::vector<AllocatorMemorySummary> SummarizeMemory(const XSpace& space) {
  std::vector<Record> records;
  for (const XPlane& plane : space.planes()) {
    if (plane.name() != "/host:CPU") continue;
    PlaneIndex index(plane);
    auto integer = [&](const XEvent& e, std::string_view name) -> std::optional<int64_t> {
      const XStat* s = index.FindStat(e, name);
      return s != nullptr ? PlaneIndex::StatInt(*s) : std::nullopt;
    };
    auto text = [&](const XEvent& e, std::string_view name) -> std::string {
      const XStat* s = index.FindStat(e, name);
      return s != nullptr ? index.StatString(*s) : std::string();
    };
    for (const XLine& line : plane.lines()) {
      for (const XEvent& event : line.events()) {
        const std::string_view name = index.EventName(event.metadata_id());
        if (!IsMemoryEventName(name)) continue;
        Record r;
        r.is_free = name == "MemoryDeallocation";
        r.allocator = text(event, "allocator_name");
        r.row.op = text(event, "tf_op");
        if (r.row.op.empty()) r.row.op = text(event, "tbprof_scope");
        r.row.bytes = integer(event, "allocation_bytes").value_or(0);
        r.row.requested_bytes = integer(event, "requested_bytes").value_or(0);
        r.row.address = static_cast<uint64_t>(integer(event, "addr").value_or(0));
        r.row.time_ps = EventStartPs(line, event);
        r.row.step =
            integer(event, "tbprof_step").value_or(integer(event, "group_id").value_or(-1));
        const int64_t dtype = integer(event, "data_type").value_or(0);
        const std::string shape = text(event, "shape");
        const bool known_shape = !shape.empty() && shape != "unknown";
        if (dtype != 0 || known_shape) {
          r.row.tensor = std::string(DTypeName(static_cast<DType>(dtype))) +
                         (known_shape ? shape : std::string("[?]"));
        }
        // Saturating: the stats are outside input.
        r.in_use = SaturatingAdd(integer(event, "bytes_allocated").value_or(0),
                                 integer(event, "bytes_reserved").value_or(0));
        r.available = integer(event, "bytes_available").value_or(0);
        if (const XStat* f = index.FindStat(event, "fragmentation"))
          r.fragmentation = f->double_value();
        records.push_back(std::move(r));
      }
    }
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const Record& a, const Record& b) { return a.row.time_ps < b.row.time_ps; });
  // First pass: the peak of each allocator (the first event that reaches it); second: what is
  // alive right after it, and what is never freed.
  std::map<std::string, AllocatorMemorySummary> by_name;
  std::map<std::string, size_t> peak_index;
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    AllocatorMemorySummary& s = by_name[r.allocator];
    const bool first = s.allocations + s.frees == 0;
    if (r.is_free) {
      ++s.frees;
    } else {
      ++s.allocations;
    }
    if (first || r.in_use > s.peak_bytes) {
      s.name = r.allocator;
      s.peak_bytes = r.in_use;
      s.peak_time_ps = r.row.time_ps;
      s.peak_step = r.row.step;
      s.peak_op = r.row.op;
      s.capacity_bytes = SaturatingAdd(r.in_use, r.available);
      s.fragmentation = r.fragmentation;
      peak_index[r.allocator] = i;
    }
  }
  std::map<std::string, std::unordered_map<uint64_t, size_t>> live;  // Address -> record.
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    auto& l = live[r.allocator];
    if (r.is_free) {
      l.erase(r.row.address);
    } else {
      l[r.row.address] = i;
    }
    if (peak_index[r.allocator] == i) {
      for (const auto& [address, index] : l) {
        by_name[r.allocator].alive_at_peak.push_back(records[index].row);
      }
    }
  }
  std::vector<AllocatorMemorySummary> out;
  for (auto& [name, s] : by_name) {
    std::sort(s.alive_at_peak.begin(), s.alive_at_peak.end(),
              [](const MemoryAllocationRow& a, const MemoryAllocationRow& b) {
                return a.bytes != b.bytes ? a.bytes > b.bytes : a.time_ps < b.time_ps;
              });
    for (const auto& [address, index] : live[name]) {
      s.leaks.push_back(records[index].row);
      s.leaked_bytes = SaturatingAdd(s.leaked_bytes, records[index].row.bytes);
    }
    std::sort(s.leaks.begin(), s.leaks.end(),
              [](const MemoryAllocationRow& a, const MemoryAllocationRow& b) {
                return a.time_ps < b.time_ps;
              });
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace tbprof::cli
