// The layout both timeline exporters (XSpace, Chrome JSON) share: which lines (rows) exist, in
// which order, which events each holds, sorted and properly nested. Built once per export from
// a Trace; holds indices into the Trace, not copies of its events.
//
// Rules it enforces (spec §2, §3.2, §7):
// * one host line per ThreadTrack, id = tid; one device line per (GPU, stream), id = stream
//   id, plus a "CUPTI overhead" line per GPU that has overhead events;
// * device events of one stream that overlap in time (kernels launched with programmatic
//   dependent launch start before the previous one ends) keep their true start and duration:
//   an event that overlaps one already on the stream's line goes to the first extra line of
//   that stream ("Stream #7(Kernel) overlap 1", ...) where it overlaps nothing, since neither
//   xprof's trace viewer nor Perfetto shows partly overlapping events of one line correctly (the
//   first nests them, the second cuts them); extra lines take ids above every stream id;
// * line ids unique per plane and outside xprof's derived-line range (remapped with a warning);
// * events of a line sorted by start, longer first on equal starts; an event that ends before
//   it starts gets zero duration; an event that partially overlaps its enclosing event is
//   clipped to end with it (a line never holds partially overlapping events); both with a
//   warning naming the line and the count.
#ifndef TBPROF_SRC_EXPORT_TIMELINE_H_
#define TBPROF_SRC_EXPORT_TIMELINE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/trace/trace_data.h"

namespace tbprof::internal {

// One event placed on a line, with its (possibly repaired) times.
struct TimelineEvent {
  int64_t start_ns = 0;  // Relative to Trace::start_ns.
  int64_t end_ns = 0;    // >= start_ns.
  // Host lines: index into the thread's ThreadTrack::events; device lines: into
  // Trace::device_events.
  uint32_t index = 0;
  // Free for the exporter that walks the timeline (the XSpace writer keeps sizes here).
  uint32_t scratch = 0;
};

// Bit set of the device event types on one line, for the "Stream #<id>(<types>)" name.
enum DeviceLineType : uint32_t {
  kLineKernel = 1u << 0,
  kLineMemcpyH2D = 1u << 1,
  kLineMemcpyD2H = 1u << 2,
  kLineMemcpyD2D = 1u << 3,
  kLineMemcpyP2P = 1u << 4,
  kLineMemcpyOther = 1u << 5,
  kLineMemset = 1u << 6,
  kLineSync = 1u << 7,
};

struct TimelineLine {
  int64_t id = 0;
  std::string name;  // Valid UTF-8.
  // Host lines: index into Trace::threads. Device lines: the stream id from the Trace (before
  // any remapping of `id`).
  int64_t source = 0;
  bool overhead = false;  // Device line of CUPTI overhead events.
  uint32_t lane = 0;      // > 0: extra line `lane` of stream `source` (overlapping events).
  uint32_t begin = 0;     // Events are plane.events[begin, end).
  uint32_t end = 0;
};

struct TimelinePlane {
  int32_t device_ordinal = -1;         // -1 for the host plane.
  const DeviceInfo* device = nullptr;  // Device plane whose DeviceInfo is in the Trace.
  std::vector<TimelineLine> lines;
  std::vector<TimelineEvent> events;
};

struct Timeline {
  TimelinePlane host;
  std::vector<TimelinePlane> devices;  // Ascending ordinal.
  std::vector<std::string> warnings;   // Repairs done while building.
};

// Builds the timeline of `trace`. Events naming a negative device are left out with a warning.
Timeline BuildTimeline(const Trace& trace);

// The lowest and highest line id (as a 32-bit int, the way xprof truncates them) that xprof
// reserves for its derived lines ("Steps", "Framework Ops", ...; spec §3.2, §7.6).
inline constexpr int32_t kDerivedLineIdMin = static_cast<int32_t>(0xdeadbeefu);
inline constexpr int32_t kDerivedLineIdMax = kDerivedLineIdMin + (1 << 20);

// True if xprof would take `id` for one of its derived lines.
constexpr bool IsReservedLineId(int64_t id) {
  const int32_t as_int = static_cast<int32_t>(static_cast<uint64_t>(id));
  return as_int >= kDerivedLineIdMin && as_int <= kDerivedLineIdMax;
}

// The event name to show for a device event: memcpy events are named by direction
// ("MemcpyHToD", "MemcpyDToH", "MemcpyDToD", "MemcpyHToH", peer copies "MemcpyDToD (peer)") so
// xprof's step analysis classifies them; others use the interned name, or a fixed fallback
// when it has none.
std::string_view DeviceEventName(const Trace& trace, const DeviceEvent& event);

// Trace::names[id], or "unknown" when `id` is out of range.
std::string_view NameOf(const Trace& trace, NameId id);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_EXPORT_TIMELINE_H_
