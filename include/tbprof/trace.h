// Capture control: turn tracing on, export what was captured, turn it off. Modelled on
// tf.summary.trace_on / trace_export.
//
//   tbprof::TraceOn();                              // OK and a no-op unless TBPROF=1
//   model.Forward(x);
//   absl::Status s = tbprof::TraceExport("my_model", /*step=*/0);
//
// or with RAII: `tbprof::ScopedTrace trace("my_model", 0);`.
//
// By default these calls do nothing and return OK unless the environment says TBPROF=1, so a
// program can keep them in production code; TraceOptions::force makes them work regardless
// (tests, tools). With TBPROF=1 and TBPROF_STEPS=A:B a program needs no call at all: see
// StepScope in annotate.h.
//
// Each export writes a new session directory (never rewriting an existing one):
//   <logdir>/[<run>/]plugins/profile/<YYYY_MM_DD_HH_MM_SS>[_N]/<host>.xplane.pb
//                                                             /<host>.trace.json.gz
// which TensorBoard's Profile tab lists as the run "<YYYY_MM_DD_HH_MM_SS>".
//
// Thread-safety: all functions may be called from any thread; one capture exists at a time
// per process. Concurrent calls never crash: a TraceExport racing another one gets
// FailedPrecondition.
#ifndef TBPROF_TRACE_H_
#define TBPROF_TRACE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tbprof {

// What to do about GPUs (the TBPROF_GPU variable).
enum class GpuMode : int32_t {
  kAuto = 0,  // Trace GPUs through CUPTI when possible; otherwise CPU only, with one warning.
  kOff = 1,   // Never load CUPTI.
  kOn = 2,    // GPU tracing is required: TraceOn fails when it cannot start.
};

// Options of TraceOn. Every field left unset takes its value from the environment (see
// DESIGN: TBPROF_LOGDIR, TBPROF_RUN, TBPROF_HOST_LEVEL, TBPROF_GPU, TBPROF_MAX_EVENTS), then
// from the built-in default.
struct TraceOptions {
  // Record the traced graph: ops with their input/output tensors (Trace ops, Graphs tab).
  bool graph = true;
  // Record timings for the Profile tab (host events, device activity).
  bool profiler = true;
  // Log directory; default TBPROF_LOGDIR, else "./tbprof_logs".
  std::optional<std::string> logdir;
  // Run sub-directory under the log directory (TensorBoard run name); default TBPROF_RUN,
  // else none. A relative path without ".." components.
  std::optional<std::string> run;
  // Host tracing level: 1 user annotations (scopes, ops, steps), 2 also name scopes recorded
  // as spans, 3 verbose (currently the same as 2). Default TBPROF_HOST_LEVEL, else 2.
  std::optional<int> host_level;
  // GPU mode; default TBPROF_GPU, else kAuto.
  std::optional<GpuMode> gpu;
  // Cap on buffered host events (one event = one scope); beyond it events are dropped and
  // counted. Default TBPROF_MAX_EVENTS, else 16,777,216 (about 256 MiB).
  std::optional<int64_t> max_events;
  // Work even when TBPROF is not 1 (tests, tools, programs that always profile).
  bool force = false;
};

// Where TraceExport writes; unset fields keep the capture's options.
struct ExportOptions {
  std::optional<std::string> logdir;
  std::optional<std::string> run;
  // Whether the capture is a training job: the Profile tab's overview page then says "Is
  // training job: true" (xprof reads it from a small HLO module tbprof adds to the profile; see
  // docs/input-pipeline.md). Unset: training when a word of `name` starts with "train" (any
  // case: "model_training", "train_step", "TrainLoop"; words are split at anything but letters
  // and digits, and before an upper-case letter that follows a lower-case one), or when a
  // traced op lies under a name scope "gradient_tape" or "gradients..." (TensorFlow's naming,
  // which xprof looks for too).
  std::optional<bool> training;
};

// Starts a capture. Returns OK without doing anything when TBPROF is not 1 and
// `options.force` is false, or when the environment is invalid (the reason was printed once).
// Errors: FailedPrecondition when a capture is already on or a captured trace is waiting for a
// successful TraceExport, or when `gpu` is kOn and GPU tracing cannot start (the reason is in
// the message; tracing stays off); InvalidArgument for an out-of-range option (host_level not
// 1..3, max_events < 1, empty logdir, run that is absolute or contains "..").
// With gpu kAuto, a GPU that cannot be traced costs one warning line on stderr (once per
// process) and one in the trace; the capture goes on CPU only.
absl::Status TraceOn(const TraceOptions& options = {});

// Stops the capture and writes it (see the layout above). `name` tags the export (graph and
// step statistics of later steps use it); `step` is its step number.
// Returns OK and does nothing when tracing is disabled (TBPROF not 1 and no forced TraceOn).
// Errors: FailedPrecondition when there is no capture (no TraceOn, or already exported) or
// another TraceExport is running; the file-system errors of the writes (PermissionDenied,
// NotFound, ResourceExhausted, Internal, naming the path). After a write error the captured
// trace is kept: call TraceExport again (e.g. with another `export_options.logdir`) to write it,
// or TraceOff to drop it. Nothing partial is left where TensorBoard would read it.
absl::Status TraceExport(std::string_view name, int64_t step);
absl::Status TraceExport(std::string_view name, int64_t step, const ExportOptions& export_options);

// Stops the capture and discards it (and any trace kept after a failed export). OK when there
// is nothing to stop.
absl::Status TraceOff();

// Flight recorder (TBPROF=flight): the process records always into bounded rings (the last
// TBPROF_FLIGHT_WINDOW_MS, within TBPROF_FLIGHT_MB) and writes what they hold as a new profile
// session on demand. Also dumped on SIGUSR2, after a step slower than TBPROF_SLOW_STEP_MS,
// and at exit with TBPROF_FLIGHT_DUMP_AT_EXIT=1 (see the README). CPU only.
//
// Queues a dump whose note (the first warning of the profile) carries `reason`, and returns
// at once: a background thread writes it, the recording threads are not blocked. Errors:
// FailedPrecondition when no flight recorder runs (TBPROF is not "flight") or it is stopping,
// ResourceExhausted when 4 dumps are already waiting. Thread-safe.
absl::Status FlightRecorderDump(std::string_view reason);
// True when this process runs a flight recorder.
bool FlightRecorderActive();

// What the last successful export of this process wrote.
struct ExportInfo {
  std::string name;         // TraceExport's name.
  int64_t step = 0;         // TraceExport's step.
  std::string logdir;       // The log directory (give it to `tensorboard --logdir`).
  std::string session_dir;  // <logdir>/[run/]plugins/profile/<session>.
  std::string xplane_path;  // The .xplane.pb file.
  int64_t threads = 0;      // Host threads with events.
  int64_t host_events = 0;  // Host events written.
  int64_t device_events = 0;
  int64_t ops = 0;             // Distinct framework ops.
  int64_t steps = 0;           // Steps.
  int64_t dropped_events = 0;  // Host and device events dropped at the cap.
  int64_t warnings = 0;        // Warnings recorded in the trace.
  bool training = false;       // Marked as a training job (ExportOptions::training).
};

// The last successful export of this process, if any. Thread-safe.
std::optional<ExportInfo> LastExportInfo();

// RAII capture: TraceOn in the constructor, TraceExport(name, step) in the destructor (or
// earlier with Finish()). While TBPROF is not 1 and options.force is false it does nothing.
class ScopedTrace {
 public:
  // `export_status`, if not null, receives the status of the export done by the destructor;
  // it must outlive this object.
  explicit ScopedTrace(std::string_view name, int64_t step = 0, const TraceOptions& options = {},
                       absl::Status* export_status = nullptr);
  ~ScopedTrace();
  ScopedTrace(const ScopedTrace&) = delete;
  ScopedTrace& operator=(const ScopedTrace&) = delete;

  // The status of TraceOn.
  const absl::Status& status() const { return on_status_; }
  // Exports now (once); returns the export status (the TraceOn error if that failed).
  absl::Status Finish();

 private:
  std::string name_;
  int64_t step_;
  absl::Status on_status_;
  absl::Status* export_status_;
  bool finished_ = false;
};

}  // namespace tbprof

#endif  // TBPROF_TRACE_H_
