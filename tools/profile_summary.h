// What `tbprof summary` reports about one profile (one `<host>.xplane.pb`): the top framework
// ops by time, the top GPU kernels, the steps and the warnings, computed from the XSpace with
// the same rules the Profile tab uses (spec §3.5-3.7): host ops are "/host:CPU" events whose
// names parse as "scope/name:Type", their self time comes from nesting on their line; device
// time per op comes from the `tf_op` stat of GPU events; kernels are GPU events with
// `kernel_details`; steps are the groups xprof's overview page shows (xprof_steps.h).
#ifndef TBPROF_TOOLS_PROFILE_SUMMARY_H_
#define TBPROF_TOOLS_PROFILE_SUMMARY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tensorflow/profiler/xplane.pb.h"
#include "tools/memory_summary.h"

namespace tbprof::cli {

struct OpSummary {
  std::string name;   // "dense_1/MatMul"
  std::string type;   // "MatMul"
  int64_t count = 0;  // Host executions (or device events when only on the device).
  int64_t host_total_ps = 0;
  int64_t host_self_ps = 0;  // Host time minus the time of events nested inside.
  int64_t device_ps = 0;     // Sum of GPU events carrying tf_op = this op.
  int64_t device_events = 0;
};

struct KernelSummary {
  std::string name;
  std::string op;  // Framework op name from tf_op ("" when none).
  int64_t count = 0;
  int64_t total_ps = 0;
  int64_t min_ps = 0;
  int64_t max_ps = 0;
  std::string grid;  // "x,y,z" of the first occurrence.
  std::string block;
  int64_t registers = 0;
  double occupancy_pct = 0;
};

struct StepSummary {
  int64_t step = 0;
  std::string name;  // Event name of the step's root event.
  int64_t start_ps = 0;
  int64_t duration_ps = 0;
};

// One profile file.
struct ProfileSummary {
  std::string file;
  std::string host;          // XSpace.hostnames[0], else the file name's host part.
  int64_t duration_ps = 0;   // From the Task Environment plane, else the event extent.
  int64_t host_threads = 0;  // Lines on "/host:CPU".
  int64_t gpus = 0;          // "/device:GPU:<n>" planes.
  int64_t host_events = 0;
  int64_t device_events = 0;
  std::vector<OpSummary> ops;                  // All ops, most time first (see SortOps).
  std::vector<KernelSummary> kernels;          // All kernels, most total time first.
  std::vector<StepSummary> steps;              // By step number, then start.
  std::vector<AllocatorMemorySummary> memory;  // Recorded allocators (memory_summary.h).
  std::vector<std::string> warnings;           // XSpace errors/warnings, then findings.
};

// What the overview page says when a profile has no step (xprof's own words).
inline constexpr std::string_view kNoStepMarkerMessage =
    "No step marker observed and hence the step time is unknown. This may happen if (1) "
    "training steps are not instrumented (e.g., if you are not using Keras) or (2) the "
    "profiling duration is shorter than the step time. For (1), you need to add step "
    "instrumentation; for (2), you may try to profile longer.";

// Computes the summary. Never fails: odd data produces warnings.
ProfileSummary SummarizeXSpace(const tensorflow::profiler::XSpace& space, const std::string& file);

// Mean/min/max of the step durations (zeros when there are no steps).
struct StepStats {
  int64_t count = 0;
  double mean_ps = 0;
  int64_t min_ps = 0;
  int64_t max_ps = 0;
};
StepStats ComputeStepStats(const std::vector<StepSummary>& steps);

}  // namespace tbprof::cli

#endif  // TBPROF_TOOLS_PROFILE_SUMMARY_H_
