// The public calls of tbprof/server.h: one capture server per process.
#include <cstdlib>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "src/config/config.h"
#include "src/server/capture_server.h"
#include "tbprof/server.h"

namespace tbprof {
namespace {

struct ServerState {
  std::mutex mu;
  std::unique_ptr<internal::CaptureServer> server;
  bool atexit_registered = false;
};

ServerState& State() {
  static ServerState* s = new ServerState();  // Never destroyed: used from atexit.
  return *s;
}

}  // namespace

absl::Status StartCaptureServer(const CaptureServerOptions& options) {
  int port = 0;
  const bool any_user = options.allow_any_user.value_or(internal::ProcessConfig().server_any_user);
  if (options.port.has_value()) {
    port = *options.port;
  } else {
    const internal::Config& config = internal::ProcessConfig();
    if ((!config.enabled && !config.flight) || config.port == 0) return absl::OkStatus();
    port = config.port;
  }
  ServerState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.server != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the capture server is already running on 127.0.0.1:", state.server->port()));
  }
  absl::StatusOr<std::unique_ptr<internal::CaptureServer>> server =
      internal::CaptureServer::Start(port, any_user);
  if (!server.ok()) return server.status();
  state.server = *std::move(server);
  // Registered after gRPC's own globals exist, so it runs before they are destroyed.
  if (!state.atexit_registered) {
    state.atexit_registered = true;
    std::atexit(&StopCaptureServer);
  }
  return absl::OkStatus();
}

int CaptureServerPort() {
  ServerState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  return state.server == nullptr ? 0 : state.server->port();
}

int64_t CaptureServerCapturesServed() {
  ServerState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  return state.server == nullptr ? 0 : state.server->captures_served();
}

void StopCaptureServer() {
  std::unique_ptr<internal::CaptureServer> server;
  {
    ServerState& state = State();
    std::lock_guard<std::mutex> lock(state.mu);
    server = std::move(state.server);
  }
  if (server != nullptr) server->Shutdown();
}

}  // namespace tbprof
