#include "tools/xspace_to_trace.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>

#include "src/export/text_util.h"
#include "tools/xspace_util.h"

namespace tbprof::cli {
namespace {

using internal::DeviceEvent;
using internal::DeviceEventKind;
using internal::HostEvent;
using internal::HostEventKind;
using internal::NameId;
using internal::Trace;
using tensorflow::profiler::XEvent;
using tensorflow::profiler::XLine;
using tensorflow::profiler::XPlane;
using tensorflow::profiler::XStat;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// One stat as a JSON object member: numbers as numbers (64-bit integers beyond 2^53 as strings,
// which JavaScript viewers would round), text as strings, bytes as their size.
void AppendStatArg(const PlaneIndex& index, const XStat& stat, std::string* out) {
  const std::string_view name = index.StatName(stat.metadata_id());
  if (name.empty()) return;
  if (!out->empty()) out->push_back(',');
  out->push_back('"');
  internal::AppendJsonEscaped(out, name);
  out->append("\":");
  constexpr uint64_t kExact = uint64_t{1} << 53;
  switch (stat.value_case()) {
    case XStat::kInt64Value: {
      const int64_t v = stat.int64_value();
      const bool exact = v >= -static_cast<int64_t>(kExact) && v <= static_cast<int64_t>(kExact);
      if (!exact) out->push_back('"');
      out->append(std::to_string(v));
      if (!exact) out->push_back('"');
      break;
    }
    case XStat::kUint64Value: {
      const uint64_t v = stat.uint64_value();
      if (v > kExact) out->push_back('"');
      out->append(std::to_string(v));
      if (v > kExact) out->push_back('"');
      break;
    }
    case XStat::kDoubleValue: {
      char buf[40];
      auto r = std::to_chars(buf, buf + sizeof(buf), stat.double_value());
      const std::string_view text(buf, r.ptr - buf);
      const bool finite = std::isfinite(stat.double_value());
      if (!finite) out->push_back('"');
      out->append(text);
      if (!finite) out->push_back('"');
      break;
    }
    case XStat::kStrValue:
    case XStat::kRefValue:
      out->push_back('"');
      internal::AppendJsonEscaped(out, internal::ToValidUtf8(index.StatString(stat)));
      out->push_back('"');
      break;
    case XStat::kBytesValue:
      out->append("\"");
      out->append(std::to_string(stat.bytes_value().size()));
      out->append(" bytes\"");
      break;
    default:
      out->append("null");
      break;
  }
}

// The stats of an event (then those of its metadata that the event does not override) as
// Chrome trace args, leaving out `skip` (written separately).
std::string StatArgs(const PlaneIndex& index, const XEvent& event,
                     std::initializer_list<std::string_view> skip) {
  std::string out;
  auto skipped = [&](const XStat& stat) {
    const std::string_view name = index.StatName(stat.metadata_id());
    return std::find(skip.begin(), skip.end(), name) != skip.end();
  };
  for (const XStat& stat : event.stats()) {
    if (!skipped(stat)) AppendStatArg(index, stat, &out);
  }
  auto md = index.plane().event_metadata().find(event.metadata_id());
  if (md != index.plane().event_metadata().end()) {
    for (const XStat& stat : md->second.stats()) {
      if (skipped(stat)) continue;
      bool overridden = false;
      for (const XStat& own : event.stats()) {
        overridden = overridden || own.metadata_id() == stat.metadata_id();
      }
      if (!overridden) AppendStatArg(index, stat, &out);
    }
  }
  return out;
}

class Converter {
 public:
  explicit Converter(const tensorflow::profiler::XSpace& space) : space_(space) {}

  Trace Run() {
    trace_.hostname = space_.hostnames_size() > 0 ? space_.hostnames(0) : "localhost";
    trace_.warnings.assign(space_.warnings().begin(), space_.warnings().end());
    trace_.errors.assign(space_.errors().begin(), space_.errors().end());
    for (const XPlane& plane : space_.planes()) {
      if (plane.name() == kHostPlaneName) {
        Host(plane);
      } else if (std::optional<int64_t> ordinal = GpuOrdinal(plane.name())) {
        Gpu(plane, static_cast<int32_t>(*ordinal));
      } else if (plane.name() == kTaskEnvironmentPlaneName) {
        PlaneIndex index(plane);
        const XStat* start = index.FindPlaneStat("profile_start_time");
        const XStat* stop = index.FindPlaneStat("profile_stop_time");
        if (start) trace_.start_walltime_ns = PlaneIndex::StatInt(*start).value_or(0);
        if (stop) trace_.stop_walltime_ns = PlaneIndex::StatInt(*stop).value_or(0);
      }
    }
    int64_t end = 0;
    for (const auto& t : trace_.threads) {
      for (const HostEvent& e : t.events) end = std::max(end, e.end_ns);
    }
    for (const DeviceEvent& e : trace_.device_events) end = std::max(end, e.end_ns);
    trace_.duration_ns = trace_.stop_walltime_ns > trace_.start_walltime_ns
                             ? trace_.stop_walltime_ns - trace_.start_walltime_ns
                             : end;
    if (!any_device_args_) trace_.device_event_args.clear();
    std::sort(trace_.steps.begin(), trace_.steps.end(),
              [](const auto& a, const auto& b) { return a.start_ns < b.start_ns; });
    return std::move(trace_);
  }

 private:
  NameId Intern(std::string_view name) {
    auto it = names_.find(std::string(name));
    if (it != names_.end()) return it->second;
    NameId id = static_cast<NameId>(trace_.names.size());
    trace_.names.emplace_back(name);
    names_.emplace(std::string(name), id);
    return id;
  }

  int32_t OpIndex(const std::string& full_name) {
    std::optional<FrameworkOp> op = ParseFrameworkOp(full_name);
    if (!op) return -1;
    auto it = ops_.find(op->name);
    if (it != ops_.end()) return it->second;
    int32_t index = static_cast<int32_t>(trace_.ops.size());
    internal::OpInfo info;
    info.name = op->name;
    info.type = op->type;
    trace_.ops.push_back(std::move(info));
    ops_.emplace(op->name, index);
    return index;
  }

  static void Times(const XLine& line, const XEvent& event, int64_t* start_ns, int64_t* end_ns) {
    const int64_t start_ps = EventStartPs(line, event);
    *start_ns = start_ps / 1000;
    *end_ns = SaturatingAdd(start_ps, std::max<int64_t>(0, event.duration_ps())) / 1000;
  }

  void Host(const XPlane& plane) {
    PlaneIndex index(plane);
    for (const XLine& line : plane.lines()) {
      if (IsDerivedLineId(line.id())) continue;
      internal::ThreadTrack track;
      bool any_args = false;
      track.tid = line.id();
      track.name = !line.display_name().empty() ? line.display_name()
                   : !line.name().empty()       ? line.name()
                                                : "thread " + std::to_string(line.id());
      for (const XEvent& event : line.events()) {
        HostEvent e;
        Times(line, event, &e.start_ns, &e.end_ns);
        const std::string name(index.EventName(event.metadata_id()));
        e.name = Intern(name);
        if (index.FindStat(event, "_r") != nullptr) {
          e.kind = HostEventKind::kStep;
          const XStat* num = index.FindStat(event, "step_num");
          e.step = num ? PlaneIndex::StatInt(*num).value_or(-1) : -1;
          trace_.steps.push_back({e.step, e.start_ns, e.end_ns, 0});
        } else if (const XStat* corr = index.FindStat(event, "correlation_id")) {
          e.kind = HostEventKind::kLaunch;
          e.correlation_id = static_cast<uint64_t>(PlaneIndex::StatInt(*corr).value_or(0));
          if (const XStat* dev = index.FindStat(event, "device_id")) {
            e.device_id = static_cast<int32_t>(PlaneIndex::StatInt(*dev).value_or(-1));
          }
        } else if (ParseFrameworkOp(name)) {
          e.kind = HostEventKind::kOp;
          e.op_index = OpIndex(name);
        }
        if (const XStat* produced = index.FindStat(event, "_p")) {
          e.flow_produced = static_cast<uint64_t>(PlaneIndex::StatInt(*produced).value_or(0));
        }
        if (const XStat* consumed = index.FindStat(event, "_c")) {
          e.flow_consumed = static_cast<uint64_t>(PlaneIndex::StatInt(*consumed).value_or(0));
        }
        track.events.push_back(e);
        std::string args = StatArgs(index, event, {"step_num", "correlation_id", "device_id"});
        if (!args.empty()) any_args = true;
        track.args.push_back(std::move(args));
      }
      if (!any_args) track.args.clear();
      // Sorted with their args (the Chrome export pairs them by index).
      std::vector<uint32_t> order(track.events.size());
      for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&track](uint32_t a, uint32_t b) {
        const HostEvent& x = track.events[a];
        const HostEvent& y = track.events[b];
        return x.start_ns != y.start_ns ? x.start_ns < y.start_ns : x.end_ns > y.end_ns;
      });
      std::vector<HostEvent> events(track.events.size());
      std::vector<std::string> args(track.args.size());
      for (uint32_t i = 0; i < order.size(); ++i) {
        events[i] = track.events[order[i]];
        if (!args.empty()) args[i] = std::move(track.args[order[i]]);
      }
      track.events = std::move(events);
      track.args = std::move(args);
      trace_.threads.push_back(std::move(track));
    }
  }

  void Gpu(const XPlane& plane, int32_t ordinal) {
    PlaneIndex index(plane);
    internal::DeviceInfo info;
    info.ordinal = ordinal;
    auto plane_int = [&index](std::string_view name) -> int64_t {
      const XStat* s = index.FindPlaneStat(name);
      return s ? PlaneIndex::StatInt(*s).value_or(0) : 0;
    };
    if (const XStat* s = index.FindPlaneStat("gpu_device_name")) info.name = index.StatString(*s);
    info.compute_cap_major = static_cast<int32_t>(plane_int("compute_cap_major"));
    info.compute_cap_minor = static_cast<int32_t>(plane_int("compute_cap_minor"));
    info.sm_count = static_cast<int32_t>(plane_int("core_count"));
    info.clock_rate_khz = plane_int("clock_rate");
    info.memory_bytes = static_cast<uint64_t>(plane_int("memory_size"));
    info.memory_bandwidth_bytes_per_s = static_cast<uint64_t>(plane_int("memory_bandwidth"));
    trace_.devices.push_back(info);
    for (const XLine& line : plane.lines()) {
      if (IsDerivedLineId(line.id())) continue;
      const bool overhead = line.name() == "CUPTI overhead";
      for (const XEvent& event : line.events()) {
        DeviceEvent e;
        Times(line, event, &e.start_ns, &e.end_ns);
        const std::string name(index.EventName(event.metadata_id()));
        e.name = Intern(name);
        e.device_id = ordinal;
        e.stream_id = line.id();
        if (const XStat* corr = index.FindStat(event, "correlation_id")) {
          e.correlation_id = static_cast<uint64_t>(PlaneIndex::StatInt(*corr).value_or(0));
        }
        if (const XStat* op = index.FindStat(event, "tf_op"))
          e.op_index = OpIndex(index.StatString(*op));
        const XStat* details = index.FindStat(event, "kernel_details");
        if (overhead) {
          e.kind = DeviceEventKind::kOverhead;
        } else if (details != nullptr) {
          e.kind = DeviceEventKind::kKernel;
          if (auto f = ParseKernelDetails(index.StatString(*details))) {
            e.kernel.registers_per_thread = static_cast<uint32_t>(f->registers);
            e.kernel.static_shared_bytes = static_cast<uint32_t>(f->static_shared);
            e.kernel.dynamic_shared_bytes = static_cast<uint32_t>(f->dynamic_shared);
            for (int i = 0; i < 3; ++i) {
              e.kernel.grid[i] = static_cast<uint32_t>(f->grid[i]);
              e.kernel.block[i] = static_cast<uint32_t>(f->block[i]);
            }
            e.kernel.occupancy_pct = f->occupancy_pct;
          }
        } else if (index.FindStat(event, "memcpy_details") != nullptr ||
                   StartsWith(name, "Memcpy") || StartsWith(name, "MEMCPY")) {
          e.kind = DeviceEventKind::kMemcpy;
        } else if (StartsWith(name, "Memset") || StartsWith(name, "MEMSET")) {
          e.kind = DeviceEventKind::kMemset;
        }
        trace_.device_events.push_back(e);
        std::string args =
            StatArgs(index, event, {"correlation_id", "tf_op", "kernel_details", "memcpy_details"});
        if (!args.empty()) any_device_args_ = true;
        trace_.device_event_args.push_back(std::move(args));
      }
    }
  }

  const tensorflow::profiler::XSpace& space_;
  Trace trace_;
  std::map<std::string, NameId> names_;
  std::map<std::string, int32_t> ops_;
  bool any_device_args_ = false;
};

}  // namespace

internal::Trace XSpaceToTrace(const tensorflow::profiler::XSpace& space) {
  return Converter(space).Run();
}

}  // namespace tbprof::cli
