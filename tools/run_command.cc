#include "tools/run_command.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/util/strings.h"

extern char** environ;

namespace tbprof::cli {
namespace {

void SetVar(std::vector<std::string>* env, const std::string& name, const std::string& value) {
  const std::string prefix = name + "=";
  for (std::string& entry : *env) {
    if (entry.compare(0, prefix.size(), prefix) == 0) {
      entry = prefix + value;
      return;
    }
  }
  env->push_back(prefix + value);
}

// Restores a signal's disposition when it goes out of scope.
class IgnoreSignal {
 public:
  explicit IgnoreSignal(int sig) : sig_(sig) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(sig_, &ignore, &old_);
  }
  ~IgnoreSignal() { sigaction(sig_, &old_, nullptr); }

 private:
  int sig_;
  struct sigaction old_ {};
};

}  // namespace

absl::Status ValidateStepsRange(const std::string& steps) {
  size_t colon = steps.find(':');
  int64_t a = 0, b = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(internal::AsAbsl(std::string_view(steps).substr(0, colon)), &a) ||
      !absl::SimpleAtoi(internal::AsAbsl(std::string_view(steps).substr(colon + 1)), &b) || a < 0 ||
      b < a) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--steps ", steps, ": expected A:B with 0 <= A <= B (steps A to B are captured)"));
  }
  return absl::OkStatus();
}

std::string FindNvtxInjectionLibrary() {
  auto readable = [](const std::string& path) { return access(path.c_str(), R_OK) == 0; };
  if (const char* env = std::getenv("TBPROF_NVTX_LIBRARY"); env != nullptr && *env != '\0') {
    return readable(env) ? std::string(env) : std::string();
  }
  constexpr const char* kName = "libtbprof_nvtx_inject.so";
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    std::string dir(exe, static_cast<size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    for (const char* lib : {"/../lib/", "/../lib64/"}) {
      std::string path = dir + lib + kName;
      if (readable(path)) return path;
    }
  }
#ifdef TBPROF_NVTX_BUILD_LIBRARY
  if (readable(TBPROF_NVTX_BUILD_LIBRARY)) return TBPROF_NVTX_BUILD_LIBRARY;
#endif
  return {};
}

std::vector<std::string> ChildEnvironment(const RunOptions& options) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  SetVar(&env, "TBPROF", "1");
  if (options.steps) SetVar(&env, "TBPROF_STEPS", *options.steps);
  if (options.logdir) SetVar(&env, "TBPROF_LOGDIR", *options.logdir);
  if (options.run) SetVar(&env, "TBPROF_RUN", *options.run);
  if (!options.nvtx_library.empty()) {
    const char* inherited = std::getenv("NVTX_INJECTION64_PATH");
    if (inherited == nullptr || *inherited == '\0') {
      SetVar(&env, "NVTX_INJECTION64_PATH", options.nvtx_library);
    }
  }
  return env;
}

absl::StatusOr<int> RunProgram(const RunOptions& options) {
  if (options.argv.empty()) {
    return absl::InvalidArgumentError("no program given after --");
  }
  std::vector<std::string> env = ChildEnvironment(options);
  std::vector<char*> argv_ptrs, env_ptrs;
  for (const std::string& a : options.argv) argv_ptrs.push_back(const_cast<char*>(a.c_str()));
  argv_ptrs.push_back(nullptr);
  for (const std::string& e : env) env_ptrs.push_back(const_cast<char*>(e.c_str()));
  env_ptrs.push_back(nullptr);

  // The child starts with default handlers for the signals we ignore while waiting.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGQUIT);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

  IgnoreSignal ignore_int(SIGINT);
  IgnoreSignal ignore_quit(SIGQUIT);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv_ptrs[0], nullptr, &attr, argv_ptrs.data(), env_ptrs.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    const std::string message =
        absl::StrCat("cannot run ", options.argv[0], ": ", std::strerror(rc));
    if (rc == ENOENT) return absl::NotFoundError(message + " (exit code 127)");
    if (rc == EACCES || rc == ENOEXEC)
      return absl::PermissionDeniedError(message + " (exit code 126)");
    return absl::InternalError(message);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid ", pid, ": ", std::strerror(errno)));
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace tbprof::cli
