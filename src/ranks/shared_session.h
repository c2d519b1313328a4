// The profile session directory that all ranks of one capture share, without a coordination
// service: each rank creates or joins it on its own and only ever adds its own files.
#ifndef TBPROF_SRC_RANKS_SHARED_SESSION_H_
#define TBPROF_SRC_RANKS_SHARED_SESSION_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tbprof::internal {

// Creates or joins <root>/<name> (another rank creating it first is fine) and returns the
// directory this rank writes "<stem>.*" into: <name> when it holds no "<stem>.xplane.pb" yet,
// else <name>_1, <name>_2... (a second capture under the same name goes beside the first; every
// rank takes the same step, so the k-th capture of each rank meets in the same directory).
// Never removes or replaces anything. Errors: those of mkdir (PermissionDenied, NotFound, ...)
// naming the path; FailedPrecondition when <root>/<name> exists and is not a directory.
absl::StatusOr<std::string> JoinSharedSessionDir(std::string_view root, std::string_view name,
                                                 std::string_view stem);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_RANKS_SHARED_SESSION_H_
