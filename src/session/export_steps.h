// The stages of an export after collection, one function each (see session.h for the order).
// Adding a stage is one function here and one call in Session::Export.
#ifndef TBPROF_SRC_SESSION_EXPORT_STEPS_H_
#define TBPROF_SRC_SESSION_EXPORT_STEPS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/ranks/rank_env.h"
#include "src/trace/trace_data.h"

namespace tbprof::internal {

// Where one export goes.
struct ExportTarget {
  std::string name;     // TraceExport's name (the tag of graph/run-metadata summaries).
  int64_t step = 0;     // TraceExport's step.
  std::string logdir;   // Log directory.
  std::string run_dir;  // <logdir>/[<run>]: the TensorBoard run directory.
  bool graph = true;    // TraceOptions::graph: write the traced graph and its step stats.
  RankJob job;          // Multi-process job: the shared session every rank writes into.
};

// Whether an export is a training job when the program did not say (ExportOptions::training):
// a word of `name` starts with "train", any case (words split at characters other than letters
// and digits, and before an upper-case letter following a lower-case one: "model_training",
// "train", "TrainLoop", not "constrained"), or an op of `trace` lies under a name scope
// "gradient_tape" or starting with "gradients" (the op's own last path component excluded),
// which is TensorFlow's naming and what xprof looks for in HLO op metadata.
bool IsTrainingExport(std::string_view name, const Trace& trace);

// Stage 2: derived data after collection: the merge step (MergeTrace: device events -> ops,
// OpInfo and StepInfo statistics). Pure function of the trace.
void FinalizeCollectedTrace(Trace* trace);

// The name of a profile session directory: "<stamp>_<name>" ("2026_12_01_22_10_05_model_training"),
// with every character of `name` outside [A-Za-z0-9._-] replaced by '_', leading dots and
// underscores dropped, at most 100 bytes of it; just `stamp` for an empty name. The stamp comes
// first, so sessions sort by time in TensorBoard's Sessions list, and the export's name tells them
// apart.
std::string SessionDirName(std::string_view stamp, std::string_view name);

// Stage 3: writes <host>.trace.json.gz and <host>.xplane.pb into a private directory
// <run_dir>/plugins/.tbprof-tmp.<pid>.<n>, then renames it to a new session directory
// <run_dir>/plugins/profile/<SessionDirName(YYYY_MM_DD_HH_MM_SS, target.name)> (local time;
// "_2", "_3"... appended when it exists: an existing session directory is never reused), so a
// session directory appears whole or not at all. On failure the private directory is removed.
// Returns the session directory. A rank of a multi-process job (target.job) instead moves its
// two files into the session directory all ranks share (src/ranks/shared_session.h), which is
// never removed.
// Errors: those of MakeDirs / WriteFileAtomically (PermissionDenied, NotFound, ...), Internal
// when the JSON cannot be compressed.
absl::StatusOr<std::string> WriteProfileSession(const Trace& trace, const ExportTarget& target);

// Stage 4: the run's event file (one per run directory and process, suffix ".tbprof"):
// graph_run_metadata (traced graph + step stats, only when target.graph) tagged
// `target.name`, the model summary
// "<name>/model_summary" and the scalars "<name>/step_time_ms", "<name>/gpu_busy_share" (see
// src/merge/trace_summaries.h). Errors: the event file's (naming the path), InvalidArgument
// for an empty name.
absl::Status WriteEventFile(const Trace& trace, const ExportTarget& target);

// Removes what exports of processes that no longer run left in `run_dir` when they were
// killed: .tbprof-tmp.<pid>* entries (in run_dir and run_dir/plugins), "<file>.tmp.<pid>" files
// in its profile session directories (and such a directory when nothing else is left in it),
// and this host's event files of those processes that hold no record after the file-version
// record. Best effort: errors are ignored. Returns the number of entries removed.
int RemoveExportLeftovers(const std::string& run_dir);

// "<host>" as used in file names: the trace's hostname with ':' and '/' replaced by '_';
// "<host>_rank<N>" for a rank of a multi-process job (src/ranks/rank_env.h, RankFileStem).
std::string HostFileStem(const Trace& trace);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_SESSION_EXPORT_STEPS_H_
