// `tbprof run`: starts a program with capture turned on (TBPROF=1 and the TBPROF_* variables)
// without a shell, waits for it and reports its exit status the way a shell does.
#ifndef TBPROF_TOOLS_RUN_COMMAND_H_
#define TBPROF_TOOLS_RUN_COMMAND_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tbprof::cli {

struct RunOptions {
  std::vector<std::string> argv;      // Program and arguments; argv[0] is searched in PATH.
  std::optional<std::string> steps;   // TBPROF_STEPS ("A:B").
  std::optional<std::string> logdir;  // TBPROF_LOGDIR.
  std::optional<std::string> run;     // TBPROF_RUN.
  // NVTX_INJECTION64_PATH: tbprof's NVTX injection library, so that the program's NVTX ranges
  // are captured; empty: left as inherited. An inherited NVTX_INJECTION64_PATH (another tool)
  // is kept.
  std::string nvtx_library;
};

// The NVTX injection library that goes with this tbprof binary: $TBPROF_NVTX_LIBRARY when set,
// else libtbprof_nvtx_inject.so in ../lib (or ../lib64) beside the binary, else the one of
// the build tree; "" when none exists.
std::string FindNvtxInjectionLibrary();

// Checks "A:B" with 0 <= A <= B. InvalidArgument naming the value otherwise.
absl::Status ValidateStepsRange(const std::string& steps);

// The environment of the child: the current one with TBPROF=1 and the given variables set
// (replacing any inherited value), and NVTX_INJECTION64_PATH unless one is inherited.
std::vector<std::string> ChildEnvironment(const RunOptions& options);

// Runs the program and waits for it. Returns its exit code, or 128 + signal number when a
// signal ended it. While it runs, SIGINT and SIGQUIT are ignored here so that Ctrl-C reaches
// the program alone. NotFound (exit code 127 in the message) / PermissionDenied (126) when it
// cannot be started; InvalidArgument for an empty argv.
absl::StatusOr<int> RunProgram(const RunOptions& options);

}  // namespace tbprof::cli

#endif  // TBPROF_TOOLS_RUN_COMMAND_H_
