// The flight recorder: each dump trigger, dumps that overlap (requested while one is written, a
// signal during an export, a dump at stop), and the trimming of a snapshot to its last
// milliseconds.
#include "src/session/flight_recorder.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/host/flow.h"
#include "src/host/recorder.h"
#include "src/util/file_util.h"
#include "tbprof/annotate.h"
#include "tbprof/flow.h"
#include "tests/unit/session/test_dirs.h"

namespace tbprof::internal {
namespace {

using ::testing::HasSubstr;

using test_dirs::List;

std::string TestDir(const std::string& leaf) {
  return test_dirs::FreshTestDir("/tmp/tbprof_flight_test", leaf);
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A session directory is complete: exactly the xplane and the Chrome trace, no temporary file.
// Returns the xplane's bytes.
std::string ExpectCompleteSession(const std::string& dir) {
  std::vector<std::string> files = List(dir);
  EXPECT_EQ(files.size(), 2u) << dir;
  std::string xplane;
  for (const std::string& f : files) {
    const bool known =
        f.size() > 10 && (f.ends_with(".xplane.pb") || f.ends_with(".trace.json.gz"));
    EXPECT_TRUE(known) << "unexpected file " << f << " in " << dir;
    if (f.ends_with(".xplane.pb")) xplane = Read(JoinPath(dir, f));
  }
  EXPECT_FALSE(xplane.empty()) << dir;
  return xplane;
}

// Every directory under <logdir>/plugins/profile is complete; returns how many there are.
size_t ExpectAllSessionsComplete(const std::string& logdir) {
  const std::string root = JoinPath(JoinPath(logdir, "plugins"), "profile");
  std::vector<std::string> sessions = List(root);
  for (const std::string& s : sessions) ExpectCompleteSession(JoinPath(root, s));
  return sessions.size();
}

bool WaitFor(const std::function<bool()>& done, int timeout_ms = 30000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class FlightRecorderTest : public ::testing::Test {
 protected:
  void TearDown() override {
    flight_.reset();
    DiscardRecording();
  }
  void Start(const std::string& leaf, FlightOptions o = {}) {
    logdir_ = TestDir(leaf);
    o.logdir = logdir_;
    o.budget_bytes = 4 << 20;
    if (o.window_ms == kDefaultFlightWindowMs) o.window_ms = 10000;
    absl::StatusOr<std::unique_ptr<FlightRecorder>> f = FlightRecorder::Start(o);
    ASSERT_TRUE(f.ok()) << f.status();
    flight_ = *std::move(f);
  }
  // A thread that records scopes until the test ends.
  void StartWriter() {
    writer_ = std::thread([this] {
      SetThreadName("writer");
      while (!stop_.load()) {
        TBPROF_SCOPE("work");
        for (int i = 0; i < 100; ++i) asm volatile("" ::: "memory");
        written_.fetch_add(1);
      }
    });
    WaitFor([this] { return written_.load() > 1000; });
  }
  void StopWriter() {
    stop_ = true;
    if (writer_.joinable()) writer_.join();
  }
  ~FlightRecorderTest() override { StopWriter(); }

  std::string logdir_;
  std::unique_ptr<FlightRecorder> flight_;
  std::thread writer_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> written_{0};
};

TEST_F(FlightRecorderTest, ApiDumpIsACompleteSessionWithItsReason) {
  Start("api");
  StartWriter();
  ASSERT_TRUE(flight_->RequestDump(DumpTrigger::kApi, "checking the api trigger").ok());
  ASSERT_TRUE(flight_->WaitForDumps(30000));
  std::vector<std::string> dirs = flight_->DumpDirs();
  ASSERT_EQ(dirs.size(), 1u);
  std::string xplane = ExpectCompleteSession(dirs[0]);
  EXPECT_THAT(xplane, HasSubstr("tbprof flight recorder dump (FlightRecorderDump): checking the "
                                "api trigger"));
  EXPECT_THAT(xplane, HasSubstr("writer"));
  // Recording went on during and after the dump.
  const int64_t before = written_.load();
  EXPECT_TRUE(WaitFor([&] { return written_.load() > before + 1000; }));
  EXPECT_TRUE(IsRecording());
}

TEST_F(FlightRecorderTest, SigusrTwoDumps) {
  Start("signal");
  StartWriter();
  ASSERT_EQ(raise(SIGUSR2), 0);  // Would end the process without the flight recorder's handler.
  ASSERT_TRUE(WaitFor([&] { return flight_->DumpDirs().size() == 1; }));
  EXPECT_THAT(ExpectCompleteSession(flight_->DumpDirs()[0]), HasSubstr("(SIGUSR2)"));
  // Stopping gives SIGUSR2 its previous disposition back.
  flight_->Stop();
  struct sigaction now {};
  sigaction(SIGUSR2, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST_F(FlightRecorderTest, AProgramsOwnSigusrTwoHandlerIsLeftAlone) {
  struct sigaction mine {
  }, old{};
  mine.sa_handler = [](int) {};
  sigaction(SIGUSR2, &mine, &old);
  Start("own_handler");
  struct sigaction now {};
  sigaction(SIGUSR2, nullptr, &now);
  EXPECT_EQ(now.sa_handler, mine.sa_handler);
  flight_->Stop();
  sigaction(SIGUSR2, &old, nullptr);
}

TEST_F(FlightRecorderTest, DumpsRequestedWhileOneIsWrittenAreAllWritten) {
  Start("overlap");
  StartWriter();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(flight_->RequestDump(DumpTrigger::kApi, "dump " + std::to_string(i)).ok());
  }
  ASSERT_TRUE(flight_->WaitForDumps(60000));
  std::vector<std::string> dirs = flight_->DumpDirs();
  ASSERT_EQ(dirs.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(ExpectCompleteSession(dirs[i]), HasSubstr("dump " + std::to_string(i)));
  }
  EXPECT_EQ(ExpectAllSessionsComplete(logdir_), 3u);
  EXPECT_EQ(flight_->failed_dumps(), 0);
}

TEST_F(FlightRecorderTest, TooManyPendingDumpsAreRefusedNotQueued) {
  Start("pending");
  StartWriter();
  int accepted = 0, refused = 0;
  for (int i = 0; i < 3 * kMaxPendingDumps; ++i) {
    absl::Status s = flight_->RequestDump(DumpTrigger::kApi, "flood");
    if (s.ok()) {
      ++accepted;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
  ASSERT_TRUE(flight_->WaitForDumps(120000));
  EXPECT_EQ(static_cast<int>(flight_->DumpDirs().size()), accepted);
  EXPECT_EQ(ExpectAllSessionsComplete(logdir_), static_cast<size_t>(accepted));
}

TEST_F(FlightRecorderTest, SignalsDuringAnExportGiveOneMoreCompleteDump) {
  Start("signal_during_export");
  StartWriter();
  ASSERT_TRUE(flight_->RequestDump(DumpTrigger::kApi, "first").ok());
  // The flight thread is decoding or writing "first" now (or about to): signals meanwhile
  // only set the flag.
  for (int i = 0; i < 5; ++i) ASSERT_EQ(raise(SIGUSR2), 0);
  ASSERT_TRUE(WaitFor([&] { return flight_->DumpDirs().size() >= 2; }));
  flight_->Stop();
  std::vector<std::string> dirs = flight_->DumpDirs();
  ASSERT_GE(dirs.size(), 2u);
  EXPECT_LE(dirs.size(), 3u);  // The five signals were folded (at most one during the first).
  EXPECT_THAT(ExpectCompleteSession(dirs[0]), HasSubstr("first"));
  EXPECT_THAT(ExpectCompleteSession(dirs[1]), HasSubstr("(SIGUSR2)"));
  EXPECT_EQ(ExpectAllSessionsComplete(logdir_), dirs.size());
}

TEST_F(FlightRecorderTest, SlowStepIsDumpedWithTheStepInside) {
  FlightOptions o;
  o.slow_step_ms = 50;
  Start("slow_step", o);
  for (int64_t step = 0; step < 5; ++step) {
    StepScope s(step);
    TBPROF_SCOPE("step_body");
    flight_->OnStepEnd(step, step == 3 ? 80000000 : 1000000);
  }
  ASSERT_TRUE(WaitFor([&] { return flight_->DumpDirs().size() == 1; }));
  EXPECT_THAT(ExpectCompleteSession(flight_->DumpDirs()[0]),
              HasSubstr("(slow step): step 3 took 80.0 ms, over TBPROF_SLOW_STEP_MS=50"));
  // Another slow step within the half window is deferred, then dumped at stop.
  flight_->OnStepEnd(7, 90000000);
  EXPECT_EQ(flight_->DumpDirs().size(), 1u);
  flight_->Stop();
  ASSERT_EQ(flight_->DumpDirs().size(), 2u);
  EXPECT_THAT(ExpectCompleteSession(flight_->DumpDirs()[1]), HasSubstr("step 7 took 90.0 ms"));
}

// xprof's overview leaves out a profile's last step: the dump waits for the step after the
// slow one, so both are inside it.
TEST_F(FlightRecorderTest, SlowStepWaitsForTheNextStep) {
  FlightOptions o;
  o.slow_step_ms = 400;
  Start("slow_then_next", o);
  {
    StepScope s(3);
    TBPROF_SCOPE("slow_body");
  }
  flight_->OnStepEnd(3, 500000000);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(flight_->DumpDirs().empty()) << "dumped before the next step ended";
  {
    StepScope s(4);
    TBPROF_SCOPE("next_body");
  }
  flight_->OnStepEnd(4, 1000000);
  ASSERT_TRUE(WaitFor([&] { return flight_->DumpDirs().size() == 1; }));
  const std::string text = ExpectCompleteSession(flight_->DumpDirs()[0]);
  EXPECT_THAT(text, HasSubstr("step 3 took 500.0 ms"));
  EXPECT_THAT(text, HasSubstr("slow_body"));
  EXPECT_THAT(text, HasSubstr("next_body"));
}

// No step after the slow one: it is dumped slow_step_ms later all the same.
TEST_F(FlightRecorderTest, SlowLastStepIsDumpedAfterTheThreshold) {
  FlightOptions o;
  o.slow_step_ms = 100;
  Start("slow_last", o);
  {
    StepScope s(9);
    TBPROF_SCOPE("last_body");
  }
  flight_->OnStepEnd(9, 150000000);
  ASSERT_TRUE(WaitFor([&] { return flight_->DumpDirs().size() == 1; }));
  EXPECT_THAT(ExpectCompleteSession(flight_->DumpDirs()[0]), HasSubstr("step 9 took 150.0 ms"));
}

TEST_F(FlightRecorderTest, StopWritesTheExitDumpAndWhatWasRequestedBefore) {
  FlightOptions o;
  o.dump_at_exit = true;
  Start("exit", o);
  StartWriter();
  ASSERT_TRUE(flight_->RequestDump(DumpTrigger::kApi, "just before exit").ok());
  flight_->Stop();  // Returns once both are written.
  std::vector<std::string> dirs = flight_->DumpDirs();
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_THAT(ExpectCompleteSession(dirs[0]), HasSubstr("just before exit"));
  EXPECT_THAT(ExpectCompleteSession(dirs[1]), HasSubstr("(exit): the program is exiting"));
  EXPECT_FALSE(IsRecording());
  EXPECT_EQ(flight_->RequestDump(DumpTrigger::kApi, "late").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(FlightRecorderTest, CaptureReturnsOnlyTheLastMilliseconds) {
  Start("capture");
  { TBPROF_SCOPE("old"); }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  { TBPROF_SCOPE("recent"); }
  absl::StatusOr<Trace> t = flight_->Capture(/*last_ms=*/100, "capture note");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_FALSE(t->warnings.empty());
  EXPECT_EQ(t->warnings[0], "capture note");
  EXPECT_LE(t->duration_ns, 100000000);
  std::vector<std::string> names;
  for (const ThreadTrack& track : t->threads) {
    for (const HostEvent& e : track.events) {
      names.push_back(t->names.at(e.name));
      EXPECT_GE(e.start_ns, 0);
    }
  }
  EXPECT_THAT(names, ::testing::Contains("recent"));
  EXPECT_THAT(names, ::testing::Not(::testing::Contains("old")));
}

// Producer/consumer arrows reach a dump (the marks are read without being used up, so the
// next dump has them too), and marks older than what the ring keeps are forgotten.
TEST_F(FlightRecorderTest, DumpsCarryFlowsAndOldMarksAreForgotten) {
  Start("flows");
  std::thread producer([] {
    TBPROF_SCOPE("produce");
    tbprof::FlowProduce(42);
  });
  producer.join();
  {
    TBPROF_SCOPE("consume");
    tbprof::FlowConsume(42);
  }
  auto flows_of = [](const Trace& t) {
    std::vector<std::string> found;
    for (const ThreadTrack& track : t.threads) {
      for (const HostEvent& e : track.events) {
        if (e.flow_produced == 42) found.push_back("produced by " + t.names.at(e.name));
        if (e.flow_consumed == 42) found.push_back("consumed by " + t.names.at(e.name));
      }
    }
    std::sort(found.begin(), found.end());
    return found;
  };
  const std::vector<std::string> expected = {"consumed by consume", "produced by produce"};
  for (int dump = 0; dump < 2; ++dump) {
    absl::StatusOr<Trace> t = flight_->Capture(/*last_ms=*/10000, "flows");
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(flows_of(*t), expected) << "dump " << dump;
    for (const std::string& w : t->warnings) EXPECT_THAT(w, Not(HasSubstr("flow mark")));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  TrimFlowMarks(/*keep_ns=*/10000000);  // 10 ms: both marks are older.
  absl::StatusOr<Trace> t = flight_->Capture(/*last_ms=*/10000, "after trim");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(flows_of(*t).empty());
}

TEST(KeepLastNsTest, DropsEarlierEventsAndMovesTheStart) {
  Trace t;
  t.start_ns = 1000;
  t.start_walltime_ns = 5000;
  t.duration_ns = 100;
  ThreadTrack a;
  a.events.push_back({10, 20});
  a.events.push_back({70, 90});
  ThreadTrack b;
  b.events.push_back({5, 15});
  t.threads = {a, b};
  t.steps.push_back({1, 10, 30, 0});
  t.steps.push_back({2, 60, 95, 0});
  KeepLastNs(&t, 50);
  EXPECT_EQ(t.start_ns, 1050);
  EXPECT_EQ(t.start_walltime_ns, 5050);
  EXPECT_EQ(t.duration_ns, 50);
  ASSERT_EQ(t.threads.size(), 1u);
  ASSERT_EQ(t.threads[0].events.size(), 1u);
  EXPECT_EQ(t.threads[0].events[0].start_ns, 20);
  EXPECT_EQ(t.threads[0].events[0].end_ns, 40);
  ASSERT_EQ(t.steps.size(), 1u);
  EXPECT_EQ(t.steps[0].step, 2);
  EXPECT_EQ(t.steps[0].start_ns, 10);
}

TEST(FlightOptionsTest, FromConfig) {
  Config c;
  c.flight = true;
  c.flight_mb = 8;
  c.flight_window_ms = 1234;
  c.slow_step_ms = 77;
  c.flight_dump_at_exit = true;
  c.logdir = "/tmp/x";
  FlightOptions o = FlightOptionsFromConfig(c);
  EXPECT_EQ(o.budget_bytes, 8 << 20);
  EXPECT_EQ(o.window_ms, 1234);
  EXPECT_EQ(o.slow_step_ms, 77);
  EXPECT_TRUE(o.dump_at_exit);
  EXPECT_EQ(o.logdir, "/tmp/x");
  o.budget_bytes = 1000;
  EXPECT_EQ(FlightRecorder::Start(o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tbprof::internal
