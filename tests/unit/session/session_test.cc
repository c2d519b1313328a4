#include "src/session/session.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
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

namespace tbprof::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string TestDir(const std::string& leaf) {
  const char* base = std::getenv("TBPROF_TEST_TMPDIR");
  std::string root = base != nullptr ? base : "/tmp/tbprof_session_test";
  std::string dir = JoinPath(root, leaf + "_" + std::to_string(getpid()));
  std::string cmd = "rm -rf '" + dir + "'";
  (void)std::system(cmd.c_str());
  EXPECT_TRUE(MakeDirs(dir).ok());
  return dir;
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
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
  ASSERT_TRUE(TraceOn(Forced(JoinPath(blocker, "sub"))).ok());
  { TBPROF_SCOPE("precious"); }
  absl::Status bad = TraceExport("m", 0);
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.message()), HasSubstr(blocker));  // Names the path.
  // While the trace waits, a new capture is refused.
  EXPECT_EQ(TraceOn(Forced(logdir)).code(), absl::StatusCode::kFailedPrecondition);
  ExportOptions retry;
  retry.logdir = JoinPath(logdir, "ok");
  ASSERT_TRUE(TraceExport("m", 0, retry).ok());
  ASSERT_TRUE(LastExportInfo().has_value());
  EXPECT_EQ(LastExportInfo()->host_events, 1);
  EXPECT_THAT(LastExportInfo()->session_dir, HasSubstr(logdir + "/ok/plugins/profile/"));
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
