#include "src/session/export_steps.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "src/export/chrome_trace.h"
#include "src/export/xplane_writer.h"
#include "src/memory/memory_analysis.h"
#include "src/merge/merge.h"
#include "src/merge/run_event_files.h"
#include "src/ranks/rank_env.h"
#include "src/ranks/shared_session.h"
#include "src/util/file_util.h"

namespace tbprof::internal {

void FinalizeCollectedTrace(Trace* trace) {
  // Device events -> ops (so the xplane's kernels carry tf_op), per-op and per-step numbers.
  MergeTrace(trace);
  // Recorded allocations: bytes in use, peaks, checks (after the steps are known).
  AnalyzeMemory(trace);
}

bool IsTrainingExport(std::string_view name, const Trace& trace) {
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto alnum = [&](char c) { return lower(c) || upper(c) || (c >= '0' && c <= '9'); };
  for (size_t i = 0; i + 5 <= name.size(); ++i) {
    const bool word_start = i == 0 || !alnum(name[i - 1]) || (upper(name[i]) && lower(name[i - 1]));
    if (!word_start) continue;
    bool match = true;
    for (size_t k = 0; k < 5 && match; ++k) {
      const char c = upper(name[i + k]) ? static_cast<char>(name[i + k] - 'A' + 'a') : name[i + k];
      match = c == "train"[k];
    }
    if (match) return true;
  }
  for (const OpInfo& op : trace.ops) {
    std::string_view path = op.name;
    const size_t last = path.rfind('/');
    if (last == std::string_view::npos) continue;
    path = path.substr(0, last);  // The name scopes, without the op's own name.
    while (!path.empty()) {
      const size_t slash = path.find('/');
      const std::string_view scope = path.substr(0, slash);
      if (scope == "gradient_tape" || scope.substr(0, 9) == "gradients") return true;
      if (slash == std::string_view::npos) break;
      path = path.substr(slash + 1);
    }
  }
  return false;
}

std::string HostFileStem(const Trace& trace) {
  if (trace.rank >= 0) return RankFileStem(trace.hostname, trace.rank, trace.world_size);
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
  const std::string plugins = JoinPath(target.run_dir, "plugins");
  const std::string root = JoinPath(plugins, "profile");
  if (absl::Status s = MakeDirs(root); !s.ok()) return s;
  // The files are written into a private directory that no reader lists, which then takes its
  // final name with one rename: a kill at any point leaves no partial session directory.
  static std::atomic<int> sequence{0};
  const std::string tmp =
      JoinPath(plugins, absl::StrCat(kExportTempPrefix, getpid(), ".", sequence.fetch_add(1)));
  if (mkdir(tmp.c_str(), 0755) != 0) return ErrnoStatus(errno, "mkdir", tmp);
  const std::string stem = HostFileStem(trace);
  const std::string json_name = stem + ".trace.json.gz";
  const std::string xplane_name = stem + ".xplane.pb";
  auto fail = [&](absl::Status s) -> absl::Status {
    unlink(JoinPath(tmp, json_name).c_str());
    unlink(JoinPath(tmp, xplane_name).c_str());
    rmdir(tmp.c_str());
    return s;
  };
  // Streamed: a long capture's JSON and its compressed copy are never held whole in memory.
  {
    AtomicFile json;
    absl::Status s = json.Open(JoinPath(tmp, json_name), /*must_not_exist=*/true);
    if (s.ok()) s = WriteChromeTraceJsonGz(trace, &json);
    if (s.ok()) s = json.Commit();
    if (!s.ok()) return fail(s);
  }
  if (absl::Status s = WriteFileAtomically(JoinPath(tmp, xplane_name), EncodeXSpace(trace), true);
      !s.ok()) {
    return fail(s);
  }
  // The ranks of a multi-process job share one session directory, which is never removed: this
  // rank's files move into it one by one, the .xplane.pb (what readers list) last.
  const std::string shared = SharedSessionName(target.job, target.name, target.step);
  if (!shared.empty()) {
    absl::StatusOr<std::string> joined = JoinSharedSessionDir(root, shared, stem);
    if (!joined.ok()) return fail(joined.status());
    for (const std::string& name : {json_name, xplane_name}) {
      const std::string from = JoinPath(tmp, name);
      const std::string to = JoinPath(*joined, name);
      if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0 &&
          !((errno == EINVAL || errno == ENOSYS) && link(from.c_str(), to.c_str()) == 0 &&
            unlink(from.c_str()) == 0)) {
        const int err = errno;
        if (name == xplane_name) unlink(JoinPath(*joined, json_name).c_str());
        return fail(ErrnoStatus(err, "rename", to));
      }
    }
    rmdir(tmp.c_str());
    return *joined;
  }
  const std::string stamp = SessionDirName(
      absl::FormatTime("%E4Y_%m_%d_%H_%M_%S", absl::Now(), absl::LocalTimeZone()), target.name);
  std::string dir;
  for (int n = 0;; ++n) {
    dir = JoinPath(root, n == 0 ? stamp : absl::StrCat(stamp, "_", n + 1));
    // An existing session directory is never replaced (RENAME_NOREPLACE; where the file
    // system lacks it, the name is reserved with mkdir and the empty directory replaced).
    if (renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_NOREPLACE) == 0) break;
    int err = errno;
    if (err == EINVAL || err == ENOSYS) {
      if (mkdir(dir.c_str(), 0755) == 0) {
        if (rename(tmp.c_str(), dir.c_str()) == 0) break;
        err = errno;
        rmdir(dir.c_str());
      } else {
        err = errno;
      }
    }
    if (err != EEXIST || n >= 10000) return fail(ErrnoStatus(err, "rename", dir));
  }
  return dir;
}

absl::Status WriteEventFile(const Trace& trace, const ExportTarget& target) {
  // One event file per run directory for the whole process: successive exports are tags.
  return RunEventFiles::Process().Write(trace, target.name, target.step, target.run_dir,
                                        target.graph);
}

}  // namespace tbprof::internal
