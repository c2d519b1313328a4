// The flight recorder: an always-on capture that keeps the recent past in bounded per-thread
// rings (the host recorder's ring mode, src/host/recorder.h) and writes it as an ordinary
// profile session when something asks for it.
//
//   TBPROF=flight [TBPROF_FLIGHT_MB=64] [TBPROF_FLIGHT_WINDOW_MS=30000]
//       [TBPROF_SLOW_STEP_MS=500] [TBPROF_FLIGHT_DUMP_AT_EXIT=1] ./my_server
//
// Dump triggers, each giving the dump a note (the first warning of its XSpace) saying why:
//   - tbprof::FlightRecorderDump(reason) (tbprof/trace.h);
//   - SIGUSR2, installed only in this mode and only when the program has no handler of its
//     own: the handler sets a flag and writes one byte to a pipe (async-signal-safe); the
//     flight thread does the work. Signals arriving while a dump is written give one more dump;
//   - a step (tbprof::StepScope) longer than TBPROF_SLOW_STEP_MS: dumped when it ends, with the
//     step inside; at most one such dump per half window: a slow step during that time is
//     dumped when the half window ends (still inside the window), or at exit;
//   - the program's exit, with TBPROF_FLIGHT_DUMP_AT_EXIT=1; without it, dumps requested before
//     the exit are still written completely first;
//   - TensorBoard's Capture Profile button (src/server): answered with the last
//     min(duration, window) ms at once, plus the following ones when the duration asks for
//     more (see Capture).
//
// Each dump writes <logdir>/[<run>/]plugins/profile/<YYYY_MM_DD_HH_MM_SS>[_N]/ with the
// <host>.xplane.pb and <host>.trace.json.gz of the last window, atomically (export_steps.h).
// Dumps are written one after the other by the flight thread ("tbprof-flight"); at most
// kMaxPendingDumps wait. The recording threads are never blocked while a dump is decoded,
// encoded or written: SnapshotRing holds the recorder's lock only to detach the filled blocks
// and copy the blocks being written.
//
// GPU: flight mode records the host only. CUPTI's activity API has one subscriber per
// process and its buffers are filled and handed over asynchronously, so an always-on
// subscription would cost every kernel launch a record for the whole life of the process and
// a ring of GPU records has no per-thread owner to recycle from; TBPROF_GPU is therefore
// ignored in this mode (a line on stderr says so when it asks for on). Capture a GPU trace
// with TBPROF=1 (TBPROF_STEPS, TraceOn, or the Capture Profile button without flight mode).
#ifndef TBPROF_SRC_SESSION_FLIGHT_RECORDER_H_
#define TBPROF_SRC_SESSION_FLIGHT_RECORDER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/config/config.h"
#include "src/trace/trace_data.h"

namespace tbprof::internal {

// Dumps that may wait behind the one being written.
inline constexpr int kMaxPendingDumps = 4;

struct FlightOptions {
  std::string logdir = "tbprof_logs";
  std::string run;  // "" = none.
  int host_level = 2;
  int64_t budget_bytes = kDefaultFlightMb << 20;  // Rings of all threads together.
  int64_t window_ms = kDefaultFlightWindowMs;     // History kept and dumped.
  int64_t slow_step_ms = 0;                       // 0: no slow-step trigger.
  bool dump_at_exit = false;                      // Stop() dumps first.
  bool install_signal_handler = true;             // SIGUSR2.
  int64_t maintenance_ms = 500;                   // How often old blocks are given back.
};

// The flight options of a config (TBPROF=flight and the TBPROF_FLIGHT_* variables).
FlightOptions FlightOptionsFromConfig(const Config& config);

enum class DumpTrigger { kApi, kSignal, kSlowStep, kExit };

class FlightRecorder {
 public:
  // Starts the recorder's ring session and the flight thread; installs the SIGUSR2 handler
  // when asked and SIGUSR2 has no handler yet (one flight recorder per process may own it).
  // FailedPrecondition when a capture is recording; InvalidArgument for an option out of range.
  static absl::StatusOr<std::unique_ptr<FlightRecorder>> Start(const FlightOptions& options);
  // Stop().
  ~FlightRecorder();
  FlightRecorder(const FlightRecorder&) = delete;
  FlightRecorder& operator=(const FlightRecorder&) = delete;

  // Queues a dump of the last window and returns at once. ResourceExhausted when
  // kMaxPendingDumps already wait; FailedPrecondition once stopped.
  absl::Status RequestDump(DumpTrigger trigger, std::string reason);
  // Waits until every dump requested before the call is written (or has failed, which is
  // reported on stderr). False on timeout.
  bool WaitForDumps(int64_t timeout_ms);

  // The host trace of the last `last_ms` (at most the window), merged as an export would,
  // with `note` as its first warning; nothing is written. For the capture server.
  absl::StatusOr<Trace> Capture(int64_t last_ms, const std::string& note);
  // Keeps at least `ms` of history until ReleaseHistory (a Capture Profile request that also
  // wants the time after it). Holds nest; the longest wins.
  void HoldHistory(int64_t ms);
  void ReleaseHistory(int64_t ms);

  // A step ended after `duration_ns`. A step slower than slow_step_ms is dumped once the next
  // step ends (so that the dump holds a step after it), or slow_step_ms later if none does.
  void OnStepEnd(int64_t step, int64_t duration_ns);

  // Writes the exit dump when asked, then every dump still queued, then stops the rings and
  // the flight thread and restores SIGUSR2. Idempotent.
  void Stop();

  const FlightOptions& options() const { return options_; }
  // Session directories written so far, in order.
  std::vector<std::string> DumpDirs() const;
  // Dumps that failed (the reason was printed).
  int64_t failed_dumps() const;

 private:
  struct Request {
    DumpTrigger trigger;
    std::string reason;
    uint64_t seq;
  };

  explicit FlightRecorder(const FlightOptions& options);
  void Run();
  void Wake();
  void WriteDump(const Request& request);
  // Asks for a slow-step dump now, or defers it to the end of the half window.
  void QueueSlowStep(std::string reason, int64_t now);
  // Queues the slow step still waiting for a next step once its deadline passed, and the
  // slow-step dump deferred once its half window ended (with `force`: both now).
  void QueueDeferredSlowStep(bool force);

  FlightOptions options_;
  int wake_fds_[2] = {-1, -1};
  bool owns_signal_ = false;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  bool stopped_ = false;
  bool slow_step_queued_ = false;
  uint64_t next_seq_ = 1;
  uint64_t done_seq_ = 0;  // Every request up to this one is finished.
  std::vector<std::string> dump_dirs_;
  int64_t failed_ = 0;
  std::vector<int64_t> holds_ms_;
  int64_t next_slow_dump_ns_ = 0;  // MonotonicNs before which slow steps are deferred.
  std::string deferred_slow_;      // Reason of the first deferred slow step.
  std::string awaiting_next_;      // A slow step waiting for the next step to end.
  int64_t awaiting_deadline_ns_ = 0;
};

// Drops the events of `trace` that start before its last `keep_ns`, and moves its start there.
void KeepLastNs(Trace* trace, int64_t keep_ns);

// The process's flight recorder (TBPROF=flight), started on the first tbprof call that reads
// the configuration; nullptr when not in flight mode or it could not start.
FlightRecorder* ProcessFlightRecorder();
// Starts it from ProcessConfig() when TBPROF=flight (idempotent; the recorder calls it once
// the configuration is read).
void StartProcessFlightRecorder();
// Step hooks of StepScope (src/session/api.cc): time the step on the calling thread.
void FlightStepBegin();
void FlightStepEnd(int64_t step);
// True when a process flight recorder watches step durations.
bool FlightWatchesSteps();

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_SESSION_FLIGHT_RECORDER_H_
