#include "tools/profile_summary.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "tools/logdir.h"
#include "tools/xprof_steps.h"
#include "tools/xspace_util.h"

namespace tbprof::cli {
namespace {

using tensorflow::profiler::XEvent;
using tensorflow::profiler::XLine;
using tensorflow::profiler::XPlane;
using tensorflow::profiler::XSpace;
using tensorflow::profiler::XStat;

struct TimedEvent {
  const XEvent* event;
  int64_t start_ps;
  int64_t end_ps;
  int64_t child_ps = 0;
};

// Events of a line in nesting order (start, then longer first), with the time of their direct
// children. Events that partially overlap an open one are treated as its siblings.
std::vector<TimedEvent> NestLine(const XLine& line) {
  std::vector<TimedEvent> events;
  events.reserve(line.events_size());
  for (const XEvent& event : line.events()) {
    const int64_t start = EventStartPs(line, event);
    events.push_back(
        {&event, start, SaturatingAdd(start, std::max<int64_t>(0, event.duration_ps()))});
  }
  std::stable_sort(events.begin(), events.end(), [](const TimedEvent& a, const TimedEvent& b) {
    if (a.start_ps != b.start_ps) return a.start_ps < b.start_ps;
    return a.end_ps > b.end_ps;
  });
  std::vector<size_t> stack;
  for (size_t i = 0; i < events.size(); ++i) {
    while (!stack.empty() && events[stack.back()].end_ps <= events[i].start_ps) stack.pop_back();
    while (!stack.empty() && events[stack.back()].end_ps < events[i].end_ps) stack.pop_back();
    if (!stack.empty()) {
      int64_t& child_ps = events[stack.back()].child_ps;
      child_ps = SaturatingAdd(child_ps, events[i].end_ps - events[i].start_ps);
    }
    stack.push_back(i);
  }
  return events;
}

class Summarizer {
 public:
  Summarizer(const XSpace& space, const std::string& file) : space_(space) { summary_.file = file; }

  ProfileSummary Run() {
    size_t slash = summary_.file.find_last_of('/');
    summary_.host =
        space_.hostnames_size() > 0
            ? space_.hostnames(0)
            : HostFromXplaneFileName(slash == std::string::npos ? summary_.file
                                                                : summary_.file.substr(slash + 1));
    for (const std::string& error : space_.errors()) {
      summary_.warnings.push_back(absl::StrCat("profile error: ", error));
    }
    for (const std::string& warning : space_.warnings()) {
      summary_.warnings.push_back(absl::StrCat("profile warning: ", warning));
    }
    bool has_host_plane = false;
    for (const XPlane& plane : space_.planes()) {
      if (plane.name() == kHostPlaneName) {
        has_host_plane = true;
        HostPlane(plane);
      } else if (GpuOrdinal(plane.name())) {
        ++summary_.gpus;
        GpuPlane(plane);
      } else if (plane.name() == kTaskEnvironmentPlaneName) {
        TaskEnvironment(plane);
      }
    }
    Steps();
    summary_.memory = SummarizeMemory(space_);
    Finish(has_host_plane);
    return std::move(summary_);
  }

 private:
  OpSummary& Op(const std::string& full_name) {
    std::optional<FrameworkOp> parsed = ParseFrameworkOp(full_name);
    const std::string name = parsed ? parsed->name : full_name;
    OpSummary& op = ops_[name];
    if (op.name.empty()) {
      op.name = name;
      op.type = parsed ? parsed->type : "";
    }
    return op;
  }

  void Extent(int64_t start_ps, int64_t end_ps) {
    min_ps_ = std::min(min_ps_, start_ps);
    max_ps_ = std::max(max_ps_, end_ps);
  }

  void HostPlane(const XPlane& plane) {
    PlaneIndex index(plane);
    for (const XLine& line : plane.lines()) {
      // tbprof's line of memory events is no thread.
      if (line.name() != "tbprof memory") ++summary_.host_threads;
      if (IsDerivedLineId(line.id())) continue;
      for (const TimedEvent& timed : NestLine(line)) {
        const XEvent& event = *timed.event;
        ++summary_.host_events;
        Extent(timed.start_ps, timed.end_ps);
        const int64_t duration = timed.end_ps - timed.start_ps;
        std::string_view name = index.EventName(event.metadata_id());
        std::string op_name;
        if (IsMemoryEventName(name)) {
          // An allocation's tf_op names its owner; it is no execution of the op.
        } else if (ParseFrameworkOp(name)) {
          op_name = std::string(name);
        } else if (const XStat* tf_op = index.FindStat(event, "tf_op")) {
          op_name = index.StatString(*tf_op);
        }
        if (!op_name.empty()) {
          OpSummary& op = Op(op_name);
          ++op.count;
          op.host_total_ps = SaturatingAdd(op.host_total_ps, duration);
          op.host_self_ps =
              SaturatingAdd(op.host_self_ps, std::max<int64_t>(0, duration - timed.child_ps));
        }
      }
    }
  }

  void GpuPlane(const XPlane& plane) {
    PlaneIndex index(plane);
    for (const XLine& line : plane.lines()) {
      if (IsDerivedLineId(line.id())) continue;
      for (const XEvent& event : line.events()) {
        ++summary_.device_events;
        const int64_t start = EventStartPs(line, event);
        const int64_t duration = std::max<int64_t>(0, event.duration_ps());
        Extent(start, SaturatingAdd(start, duration));
        std::string op_name;
        if (const XStat* tf_op = index.FindStat(event, "tf_op")) {
          op_name = index.StatString(*tf_op);
        }
        if (!op_name.empty()) {
          OpSummary& op = Op(op_name);
          op.device_ps = SaturatingAdd(op.device_ps, duration);
          ++op.device_events;
        }
        const XStat* details = index.FindStat(event, "kernel_details");
        if (details == nullptr || duration <= 0) continue;
        const std::string details_text = index.StatString(*details);
        if (details_text.empty()) continue;
        std::string name(index.EventName(event.metadata_id()));
        KernelSummary& kernel = kernels_[{name, op_name}];
        if (kernel.count == 0) {
          kernel.name = name;
          std::optional<FrameworkOp> parsed = ParseFrameworkOp(op_name);
          kernel.op = parsed ? parsed->name : op_name;
          kernel.min_ps = duration;
          if (std::optional<KernelDetailsFields> f = ParseKernelDetails(details_text)) {
            kernel.grid = absl::StrCat(f->grid[0], ",", f->grid[1], ",", f->grid[2]);
            kernel.block = absl::StrCat(f->block[0], ",", f->block[1], ",", f->block[2]);
            kernel.registers = f->registers;
            kernel.occupancy_pct = f->occupancy_pct;
          }
        }
        if (op_name.empty()) ++kernels_without_tf_op_;
        ++kernel_events_;
        ++kernel.count;
        kernel.total_ps = SaturatingAdd(kernel.total_ps, duration);
        kernel.min_ps = std::min(kernel.min_ps, duration);
        kernel.max_ps = std::max(kernel.max_ps, duration);
      }
    }
  }

  // The steps of xprof's overview page (see xprof_steps.h), whoever wrote the profile.
  void Steps() {
    XprofSteps found = FindXprofSteps(space_);
    for (XprofStep& s : found.steps) {
      StepSummary step;
      step.step = s.step;
      step.name = std::move(s.root);
      step.start_ps = s.start_ps;
      step.duration_ps = s.duration_ps;
      summary_.steps.push_back(std::move(step));
    }
    loop_ops_ = found.loop_ops;
    dropped_steps_ = found.dropped;
  }

  void TaskEnvironment(const XPlane& plane) {
    PlaneIndex index(plane);
    const XStat* start = index.FindPlaneStat("profile_start_time");
    const XStat* stop = index.FindPlaneStat("profile_stop_time");
    if (start == nullptr || stop == nullptr) return;
    std::optional<int64_t> a = PlaneIndex::StatInt(*start);
    std::optional<int64_t> b = PlaneIndex::StatInt(*stop);
    int64_t ns = 0, ps = 0;
    if (!a || !b || *b < *a) return;
    if (__builtin_sub_overflow(*b, *a, &ns) || __builtin_mul_overflow(ns, int64_t{1000}, &ps)) {
      ps = std::numeric_limits<int64_t>::max();
    }
    task_duration_ps_ = ps;
  }

  void Finish(bool has_host_plane) {
    int64_t extent = 0;
    if (max_ps_ > min_ps_ && __builtin_sub_overflow(max_ps_, min_ps_, &extent)) {
      extent = std::numeric_limits<int64_t>::max();
    }
    summary_.duration_ps = task_duration_ps_ > 0 ? task_duration_ps_ : extent;
    for (auto& [name, op] : ops_) {
      if (op.count == 0) op.count = op.device_events;
      summary_.ops.push_back(std::move(op));
    }
    std::sort(summary_.ops.begin(), summary_.ops.end(), [](const OpSummary& a, const OpSummary& b) {
      const int64_t ta = SaturatingAdd(a.host_self_ps, a.device_ps);
      const int64_t tb = SaturatingAdd(b.host_self_ps, b.device_ps);
      if (ta != tb) return ta > tb;
      return a.name < b.name;
    });
    for (auto& [key, kernel] : kernels_) summary_.kernels.push_back(std::move(kernel));
    std::sort(summary_.kernels.begin(), summary_.kernels.end(),
              [](const KernelSummary& a, const KernelSummary& b) {
                if (a.total_ps != b.total_ps) return a.total_ps > b.total_ps;
                if (a.name != b.name) return a.name < b.name;
                return a.op < b.op;
              });
    std::stable_sort(summary_.steps.begin(), summary_.steps.end(),
                     [](const StepSummary& a, const StepSummary& b) {
                       if (a.step != b.step) return a.step < b.step;
                       return a.start_ps < b.start_ps;
                     });
    if (!has_host_plane) {
      summary_.warnings.push_back(
          "no \"/host:CPU\" plane: no host ops, launches or steps can be shown");
    } else if (summary_.steps.empty() && loop_ops_) {
      summary_.warnings.push_back(
          "TensorFlow loop ops (WhileOp, ForOp...) in the profile: the overview page groups no "
          "steps");
    } else if (summary_.steps.empty()) {
      summary_.warnings.push_back(std::string(kNoStepMarkerMessage));
    }
    if (dropped_steps_ > 0) {
      summary_.warnings.push_back(absl::StrCat(
          dropped_steps_,
          " step group(s) left out as the overview page leaves them out: no compute of their "
          "own (or no duration)"));
    }
    if (summary_.gpus > 0 && kernel_events_ == 0) {
      summary_.warnings.push_back("GPU planes hold no kernels with kernel_details");
    }
    if (kernels_without_tf_op_ > 0) {
      summary_.warnings.push_back(absl::StrCat(
          kernels_without_tf_op_, " of ", kernel_events_,
          " kernel executions carry no tf_op: they count in kernel stats but not in op stats"));
    }
    if (summary_.host_events + summary_.device_events == 0) {
      summary_.warnings.push_back("the profile holds no events");
    }
  }

  const XSpace& space_;
  ProfileSummary summary_;
  std::map<std::string, OpSummary> ops_;
  std::map<std::pair<std::string, std::string>, KernelSummary> kernels_;
  int64_t kernel_events_ = 0;
  int64_t kernels_without_tf_op_ = 0;
  int64_t task_duration_ps_ = 0;
  bool loop_ops_ = false;
  int64_t dropped_steps_ = 0;
  int64_t min_ps_ = std::numeric_limits<int64_t>::max();
  int64_t max_ps_ = std::numeric_limits<int64_t>::min();
};

}  // namespace

ProfileSummary SummarizeXSpace(const XSpace& space, const std::string& file) {
  return Summarizer(space, file).Run();
}

StepStats ComputeStepStats(const std::vector<StepSummary>& steps) {
  StepStats stats;
  if (steps.empty()) return stats;
  stats.count = static_cast<int64_t>(steps.size());
  stats.min_ps = std::numeric_limits<int64_t>::max();
  double sum = 0;
  for (const StepSummary& step : steps) {
    sum += static_cast<double>(step.duration_ps);
    stats.min_ps = std::min(stats.min_ps, step.duration_ps);
    stats.max_ps = std::max(stats.max_ps, step.duration_ps);
  }
  stats.mean_ps = sum / static_cast<double>(steps.size());
  return stats;
}

}  // namespace tbprof::cli
