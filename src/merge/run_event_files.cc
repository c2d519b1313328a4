#include "src/merge/run_event_files.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/export/event_file_writer.h"
#include "src/merge/trace_summaries.h"
#include "src/util/file_util.h"

namespace tbprof::internal {

RunEventFiles& RunEventFiles::Process() {
  static RunEventFiles* files = new RunEventFiles();
  return *files;
}

absl::Status RunEventFiles::Write(const Trace& trace, std::string_view name, int64_t step,
                                  std::string_view run_dir, bool include_graph) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = writers_.find(run_dir);
  if (it != writers_.end()) {
    struct stat st;
    if (it->second->file_->published() && stat(it->second->path().c_str(), &st) != 0) {
      // The file is gone (the log directory was cleaned): writing on would lose the data.
      writers_.erase(it);
      it = writers_.end();
    }
  }
  if (it == writers_.end()) {
    // The file takes its name with the first export's records: a kill before leaves no empty
    // event file for TensorBoard to list.
    EventFileWriter::Options options;
    options.temp_prefix = kExportTempPrefix;
    absl::StatusOr<std::unique_ptr<EventFileWriter>> file =
        EventFileWriter::Create(run_dir, ".tbprof", options);
    if (!file.ok()) return file.status();
    it = writers_
             .emplace(std::string(run_dir),
                      std::unique_ptr<SummaryWriter>(new SummaryWriter(*std::move(file))))
             .first;
  }
  SummaryWriter* writer = it->second.get();
  // One export's records are in the file whole or not at all, so that a retry after a failed
  // write (a full disk) writes them exactly once.
  if (absl::Status s = writer->Flush(); !s.ok()) return s;
  const uint64_t mark = writer->file_->Mark();
  absl::Status s = WriteTraceSummaries(trace, name, step, writer, include_graph);
  if (!s.ok()) {
    if (absl::Status r = writer->file_->RollbackTo(mark); !r.ok()) {
      return absl::Status(s.code(), absl::StrCat(s.message(), "; ", r.message()));
    }
  }
  return s;
}

std::string RunEventFiles::PathFor(std::string_view run_dir) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = writers_.find(run_dir);
  return it == writers_.end() ? std::string() : it->second->path();
}

}  // namespace tbprof::internal
