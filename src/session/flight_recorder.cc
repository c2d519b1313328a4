#include "src/session/flight_recorder.h"

#include <errno.h>
#include <fcntl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "src/host/clock.h"
#include "src/host/flow.h"
#include "src/host/recorder.h"
#include "src/session/export_steps.h"
#include "src/util/file_util.h"
#include "tbprof/trace.h"

namespace tbprof::internal {
namespace {

// SIGUSR2: the handler only counts and writes one byte to the owner's pipe.
std::atomic<int> g_signals{0};
std::atomic<int> g_signal_fd{-1};
std::atomic<bool> g_signal_owned{false};
struct sigaction g_old_sigusr2;

extern "C" void OnSigusr2(int) {
  const int saved = errno;
  g_signals.fetch_add(1, std::memory_order_relaxed);
  const int fd = g_signal_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    const char byte = 's';
    (void)!write(fd, &byte, 1);  // Non-blocking; a full pipe already wakes the thread.
  }
  errno = saved;
}

const char* TriggerName(DumpTrigger t) {
  switch (t) {
    case DumpTrigger::kApi:
      return "FlightRecorderDump";
    case DumpTrigger::kSignal:
      return "SIGUSR2";
    case DumpTrigger::kSlowStep:
      return "slow step";
    case DumpTrigger::kExit:
      return "exit";
  }
  return "?";
}

}  // namespace

FlightOptions FlightOptionsFromConfig(const Config& config) {
  FlightOptions o;
  o.logdir = config.logdir;
  o.run = config.run;
  o.host_level = config.host_level;
  o.budget_bytes = config.flight_mb << 20;
  o.window_ms = config.flight_window_ms;
  o.slow_step_ms = config.slow_step_ms;
  o.dump_at_exit = config.flight_dump_at_exit;
  return o;
}

void KeepLastNs(Trace* trace, int64_t keep_ns) {
  const int64_t cut = trace->duration_ns - keep_ns;
  if (keep_ns <= 0 || cut <= 0) return;
  for (ThreadTrack& track : trace->threads) {
    std::vector<HostEvent> kept;
    kept.reserve(track.events.size());
    for (HostEvent e : track.events) {
      if (e.start_ns < cut) continue;
      e.start_ns -= cut;
      e.end_ns -= cut;
      kept.push_back(e);
    }
    track.events = std::move(kept);
  }
  trace->threads.erase(std::remove_if(trace->threads.begin(), trace->threads.end(),
                                      [](const ThreadTrack& t) { return t.events.empty(); }),
                       trace->threads.end());
  std::vector<StepInfo> steps;
  for (StepInfo s : trace->steps) {
    if (s.start_ns < cut) continue;
    s.start_ns -= cut;
    s.end_ns -= cut;
    steps.push_back(s);
  }
  trace->steps = std::move(steps);
  trace->start_ns += cut;
  trace->start_walltime_ns += cut;
  trace->duration_ns -= cut;
}

FlightRecorder::FlightRecorder(const FlightOptions& options) : options_(options) {}

absl::StatusOr<std::unique_ptr<FlightRecorder>> FlightRecorder::Start(
    const FlightOptions& options) {
  if (options.budget_bytes < (int64_t{1} << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "flight recorder budget of ", options.budget_bytes, " bytes is not valid: at least 1 MiB"));
  }
  if (options.window_ms < 1 || options.maintenance_ms < 1 || options.slow_step_ms < 0) {
    return absl::InvalidArgumentError(
        "flight recorder window_ms, maintenance_ms must be >= 1 and slow_step_ms >= 0");
  }
  if (options.logdir.empty()) {
    return absl::InvalidArgumentError("flight recorder logdir is empty");
  }
  std::unique_ptr<FlightRecorder> f(new FlightRecorder(options));
  if (pipe2(f->wake_fds_, O_NONBLOCK | O_CLOEXEC) != 0) {
    return ErrnoStatus(errno, "pipe2", "the flight recorder's wake-up pipe");
  }
  RecorderOptions rec;
  rec.ring = true;
  rec.host_level = options.host_level;
  rec.max_events = std::max<int64_t>(1, options.budget_bytes / kBytesPerScope);
  rec.ring_window_ns = options.window_ms * 1000000;
  rec.record_tensors = true;
  if (absl::Status s = StartRecording(rec); !s.ok()) {
    close(f->wake_fds_[0]);
    close(f->wake_fds_[1]);
    f->wake_fds_[0] = f->wake_fds_[1] = -1;
    f->stopped_ = true;
    return s;
  }
  if (options.install_signal_handler && !g_signal_owned.exchange(true)) {
    struct sigaction old {};
    sigaction(SIGUSR2, nullptr, &old);
    const bool free = (old.sa_flags & SA_SIGINFO) == 0 && old.sa_handler == SIG_DFL;
    if (free) {
      struct sigaction sa {};
      sa.sa_handler = &OnSigusr2;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_RESTART;
      g_signal_fd.store(f->wake_fds_[1]);
      g_signals.store(0);
      sigaction(SIGUSR2, &sa, &g_old_sigusr2);
      f->owns_signal_ = true;
    } else {
      g_signal_owned.store(false);
      std::fprintf(stderr,
                   "tbprof: SIGUSR2 already has a handler in this program: the flight recorder "
                   "leaves it alone (dump with tbprof::FlightRecorderDump instead)\n");
    }
  }
  f->thread_ = std::thread([p = f.get()] { p->Run(); });
  return f;
}

FlightRecorder::~FlightRecorder() { Stop(); }

void FlightRecorder::Wake() {
  const char byte = 'w';
  (void)!write(wake_fds_[1], &byte, 1);
}

absl::Status FlightRecorder::RequestDump(DumpTrigger trigger, std::string reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || (stopping_ && trigger != DumpTrigger::kExit)) {
      return absl::FailedPreconditionError("the flight recorder is stopping");
    }
    if (static_cast<int>(queue_.size()) >= kMaxPendingDumps) {
      return absl::ResourceExhaustedError(absl::StrCat(
          kMaxPendingDumps, " flight recorder dumps are already waiting to be written"));
    }
    if (trigger == DumpTrigger::kSlowStep) slow_step_queued_ = true;
    queue_.push_back({trigger, std::move(reason), next_seq_++});
  }
  Wake();
  return absl::OkStatus();
}

bool FlightRecorder::WaitForDumps(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = next_seq_ - 1;
  return done_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                           [&] { return done_seq_ >= target || stopped_; });
}

void FlightRecorder::OnStepEnd(int64_t step, int64_t duration_ns) {
  if (options_.slow_step_ms <= 0) return;
  const int64_t now = MonotonicNs();
  // A slow step waits for the step after it: xprof's overview leaves out the last step of a
  // profile (it may be incomplete), so a dump that ended with the slow step would not show it.
  std::string due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    due = std::move(awaiting_next_);
    awaiting_next_.clear();
  }
  if (!due.empty()) QueueSlowStep(std::move(due), now);
  if (duration_ns <= options_.slow_step_ms * 1000000) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!awaiting_next_.empty()) return;
  awaiting_next_ = absl::StrFormat("step %d took %.1f ms, over TBPROF_SLOW_STEP_MS=%d", step,
                                   static_cast<double>(duration_ns) / 1e6, options_.slow_step_ms);
  // A program that stops stepping (or whose next step is slow too) is dumped anyway.
  awaiting_deadline_ns_ = now + options_.slow_step_ms * 1000000;
}

void FlightRecorder::QueueSlowStep(std::string reason, int64_t now) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // At most one slow-step dump per half window: a slow step within it is dumped when the
    // half window ends (it is still inside the window then), together with later ones.
    if (slow_step_queued_ || now < next_slow_dump_ns_) {
      if (deferred_slow_.empty()) deferred_slow_ = std::move(reason);
      return;
    }
    next_slow_dump_ns_ = now + options_.window_ms * 500000;
  }
  (void)RequestDump(DumpTrigger::kSlowStep, std::move(reason));
}

void FlightRecorder::QueueDeferredSlowStep(bool force) {
  const int64_t now = MonotonicNs();
  std::string due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!awaiting_next_.empty() && (force || now >= awaiting_deadline_ns_)) {
      due = std::move(awaiting_next_);
      awaiting_next_.clear();
    }
  }
  if (!due.empty()) QueueSlowStep(std::move(due), now);
  std::string reason;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (deferred_slow_.empty() || slow_step_queued_) return;
    if (!force && now < next_slow_dump_ns_) return;
    next_slow_dump_ns_ = now + options_.window_ms * 500000;
    reason = std::move(deferred_slow_);
    deferred_slow_.clear();
  }
  (void)RequestDump(DumpTrigger::kSlowStep, std::move(reason));
}

absl::StatusOr<Trace> FlightRecorder::Capture(int64_t last_ms, const std::string& note) {
  Trace trace;
  trace.hostname = Hostname();
  if (absl::Status s = SnapshotRing(&trace); !s.ok()) return s;
  SnapshotFlows(&trace);  // Before KeepLastNs shifts the times.
  KeepLastNs(&trace, last_ms * 1000000);
  trace.warnings.insert(trace.warnings.begin(), note);
  FinalizeCollectedTrace(&trace);
  return trace;
}

void FlightRecorder::HoldHistory(int64_t ms) {
  std::lock_guard<std::mutex> lock(mu_);
  holds_ms_.push_back(ms);
  SetRingWindow(
      std::max(options_.window_ms, *std::max_element(holds_ms_.begin(), holds_ms_.end())) *
      1000000);
}

void FlightRecorder::ReleaseHistory(int64_t ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find(holds_ms_.begin(), holds_ms_.end(), ms);
  if (it != holds_ms_.end()) holds_ms_.erase(it);
  int64_t window = options_.window_ms;
  for (int64_t h : holds_ms_) window = std::max(window, h);
  SetRingWindow(window * 1000000);
}

void FlightRecorder::WriteDump(const Request& request) {
  const std::string stamp =
      absl::FormatTime("%Y-%m-%d %H:%M:%E3S %Z", absl::Now(), absl::LocalTimeZone());
  const std::string note =
      absl::StrCat("tbprof flight recorder dump (", TriggerName(request.trigger),
                   "): ", request.reason, "; the last ", options_.window_ms, " ms up to ", stamp);
  absl::StatusOr<Trace> trace = Capture(options_.window_ms, note);
  absl::StatusOr<std::string> dir = absl::UnknownError("not written");
  if (!trace.ok()) {
    dir = trace.status();
  } else {
    ExportTarget target;
    target.name = "flight";
    target.logdir = options_.logdir;
    target.run_dir =
        options_.run.empty() ? options_.logdir : JoinPath(options_.logdir, options_.run);
    target.graph = false;
    trace->training = IsTrainingExport(target.name, *trace);
    dir = WriteProfileSession(*trace, target);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (dir.ok()) {
    dump_dirs_.push_back(*dir);
    std::fprintf(stderr, "tbprof: flight recorder dump (%s: %s) written to %s\n",
                 TriggerName(request.trigger), request.reason.c_str(), dir->c_str());
  } else {
    ++failed_;
    std::fprintf(stderr, "tbprof: flight recorder dump (%s: %s) failed: %s; recording goes on\n",
                 TriggerName(request.trigger), request.reason.c_str(),
                 dir.status().ToString().c_str());
  }
}

void FlightRecorder::Run() {
  pthread_setname_np(pthread_self(), "tbprof-flight");
  auto next_maintenance = std::chrono::steady_clock::now();
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_maintenance) {
      MaintainRing();
      // Flow marks live beside the ring: keep those of the longest history anyone may ask for.
      int64_t keep_ms = options_.window_ms;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (int64_t hold : holds_ms_) keep_ms = std::max(keep_ms, hold);
      }
      TrimFlowMarks(2 * keep_ms * 1000000);
      next_maintenance = now + std::chrono::milliseconds(options_.maintenance_ms);
    }
    // Wakes for maintenance and at least every 100 ms (deferred slow steps, signals).
    const int timeout = static_cast<int>(std::clamp<int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(next_maintenance - now).count(), 1,
        100));
    pollfd pfd{wake_fds_[0], POLLIN, 0};
    (void)poll(&pfd, 1, timeout);
    char buf[64];
    while (read(wake_fds_[0], buf, sizeof(buf)) > 0) {
    }
    QueueDeferredSlowStep(/*force=*/false);
    if (owns_signal_ && g_signals.exchange(0) > 0) {
      (void)RequestDump(DumpTrigger::kSignal, "SIGUSR2 received");
    }
    while (true) {
      Request request;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (queue_.empty()) break;
        request = std::move(queue_.front());
        queue_.pop_front();
      }
      WriteDump(request);
#if defined(__GLIBC__)
      // A dump's decoding and encoding take memory in proportion to the window; give it back
      // to the system so that a process that runs for months keeps a flat footprint.
      malloc_trim(0);
#endif
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (request.trigger == DumpTrigger::kSlowStep) slow_step_queued_ = false;
        done_seq_ = request.seq;
      }
      done_cv_.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && queue_.empty()) return;
  }
}

void FlightRecorder::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || stopping_) return;
  }
  QueueDeferredSlowStep(/*force=*/true);
  if (options_.dump_at_exit) (void)RequestDump(DumpTrigger::kExit, "the program is exiting");
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  if (owns_signal_) {
    sigaction(SIGUSR2, &g_old_sigusr2, nullptr);
    g_signal_fd.store(-1);
    g_signal_owned.store(false);
    owns_signal_ = false;
  }
  DiscardRecording();
  close(wake_fds_[0]);
  close(wake_fds_[1]);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  done_cv_.notify_all();
}

std::vector<std::string> FlightRecorder::DumpDirs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dump_dirs_;
}

int64_t FlightRecorder::failed_dumps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

// ---- The process's flight recorder ------------------------------------------------------------

namespace {

std::mutex g_process_mu;
std::atomic<FlightRecorder*> g_process{nullptr};  // Never deleted: used from atexit.
std::atomic<bool> g_watch_steps{false};
bool g_process_tried = false;
thread_local int64_t t_step_start_ns = 0;

// The recorder starts the flight recorder once the configuration is read (recorder.h).
[[maybe_unused]] const bool kFlightStarterSet =
    (SetFlightStarter(&StartProcessFlightRecorder), true);

void StopProcessFlightRecorder() {
  g_watch_steps.store(false);
  if (FlightRecorder* f = g_process.load()) f->Stop();
}

// In the child of a fork the flight thread does not exist and the recorder is not recording:
// the child has no flight recorder.
void FlightForkChild() {
  g_process.store(nullptr);
  g_watch_steps.store(false);
}

}  // namespace

FlightRecorder* ProcessFlightRecorder() { return g_process.load(std::memory_order_acquire); }

void StartProcessFlightRecorder() {
  const Config& config = ProcessConfig();
  if (!config.flight) return;
  std::lock_guard<std::mutex> lock(g_process_mu);
  if (g_process_tried) return;
  g_process_tried = true;
  if (config.gpu == GpuMode::kOn) {
    std::fprintf(stderr,
                 "tbprof: TBPROF=flight records the CPU only: TBPROF_GPU=on is ignored (capture "
                 "GPU activity with TBPROF=1)\n");
  }
  absl::StatusOr<std::unique_ptr<FlightRecorder>> f =
      FlightRecorder::Start(FlightOptionsFromConfig(config));
  if (!f.ok()) {
    std::fprintf(stderr, "tbprof: the flight recorder could not start: %s\n",
                 f.status().ToString().c_str());
    return;
  }
  g_process.store(f->release(), std::memory_order_release);
  g_watch_steps.store(config.slow_step_ms > 0);
  pthread_atfork(nullptr, nullptr, &FlightForkChild);
  std::atexit(&StopProcessFlightRecorder);
}

bool FlightWatchesSteps() { return g_watch_steps.load(std::memory_order_relaxed); }

void FlightStepBegin() { t_step_start_ns = MonotonicNs(); }

void FlightStepEnd(int64_t step) {
  if (t_step_start_ns == 0) return;
  const int64_t duration = MonotonicNs() - t_step_start_ns;
  t_step_start_ns = 0;
  if (FlightRecorder* f = ProcessFlightRecorder()) f->OnStepEnd(step, duration);
}

}  // namespace tbprof::internal

namespace tbprof {

absl::Status FlightRecorderDump(std::string_view reason) {
  internal::EnsureInitialized();
  internal::FlightRecorder* f = internal::ProcessFlightRecorder();
  if (f == nullptr) {
    return absl::FailedPreconditionError(
        "no flight recorder is running: set TBPROF=flight before the program starts");
  }
  return f->RequestDump(internal::DumpTrigger::kApi, reason.empty()
                                                         ? std::string("requested by the program")
                                                         : std::string(reason));
}

bool FlightRecorderActive() {
  internal::EnsureInitialized();
  return internal::ProcessFlightRecorder() != nullptr;
}

}  // namespace tbprof
