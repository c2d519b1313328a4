#include "src/session/export_steps.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "src/export/chrome_trace.h"
#include "src/export/xplane_writer.h"
#include "src/merge/merge.h"
#include "src/merge/run_event_files.h"
#include "src/util/file_util.h"

namespace tbprof::internal {

void FinalizeCollectedTrace(Trace* trace) {
  // Device events -> ops (so the xplane's kernels carry tf_op), per-op and per-step numbers.
  MergeTrace(trace);
}

std::string HostFileStem(const Trace& trace) {
  std::string stem = trace.hostname.empty() ? std::string("localhost") : trace.hostname;
  for (char& c : stem) {
    if (c == ':' || c == '/' || c == '\\') c = '_';
  }
  return stem;
}

std::string SessionDirName(std::string_view stamp, std::string_view name) {
  constexpr size_t kMaxNameBytes = 100;
  std::string out(stamp);
  std::string clean;
  for (char c : name.substr(0, kMaxNameBytes)) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_';
    clean.push_back(keep ? c : '_');
  }
  while (!clean.empty() && (clean.front() == '.' || clean.front() == '_')) {
    clean.erase(clean.begin());
  }
  if (!clean.empty()) absl::StrAppend(&out, "_", clean);
  return out;
}

absl::StatusOr<std::string> WriteProfileSession(const Trace& trace, const ExportTarget& target) {
  const std::string root = JoinPath(JoinPath(target.run_dir, "plugins"), "profile");
  if (absl::Status s = MakeDirs(root); !s.ok()) return s;
  const std::string stamp = SessionDirName(
      absl::FormatTime("%E4Y_%m_%d_%H_%M_%S", absl::Now(), absl::LocalTimeZone()), target.name);
  std::string dir;
  for (int n = 0;; ++n) {
    dir = JoinPath(root, n == 0 ? stamp : absl::StrCat(stamp, "_", n + 1));
    if (mkdir(dir.c_str(), 0755) == 0) break;
    if (errno != EEXIST || n >= 10000) return ErrnoStatus(errno, "mkdir", dir);
  }
  const std::string stem = HostFileStem(trace);
  auto fail = [&](absl::Status s) -> absl::Status {
    // Leave nothing TensorBoard would list: remove what this export wrote.
    unlink(JoinPath(dir, stem + ".trace.json.gz").c_str());
    rmdir(dir.c_str());
    return s;
  };
  absl::StatusOr<std::string> gz = Gzip(EncodeChromeTraceJson(trace));
  if (!gz.ok()) return fail(gz.status());
  if (absl::Status s = WriteFileAtomically(JoinPath(dir, stem + ".trace.json.gz"), *gz, true);
      !s.ok()) {
    return fail(s);
  }
  if (absl::Status s =
          WriteFileAtomically(JoinPath(dir, stem + ".xplane.pb"), EncodeXSpace(trace), true);
      !s.ok()) {
    return fail(s);
  }
  return dir;
}

absl::Status WriteEventFile(const Trace& trace, const ExportTarget& target) {
  // One event file per run directory for the whole process: successive exports are tags.
  return RunEventFiles::Process().Write(trace, target.name, target.step, target.run_dir,
                                        target.graph);
}

}  // namespace tbprof::internal
