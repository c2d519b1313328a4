#include "src/ranks/shared_session.h"

#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/util/file_util.h"
#include "src/util/strings.h"

namespace tbprof::internal {

absl::StatusOr<std::string> JoinSharedSessionDir(std::string_view root, std::string_view name,
                                                 std::string_view stem) {
  constexpr int kMaxRepeats = 10000;
  for (int n = 0; n < kMaxRepeats; ++n) {
    const std::string dir =
        JoinPath(root, n == 0 ? std::string(name) : absl::StrCat(AsAbsl(name), "_", n));
    if (mkdir(dir.c_str(), 0755) != 0) {
      if (errno != EEXIST) return ErrnoStatus(errno, "mkdir", dir);
      struct stat st;
      if (stat(dir.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", dir);
      if (!S_ISDIR(st.st_mode)) {
        return absl::FailedPreconditionError(
            absl::StrCat(dir, " exists and is not a directory: cannot use it as the session"));
      }
    }
    const std::string mine = JoinPath(dir, absl::StrCat(AsAbsl(stem), ".xplane.pb"));
    struct stat st;
    if (stat(mine.c_str(), &st) != 0 && errno == ENOENT) return dir;
  }
  return absl::ResourceExhaustedError(absl::StrCat("more than ", kMaxRepeats, " captures named ",
                                                   AsAbsl(name), " under ", AsAbsl(root)));
}

}  // namespace tbprof::internal
