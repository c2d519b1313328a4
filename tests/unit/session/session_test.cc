#include "src/session/session.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/config/config.h"
#include "src/export/event_file_reader.h"
#include "src/host/recorder.h"
#include "src/session/export_steps.h"
#include "src/util/file_util.h"
#include "tbprof/annotate.h"
#include "tbprof/trace.h"
#include "tensorflow/event.pb.h"
#include "tensorflow/profiler/xplane.pb.h"
#include "tests/unit/session/test_dirs.h"

namespace tbprof::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

using test_dirs::List;

std::string TestDir(const std::string& leaf) {
  return test_dirs::FreshTestDir("/tmp/tbprof_session_test", leaf);
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// A device source whose Start fails or succeeds on demand; on success it reports one kernel.
class FakeDevice : public DeviceSource {
 public:
  explicit FakeDevice(bool start_ok) : start_ok_(start_ok) {}
  absl::Status Start(const DeviceSourceOptions& options) override {
    start_ns_ = options.session_start_ns;
    if (!start_ok_) return absl::UnavailableError("no GPU in this fake");
    return absl::OkStatus();
  }
  absl::Status Stop() override { return absl::OkStatus(); }
  absl::Status Collect(Trace* trace) override {
    DeviceInfo info;
    info.name = "Fake GPU";
    trace->devices.push_back(info);
    DeviceEvent e;
    e.start_ns = 10;
    e.end_ns = 20;
    e.name = static_cast<NameId>(trace->names.size());
    trace->names.push_back("fake_kernel");
    trace->device_events.push_back(e);
    return absl::OkStatus();
  }
  std::string Describe() const override { return "fake"; }
  int64_t start_ns_ = -1;

 private:
  bool start_ok_;
};

SessionOptions Options(const std::string& logdir, GpuMode gpu = GpuMode::kAuto) {
  SessionOptions o;
  o.logdir = logdir;
  o.gpu = gpu;
  return o;
}

TEST(SessionTest, ExportWritesANewSessionDirectoryEachTime) {
  std::string logdir = TestDir("layout");
  std::vector<std::string> dirs;
  for (int i = 0; i < 3; ++i) {
    Session session(Options(logdir, GpuMode::kOff), nullptr);
    ASSERT_TRUE(session.Start().ok());
    {
      tbprof::StepScope step(i);
      tbprof::NameScope layer("dense");
      TBPROF_OP("MatMul", "MatMul", {}, {});
    }
    absl::StatusOr<ExportInfo> info = session.Export("model", i);
    ASSERT_TRUE(info.ok()) << info.status();
    dirs.push_back(info->session_dir);
    EXPECT_EQ(info->steps, 1);
    EXPECT_EQ(info->ops, 1);
    EXPECT_EQ(info->host_events, 3);
    std::vector<std::string> files = List(info->session_dir);
    ASSERT_EQ(files.size(), 2u);
    EXPECT_THAT(files[0], HasSubstr(".trace.json.gz"));
    EXPECT_THAT(files[1], HasSubstr(".xplane.pb"));
    std::string bytes;
    ASSERT_TRUE(ReadFile(info->xplane_path, &bytes).ok());
    tensorflow::profiler::XSpace space;
    ASSERT_TRUE(space.ParseFromString(bytes));
    EXPECT_EQ(space.hostnames_size(), 1);
  }
  // Three distinct directories, named by local time and the export's name, with a suffix when
  // the second repeats.
  std::vector<std::string> sessions = List(JoinPath(logdir, "plugins/profile"));
  ASSERT_EQ(sessions.size(), 3u);
  for (const std::string& s : sessions) {
    EXPECT_THAT(
        s, MatchesRegex("[0-9]{4}_[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]{2}_model(_[0-9]+)?"));
  }
  EXPECT_NE(dirs[0], dirs[1]);
  EXPECT_NE(dirs[1], dirs[2]);
}

TEST(SessionTest, SessionDirectoryNamesKeepTheTimeFirstAndTheNameReadable) {
  EXPECT_EQ(SessionDirName("2026_01_02_03_04_05", "model_training"),
            "2026_01_02_03_04_05_model_training");
  EXPECT_EQ(SessionDirName("2026_01_02_03_04_05", "a/b c:d"), "2026_01_02_03_04_05_a_b_c_d");
  EXPECT_EQ(SessionDirName("2026_01_02_03_04_05", "../x"), "2026_01_02_03_04_05_x");
  EXPECT_EQ(SessionDirName("2026_01_02_03_04_05", ""), "2026_01_02_03_04_05");
  EXPECT_EQ(SessionDirName("s", std::string(300, 'n')).size(), 102u);
  // Sorted by name is sorted by time, whatever the export's name.
  EXPECT_LT(SessionDirName("2026_01_02_03_04_05", "zzz"),
            SessionDirName("2026_01_02_03_04_06", "a"));
}

TEST(SessionTest, RunSubdirectory) {
  std::string logdir = TestDir("run");
  Session session(Options(logdir, GpuMode::kOff), nullptr);
  ASSERT_TRUE(session.Start().ok());
  { TBPROF_SCOPE("x"); }
  absl::StatusOr<ExportInfo> info = session.Export("m", 0, logdir, "train/a");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->session_dir, HasSubstr(logdir + "/train/a/plugins/profile/"));
}

TEST(SessionTest, UnwritableLogdirKeepsTheTraceForASecondExport) {
  std::string logdir = TestDir("unwritable");
  std::string blocker = JoinPath(logdir, "a_file");
  ASSERT_TRUE(WriteFileAtomically(blocker, "x").ok());
  Session session(Options(logdir, GpuMode::kOff), nullptr);
  ASSERT_TRUE(session.Start().ok());
  { TBPROF_SCOPE("kept"); }
  absl::StatusOr<ExportInfo> bad = session.Export("m", 0, JoinPath(blocker, "logs"), "");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr(blocker));
  EXPECT_EQ(session.state(), Session::State::kCollected);
  absl::StatusOr<ExportInfo> good = session.Export("m", 0, JoinPath(logdir, "good"), "");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->host_events, 1);
  // Exported once: a second export is refused.
  EXPECT_EQ(session.Export("m", 0).status().code(), absl::StatusCode::kFailedPrecondition);
}

// The event files of `dir` (not recursive), decoded.
std::vector<tensorflow::Event> EventsIn(const std::string& dir) {
  std::vector<tensorflow::Event> all;
  for (const std::string& f : List(dir)) {
    if (f.find("tfevents") == std::string::npos) continue;
    absl::StatusOr<std::vector<tensorflow::Event>> events = ReadEventFile(JoinPath(dir, f));
    EXPECT_TRUE(events.ok()) << events.status();
    if (events.ok()) all.insert(all.end(), events->begin(), events->end());
  }
  return all;
}

// Plugin names of all summary values in `events`.
std::vector<std::string> PluginsOf(const std::vector<tensorflow::Event>& events) {
  std::vector<std::string> plugins;
  for (const tensorflow::Event& e : events) {
    for (const auto& v : e.summary().value()) {
      plugins.push_back(v.metadata().plugin_data().plugin_name());
    }
  }
  return plugins;
}

TEST(SessionTest, FailedEventFileStageIsRetriedWithoutASecondProfileSession) {
  std::string logdir = TestDir("retry_events");
  Session session(Options(logdir, GpuMode::kOff), nullptr);
  ASSERT_TRUE(session.Start().ok());
  {
    tbprof::StepScope step(0);
    TBPROF_OP("MatMul", "MatMul", {}, {});
  }
  // A tag that is not UTF-8 fails the event-file stage after the profile was written.
  absl::StatusOr<ExportInfo> bad = session.Export("bad\xff", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(List(JoinPath(logdir, "plugins/profile")).size(), 1u);
  absl::StatusOr<ExportInfo> good = session.Export("model", 0);
  ASSERT_TRUE(good.ok()) << good.status();
  std::vector<std::string> sessions = List(JoinPath(logdir, "plugins/profile"));
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(good->session_dir, JoinPath(logdir, "plugins/profile/" + sessions[0]));
  EXPECT_THAT(PluginsOf(EventsIn(logdir)), ::testing::Contains("graph_run_metadata"));
}

// Counts of each plugin name in `events`.
std::map<std::string, int> PluginCounts(const std::vector<tensorflow::Event>& events) {
  std::map<std::string, int> counts;
  for (const std::string& p : PluginsOf(events)) ++counts[p];
  return counts;
}

// A file-size limit stands in for a full disk: writes beyond it fail (EFBIG) part-way.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit lim = old_;
    lim.rlim_cur = bytes;
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_;
  sighandler_t old_handler_;
};

TEST(SessionTest, RetryAfterAFullDiskWritesEachEventRecordOnce) {
  std::string logdir = TestDir("full_disk_retry");
  SessionOptions options = Options(logdir, GpuMode::kOff);
  options.profiler = false;  // Only the event file: the limit hits it part-way.
  Session session(options, nullptr);
  ASSERT_TRUE(session.Start().ok());
  constexpr int kSteps = 40;
  for (int i = 0; i < kSteps; ++i) {
    tbprof::StepScope step(i);
    TBPROF_OP("MatMul", "MatMul", {}, {});
  }
  {
    FileSizeLimit limit(600);
    absl::StatusOr<ExportInfo> bad = session.Export("model", 0);
    ASSERT_FALSE(bad.ok());
  }
  absl::StatusOr<ExportInfo> good = session.Export("model", 0);
  ASSERT_TRUE(good.ok()) << good.status();
  std::vector<tensorflow::Event> events = EventsIn(logdir);
  std::map<std::string, int> counts = PluginCounts(events);
  EXPECT_EQ(counts["graph_run_metadata"], 1);
  EXPECT_EQ(counts["text"], 1);
  EXPECT_EQ(counts["scalars"], kSteps);
  // The file-version record, then exactly one export's records.
  EXPECT_EQ(events.size(), 1u + 1u + 1u + kSteps);
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// What TensorBoard and xprof would list under `logdir` must be whole: every profile session
// directory holds its two files and nothing else, every event file holds a record after the
// file-version record. Returns the first violation, or "".
std::string CheckReaderView(const std::string& logdir) {
  for (const std::string& session : List(JoinPath(logdir, "plugins/profile"))) {
    std::vector<std::string> files = List(JoinPath(logdir, "plugins/profile/" + session));
    if (files.size() != 2 || files[0].find(".trace.json.gz") == std::string::npos ||
        files[1].find(".xplane.pb") == std::string::npos) {
      return "session directory " + session + " holds " + std::to_string(files.size()) +
             " entries, first: " + (files.empty() ? std::string("none") : files[0]);
    }
  }
  for (const std::string& f : List(logdir)) {
    if (f.find("tfevents") == std::string::npos) continue;
    std::string bytes;
    if (!ReadFile(JoinPath(logdir, f), &bytes).ok()) return "cannot read " + f;
    if (bytes.size() < 16) return "empty event file " + f;
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[i]);
    if (bytes.size() <= length + 16) return "event file without a record: " + f;
  }
  return "";
}

TEST(SessionTest, KilledExportsLeaveNothingAReaderListsAndTheNextStartCleansUp) {
  std::string logdir = TestDir("killed_exports");
  unsigned seed = 15;
  int temps_seen = 0;
  for (int round = 0; round < 40; ++round) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int i = 0;; ++i) {
        Session session(Options(logdir, GpuMode::kOff), nullptr);
        if (!session.Start().ok()) _exit(2);
        for (int k = 0; k < 200; ++k) {
          tbprof::StepScope step(k);
          TBPROF_OP("MatMul", "MatMul", {}, {});
        }
        (void)session.Export("model", i);
      }
    }
    usleep(static_cast<useconds_t>(rand_r(&seed) % 40000));
    kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "round " << round << ": child exited " << status;
    std::string problem = CheckReaderView(logdir);
    ASSERT_EQ(problem, "") << "after kill " << round;
    for (const std::string& dir : {logdir, JoinPath(logdir, "plugins")}) {
      for (const std::string& f : List(dir)) temps_seen += StartsWith(f, ".tbprof-tmp.") ? 1 : 0;
    }
  }
  // The next capture's start removes the leftovers of the killed processes.
  Session session(Options(logdir, GpuMode::kOff), nullptr);
  ASSERT_TRUE(session.Start().ok());
  session.Discard();
  for (const std::string& dir : {logdir, JoinPath(logdir, "plugins")}) {
    for (const std::string& f : List(dir)) EXPECT_FALSE(StartsWith(f, ".tbprof-tmp.")) << f;
  }
  EXPECT_GE(List(JoinPath(logdir, "plugins/profile")).size(), 1u);
  std::printf("temporary entries left by kills (then removed): %d\n", temps_seen);
}

TEST(SessionTest, LeftoversOfOlderVersionsAreRemovedForDeadProcessesOnly) {
  std::string logdir = TestDir("old_leftovers");
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_EQ(waitpid(dead, nullptr, 0), dead);
  const std::string d = std::to_string(dead);
  const std::string root = JoinPath(logdir, "plugins/profile");
  ASSERT_TRUE(MakeDirs(JoinPath(root, "2026_01_01_00_00_00")).ok());
  ASSERT_TRUE(MakeDirs(JoinPath(root, "2026_01_01_00_00_01")).ok());
  ASSERT_TRUE(
      WriteFileAtomically(JoinPath(root, "2026_01_01_00_00_00/h.xplane.pb.tmp." + d), "x").ok());
  ASSERT_TRUE(
      WriteFileAtomically(
          JoinPath(root, "2026_01_01_00_00_01/h.xplane.pb.tmp." + std::to_string(getpid())), "x")
          .ok());
  const std::string empty_events =
      JoinPath(logdir, "events.out.tfevents.1700000000." + Hostname() + "." + d + ".tbprof");
  ASSERT_TRUE(WriteFileAtomically(empty_events, "").ok());
  Session session(Options(logdir, GpuMode::kOff), nullptr);
  ASSERT_TRUE(session.Start().ok());
  session.Discard();
  EXPECT_FALSE(Exists(JoinPath(root, "2026_01_01_00_00_00")));
  EXPECT_FALSE(Exists(empty_events));
  EXPECT_TRUE(Exists(JoinPath(root, "2026_01_01_00_00_01")));  // A live process's: kept.
}

TEST(SessionTest, ExportTargetsThatCannotWorkAreFoundBeforeTheCapture) {
  std::string logdir = TestDir("check_target");
  EXPECT_TRUE(CheckExportTarget(logdir, "").ok());
  EXPECT_TRUE(CheckExportTarget(JoinPath(logdir, "new/deeper"), "train/eval").ok());
  absl::Status long_run = CheckExportTarget(logdir, std::string(300, 'r'));
  EXPECT_EQ(long_run.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(long_run.message()), HasSubstr("300 bytes"));
  EXPECT_LT(long_run.message().size(), 300u);  // The value is cut, not echoed whole.
  absl::Status dev_null = CheckExportTarget("/dev/null", "");
  EXPECT_EQ(dev_null.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(dev_null.message()), HasSubstr("/dev/null is not a directory"));
  EXPECT_EQ(CheckExportTarget("/dev/null/sub", "run").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SessionTest, WithoutGraphTheEventFileHasNoGraph) {
  std::string logdir = TestDir("no_graph");
  SessionOptions options = Options(logdir, GpuMode::kOff);
  options.graph = false;
  Session session(options, nullptr);
  ASSERT_TRUE(session.Start().ok());
  {
    tbprof::StepScope step(0);
    TBPROF_OP("MatMul", "MatMul", {}, {});
  }
  absl::StatusOr<ExportInfo> info = session.Export("model", 0);
  ASSERT_TRUE(info.ok()) << info.status();
  std::vector<std::string> plugins = PluginsOf(EventsIn(logdir));
  EXPECT_THAT(plugins, ::testing::Not(::testing::Contains("graph_run_metadata")));
  EXPECT_THAT(plugins, ::testing::Contains("text"));  // The model summary is still written.
}

// A program that never used CUDA: GPU tracing under kAuto is quietly off (one stderr line at
// most), with no warning in the profile.
TEST(SessionTest, GpuAutoWithoutCudaIsNoWarning) {
  ASSERT_FALSE(CudaDriverLoaded()) << "this test process must not load libcuda";
  std::string logdir = TestDir("gpu_auto");
  Session session(Options(logdir, GpuMode::kAuto), std::make_unique<FakeDevice>(false));
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(session.Start().ok());
  std::string err = ::testing::internal::GetCapturedStderr();
  { TBPROF_SCOPE("cpu_only"); }
  ASSERT_TRUE(session.Collect().ok());
  const Trace& t = session.trace();
  EXPECT_TRUE(t.warnings.empty()) << t.warnings[0];
  EXPECT_TRUE(t.device_events.empty());
  EXPECT_FALSE(t.threads.empty());
  // Printed once per process at most, on one line.
  if (!err.empty()) {
    EXPECT_THAT(err, HasSubstr("no GPU in this fake"));
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
  }
}

// A program that uses CUDA (the driver library is loaded, here by the time of collection) and
// gets no GPU tracing is warned in the profile.
TEST(SessionTest, GpuAutoFallsBackToCpuWithAWarningWhenCudaIsUsed) {
  std::string logdir = TestDir("gpu_auto_cuda");
  Session session(Options(logdir, GpuMode::kAuto), std::make_unique<FakeDevice>(false));
  ASSERT_TRUE(session.Start().ok());
  void* libcuda = dlopen(TBPROF_FAKE_LIBCUDA, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(libcuda, nullptr) << dlerror();
  EXPECT_TRUE(CudaDriverLoaded());
  { TBPROF_SCOPE("cpu_only"); }
  ASSERT_TRUE(session.Collect().ok());
  const Trace& t = session.trace();
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_THAT(t.warnings[0], HasSubstr("no GPU in this fake"));
  EXPECT_THAT(t.warnings[0], HasSubstr("CPU only"));
  dlclose(libcuda);
}

TEST(SessionTest, GpuOnFailsAndLeavesTracingOff) {
  std::string logdir = TestDir("gpu_on");
  Session session(Options(logdir, GpuMode::kOn), std::make_unique<FakeDevice>(false));
  absl::Status s = session.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("no GPU in this fake"));
  EXPECT_FALSE(IsRecording());
  EXPECT_EQ(g_trace_state.load() & kStateLevelMask, 0u);
  // Another session can start afterwards.
  Session next(Options(logdir, GpuMode::kOff), nullptr);
  EXPECT_TRUE(next.Start().ok());
}

TEST(SessionTest, DeviceSourceEventsAreCollected) {
  std::string logdir = TestDir("gpu_fake");
  auto device = std::make_unique<FakeDevice>(true);
  FakeDevice* raw = device.get();
  Session session(Options(logdir, GpuMode::kOn), std::move(device));
  ASSERT_TRUE(session.Start().ok());
  EXPECT_EQ(raw->start_ns_, RecordingStartSample().monotonic_ns);
  ASSERT_TRUE(session.Collect().ok());
  ASSERT_EQ(session.trace().device_events.size(), 1u);
  EXPECT_EQ(session.trace().devices.at(0).name, "Fake GPU");
}

TEST(SessionTest, OnlyOneSessionRecordsAtATime) {
  Session a(Options("/tmp/unused", GpuMode::kOff), nullptr);
  Session b(Options("/tmp/unused", GpuMode::kOff), nullptr);
  ASSERT_TRUE(a.Start().ok());
  EXPECT_EQ(b.Start().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(a.Start().code(), absl::StatusCode::kFailedPrecondition);
  a.Discard();
  EXPECT_TRUE(b.Start().ok());
  b.Discard();
  EXPECT_EQ(Session(Options("x"), nullptr).Collect().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SessionTest, ResolveOptionsValidates) {
  Config c;
  TraceOptions o;
  o.host_level = 5;
  EXPECT_EQ(ResolveSessionOptions(o, c).status().code(), absl::StatusCode::kInvalidArgument);
  o = TraceOptions();
  o.max_events = 0;
  EXPECT_EQ(ResolveSessionOptions(o, c).status().code(), absl::StatusCode::kInvalidArgument);
  o = TraceOptions();
  o.run = "../x";
  EXPECT_EQ(ResolveSessionOptions(o, c).status().code(), absl::StatusCode::kInvalidArgument);
  o = TraceOptions();
  o.logdir = "";
  EXPECT_EQ(ResolveSessionOptions(o, c).status().code(), absl::StatusCode::kInvalidArgument);
  c.logdir = "from_env";
  c.host_level = 1;
  absl::StatusOr<SessionOptions> s = ResolveSessionOptions(TraceOptions(), c);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->logdir, "from_env");
  EXPECT_EQ(s->host_level, 1);
}

// ---- Public API (tbprof/trace.h) ---------------------------------------------------------------

class TraceApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config c;  // TBPROF unset.
    c.gpu = GpuMode::kOff;
    SetProcessConfig(c);
    ApplyProcessConfig();
  }
  void TearDown() override {
    (void)TraceOff();
    SetProcessConfig(Config());
    ApplyProcessConfig();
  }
  TraceOptions Forced(const std::string& logdir) {
    TraceOptions o;
    o.force = true;
    o.logdir = logdir;
    o.gpu = GpuMode::kOff;
    return o;
  }
};

TEST_F(TraceApiTest, CallsDoNothingUnlessEnabledOrForced) {
  EXPECT_TRUE(TraceOn().ok());
  EXPECT_FALSE(IsRecording());
  { TBPROF_SCOPE("ignored"); }
  EXPECT_TRUE(TraceExport("m", 0).ok());
  EXPECT_TRUE(TraceOff().ok());
}

TEST_F(TraceApiTest, ForcedTraceOnAndExport) {
  std::string logdir = TestDir("api_forced");
  ASSERT_TRUE(TraceOn(Forced(logdir)).ok());
  EXPECT_TRUE(IsRecording());
  EXPECT_EQ(TraceOn(Forced(logdir)).code(), absl::StatusCode::kFailedPrecondition);
  { TBPROF_SCOPE("work"); }
  ASSERT_TRUE(TraceExport("m", 3).ok());
  std::optional<ExportInfo> info = LastExportInfo();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->name, "m");
  EXPECT_EQ(info->step, 3);
  EXPECT_EQ(info->host_events, 1);
  EXPECT_TRUE(Exists(info->xplane_path));
  // Twice: nothing left to export.
  EXPECT_EQ(TraceExport("m", 3).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TraceApiTest, ExportWithoutTraceOnFailsOnceTracingIsInUse) {
  Config c;
  c.enabled = true;
  c.gpu = GpuMode::kOff;
  SetProcessConfig(c);
  absl::Status s = TraceExport("m", 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("TraceOn"));
}

TEST_F(TraceApiTest, FailedExportKeepsTraceUntilRetriedWithAnotherLogdir) {
  std::string logdir = TestDir("api_retry");
  std::string blocker = JoinPath(logdir, "file");
  ASSERT_TRUE(WriteFileAtomically(blocker, "x").ok());
  // A log directory that cannot work is refused at TraceOn, naming the path.
  absl::Status refused = TraceOn(Forced(JoinPath(blocker, "sub")));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()), HasSubstr(blocker));
  // One that breaks after TraceOn fails the export instead.
  ASSERT_TRUE(TraceOn(Forced(JoinPath(logdir, "later_a_file"))).ok());
  ASSERT_TRUE(WriteFileAtomically(JoinPath(logdir, "later_a_file"), "x").ok());
  { TBPROF_SCOPE("precious"); }
  absl::Status bad = TraceExport("m", 0);
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.message()), HasSubstr("later_a_file"));  // Names the path.
  // While the trace waits, a new capture is refused.
  EXPECT_EQ(TraceOn(Forced(logdir)).code(), absl::StatusCode::kFailedPrecondition);
  ExportOptions retry;
  retry.logdir = JoinPath(logdir, "ok");
  ASSERT_TRUE(TraceExport("m", 0, retry).ok());
  ASSERT_TRUE(LastExportInfo().has_value());
  EXPECT_EQ(LastExportInfo()->host_events, 1);
  EXPECT_THAT(LastExportInfo()->session_dir, HasSubstr(logdir + "/ok/plugins/profile/"));
}

TEST_F(TraceApiTest, TraceOnRefusesARunNameTooLongForTheFileSystem) {
  std::string logdir = TestDir("api_long_run");
  TraceOptions options = Forced(logdir);
  options.run = std::string(300, 'x');
  absl::Status s = TraceOn(options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(IsRecording());
}

TEST_F(TraceApiTest, StepsCaptureIntoDevNullIsTurnedOffWithOneLine) {
  Config c;
  c.enabled = true;
  c.gpu = GpuMode::kOff;
  c.logdir = "/dev/null";
  c.has_steps = true;
  c.steps_first = 1;
  c.steps_last = 2;
  SetProcessConfig(c);
  ApplyProcessConfig();
  std::optional<ExportInfo> before = LastExportInfo();
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 4; ++i) {
    tbprof::StepScope step(i);
    EXPECT_FALSE(IsRecording());
  }
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("TBPROF_STEPS capture is off"));
  EXPECT_THAT(err, HasSubstr("/dev/null"));
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(LastExportInfo().has_value(), before.has_value());
}

// Runs signal_child with `env`, sends `sig` once it records; returns its wait status and
// stderr.
int RunSignalChild(const std::string& logdir, int sig, const std::vector<std::string>& env,
                   std::string* err) {
  int out[2];
  if (pipe(out) != 0) return -1;
  const std::string err_path = logdir + ".stderr";
  std::vector<std::string> args = {TBPROF_SIGNAL_CHILD, logdir};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_copy = env;
  std::vector<char*> envp;
  for (std::string& e : env_copy) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t child = fork();
  if (child == 0) {
    dup2(out[1], 1);
    int fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(out[0]);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  std::string got;
  char buf[64];
  while (got.find("ready") == std::string::npos) {
    ssize_t n = read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  kill(child, sig);
  int status = 0;
  waitpid(child, &status, 0);
  (void)ReadFile(err_path, err);
  return status;
}

TEST(SignalTest, SigintDuringACaptureWritesItAndEndsTheProgramWithTheSignal) {
  for (int sig : {SIGINT, SIGTERM}) {
    std::string logdir = TestDir(std::string("signal_") + std::to_string(sig));
    std::string err;
    int status = RunSignalChild(logdir, sig, {}, &err);
    ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status << ": " << err;
    EXPECT_EQ(WTERMSIG(status), sig);
    EXPECT_THAT(err, HasSubstr(sig == SIGINT ? "SIGINT during a capture: wrote"
                                             : "SIGTERM during a capture: wrote"));
    std::vector<std::string> sessions = List(JoinPath(logdir, "plugins/profile"));
    ASSERT_EQ(sessions.size(), 1u) << err;
    EXPECT_EQ(List(JoinPath(logdir, "plugins/profile/" + sessions[0])).size(), 2u);
    EXPECT_THAT(PluginsOf(EventsIn(logdir)), ::testing::Contains("text"));
  }
}

TEST(SignalTest, TbprofSignalsZeroLeavesTheSignalAlone) {
  std::string logdir = TestDir("signal_off");
  std::string err;
  int status = RunSignalChild(logdir, SIGINT, {"TBPROF_SIGNALS=0"}, &err);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_FALSE(Exists(JoinPath(logdir, "plugins")));
  EXPECT_EQ(err, "");
}

TEST_F(TraceApiTest, ConcurrentExportsOneWinsNoCrash) {
  std::string logdir = TestDir("api_concurrent");
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(TraceOn(Forced(logdir)).ok());
    { TBPROF_SCOPE("w"); }
    std::atomic<int> ok{0}, precondition{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&] {
        absl::Status s = TraceExport("m", 0);
        if (s.ok()) ++ok;
        if (s.code() == absl::StatusCode::kFailedPrecondition) ++precondition;
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(precondition.load(), 1);
  }
}

TEST_F(TraceApiTest, TraceOffDiscards) {
  std::string logdir = TestDir("api_off");
  ASSERT_TRUE(TraceOn(Forced(logdir)).ok());
  ASSERT_TRUE(TraceOff().ok());
  EXPECT_FALSE(IsRecording());
  EXPECT_FALSE(Exists(JoinPath(logdir, "plugins")));
  EXPECT_TRUE(TraceOff().ok());
}

TEST_F(TraceApiTest, BadOptionIsInvalidArgument) {
  TraceOptions o = Forced("/tmp/x");
  o.host_level = 0;
  EXPECT_EQ(TraceOn(o).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(IsRecording());
}

TEST_F(TraceApiTest, ScopedTraceExportsOnDestruction) {
  std::string logdir = TestDir("api_scoped");
  absl::Status status = absl::UnknownError("not set");
  {
    ScopedTrace trace("scoped", 1, Forced(logdir), &status);
    EXPECT_TRUE(trace.status().ok());
    TBPROF_SCOPE("inside");
  }
  EXPECT_TRUE(status.ok()) << status;
  ASSERT_TRUE(LastExportInfo().has_value());
  EXPECT_EQ(LastExportInfo()->name, "scoped");
}

TEST_F(TraceApiTest, StepsCaptureStartsAtAAndExportsAtTheEndOfB) {
  std::string logdir = TestDir("api_steps");
  Config c;
  c.enabled = true;
  c.has_steps = true;
  c.steps_first = 2;
  c.steps_last = 4;
  c.logdir = logdir;
  c.gpu = GpuMode::kOff;
  SetProcessConfig(c);
  ApplyProcessConfig();
  ::testing::internal::CaptureStderr();
  for (int64_t step = 0; step < 8; ++step) {
    StepScope s(step);
    TBPROF_SCOPE("body");
    if (step == 3) EXPECT_TRUE(IsRecording());
    if (step < 2 || step > 4) EXPECT_FALSE(IsRecording());
  }
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("captured steps 2..4"));
  std::optional<ExportInfo> info = LastExportInfo();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->name, "steps_2_4");
  EXPECT_EQ(info->step, 4);
  EXPECT_EQ(info->steps, 3);
  EXPECT_EQ(info->host_events, 6);
  EXPECT_THAT(info->session_dir, HasSubstr(logdir));
  // Captured once: later steps in range do not start another capture.
  { StepScope again(3); }
  EXPECT_FALSE(IsRecording());
}

TEST_F(TraceApiTest, ForkDuringACaptureGivesAChildThatCanCaptureOnItsOwn) {
  std::string logdir = TestDir("api_fork");
  ASSERT_TRUE(TraceOn(Forced(JoinPath(logdir, "parent"))).ok());
  std::atomic<bool> stop{false};
  std::atomic<int64_t> recorded{0};
  std::thread busy([&] {
    SetThreadName("busy");
    while (!stop.load()) {
      TBPROF_SCOPE("busy_scope");
      ++recorded;
    }
  });
  while (recorded.load() < 1000) {
  }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: the parent's capture is not continued; a new one works.
    int code = 0;
    if (IsRecording()) code |= 1;
    if (!TraceOn(Forced(JoinPath(logdir, "child"))).ok()) code |= 2;
    { TBPROF_SCOPE("child_scope"); }
    if (!TraceExport("child", 0).ok()) code |= 4;
    std::optional<ExportInfo> info = LastExportInfo();
    if (!info.has_value() || info->host_events != 1) code |= 8;
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  stop.store(true);
  busy.join();
  ASSERT_TRUE(TraceExport("parent", 0).ok());
  std::optional<ExportInfo> info = LastExportInfo();
  ASSERT_TRUE(info.has_value());
  EXPECT_GE(info->host_events, 1000);
  EXPECT_THAT(info->session_dir, HasSubstr("/parent/"));
}

}  // namespace
}  // namespace tbprof::internal
