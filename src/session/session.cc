#include "src/session/session.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/host/flow.h"
#include "src/host/recorder.h"
#include "src/nvtx/nvtx_tool.h"
#include "src/session/export_steps.h"
#include "src/util/file_util.h"
#include "src/util/strings.h"

namespace tbprof::internal {

bool CudaDriverLoaded() {
  void* handle = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);  // Balances the reference RTLD_NOLOAD took.
  return true;
}

absl::StatusOr<SessionOptions> ResolveSessionOptions(const TraceOptions& options,
                                                     const Config& config) {
  SessionOptions s;
  s.logdir = options.logdir.value_or(config.logdir);
  if (s.logdir.empty()) {
    return absl::InvalidArgumentError("TraceOptions.logdir is empty: expected a directory path");
  }
  s.run = options.run.value_or(config.run);
  if (!s.run.empty()) {
    if (absl::Status st = ValidateRun("TraceOptions.run", s.run); !st.ok()) return st;
  }
  s.host_level = options.host_level.value_or(config.host_level);
  if (absl::Status st = ValidateHostLevel("TraceOptions.host_level", s.host_level); !st.ok()) {
    return st;
  }
  s.max_events = options.max_events.value_or(config.max_events);
  if (absl::Status st = ValidateMaxEvents("TraceOptions.max_events", s.max_events); !st.ok()) {
    return st;
  }
  s.gpu = options.gpu.value_or(config.gpu);
  if (s.gpu != GpuMode::kAuto && s.gpu != GpuMode::kOff && s.gpu != GpuMode::kOn) {
    return absl::InvalidArgumentError("TraceOptions.gpu is not kAuto, kOff or kOn");
  }
  s.graph = options.graph;
  s.profiler = options.profiler;
  s.job = config.ranks;
  return s;
}

namespace {

std::string Cut(std::string_view s) {
  constexpr size_t kMax = 64;
  if (s.size() <= kMax) return std::string(s);
  return absl::StrCat(AsAbsl(s.substr(0, kMax)), "... (", s.size(), " characters)");
}

}  // namespace

absl::Status CheckExportTarget(std::string_view logdir, std::string_view run) {
  constexpr size_t kNameMax = 255;
  for (std::string_view path : {logdir, run}) {
    size_t at = 0;
    while (at <= path.size()) {
      size_t end = path.find('/', at);
      if (end == std::string_view::npos) end = path.size();
      if (end - at > kNameMax) {
        return absl::InvalidArgumentError(absl::StrCat(
            path == run ? "the run name " : "the log directory ", Cut(path), " has a component of ",
            end - at, " bytes: file names are at most ", kNameMax, " bytes"));
      }
      at = end + 1;
    }
  }
  std::string dir = run.empty() ? std::string(logdir) : JoinPath(logdir, run);
  std::string path = dir;
  for (;;) {
    struct stat st;
    if (stat(path.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the log directory ", Cut(dir), " cannot be used: ", Cut(path),
            " is not a directory; set TBPROF_LOGDIR (or TraceOptions.logdir) to a directory"));
      }
      if (access(path.c_str(), W_OK | X_OK) != 0) {
        return absl::FailedPreconditionError(absl::StrCat("the log directory ", Cut(dir),
                                                          " cannot be used: ", Cut(path),
                                                          " is not writable by this user"));
      }
      return absl::OkStatus();
    }
    if (errno != ENOENT) return ErrnoStatus(errno, "stat", path);
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) {
      path = ".";
    } else if (slash == 0) {
      path = "/";
    } else {
      path.resize(slash);
    }
  }
}

Session::Session(SessionOptions options, std::unique_ptr<DeviceSource> device)
    : options_(std::move(options)), device_(std::move(device)) {}

Session::~Session() {
  if (state_ == State::kRecording) Discard();
}

absl::Status Session::Start() {
  if (state_ != State::kIdle) {
    return absl::FailedPreconditionError("this capture session was already started");
  }
  // What exports killed earlier left in this run directory goes first.
  RemoveExportLeftovers(options_.run.empty() ? options_.logdir
                                             : JoinPath(options_.logdir, options_.run));
  RecorderOptions rec;
  rec.host_level = options_.host_level;
  rec.max_events = options_.max_events;
  rec.record_tensors = options_.graph;
  if (absl::Status s = StartRecording(rec); !s.ok()) return s;
  state_ = State::kRecording;

  if (options_.gpu == GpuMode::kOff || device_ == nullptr) {
    device_.reset();
    return absl::OkStatus();
  }
  DeviceSourceOptions dopts;
  dopts.session_start_ns = RecordingStartSample().monotonic_ns;
  dopts.max_buffer_bytes = static_cast<uint64_t>(options_.max_events) * 16;
  absl::Status s = device_->Start(dopts);
  if (s.ok()) {
    device_started_ = true;
    return absl::OkStatus();
  }
  std::string reason = absl::StrCat("GPU tracing unavailable: ", s.message());
  device_.reset();
  if (options_.gpu == GpuMode::kOn) {
    DiscardRecording();
    state_ = State::kDiscarded;
    return absl::FailedPreconditionError(absl::StrCat(
        reason, "; TBPROF_GPU=on requires it (use auto or off to trace the CPU only)"));
  }
  std::string warning = absl::StrCat(reason, "; capturing the CPU only");
  gpu_unavailable_ = warning;
  static std::atomic<bool> printed{false};
  if (!printed.exchange(true)) std::fprintf(stderr, "tbprof: %s\n", warning.c_str());
  return absl::OkStatus();
}

absl::Status Session::Collect() {
  switch (state_) {
    case State::kIdle:
      return absl::FailedPreconditionError("the capture was never started");
    case State::kDiscarded:
      return absl::FailedPreconditionError("the capture was discarded");
    case State::kExported:
    case State::kCollected:
      return absl::OkStatus();
    case State::kRecording:
      break;
  }
  StopRecording();
  trace_ = Trace();
  trace_.hostname = Hostname();
  trace_.rank = options_.job.rank;
  trace_.world_size = options_.job.world_size;
  absl::Status host = CollectHostTrace(&trace_);
  if (host.ok()) {
    nvtx::CollectNvtx(&trace_);
    CollectFlows(&trace_);
  }
  if (device_ != nullptr && device_started_) {
    if (absl::Status s = device_->Stop(); !s.ok()) {
      trace_.warnings.push_back(absl::StrCat("stopping GPU tracing: ", s.ToString()));
    }
    if (absl::Status s = device_->Collect(&trace_); !s.ok()) {
      trace_.warnings.push_back(absl::StrCat("collecting GPU activity: ", s.ToString()));
    }
    device_started_ = false;
  }
  for (const std::string& w : start_warnings_) trace_.warnings.push_back(w);
  // A program that never used CUDA gets no GPU warning in its profile (stderr said it once).
  if (!gpu_unavailable_.empty() && CudaDriverLoaded()) trace_.warnings.push_back(gpu_unavailable_);
  if (!host.ok()) {
    state_ = State::kDiscarded;
    return host;
  }
  FinalizeCollectedTrace(&trace_);
  state_ = State::kCollected;
  return absl::OkStatus();
}

absl::StatusOr<ExportInfo> Session::Export(std::string_view name, int64_t step,
                                           std::string_view logdir, std::string_view run,
                                           std::optional<bool> training) {
  if (state_ == State::kExported) {
    return absl::FailedPreconditionError("this capture was already exported");
  }
  if (absl::Status s = Collect(); !s.ok()) return s;
  if (logdir.empty()) return absl::InvalidArgumentError("export logdir is empty");
  if (!run.empty()) {
    if (absl::Status s = ValidateRun("export run", run); !s.ok()) return s;
  }
  ExportTarget target;
  target.name = std::string(name);
  target.step = step;
  target.logdir = std::string(logdir);
  target.run_dir = run.empty() ? target.logdir : JoinPath(target.logdir, run);
  target.graph = options_.graph;
  target.job = options_.job;

  trace_.training = training.has_value() ? *training : IsTrainingExport(name, trace_);

  ExportInfo info;
  info.name = target.name;
  info.step = step;
  info.logdir = target.logdir;
  // A retry after a failed export skips the stages that already reached this run directory,
  // so it neither makes a second profile session nor repeats the summaries.
  if (partial_export_.run_dir != target.run_dir) {
    partial_export_ = PartialExport{target.run_dir, ""};
  }
  if (options_.profiler) {
    if (partial_export_.session_dir.empty()) {
      absl::StatusOr<std::string> dir = WriteProfileSession(trace_, target);
      if (!dir.ok()) return dir.status();
      partial_export_.session_dir = *dir;
    }
    info.session_dir = partial_export_.session_dir;
    info.xplane_path = JoinPath(info.session_dir, HostFileStem(trace_) + ".xplane.pb");
  }
  if (absl::Status s = WriteEventFile(trace_, target); !s.ok()) return s;

  info.threads = static_cast<int64_t>(trace_.threads.size());
  for (const ThreadTrack& t : trace_.threads) info.host_events += t.events.size();
  info.device_events = static_cast<int64_t>(trace_.device_events.size());
  info.ops = static_cast<int64_t>(trace_.ops.size());
  info.steps = static_cast<int64_t>(trace_.steps.size());
  info.dropped_events =
      static_cast<int64_t>(trace_.dropped_host_events + trace_.dropped_device_events);
  info.warnings = static_cast<int64_t>(trace_.warnings.size());
  info.training = trace_.training;
  state_ = State::kExported;
  return info;
}

void Session::Discard() {
  if (state_ == State::kRecording) {
    if (device_ != nullptr && device_started_) {
      (void)device_->Stop();
      device_started_ = false;
    }
    DiscardRecording();
  }
  trace_ = Trace();
  state_ = State::kDiscarded;
}

}  // namespace tbprof::internal
