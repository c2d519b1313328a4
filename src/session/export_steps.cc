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
#include "src/ranks/rank_env.h"
#include "src/ranks/shared_session.h"
#include "src/util/file_util.h"

namespace tbprof::internal {

void FinalizeCollectedTrace(Trace* trace) {
  // Device events -> ops (so the xplane's kernels carry tf_op), per-op and per-step numbers.
  MergeTrace(trace);
}

std::string HostFileStem(const Trace& trace) {
  if (trace.rank >= 0) return RankFileStem(trace.hostname, trace.rank, trace.world_size);
  std::string stem = trace.hostname.empty() ? std::string("localhost") : trace.hostname;
  for (char& c : stem) {
    if (c == ':' || c == '/' || c == '\\') c = '_';
  }
  return stem;
}

absl::StatusOr<std::string> WriteProfileSession(const Trace& trace, const ExportTarget& target) {
  const std::string root = JoinPath(JoinPath(target.run_dir, "plugins"), "profile");
  if (absl::Status s = MakeDirs(root); !s.ok()) return s;
  const std::string stem = HostFileStem(trace);
  std::string dir;
  // The ranks of a multi-process job share one session directory, which is never removed.
  const std::string shared = SharedSessionName(target.job, target.name, target.step);
  if (!shared.empty()) {
    absl::StatusOr<std::string> joined = JoinSharedSessionDir(root, shared, stem);
    if (!joined.ok()) return joined.status();
    dir = *joined;
  } else {
    const std::string stamp =
        absl::FormatTime("%E4Y_%m_%d_%H_%M_%S", absl::Now(), absl::LocalTimeZone());
    for (int n = 0;; ++n) {
      dir = JoinPath(root, n == 0 ? stamp : absl::StrCat(stamp, "_", n));
      if (mkdir(dir.c_str(), 0755) == 0) break;
      if (errno != EEXIST || n >= 10000) return ErrnoStatus(errno, "mkdir", dir);
    }
  }
  auto fail = [&](absl::Status s) -> absl::Status {
    // Leave nothing TensorBoard would list: remove what this export wrote.
    unlink(JoinPath(dir, stem + ".trace.json.gz").c_str());
    if (shared.empty()) rmdir(dir.c_str());
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
