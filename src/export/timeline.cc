#include "src/export/timeline.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <string>
#include <utility>

#include "src/export/text_util.h"

namespace tbprof::internal {
namespace {

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

// Counts of repairs on one line.
struct Repairs {
  uint64_t inverted = 0;  // end < start.
  uint64_t clipped = 0;   // partial overlap with the enclosing event.
};

// Sorts plane.events[begin, end) by start (longer first on ties) unless already so, then clips
// events that partially overlap their enclosing event. `stack` is reusable scratch.
void SortAndNest(std::vector<TimelineEvent>& events, uint32_t begin, uint32_t end,
                 std::vector<int64_t>& stack, Repairs& repairs) {
  const auto before = [](const TimelineEvent& a, const TimelineEvent& b) {
    return a.start_ns < b.start_ns || (a.start_ns == b.start_ns && a.end_ns > b.end_ns);
  };
  auto first = events.begin() + begin;
  auto last = events.begin() + end;
  if (!std::is_sorted(first, last, before)) std::stable_sort(first, last, before);
  stack.clear();
  for (auto it = first; it != last; ++it) {
    // An event starting exactly where another ends is its sibling, not its child.
    while (!stack.empty() && stack.back() <= it->start_ns) stack.pop_back();
    if (!stack.empty() && it->end_ns > stack.back()) {
      it->end_ns = stack.back();
      ++repairs.clipped;
    }
    stack.push_back(it->end_ns);
  }
}

void AddRepairWarnings(const Repairs& r, std::string_view what, std::vector<std::string>* out) {
  if (r.inverted != 0) {
    std::string w = "tbprof: ";
    w.append(what);
    w.append(": ");
    AppendInt(&w, static_cast<int64_t>(r.inverted));
    w.append(" event(s) ended before they started; exported with zero duration");
    out->push_back(std::move(w));
  }
  if (r.clipped != 0) {
    std::string w = "tbprof: ";
    w.append(what);
    w.append(": ");
    AppendInt(&w, static_cast<int64_t>(r.clipped));
    w.append(" event(s) partially overlapped their enclosing event; clipped to end with it");
    out->push_back(std::move(w));
  }
}

// Makes line ids unique and outside the derived range; remapped lines get fresh ids above the
// largest id in use, in line order (deterministic).
void AssignSafeIds(TimelinePlane& plane, std::string_view plane_name,
                   std::vector<std::string>* warnings) {
  int64_t max_id = -1;
  for (const TimelineLine& l : plane.lines) {
    if (!IsReservedLineId(l.id) && l.id >= 0) max_id = std::max(max_id, l.id);
  }
  std::vector<int64_t> seen;
  seen.reserve(plane.lines.size());
  for (TimelineLine& l : plane.lines) {
    const bool duplicate = std::find(seen.begin(), seen.end(), l.id) != seen.end();
    if (IsReservedLineId(l.id) || l.id < 0 || duplicate) {
      int64_t fresh = max_id + 1;
      while (IsReservedLineId(fresh)) ++fresh;
      std::string w = "tbprof: ";
      w.append(plane_name);
      w.append(" line '");
      w.append(l.name);
      w.append("': id ");
      AppendInt(&w, l.id);
      w.append(duplicate ? " used twice" : " is reserved for derived lines");
      w.append("; exported as id ");
      AppendInt(&w, fresh);
      warnings->push_back(std::move(w));
      l.id = fresh;
      max_id = fresh;
    }
    seen.push_back(l.id);
  }
}

std::string StreamLineName(int64_t stream_id, uint32_t types) {
  std::string name = "Stream #";
  AppendInt(&name, stream_id);
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kLineKernel, "Kernel"},       {kLineMemcpyH2D, "MemcpyH2D"},
      {kLineMemcpyD2H, "MemcpyD2H"}, {kLineMemcpyD2D, "MemcpyD2D"},
      {kLineMemcpyP2P, "MemcpyP2P"}, {kLineMemcpyOther, "MemcpyOther"},
      {kLineMemset, "Memset"},       {kLineSync, "Synchronization"},
  };
  bool first = true;
  for (const auto& [bit, type_name] : kNames) {
    if ((types & bit) == 0) continue;
    name.append(first ? "(" : ",");
    name.append(type_name);
    first = false;
  }
  if (!first) name.append(")");
  return name;
}

uint32_t LineTypeOf(const DeviceEvent& e) {
  switch (e.kind) {
    case DeviceEventKind::kKernel:
      return kLineKernel;
    case DeviceEventKind::kMemcpy:
      switch (e.memcpy_kind) {
        case MemcpyKind::kHtoD:
          return kLineMemcpyH2D;
        case MemcpyKind::kDtoH:
          return kLineMemcpyD2H;
        case MemcpyKind::kDtoD:
          return kLineMemcpyD2D;
        case MemcpyKind::kPtoP:
          return kLineMemcpyP2P;
        default:
          return kLineMemcpyOther;
      }
    case DeviceEventKind::kMemset:
      return kLineMemset;
    case DeviceEventKind::kSync:
      return kLineSync;
    case DeviceEventKind::kOverhead:
      return 0;
  }
  return 0;
}

// Splits every stream line of `plane` whose events overlap into lanes: an event goes to the first
// lane (the line itself, then extra lines) whose last event ends no later than it starts. The
// events of a line are sorted by start (longer first); each lane keeps that order.
void SplitOverlappingStreams(TimelinePlane& plane) {
  bool any = false;
  std::vector<int64_t> lane_end;
  std::vector<uint32_t> lane_of;
  for (const TimelineLine& line : plane.lines) {
    if (line.overhead) continue;
    lane_end.clear();
    for (uint32_t i = line.begin; i < line.end; ++i) {
      const TimelineEvent& e = plane.events[i];
      size_t lane = 0;
      while (lane < lane_end.size() && lane_end[lane] > e.start_ns) ++lane;
      if (lane == lane_end.size()) lane_end.push_back(e.end_ns);
      lane_end[lane] = std::max(lane_end[lane], e.end_ns);
      if (lane > 0) any = true;
    }
  }
  if (!any) return;
  std::vector<TimelineEvent> events;
  events.reserve(plane.events.size());
  std::vector<TimelineLine> lines;
  lines.reserve(plane.lines.size() + 1);
  for (const TimelineLine& line : plane.lines) {
    lane_end.clear();
    lane_of.assign(line.end - line.begin, 0);
    for (uint32_t i = line.begin; i < line.end && !line.overhead; ++i) {
      const TimelineEvent& e = plane.events[i];
      size_t lane = 0;
      while (lane < lane_end.size() && lane_end[lane] > e.start_ns) ++lane;
      if (lane == lane_end.size()) lane_end.push_back(e.end_ns);
      lane_end[lane] = std::max(lane_end[lane], e.end_ns);
      lane_of[i - line.begin] = static_cast<uint32_t>(lane);
    }
    const size_t lanes = std::max<size_t>(1, lane_end.size());
    for (size_t lane = 0; lane < lanes; ++lane) {
      TimelineLine l = line;
      l.lane = static_cast<uint32_t>(lane);
      l.begin = static_cast<uint32_t>(events.size());
      for (uint32_t i = line.begin; i < line.end; ++i) {
        if (lane_of[i - line.begin] == lane) events.push_back(plane.events[i]);
      }
      l.end = static_cast<uint32_t>(events.size());
      if (lane > 0) {
        l.name.append(" overlap ");
        AppendInt(&l.name, static_cast<int64_t>(lane));
      }
      lines.push_back(std::move(l));
    }
  }
  plane.events = std::move(events);
  plane.lines = std::move(lines);
}

void BuildHostPlane(const Trace& trace, Timeline& tl, std::vector<int64_t>& stack) {
  TimelinePlane& plane = tl.host;
  size_t total = 0;
  for (const ThreadTrack& t : trace.threads) total += t.events.size();
  plane.events.reserve(total);
  plane.lines.reserve(trace.threads.size());
  for (size_t ti = 0; ti < trace.threads.size(); ++ti) {
    const ThreadTrack& t = trace.threads[ti];
    TimelineLine line;
    line.id = t.tid;
    line.source = static_cast<int64_t>(ti);
    if (t.name.empty()) {
      line.name = "thread ";
      AppendInt(&line.name, t.tid);
    } else {
      line.name = ToValidUtf8(t.name);
    }
    line.begin = static_cast<uint32_t>(plane.events.size());
    Repairs repairs;
    for (size_t i = 0; i < t.events.size(); ++i) {
      const HostEvent& e = t.events[i];
      TimelineEvent te;
      te.start_ns = e.start_ns;
      te.end_ns = e.end_ns;
      if (te.end_ns < te.start_ns) {
        te.end_ns = te.start_ns;
        ++repairs.inverted;
      }
      te.index = static_cast<uint32_t>(i);
      plane.events.push_back(te);
    }
    line.end = static_cast<uint32_t>(plane.events.size());
    SortAndNest(plane.events, line.begin, line.end, stack, repairs);
    std::string what = "host thread '" + line.name + "' (tid ";
    AppendInt(&what, t.tid);
    what.append(")");
    AddRepairWarnings(repairs, what, &tl.warnings);
    plane.lines.push_back(std::move(line));
  }
  AssignSafeIds(plane, "/host:CPU", &tl.warnings);
}

void BuildDevicePlanes(const Trace& trace, Timeline& tl, std::vector<int64_t>& stack) {
  // Ordinals: every DeviceInfo and every ordinal an event names.
  std::vector<int32_t> ordinals;
  for (const DeviceInfo& d : trace.devices) {
    if (d.ordinal >= 0) ordinals.push_back(d.ordinal);
  }
  uint64_t bad_device = 0;
  for (const DeviceEvent& e : trace.device_events) {
    if (e.device_id < 0) {
      ++bad_device;
    } else if (ordinals.empty() || ordinals.back() != e.device_id) {
      ordinals.push_back(e.device_id);
    }
  }
  std::sort(ordinals.begin(), ordinals.end());
  ordinals.erase(std::unique(ordinals.begin(), ordinals.end()), ordinals.end());
  if (bad_device != 0) {
    std::string w = "tbprof: ";
    AppendInt(&w, static_cast<int64_t>(bad_device));
    w.append(" device event(s) with a negative device id left out");
    tl.warnings.push_back(std::move(w));
  }
  tl.devices.resize(ordinals.size());
  for (size_t p = 0; p < ordinals.size(); ++p) {
    tl.devices[p].device_ordinal = ordinals[p];
    for (const DeviceInfo& d : trace.devices) {
      if (d.ordinal == ordinals[p]) {
        tl.devices[p].device = &d;
        break;
      }
    }
  }
  if (trace.device_events.empty()) return;

  // One sort of all device events by (plane, line, start, longer first); overhead lines last.
  struct Key {
    uint32_t plane;
    bool overhead;
    int64_t stream;
    int64_t start;
    int64_t end;
    uint32_t index;
  };
  std::vector<Key> keys;
  keys.reserve(trace.device_events.size());
  Repairs inverted_only;
  for (size_t i = 0; i < trace.device_events.size(); ++i) {
    const DeviceEvent& e = trace.device_events[i];
    if (e.device_id < 0) continue;
    const auto pos = std::lower_bound(ordinals.begin(), ordinals.end(), e.device_id);
    Key k;
    k.plane = static_cast<uint32_t>(pos - ordinals.begin());
    k.overhead = e.kind == DeviceEventKind::kOverhead;
    k.stream = k.overhead ? 0 : e.stream_id;
    k.start = e.start_ns;
    k.end = e.end_ns;
    if (k.end < k.start) {
      k.end = k.start;
      ++inverted_only.inverted;
    }
    k.index = static_cast<uint32_t>(i);
    keys.push_back(k);
  }
  std::stable_sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.plane != b.plane) return a.plane < b.plane;
    if (a.overhead != b.overhead) return b.overhead;
    if (a.stream != b.stream) return a.stream < b.stream;
    if (a.start != b.start) return a.start < b.start;
    return a.end > b.end;
  });
  AddRepairWarnings(inverted_only, "device events", &tl.warnings);

  size_t i = 0;
  while (i < keys.size()) {
    TimelinePlane& plane = tl.devices[keys[i].plane];
    const uint32_t plane_index = keys[i].plane;
    while (i < keys.size() && keys[i].plane == plane_index) {
      TimelineLine line;
      line.overhead = keys[i].overhead;
      line.source = keys[i].stream;
      line.id = keys[i].stream;
      line.begin = static_cast<uint32_t>(plane.events.size());
      uint32_t types = 0;
      while (i < keys.size() && keys[i].plane == plane_index && keys[i].overhead == line.overhead &&
             keys[i].stream == line.source) {
        TimelineEvent te;
        te.start_ns = keys[i].start;
        te.end_ns = keys[i].end;
        te.index = keys[i].index;
        types |= LineTypeOf(trace.device_events[te.index]);
        plane.events.push_back(te);
        ++i;
      }
      line.end = static_cast<uint32_t>(plane.events.size());
      plane.lines.push_back(std::move(line));
      TimelineLine& l = plane.lines.back();
      l.name = l.overhead ? std::string("CUPTI overhead") : StreamLineName(l.source, types);
    }
  }
  for (TimelinePlane& plane : tl.devices) {
    std::string plane_name = "/device:GPU:";
    AppendInt(&plane_name, plane.device_ordinal);
    SplitOverlappingStreams(plane);
    // The overhead line takes an id above every stream id of its plane, the extra lines of
    // overlapping events the ones after it.
    int64_t max_stream = -1;
    for (const TimelineLine& l : plane.lines) {
      if (!l.overhead && l.lane == 0 && !IsReservedLineId(l.id)) {
        max_stream = std::max(max_stream, l.id);
      }
    }
    int64_t next_id = max_stream + 2;
    for (TimelineLine& l : plane.lines) {
      if (l.overhead) l.id = max_stream + 1;
      if (l.lane > 0) l.id = next_id++;
    }
    for (TimelineLine& l : plane.lines) {
      Repairs repairs;
      SortAndNest(plane.events, l.begin, l.end, stack, repairs);
      AddRepairWarnings(repairs, plane_name + " line '" + l.name + "'", &tl.warnings);
    }
    AssignSafeIds(plane, plane_name, &tl.warnings);
  }
}

}  // namespace

std::string_view NameOf(const Trace& trace, NameId id) {
  if (id < trace.names.size()) return trace.names[id];
  return "unknown";
}

std::string_view DeviceEventName(const Trace& trace, const DeviceEvent& e) {
  switch (e.kind) {
    case DeviceEventKind::kMemcpy:
      switch (e.memcpy_kind) {
        case MemcpyKind::kHtoD:
          return "MemcpyHToD";
        case MemcpyKind::kDtoH:
          return "MemcpyDToH";
        case MemcpyKind::kDtoD:
          return "MemcpyDToD";
        case MemcpyKind::kHtoH:
          return "MemcpyHToH";
        case MemcpyKind::kPtoP:
          // Step analysis knows only the HToD/DToH/DToD/HToH prefixes; a peer copy is a
          // device-to-device transfer, not compute.
          return "MemcpyDToD (peer)";
        case MemcpyKind::kUnknown:
          break;
      }
      return e.name < trace.names.size() ? std::string_view(trace.names[e.name]) : "Memcpy";
    case DeviceEventKind::kMemset:
      return e.name < trace.names.size() ? std::string_view(trace.names[e.name]) : "Memset";
    case DeviceEventKind::kOverhead:
      return e.name < trace.names.size() ? std::string_view(trace.names[e.name]) : "CUPTI overhead";
    case DeviceEventKind::kSync:
      return e.name < trace.names.size() ? std::string_view(trace.names[e.name]) : "Synchronize";
    case DeviceEventKind::kKernel:
      break;
  }
  return e.name < trace.names.size() ? std::string_view(trace.names[e.name]) : "unknown kernel";
}

Timeline BuildTimeline(const Trace& trace) {
  Timeline tl;
  std::vector<int64_t> stack;
  BuildHostPlane(trace, tl, stack);
  BuildDevicePlanes(trace, tl, stack);
  return tl;
}

}  // namespace tbprof::internal
