// The event files the exports of this process write to: one SummaryWriter per TensorBoard run
// directory, opened by the first export there and appended to by the later ones, so that two
// exports ("model_training", "model_inference") are two tags of one run.
#ifndef TBPROF_SRC_MERGE_RUN_EVENT_FILES_H_
#define TBPROF_SRC_MERGE_RUN_EVENT_FILES_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "src/trace/trace_data.h"
#include "tbprof/summary.h"

namespace tbprof::internal {

class RunEventFiles {
 public:
  RunEventFiles() = default;
  RunEventFiles(const RunEventFiles&) = delete;
  RunEventFiles& operator=(const RunEventFiles&) = delete;

  // The writers of the whole process (exports of successive captures share them). Never
  // destroyed, so exports from atexit handlers still find it.
  static RunEventFiles& Process();

  // WriteTraceSummaries(trace, name, step, include_graph) into the event file of `run_dir` (suffix
  // ".tbprof"), opening one on the first use of `run_dir`, or again when the file it had
  // was removed meanwhile. The records of one call are written as a group: on error none of
  // them stays in the file (records that reached it are cut off again), so a retry writes
  // each once. Errors: SummaryWriter::Create's (naming the path), then WriteTraceSummaries'.
  // Thread-safe: exports to one run are serialized.
  absl::Status Write(const Trace& trace, std::string_view name, int64_t step,
                     std::string_view run_dir, bool include_graph = true);

  // Path of the event file used for `run_dir`, or "" when none was opened.
  std::string PathFor(std::string_view run_dir) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<SummaryWriter>, std::less<>> writers_;
};

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_MERGE_RUN_EVENT_FILES_H_
