// One capture, from start to files: Session drives the recorder and the device source through
// on -> collect (a Trace) -> export. The public calls of tbprof/trace.h and the TBPROF_STEPS
// capture own one Session at a time; tests and tools may drive one directly (with a fake
// DeviceSource).
//
// Export pipeline (Session::Export). Each stage is one call, in this order:
//   1. Collect(): recorder + device source -> trace_ (once; kept until a successful export).
//   2. FinalizeCollectedTrace(&trace_): post-collection steps that fill derived data (merge:
//      device events -> ops, per-op and per-step statistics). See export_steps.h.
//   3. WriteProfileSession(trace_, target): plugins/profile/<session>/<host>.xplane.pb and
//      <host>.trace.json.gz.
//   4. WriteEventFile(trace_, target): the run's event file (graph, graph_run_metadata, text,
//      scalars). See export_steps.h.
#ifndef TBPROF_SRC_SESSION_SESSION_H_
#define TBPROF_SRC_SESSION_SESSION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/config/config.h"
#include "src/trace/device_source.h"
#include "src/trace/trace_data.h"
#include "tbprof/trace.h"

namespace tbprof::internal {

// Everything a session needs, resolved (no "unset" left).
struct SessionOptions {
  std::string logdir = "tbprof_logs";
  std::string run;  // "" = none.
  int host_level = 2;
  int64_t max_events = kDefaultMaxEvents;
  GpuMode gpu = GpuMode::kAuto;
  bool graph = true;
  bool profiler = true;
  RankJob job;  // This process's rank and shared session (Config::ranks).
};

// Resolves TraceOptions over a config (the environment): each unset option takes the config's
// value. InvalidArgument naming the option when one is out of range.
absl::StatusOr<SessionOptions> ResolveSessionOptions(const TraceOptions& options,
                                                     const Config& config);

// Checks, before a capture starts, that its export can work: every component of `logdir` and
// `run` fits a file name (255 bytes), and <logdir>/<run> is a writable directory or can be
// created (its nearest existing ancestor is a writable directory). InvalidArgument naming
// the too-long component (cut to 64 characters); FailedPrecondition naming the path that is
// not a directory or not writable.
absl::Status CheckExportTarget(std::string_view logdir, std::string_view run);
// True when the CUDA driver library (libcuda.so.1) is loaded in this process, i.e. the program
// uses CUDA; looked up without loading it (dlopen RTLD_NOLOAD).
bool CudaDriverLoaded();

class Session {
 public:
  enum class State { kIdle, kRecording, kCollected, kExported, kDiscarded };

  // `device` may be null (CPU only). It is used only when options.gpu is not kOff.
  Session(SessionOptions options, std::unique_ptr<DeviceSource> device);
  // Discards a capture still recording.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts the host recorder, then the device source. With gpu kAuto a device that cannot
  // start is dropped with one line on stderr (once per process); the trace's warnings (the
  // Profile tab's banner) say it only when the process did use CUDA (CudaDriverLoaded() at
  // start or at collection): a program that never touches a GPU is not warned. With kOn
  // the recorder is stopped again and FailedPrecondition carries the device's reason.
  // FailedPrecondition when this session is not idle or another capture is recording.
  absl::Status Start();

  // Stops recording and builds the Trace (stage 1 and 2 above). Idempotent after success.
  // FailedPrecondition when the session never started.
  absl::Status Collect();

  // Collects if needed, then writes the files (stages 3-4) under `logdir`/[`run`/]. On a write
  // error the trace is kept and Export may be called again. FailedPrecondition when there is
  // nothing to export (idle, discarded or already exported).
  // `training`: ExportOptions::training (unset: IsTrainingExport decides).
  absl::StatusOr<ExportInfo> Export(std::string_view name, int64_t step, std::string_view logdir,
                                    std::string_view run,
                                    std::optional<bool> training = std::nullopt);
  // Export to the session's own logdir and run.
  absl::StatusOr<ExportInfo> Export(std::string_view name, int64_t step) {
    return Export(name, step, options_.logdir, options_.run);
  }

  // Stops and drops everything recorded.
  void Discard();

  State state() const { return state_; }
  const SessionOptions& options() const { return options_; }
  // The collected trace (valid after Collect).
  const Trace& trace() const { return trace_; }

 private:
  SessionOptions options_;
  std::unique_ptr<DeviceSource> device_;
  bool device_started_ = false;
  State state_ = State::kIdle;
  std::vector<std::string> start_warnings_;
  // Why GPU tracing did not start under kAuto: a warning of the trace only if the process uses
  // CUDA by collection time.
  std::string gpu_unavailable_;
  Trace trace_;
  // What a failed Export already wrote, for a retry to the same run directory.
  struct PartialExport {
    std::string run_dir;
    std::string session_dir;  // Profile session directory written, or empty.
  };
  PartialExport partial_export_;
};

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_SESSION_SESSION_H_
