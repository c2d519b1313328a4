// On-demand capture from TensorBoard's "Capture Profile" button.
//
// A program linked with tbprof::server (built when gRPC is available, TBPROF_GRPC) serves
// TensorFlow's gRPC `tensorflow.ProfilerService` on the loopback interface:
//
//   // TBPROF=1 TBPROF_PORT=6009 ./my_program
//   absl::Status s = tbprof::StartCaptureServer();  // OK and a no-op without TBPROF_PORT
//   if (!s.ok()) std::fprintf(stderr, "%s\n", s.ToString().c_str());  // keeps running
//
// Then in TensorBoard's Profile tab: "Capture Profile", profile service URL localhost:6009.
// Only the user the program runs as may capture (see CaptureServerOptions::allow_any_user).
// Each Profile call records the next duration_ms with the same capture session as TraceOn and
// returns the XSpace (xplane.pb) to the client, which writes it into its own log directory
// (<logdir>/plugins/profile/<session>/<host>_<port>.xplane.pb). The server itself writes no
// file. See docs/capture.md. With TBPROF=flight the answer comes at once from the flight
// recorder's rings: the last min(duration_ms, TBPROF_FLIGHT_WINDOW_MS), plus the time after the
// request when the duration asks for more (CPU only, as flight mode).
//
// Thread-safety: all functions may be called from any thread.
#ifndef TBPROF_SERVER_H_
#define TBPROF_SERVER_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"

namespace tbprof {

// Options of StartCaptureServer.
struct CaptureServerOptions {
  // TCP port on 127.0.0.1 (the server listens on loopback only). Unset: TBPROF_PORT, and the
  // server starts only when TBPROF=1 (or flight) and TBPROF_PORT is set. 0: any free port (see
  // CaptureServerPort()). Otherwise 1..65535; the server starts regardless of TBPROF.
  std::optional<int> port;
  // Who may capture. false (the default, TBPROF_SERVER_USERS=owner): only the user the program
  // runs as (and root); another local user's Profile and Terminate calls get
  // PERMISSION_DENIED. true (TBPROF_SERVER_USERS=any): every local user. Unset:
  // TBPROF_SERVER_USERS. The caller is known from the kernel's socket table
  // (/proc/net/tcp[6]), so TensorBoard's Capture Profile button needs no credentials.
  std::optional<bool> allow_any_user;
};

// Starts the process's capture server. Returns OK without starting anything when options.port
// is unset and TBPROF is not 1 or TBPROF_PORT is unset. Errors (the program keeps running):
// InvalidArgument for a port outside 0..65535, Unavailable naming the address when the port
// cannot be bound (in use, or not allowed), FailedPrecondition when the server already runs.
absl::Status StartCaptureServer(const CaptureServerOptions& options = {});

// The port the capture server listens on; 0 when it is not running.
int CaptureServerPort();

// How many Profile calls this process's capture server has answered with a capture.
int64_t CaptureServerCapturesServed();

// Stops the capture server (a capture in progress ends and its client gets UNAVAILABLE).
// No-op when it is not running. Called automatically at exit.
void StopCaptureServer();

}  // namespace tbprof

#endif  // TBPROF_SERVER_H_
