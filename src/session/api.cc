// The public capture calls (tbprof/trace.h) and the TBPROF_STEPS capture driven by StepScope.
// They share one Session slot: one capture per process at a time.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/config/config.h"
#include "src/host/recorder.h"
#include "src/session/session.h"
#include "src/session/signal_export.h"
#include "src/session/flight_recorder.h"
#include "src/session/session.h"
#include "src/trace/device_source.h"
#include "src/util/strings.h"
#include "tbprof/annotate.h"
#include "tbprof/trace.h"

namespace tbprof {
namespace internal {
namespace {

struct ApiState {
  std::mutex mu;
  std::unique_ptr<Session> session;
  bool auto_capture = false;  // The session was started by TBPROF_STEPS.
  bool explicit_use = false;  // A forced TraceOn happened: errors are reported.
  bool atexit_registered = false;
  std::optional<ExportInfo> last;
};

ApiState* NewApiState();

ApiState& Api() {
  static ApiState* s = NewApiState();  // Never destroyed: used from atexit.
  return *s;
}

std::atomic<bool> g_exporting{false};
std::atomic<bool> g_auto_active{false};

// Fork: the API lock is taken before the recorder's (as on the export path); in the child the
// parent's capture is abandoned (leaked, never touched again) and the child starts clean.
void ApiForkPrepare() { Api().mu.lock(); }
void ApiForkParent() { Api().mu.unlock(); }
void ApiForkChild() {
  ApiState& api = Api();
  (void)api.session.release();
  api.auto_capture = false;
  g_auto_active.store(false);
  g_exporting.store(false);
  SetCaptureActiveForSignals(false);
  api.mu.unlock();
}

ApiState* NewApiState() {
  auto* s = new ApiState();
  EnsureInitialized();
  InstallRecorderForkHandlers();  // Before ours: pthread_atfork runs prepare handlers LIFO.
  pthread_atfork(&ApiForkPrepare, &ApiForkParent, &ApiForkChild);
  return s;
}

std::unique_ptr<DeviceSource> DeviceFor(GpuMode mode) {
  if (mode == GpuMode::kOff) return nullptr;
  return CreateGpuDeviceSource();
}

std::string StepsName(const Config& c) {
  return absl::StrCat("steps_", c.steps_first, "_", c.steps_last);
}

// Runs on the signal writer thread (signal_export.h): writes the running capture, or says in
// one line that it is dropped.
void WriteCaptureOnSignal(int sig) {
  const char* signame = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
  ApiState& api = Api();
  std::unique_lock<std::mutex> lock(api.mu, std::defer_lock);
  for (int i = 0; i < 500 && !lock.try_lock(); ++i) usleep(10000);
  if (!lock.owns_lock()) {
    std::fprintf(stderr,
                 "tbprof: %s during a capture: the capture is dropped (another tbprof call held "
                 "it for 5 s)\n",
                 signame);
    return;
  }
  if (api.session == nullptr) return;
  const Config& config = ProcessConfig();
  const std::string name = api.auto_capture ? StepsName(config) : std::string("interrupted");
  const int64_t step = api.auto_capture ? config.steps_last : 0;
  absl::StatusOr<ExportInfo> info = api.session->Export(name, step);
  if (info.ok()) {
    std::fprintf(stderr,
                 "tbprof: %s during a capture: wrote what was captured, as '%s', to %s before "
                 "the program ends (TBPROF_SIGNALS=0 turns this off)\n",
                 signame, name.c_str(),
                 info->session_dir.empty() ? info->logdir.c_str() : info->session_dir.c_str());
    api.last = *info;
  } else {
    std::fprintf(stderr,
                 "tbprof: %s during a capture: the capture could not be written (%s) "
                 "and is dropped\n",
                 signame, info.status().ToString().c_str());
  }
  api.session.reset();
  SetCaptureActiveForSignals(false);
}

// A capture now runs in the API's slot. Lock held.
void MarkCaptureRunning() {
  if (ProcessConfig().signals) InstallCaptureSignalHandlers(&WriteCaptureOnSignal);
  SetCaptureActiveForSignals(true);
}

// Exports the TBPROF_STEPS capture. Lock held.
void FinishAutoCaptureLocked(ApiState& api, bool at_exit) {
  if (!api.auto_capture || api.session == nullptr) return;
  const Config& config = ProcessConfig();
  api.auto_capture = false;
  g_auto_active.store(false);
  SetStepsArmed(false);
  absl::StatusOr<ExportInfo> info = api.session->Export(StepsName(config), config.steps_last);
  if (!info.ok()) {
    // Nothing else would write it: a TBPROF_STEPS capture is never held in memory.
    std::fprintf(stderr,
                 "tbprof: writing the capture of steps %lld..%lld failed: %s; the capture is "
                 "dropped\n",
                 static_cast<long long>(config.steps_first),
                 static_cast<long long>(config.steps_last), info.status().ToString().c_str());
    api.session.reset();
    SetCaptureActiveForSignals(false);
    GiveBackFreedMemory();
    return;
  }
  std::fprintf(stderr, "tbprof: %scaptured steps %lld..%lld into %s\n",
               at_exit ? "the program ended before the last step; " : "",
               static_cast<long long>(config.steps_first),
               static_cast<long long>(config.steps_last), info->session_dir.c_str());
  api.last = *info;
  api.session.reset();
  SetCaptureActiveForSignals(false);
  GiveBackFreedMemory();
}

void ExportAutoCaptureAtExit() {
  if (!g_auto_active.load()) return;
  ApiState& api = Api();
  std::lock_guard<std::mutex> lock(api.mu);
  FinishAutoCaptureLocked(api, /*at_exit=*/true);
}

void MaybeStartAutoCapture(int64_t step) {
  const Config& config = ProcessConfig();
  if (!config.enabled || !config.has_steps) return;
  if (step < config.steps_first || step > config.steps_last) return;
  ApiState& api = Api();
  std::lock_guard<std::mutex> lock(api.mu);
  if (api.session != nullptr) return;  // An explicit capture is running: it records the step.
  absl::StatusOr<SessionOptions> options = ResolveSessionOptions(TraceOptions{}, config);
  if (!options.ok()) {
    SetStepsArmed(false);
    return;
  }
  if (absl::Status s = CheckExportTarget(options->logdir, options->run); !s.ok()) {
    std::fprintf(stderr, "tbprof: the TBPROF_STEPS capture is off: %s\n",
                 std::string(s.message()).c_str());
    SetStepsArmed(false);
    return;
  }
  auto session = std::make_unique<Session>(*options, DeviceFor(options->gpu));
  if (absl::Status s = session->Start(); !s.ok()) {
    std::fprintf(stderr, "tbprof: the TBPROF_STEPS capture could not start: %s\n",
                 s.ToString().c_str());
    SetStepsArmed(false);
    return;
  }
  api.session = std::move(session);
  api.auto_capture = true;
  g_auto_active.store(true);
  MarkCaptureRunning();
  if (!api.atexit_registered) {
    api.atexit_registered = true;
    std::atexit(ExportAutoCaptureAtExit);
  }
}

}  // namespace

uint32_t StepBegin(int64_t step, std::string_view name) {
  uint32_t st = g_trace_state.load(std::memory_order_relaxed);
  if (st & kStateUninitialized) {
    EnsureInitialized();
    st = g_trace_state.load(std::memory_order_relaxed);
  }
  if ((st & kStateStepsArmed) != 0 && (st & kStateLevelMask) == 0) MaybeStartAutoCapture(step);
  if (FlightWatchesSteps()) FlightStepBegin();
  return RecordStepBegin(step, name);
}

void StepEnd(uint32_t token, int64_t step) {
  ScopeEnd(token);
  if (FlightWatchesSteps()) FlightStepEnd(step);
  if (!g_auto_active.load(std::memory_order_relaxed)) return;
  if (step < ProcessConfig().steps_last) return;
  ApiState& api = Api();
  std::lock_guard<std::mutex> lock(api.mu);
  FinishAutoCaptureLocked(api, /*at_exit=*/false);
}

}  // namespace internal

using internal::Api;
using internal::ApiState;

absl::Status TraceOn(const TraceOptions& options) {
  internal::EnsureInitialized();
  const internal::Config& config = internal::ProcessConfig();
  if (!config.enabled && !options.force) return absl::OkStatus();
  absl::StatusOr<internal::SessionOptions> resolved =
      internal::ResolveSessionOptions(options, config);
  if (!resolved.ok()) return resolved.status();
  // Found now, not when the capture is written.
  if (absl::Status s = internal::CheckExportTarget(resolved->logdir, resolved->run); !s.ok()) {
    return s;
  }
  ApiState& api = Api();
  std::lock_guard<std::mutex> lock(api.mu);
  if (options.force) api.explicit_use = true;
  if (api.session != nullptr) {
    if (api.session->state() == internal::Session::State::kRecording) {
      return absl::FailedPreconditionError(
          api.auto_capture ? "a TBPROF_STEPS capture is already on"
                           : "a capture is already on: call TraceExport or TraceOff first");
    }
    return absl::FailedPreconditionError(
        "a captured trace is waiting for export (the last TraceExport failed): call "
        "TraceExport with a writable logdir, or TraceOff to drop it");
  }
  auto session = std::make_unique<internal::Session>(*resolved, internal::DeviceFor(resolved->gpu));
  if (absl::Status s = session->Start(); !s.ok()) return s;
  api.session = std::move(session);
  api.auto_capture = false;
  internal::MarkCaptureRunning();
  return absl::OkStatus();
}

absl::Status TraceExport(std::string_view name, int64_t step) {
  return TraceExport(name, step, ExportOptions{});
}

absl::Status TraceExport(std::string_view name, int64_t step, const ExportOptions& export_options) {
  if (internal::g_exporting.exchange(true)) {
    return absl::FailedPreconditionError("another TraceExport is running");
  }
  struct Reset {
    ~Reset() { internal::g_exporting.store(false); }
  } reset;
  ApiState& api = Api();
  std::lock_guard<std::mutex> lock(api.mu);
  if (api.session == nullptr) {
    if (!internal::ProcessConfig().enabled && !api.explicit_use) return absl::OkStatus();
    return absl::FailedPreconditionError(
        "no capture to export: call TraceOn first (each capture is exported once)");
  }
  const internal::SessionOptions& opts = api.session->options();
  std::string logdir = export_options.logdir.value_or(opts.logdir);
  std::string run = export_options.run.value_or(opts.run);
  absl::StatusOr<ExportInfo> info =
      api.session->Export(name, step, logdir, run, export_options.training);
  if (!info.ok()) {
    if (api.session->state() == internal::Session::State::kDiscarded) {
      api.session.reset();
      internal::SetCaptureActiveForSignals(false);
    }
    return info.status();
  }
  if (api.auto_capture) {
    api.auto_capture = false;
    internal::g_auto_active.store(false);
    internal::SetStepsArmed(false);
  }
  api.last = *info;
  api.session.reset();
  internal::SetCaptureActiveForSignals(false);
  internal::GiveBackFreedMemory();
  return absl::OkStatus();
}

absl::Status TraceOff() {
  ApiState& api = Api();
  std::lock_guard<std::mutex> lock(api.mu);
  if (api.session != nullptr) {
    api.session->Discard();
    api.session.reset();
    internal::SetCaptureActiveForSignals(false);
    internal::GiveBackFreedMemory();
  }
  if (api.auto_capture) {
    api.auto_capture = false;
    internal::g_auto_active.store(false);
    internal::SetStepsArmed(false);
  }
  return absl::OkStatus();
}

std::optional<ExportInfo> LastExportInfo() {
  ApiState& api = Api();
  std::lock_guard<std::mutex> lock(api.mu);
  return api.last;
}

ScopedTrace::ScopedTrace(std::string_view name, int64_t step, const TraceOptions& options,
                         absl::Status* export_status)
    : name_(name), step_(step), export_status_(export_status) {
  on_status_ = TraceOn(options);
}

ScopedTrace::~ScopedTrace() {
  absl::Status s = Finish();
  if (export_status_ != nullptr) *export_status_ = s;
}

absl::Status ScopedTrace::Finish() {
  if (finished_) return absl::OkStatus();
  finished_ = true;
  if (!on_status_.ok()) return on_status_;
  return TraceExport(name_, step_);
}

}  // namespace tbprof
