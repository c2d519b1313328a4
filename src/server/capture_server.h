// The gRPC tensorflow.ProfilerService behind tbprof/server.h. One CaptureServer listens on one
// loopback port; a Profile call records with a Session (src/session/session.h), as TraceOn does,
// and returns the encoded XSpace. At most one capture at a time; a capture the program started
// itself (TraceOn, TBPROF_STEPS) is never interrupted: Profile is refused instead.
#ifndef TBPROF_SRC_SERVER_CAPTURE_SERVER_H_
#define TBPROF_SRC_SERVER_CAPTURE_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tbprof::internal {

// Longest capture a Profile call may ask for: 10 minutes.
inline constexpr uint64_t kMaxCaptureDurationMs = 600000;

class CaptureServer {
 public:
  // Listens on 127.0.0.1:`port` (0: any free port). Serves only clients of the process's
  // user (and root) unless `allow_any_user` (see ServesPeer in peer_uid.h): others get
  // PERMISSION_DENIED. InvalidArgument for a port outside 0..65535; Unavailable naming the
  // address when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<CaptureServer>> Start(int port,
                                                              bool allow_any_user = false);

  // Shuts down (see Shutdown).
  ~CaptureServer();
  CaptureServer(const CaptureServer&) = delete;
  CaptureServer& operator=(const CaptureServer&) = delete;

  // The bound port.
  int port() const { return port_; }
  // Profile calls answered with a capture.
  int64_t captures_served() const;
  // Ends a capture in progress (its client gets UNAVAILABLE) and stops listening. Idempotent.
  void Shutdown();

  class Impl;

 private:
  CaptureServer() = default;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_SERVER_CAPTURE_SERVER_H_
