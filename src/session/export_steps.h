// The stages of an export after collection, one function each (see session.h for the order).
// Adding a stage is one function here and one call in Session::Export.
#ifndef TBPROF_SRC_SESSION_EXPORT_STEPS_H_
#define TBPROF_SRC_SESSION_EXPORT_STEPS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/trace/trace_data.h"

namespace tbprof::internal {

// Where one export goes.
struct ExportTarget {
  std::string name;     // TraceExport's name (the tag of graph/run-metadata summaries).
  int64_t step = 0;     // TraceExport's step.
  std::string logdir;   // Log directory.
  std::string run_dir;  // <logdir>/[<run>]: the TensorBoard run directory.
  bool graph = true;    // TraceOptions::graph: write the traced graph and its step stats.
};

// Stage 2: derived data after collection: the merge step (MergeTrace: device events -> ops,
// OpInfo and StepInfo statistics). Pure function of the trace.
void FinalizeCollectedTrace(Trace* trace);

// The name of a profile session directory: "<stamp>_<name>" ("2026_12_01_22_10_05_model_training"),
// with every character of `name` outside [A-Za-z0-9._-] replaced by '_', leading dots and
// underscores dropped, at most 100 bytes of it; just `stamp` for an empty name. The stamp comes
// first, so sessions sort by time in TensorBoard's Sessions list, and the export's name tells them
// apart.
std::string SessionDirName(std::string_view stamp, std::string_view name);

// Stage 3: creates a new session directory <run_dir>/plugins/profile/<SessionDirName(
// YYYY_MM_DD_HH_MM_SS, target.name)> (local time; "_2", "_3"... appended when it exists: an
// existing session directory is never reused) and writes <host>.trace.json.gz then
// <host>.xplane.pb into it, each atomically. On failure the new directory is removed again.
// Returns the session directory.
absl::StatusOr<std::string> WriteProfileSession(const Trace& trace, const ExportTarget& target);

// Stage 4: the run's event file (one per run directory and process, suffix ".tbprof"):
// graph_run_metadata (traced graph + step stats, only when target.graph) tagged
// `target.name`, the model summary
// "<name>/model_summary" and the scalars "<name>/step_time_ms", "<name>/gpu_busy_share" (see
// src/merge/trace_summaries.h). Errors: the event file's (naming the path), InvalidArgument
// for an empty name.
absl::Status WriteEventFile(const Trace& trace, const ExportTarget& target);

// "<host>" as used in file names: the trace's hostname with ':' and '/' replaced by '_'.
std::string HostFileStem(const Trace& trace);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_SESSION_EXPORT_STEPS_H_
