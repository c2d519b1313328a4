// File helpers shared by the exporters: directories, and files that appear atomically.
#ifndef TBPROF_SRC_UTIL_FILE_UTIL_H_
#define TBPROF_SRC_UTIL_FILE_UTIL_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tbprof::internal {

// Prefix of what an export writes before it takes its final name (a profile session in
// <run_dir>/plugins, an event file in <run_dir>), followed by the writer's pid: names that
// TensorBoard and xprof do not list. Those of processes that no longer run are removed by the
// next capture's start (RemoveExportLeftovers).
inline constexpr char kExportTempPrefix[] = ".tbprof-tmp.";

// Creates `path` and its parents (mode 0755). OK if it already exists as a directory.
// PermissionDenied / NotFound / FailedPrecondition (exists, not a directory) / Internal, each
// naming the path and the OS error.
absl::Status MakeDirs(std::string_view path);

// Writes `contents` to `path` atomically: into "<path>.tmp.<pid>" in the same directory,
// fsync, rename. On any failure the temporary file is removed and `path` is untouched.
// If `must_not_exist`, AlreadyExists when `path` exists (rename would replace it).
absl::Status WriteFileAtomically(std::string_view path, std::string_view contents,
                                 bool must_not_exist = false);

// A file written piece by piece that appears at `path` only when Commit succeeds, with the
// same guarantees as WriteFileAtomically (which is built on it). Destroying an uncommitted
// AtomicFile removes its temporary file. Not thread-safe.
class AtomicFile {
 public:
  AtomicFile() = default;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() { Abort(); }

  // Creates "<path>.tmp.<pid>". AlreadyExists (must_not_exist and `path` exists), or the
  // open's error naming the temporary file.
  absl::Status Open(std::string_view path, bool must_not_exist = false);
  // Appends `data`; after a failure every later call fails with the same error.
  absl::Status Append(std::string_view data);
  // fsync, close, then link (must_not_exist: never replaces) or rename onto `path`.
  absl::Status Commit();
  // Removes the temporary file (nothing happens when there is none).
  void Abort();

 private:
  std::string target_;
  std::string tmp_;
  int fd_ = -1;
  bool must_not_exist_ = false;
  absl::Status status_;
};

// Reads a whole file. NotFound / PermissionDenied / Internal naming the path.
absl::Status ReadFile(std::string_view path, std::string* contents);

// An absl::Status for errno `err` of `op` on `path`: "open /x/y: Permission denied".
absl::Status ErrnoStatus(int err, std::string_view op, std::string_view path);

// This machine's host name ("localhost" if it cannot be read).
std::string Hostname();

// "a" + "/" + "b", without doubling the slash.
std::string JoinPath(std::string_view a, std::string_view b);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_UTIL_FILE_UTIL_H_
