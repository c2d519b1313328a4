#include "src/server/capture_server.h"

#include <unistd.h>

#include <atomic>
#include <climits>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "src/config/config.h"
#include "src/export/xplane_writer.h"
#include "src/server/peer_uid.h"
#include "src/session/flight_recorder.h"
#include "src/session/session.h"
#include "src/trace/device_source.h"
#include "src/trace/trace_data.h"
#include "tensorflow/profiler/profiler_service.grpc.pb.h"

namespace tbprof::internal {
namespace {

// How often a waiting capture checks whether its client went away.
constexpr absl::Duration kPollInterval = absl::Milliseconds(50);
// Longest wait for a start_timestamp_ns in the future.
constexpr absl::Duration kMaxStartDelay = absl::Seconds(60);

grpc::Status ToGrpc(grpc::StatusCode code, const std::string& message) {
  return grpc::Status(code, message);
}

bool TraceIsEmpty(const Trace& trace) {
  if (!trace.device_events.empty()) return false;
  for (const ThreadTrack& t : trace.threads) {
    if (!t.events.empty()) return false;
  }
  return true;
}

}  // namespace

class CaptureServer::Impl final : public tensorflow::ProfilerService::Service {
 public:
  grpc::Status Profile(grpc::ServerContext* context, const tensorflow::ProfileRequest* request,
                       tensorflow::ProfileResponse* response) override;
  grpc::Status Terminate(grpc::ServerContext* context, const tensorflow::TerminateRequest* request,
                         tensorflow::TerminateResponse* response) override;
  grpc::Status Monitor(grpc::ServerContext* context, const tensorflow::MonitorRequest* request,
                       tensorflow::MonitorResponse* response) override {
    return ToGrpc(grpc::StatusCode::UNIMPLEMENTED,
                  "tbprof's capture server offers Profile and Terminate only, not Monitor");
  }

  // Wakes a capture in progress; new Profile calls are refused.
  void BeginShutdown() {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  int64_t captures_served() const {
    absl::MutexLock lock(&mu_);
    return served_;
  }

  std::unique_ptr<grpc::Server> server;
  std::atomic<int> port{0};  // The bound port (the requested one until bound).
  bool allow_any_user = false;

 private:
  // OK when the caller may use the server (ServesPeer), else PERMISSION_DENIED.
  grpc::Status CheckPeer(grpc::ServerContext* context) const;

  // Waits until `deadline`, Terminate, shutdown or the client's cancellation. Returns false
  // when the capture must be abandoned (shutdown or cancellation); mu_ held.
  bool WaitLocked(grpc::ServerContext* context, absl::Time deadline, bool stop_on_terminate)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Flight mode (TBPROF=flight): answers with what the rings already hold, at once, and waits
  // only for the part of the duration that lies after the request.
  grpc::Status ProfileFromFlightRecorder(FlightRecorder* flight, grpc::ServerContext* context,
                                         uint64_t duration_ms,
                                         tensorflow::ProfileResponse* response);

  mutable absl::Mutex mu_;
  bool active_ ABSL_GUARDED_BY(mu_) = false;
  std::string active_session_ ABSL_GUARDED_BY(mu_);
  bool terminate_ ABSL_GUARDED_BY(mu_) = false;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  int64_t served_ ABSL_GUARDED_BY(mu_) = 0;
};

bool CaptureServer::Impl::WaitLocked(grpc::ServerContext* context, absl::Time deadline,
                                     bool stop_on_terminate) {
  while (true) {
    if (shutting_down_ || context->IsCancelled()) return false;
    if (stop_on_terminate && terminate_) return true;
    const absl::Time now = absl::Now();
    if (now >= deadline) return true;
    auto woken = [this, stop_on_terminate]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return shutting_down_ || (stop_on_terminate && terminate_);
    };
    mu_.AwaitWithDeadline(absl::Condition(&woken), std::min(deadline, now + kPollInterval));
  }
}

grpc::Status CaptureServer::Impl::CheckPeer(grpc::ServerContext* context) const {
  if (allow_any_user) return grpc::Status::OK;
  const std::string peer = context->peer();
  const std::optional<uid_t> uid = PeerUid(peer, port.load());
  if (ServesPeer(uid, geteuid(), allow_any_user)) return grpc::Status::OK;
  return ToGrpc(
      grpc::StatusCode::PERMISSION_DENIED,
      absl::StrCat("this capture server serves only its owner (uid ", geteuid(),
                   "); the call from ", peer,
                   uid ? absl::StrCat(" (uid ", *uid, ")") : std::string(" (uid unknown)"),
                   " is refused. The program can allow every local user with "
                   "TBPROF_SERVER_USERS=any"));
}

grpc::Status CaptureServer::Impl::Profile(grpc::ServerContext* context,
                                          const tensorflow::ProfileRequest* request,
                                          tensorflow::ProfileResponse* response) {
  if (grpc::Status peer = CheckPeer(context); !peer.ok()) return peer;
  // TensorBoard sends the duration twice; ProfileOptions' copy wins, as in TensorFlow.
  const uint64_t duration_ms =
      request->opts().duration_ms() != 0 ? request->opts().duration_ms() : request->duration_ms();
  if (duration_ms < 1 || duration_ms > kMaxCaptureDurationMs) {
    return ToGrpc(grpc::StatusCode::INVALID_ARGUMENT,
                  absl::StrCat("duration_ms=", duration_ms, " is not valid: expected 1 to ",
                               kMaxCaptureDurationMs, " (10 minutes)"));
  }
  SessionOptions options;
  {
    absl::StatusOr<SessionOptions> resolved =
        ResolveSessionOptions(TraceOptions{}, ProcessConfig());
    if (!resolved.ok()) {
      return ToGrpc(
          grpc::StatusCode::FAILED_PRECONDITION,
          absl::StrCat("the TBPROF_* settings are not valid: ", resolved.status().message()));
    }
    options = *std::move(resolved);
  }
  // The client's tracer levels: host 1..3 are ours; device 0 turns GPU tracing off.
  if (request->has_opts()) {
    const uint32_t host = request->opts().host_tracer_level();
    if (host >= 1 && host <= 3) options.host_level = static_cast<int>(host);
    if (request->opts().device_tracer_level() == 0) options.gpu = GpuMode::kOff;
  }
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) {
      return ToGrpc(grpc::StatusCode::UNAVAILABLE, "the capture server is shutting down");
    }
    if (active_) {
      return ToGrpc(grpc::StatusCode::FAILED_PRECONDITION,
                    absl::StrCat("a capture requested through this server is already running "
                                 "(session_id '",
                                 active_session_, "'): retry when it has ended"));
    }
    active_ = true;
    active_session_ = request->session_id();
    terminate_ = false;
  }
  struct Release {
    Impl* impl;
    ~Release() {
      absl::MutexLock lock(&impl->mu_);
      impl->active_ = false;
      impl->active_session_.clear();
    }
  } release{this};

  if (FlightRecorder* flight = ProcessFlightRecorder()) {
    return ProfileFromFlightRecorder(flight, context, duration_ms, response);
  }

  // start_timestamp_ns (wall clock) is when the client wants recording to begin.
  const uint64_t start_ns = request->opts().start_timestamp_ns();
  if (start_ns != 0) {
    const absl::Time start = absl::FromUnixNanos(static_cast<int64_t>(start_ns));
    absl::MutexLock lock(&mu_);
    // Terminate before the start frees the slot at once.
    if (!WaitLocked(context, std::min(start, absl::Now() + kMaxStartDelay),
                    /*stop_on_terminate=*/true)) {
      return ToGrpc(grpc::StatusCode::UNAVAILABLE, "the capture was abandoned before it started");
    }
    if (terminate_) {
      return ToGrpc(grpc::StatusCode::CANCELLED,
                    absl::StrCat("the capture (session_id '", active_session_,
                                 "') was terminated before its start time"));
    }
  }

  Session session(options, options.gpu == GpuMode::kOff ? nullptr : CreateGpuDeviceSource());
  if (absl::Status s = session.Start(); !s.ok()) {
    if (s.code() == absl::StatusCode::kFailedPrecondition) {
      return ToGrpc(grpc::StatusCode::FAILED_PRECONDITION,
                    absl::StrCat("cannot start a capture: ", s.message(),
                                 " (a capture started by the program itself, TraceOn or "
                                 "TBPROF_STEPS, is not interrupted: retry when it has ended)"));
    }
    return ToGrpc(grpc::StatusCode::INTERNAL,
                  absl::StrCat("cannot start a capture: ", s.ToString()));
  }
  {
    absl::MutexLock lock(&mu_);
    if (!WaitLocked(context, absl::Now() + absl::Milliseconds(duration_ms),
                    /*stop_on_terminate=*/true)) {
      session.Discard();
      return ToGrpc(grpc::StatusCode::UNAVAILABLE, context->IsCancelled()
                                                       ? "the client cancelled the capture"
                                                       : "the capture server is shutting down");
    }
  }
  // Collect runs the same post-collection steps as an export (FinalizeCollectedTrace).
  if (absl::Status s = session.Collect(); !s.ok()) {
    return ToGrpc(grpc::StatusCode::INTERNAL,
                  absl::StrCat("collecting the capture failed: ", s.ToString()));
  }
  const Trace& trace = session.trace();
  tensorflow::ProfileToolData* tool = response->add_tool_data();
  tool->set_name("xplane.pb");
  tool->set_data(EncodeXSpace(trace));
  response->set_empty_trace(TraceIsEmpty(trace));
  absl::MutexLock lock(&mu_);
  ++served_;
  return grpc::Status::OK;
}

grpc::Status CaptureServer::Impl::ProfileFromFlightRecorder(FlightRecorder* flight,
                                                            grpc::ServerContext* context,
                                                            uint64_t duration_ms,
                                                            tensorflow::ProfileResponse* response) {
  const int64_t window_ms = flight->options().window_ms;
  const int64_t before_ms = std::min<int64_t>(static_cast<int64_t>(duration_ms), window_ms);
  const int64_t after_ms = static_cast<int64_t>(duration_ms) - before_ms;
  const absl::Time requested = absl::Now();
  int64_t last_ms = before_ms;
  if (after_ms > 0) {
    // Keep the history from the request on while the rest of the duration is recorded.
    flight->HoldHistory(static_cast<int64_t>(duration_ms));
    bool completed;
    {
      absl::MutexLock lock(&mu_);
      completed = WaitLocked(context, requested + absl::Milliseconds(after_ms),
                             /*stop_on_terminate=*/true);
    }
    if (!completed) {
      flight->ReleaseHistory(static_cast<int64_t>(duration_ms));
      return ToGrpc(grpc::StatusCode::UNAVAILABLE, context->IsCancelled()
                                                       ? "the client cancelled the capture"
                                                       : "the capture server is shutting down");
    }
    last_ms += absl::ToInt64Milliseconds(absl::Now() - requested);
  }
  const std::string note =
      absl::StrCat("tbprof flight recorder dump (Capture Profile): the last ", before_ms,
                   " ms before the request",
                   after_ms > 0 ? absl::StrCat(" and the ", last_ms - before_ms, " ms after it")
                                : std::string());
  absl::StatusOr<Trace> trace = flight->Capture(last_ms, note);
  if (after_ms > 0) flight->ReleaseHistory(static_cast<int64_t>(duration_ms));
  if (!trace.ok()) {
    return ToGrpc(grpc::StatusCode::INTERNAL,
                  absl::StrCat("reading the flight recorder failed: ", trace.status().ToString()));
  }
  tensorflow::ProfileToolData* tool = response->add_tool_data();
  tool->set_name("xplane.pb");
  tool->set_data(EncodeXSpace(*trace));
  response->set_empty_trace(TraceIsEmpty(*trace));
  absl::MutexLock lock(&mu_);
  ++served_;
  return grpc::Status::OK;
}

grpc::Status CaptureServer::Impl::Terminate(grpc::ServerContext* context,
                                            const tensorflow::TerminateRequest* request,
                                            tensorflow::TerminateResponse* response) {
  if (grpc::Status peer = CheckPeer(context); !peer.ok()) return peer;
  absl::MutexLock lock(&mu_);
  if (!active_ || request->session_id() != active_session_) {
    return ToGrpc(grpc::StatusCode::NOT_FOUND, absl::StrCat("no capture with session_id '",
                                                            request->session_id(), "' is running"));
  }
  terminate_ = true;
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<CaptureServer>> CaptureServer::Start(int port, bool allow_any_user) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("capture server port ", port, " is not valid: expected 0 to 65535"));
  }
  const std::string address = absl::StrCat("127.0.0.1:", port);
  auto impl = std::make_unique<Impl>();
  impl->allow_any_user = allow_any_user;
  impl->port = port;
  int bound = 0;
  grpc::ServerBuilder builder;
  // Without this gRPC binds with SO_REUSEPORT and a second server would share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxSendMessageSize(INT_MAX);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(impl.get());
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || bound == 0) {
    if (impl->server != nullptr) impl->server->Shutdown();
    return absl::UnavailableError(
        absl::StrCat("the capture server cannot listen on ", address,
                     ": the port is in use or not allowed; choose another port (TBPROF_PORT)"));
  }
  impl->port = bound;
  std::unique_ptr<CaptureServer> server(new CaptureServer());
  server->impl_ = std::move(impl);
  server->port_ = bound;
  return server;
}

CaptureServer::~CaptureServer() { Shutdown(); }

int64_t CaptureServer::captures_served() const { return impl_->captures_served(); }

void CaptureServer::Shutdown() {
  if (impl_ == nullptr || impl_->server == nullptr) return;
  impl_->BeginShutdown();
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace tbprof::internal
