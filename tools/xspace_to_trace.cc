#include "tools/xspace_to_trace.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>

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
      }
      std::stable_sort(
          track.events.begin(), track.events.end(), [](const HostEvent& a, const HostEvent& b) {
            return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.end_ns > b.end_ns;
          });
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
      }
    }
  }

  const tensorflow::profiler::XSpace& space_;
  Trace trace_;
  std::map<std::string, NameId> names_;
  std::map<std::string, int32_t> ops_;
};

}  // namespace

internal::Trace XSpaceToTrace(const tensorflow::profiler::XSpace& space) {
  return Converter(space).Run();
}

}  // namespace tbprof::cli
