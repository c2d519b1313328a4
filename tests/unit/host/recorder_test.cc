#include "src/host/recorder.h"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/host/clock.h"
#include "src/trace/trace_data.h"
#include "tbprof/annotate.h"

namespace tbprof::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The injected clock: tests move it by hand.
std::atomic<int64_t> g_now{1000000};
int64_t FakeNow() { return g_now.load(); }
void Advance(int64_t ns) { g_now.fetch_add(ns); }

const std::string& NameOf(const Trace& t, const HostEvent& e) { return t.names.at(e.name); }

const ThreadTrack* TrackOf(const Trace& t, const std::string& name) {
  for (const ThreadTrack& track : t.threads) {
    if (track.name == name) return &track;
  }
  return nullptr;
}

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override { SetThreadName("test-main"); }
  void TearDown() override { DiscardRecording(); }

  void Start(int level = 2, int64_t max_events = 1 << 20) {
    RecorderOptions options;
    options.host_level = level;
    options.max_events = max_events;
    ASSERT_TRUE(StartRecording(options).ok());
  }
  Trace Collect() {
    Trace t;
    absl::Status s = CollectHostTrace(&t);
    EXPECT_TRUE(s.ok()) << s;
    return t;
  }
};

TEST_F(RecorderTest, InjectedClockGivesExactNestedTimes) {
  ScopedTestClock clock(&FakeNow);
  Start();
  Advance(100);
  {
    TBPROF_SCOPE("outer");
    Advance(10);
    {
      TBPROF_SCOPE("inner");
      Advance(5);
    }
    Advance(20);
    { TBPROF_SCOPE("second"); }
    Advance(1);
  }
  Trace t = Collect();
  const ThreadTrack* track = TrackOf(t, "test-main");
  ASSERT_NE(track, nullptr);
  ASSERT_EQ(track->events.size(), 3u);
  const HostEvent& outer = track->events[0];
  const HostEvent& inner = track->events[1];
  const HostEvent& second = track->events[2];
  EXPECT_EQ(NameOf(t, outer), "outer");
  EXPECT_EQ(NameOf(t, inner), "inner");
  EXPECT_EQ(NameOf(t, second), "second");
  EXPECT_EQ(outer.start_ns, 100);
  EXPECT_EQ(outer.end_ns, 136);
  EXPECT_EQ(inner.start_ns, 110);
  EXPECT_EQ(inner.end_ns, 115);
  EXPECT_EQ(second.start_ns, 135);
  EXPECT_EQ(second.end_ns, 135);
  EXPECT_EQ(outer.kind, HostEventKind::kScope);
  EXPECT_GE(t.duration_ns, 136);
  EXPECT_EQ(t.dropped_host_events, 0u);
  EXPECT_TRUE(t.warnings.empty());
}

TEST_F(RecorderTest, LongGapsUseAbsoluteTimeRecords) {
  ScopedTestClock clock(&FakeNow);
  Start();
  {
    TBPROF_SCOPE("long");
    Advance(int64_t{10} * 1000 * 1000 * 1000);  // 10 s: does not fit a 32-bit delta.
  }
  Trace t = Collect();
  const ThreadTrack* track = TrackOf(t, "test-main");
  ASSERT_NE(track, nullptr);
  ASSERT_EQ(track->events.size(), 1u);
  EXPECT_EQ(track->events[0].end_ns - track->events[0].start_ns, int64_t{10} * 1000 * 1000 * 1000);
}

TEST_F(RecorderTest, NothingIsRecordedWhileOff) {
  { TBPROF_SCOPE("before"); }
  Start();
  { TBPROF_SCOPE("during"); }
  Trace t = Collect();
  { TBPROF_SCOPE("after"); }
  const ThreadTrack* track = TrackOf(t, "test-main");
  ASSERT_NE(track, nullptr);
  ASSERT_EQ(track->events.size(), 1u);
  EXPECT_EQ(NameOf(t, track->events[0]), "during");
}

TEST_F(RecorderTest, PausedRecordingKeepsTheSessionAndRecordsNothing) {
  ScopedTestClock clock(&FakeNow);
  Start();
  {
    TBPROF_SCOPE("before_pause");
    Advance(10);
  }
  SetRecordingPaused(true);
  {
    TBPROF_SCOPE("while_paused");
    Advance(10);
  }
  EXPECT_TRUE(IsRecording());
  SetRecordingPaused(false);
  {
    TBPROF_SCOPE("after_resume");
    Advance(10);
  }
  Trace t = Collect();
  const ThreadTrack* track = TrackOf(t, "test-main");
  ASSERT_NE(track, nullptr);
  ASSERT_EQ(track->events.size(), 2u);
  EXPECT_EQ(NameOf(t, track->events[0]), "before_pause");
  EXPECT_EQ(NameOf(t, track->events[1]), "after_resume");
  EXPECT_EQ(track->events[1].start_ns - track->events[0].end_ns, 10);
  EXPECT_TRUE(t.warnings.empty());
  SetRecordingPaused(false);  // No session: no effect, nothing starts.
  EXPECT_FALSE(IsRecording());
}

// The process clock (the TSC where it is invariant, the path every program takes), over many
// blocks: every scope is kept, in order and properly nested, also where a block switch falls
// between a begin and its end.
TEST_F(RecorderTest, ProcessClockKeepsEveryScopeAcrossBlocks) {
  InitClock();
  Start();
  constexpr int kScopes = 50000;  // Two records each: about 12 blocks of 64 KiB.
  for (int i = 0; i < kScopes; ++i) {
    TBPROF_SCOPE("outer_scope");
    TBPROF_SCOPE("inner_scope");
  }
  Trace t = Collect();
  const ThreadTrack* track = TrackOf(t, "test-main");
  ASSERT_NE(track, nullptr);
  ASSERT_EQ(track->events.size(), 2u * kScopes);
  EXPECT_EQ(t.dropped_host_events, 0u);
  for (size_t i = 0; i + 1 < track->events.size(); i += 2) {
    const HostEvent& outer = track->events[i];
    const HostEvent& inner = track->events[i + 1];
    ASSERT_EQ(NameOf(t, outer), "outer_scope") << i;
    ASSERT_EQ(NameOf(t, inner), "inner_scope") << i;
    ASSERT_LE(outer.start_ns, inner.start_ns) << i;
    ASSERT_LE(inner.end_ns, outer.end_ns) << i;
    if (i + 2 < track->events.size()) ASSERT_LE(outer.end_ns, track->events[i + 2].start_ns) << i;
  }
}

int g_evaluations = 0;
TensorRef Counted(const void* p) {
  ++g_evaluations;
  return TensorRef(p, DType::kFloat32, {2, 3});
}

TEST_F(RecorderTest, OpArgumentsAreNotEvaluatedWhileOff) {
  float x = 0;
  g_evaluations = 0;
  { TBPROF_OP("MatMul", "MatMul", {Counted(&x)}, {Counted(&x)}); }
  EXPECT_EQ(g_evaluations, 0);
  Start();
  { TBPROF_OP("MatMul", "MatMul", {Counted(&x)}, {Counted(&x)}); }
  EXPECT_EQ(g_evaluations, 2);
}

TEST_F(RecorderTest, OpsGetScopedNamesTensorsAndOneOpInfoPerName) {
  float a[6], w[6], y[4], z[4];
  Start(/*level=*/2);
  for (int i = 0; i < 3; ++i) {
    NameScope model("model");
    {
      NameScope layer("dense_1");
      TBPROF_OP(
          "MatMul", "MatMul",
          {TensorRef(a, DType::kFloat32, {2, 3}, "images"), TensorRef(w, DType::kFloat32, {3, 2})},
          {TensorRef(y, DType::kFloat32, {2, 2})});
    }
    TBPROF_OP("Relu", "Relu", {TensorRef(y, DType::kFloat32, {2, 2})},
              {TensorRef::WithId(77, DType::kFloat32, {2, 2})});
    tbprof::OpScope direct("Odd:Name", "Custom", {TensorRef(z, DType::kInt64, {4})}, {});
  }
  Trace t = Collect();
  ASSERT_EQ(t.ops.size(), 3u);
  const OpInfo& matmul = t.ops[0];
  EXPECT_EQ(matmul.name, "model/dense_1/MatMul");
  EXPECT_EQ(matmul.type, "MatMul");
  ASSERT_EQ(matmul.inputs.size(), 2u);
  EXPECT_EQ(matmul.inputs[0].id, reinterpret_cast<uintptr_t>(a));
  EXPECT_EQ(matmul.inputs[0].dtype, 1);
  EXPECT_THAT(matmul.inputs[0].shape, ElementsAre(2, 3));
  EXPECT_EQ(matmul.inputs[0].name, "images");
  EXPECT_THAT(matmul.inputs[1].shape, ElementsAre(3, 2));
  ASSERT_EQ(matmul.outputs.size(), 1u);
  EXPECT_EQ(matmul.outputs[0].id, reinterpret_cast<uintptr_t>(y));
  EXPECT_EQ(t.ops[1].name, "model/Relu");
  EXPECT_EQ(t.ops[1].outputs.at(0).id, 77u);
  EXPECT_EQ(t.ops[2].name, "model/Odd_Name");
  EXPECT_EQ(t.ops[2].inputs.at(0).dtype, 9);

  const ThreadTrack* track = TrackOf(t, "test-main");
  ASSERT_NE(track, nullptr);
  int matmuls = 0, scopes = 0;
  for (const HostEvent& e : track->events) {
    if (e.kind == HostEventKind::kOp) {
      ASSERT_GE(e.op_index, 0);
      const OpInfo& op = t.ops[e.op_index];
      EXPECT_EQ(NameOf(t, e), op.name + ":" + op.type);
      if (op.type == "MatMul") ++matmuls;
    } else {
      EXPECT_EQ(e.op_index, -1);
      ++scopes;
    }
  }
  EXPECT_EQ(matmuls, 3);
  EXPECT_EQ(scopes, 6);  // "model" and "dense_1" per iteration, at level 2.
}

TEST_F(RecorderTest, LevelOneRecordsNoNameScopeSpansButKeepsScopedOpNames) {
  Start(/*level=*/1);
  {
    NameScope layer("dense_2");
    TBPROF_OP("BiasAdd", "BiasAdd", {}, {});
  }
  Trace t = Collect();
  const ThreadTrack* track = TrackOf(t, "test-main");
  ASSERT_NE(track, nullptr);
  ASSERT_EQ(track->events.size(), 1u);
  EXPECT_EQ(NameOf(t, track->events[0]), "dense_2/BiasAdd:BiasAdd");
}

TEST_F(RecorderTest, OpTensorsAreRecordedAgainInEachSession) {
  float a[4], b[4];
  Start();
  { TBPROF_OP("Add", "Add", {TensorRef(a, DType::kFloat32, {4})}, {}); }
  Trace first = Collect();
  Start();
  { TBPROF_OP("Add", "Add", {TensorRef(b, DType::kFloat32, {4})}, {}); }
  Trace second = Collect();
  ASSERT_EQ(first.ops.size(), 1u);
  ASSERT_EQ(second.ops.size(), 1u);
  EXPECT_EQ(first.ops[0].inputs.at(0).id, reinterpret_cast<uintptr_t>(a));
  EXPECT_EQ(second.ops[0].inputs.at(0).id, reinterpret_cast<uintptr_t>(b));
}

TEST_F(RecorderTest, StepsAreRecordedWithTheirNumbers) {
  ScopedTestClock clock(&FakeNow);
  Start();
  for (int64_t step = 5; step < 8; ++step) {
    StepScope s(step);
    Advance(1000);
  }
  Trace t = Collect();
  ASSERT_EQ(t.steps.size(), 3u);
  EXPECT_EQ(t.steps[0].step, 5);
  EXPECT_EQ(t.steps[2].step, 7);
  EXPECT_EQ(t.steps[1].end_ns - t.steps[1].start_ns, 1000);
  const ThreadTrack* track = TrackOf(t, "test-main");
  ASSERT_NE(track, nullptr);
  ASSERT_EQ(track->events.size(), 3u);
  EXPECT_EQ(track->events[1].kind, HostEventKind::kStep);
  EXPECT_EQ(track->events[1].step, 6);
  EXPECT_EQ(NameOf(t, track->events[1]), "step");
}

TEST_F(RecorderTest, EventsOfThreadsThatExitedBeforeExportAreKept) {
  Start();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([i] {
      SetThreadName("worker " + std::to_string(i));
      for (int k = 0; k < 10000; ++k) {
        TBPROF_SCOPE("work");
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Trace t = Collect();
  for (int i = 0; i < 4; ++i) {
    const ThreadTrack* track = TrackOf(t, "worker " + std::to_string(i));
    ASSERT_NE(track, nullptr) << i;
    EXPECT_EQ(track->events.size(), 10000u);
    EXPECT_GT(track->tid, 0);
  }
  // A later session does not see them again.
  Start();
  { TBPROF_SCOPE("again"); }
  Trace later = Collect();
  EXPECT_EQ(TrackOf(later, "worker 0"), nullptr);
}

TEST_F(RecorderTest, ManyShortLivedThreadsKeepTheirEventsButNotTheirBlocks) {
  constexpr int kThreads = 2000;
  Start(/*level=*/2, /*max_events=*/100000);
  for (int i = 0; i < kThreads; ++i) {
    std::thread([] {
      for (int k = 0; k < 3; ++k) {
        TBPROF_SCOPE("short");
      }
    }).join();
  }
  // Each exited thread gave its mostly empty block back and returned its unused budget.
  RecorderStats stats = GetRecorderStats();
  EXPECT_LT(stats.blocks_in_use, 10);
  EXPECT_EQ(stats.words_written, int64_t{kThreads} * (2 + 6));
  Trace t = Collect();
  int64_t events = 0;
  for (const ThreadTrack& track : t.threads) events += track.events.size();
  EXPECT_EQ(events, 3 * kThreads);
  EXPECT_EQ(t.dropped_host_events, 0u);
}

TEST_F(RecorderTest, AThreadPerRequestKeepsNoStateBeyondTheBudget) {
  constexpr int kThreads = 3000;
  constexpr int64_t kCap = 2000;
  Start(/*level=*/2, kCap);
  for (int i = 0; i < kThreads; ++i) {
    std::thread([] {
      for (int k = 0; k < 3; ++k) {
        TBPROF_SCOPE("request");
      }
    }).join();
  }
  // The threads that fit the budget keep their records; the others are forgotten at exit.
  RecorderStats stats = GetRecorderStats();
  EXPECT_LT(stats.threads, 2 * kCap * 2 * 8 / 200);
  Trace t = Collect();
  int64_t events = 0;
  for (const ThreadTrack& track : t.threads) events += track.events.size();
  EXPECT_GT(events, 0);
  EXPECT_LE(events, kCap);
  EXPECT_EQ(events + static_cast<int64_t>(t.dropped_host_events), 3 * kThreads);
  EXPECT_LE(GetRecorderStats().threads, 1);  // test-main at most.
}

TEST_F(RecorderTest, ThreadsThatExitOutsideACaptureAreForgottenAtOnce) {
  Start();
  { TBPROF_SCOPE("main"); }
  Trace t = Collect();
  const int64_t before = GetRecorderStats().threads;
  Start();
  std::thread([] { TBPROF_SCOPE("in-capture"); }).join();
  DiscardRecording();
  for (int i = 0; i < 100; ++i) {
    std::thread([] { TBPROF_SCOPE("after"); }).join();
  }
  EXPECT_EQ(GetRecorderStats().threads, before);
}

TEST_F(RecorderTest, UniqueNamesAreBoundedByTheBudgetAndForgottenAfterCollection) {
  constexpr int kNames = 100000;
  constexpr int64_t kCap = 5000;  // 80 KB.
  Start(/*level=*/2, kCap);
  for (int i = 0; i < kNames; ++i) {
    tbprof::NameScope scope("req_" + std::to_string(i));
  }
  RecorderStats stats = GetRecorderStats();
  EXPECT_GT(stats.dynamic_names, 0);
  EXPECT_LT(stats.dynamic_names, kCap * kBytesPerScope / 128);
  Trace t = Collect();
  const ThreadTrack* track = TrackOf(t, "test-main");
  ASSERT_NE(track, nullptr);
  const int64_t kept = static_cast<int64_t>(track->events.size());
  EXPECT_EQ(kept + static_cast<int64_t>(t.dropped_host_events), kNames);
  EXPECT_EQ(NameOf(t, track->events.front()), "req_0");
  bool warned = false;
  for (const std::string& w : t.warnings) warned |= w.find("budget") != std::string::npos;
  EXPECT_TRUE(warned);
  EXPECT_EQ(GetRecorderStats().dynamic_names, 0);
  // A later capture names its scopes afresh.
  Start();
  { tbprof::NameScope scope("req_1"); }
  Trace later = Collect();
  const ThreadTrack* again = TrackOf(later, "test-main");
  ASSERT_NE(again, nullptr);
  ASSERT_EQ(again->events.size(), 1u);
  EXPECT_EQ(NameOf(later, again->events[0]), "req_1");
}

TEST_F(RecorderTest, ThreadWithoutUserNameUsesOsName) {
  Start();
  std::thread([] {
    pthread_setname_np(pthread_self(), "os-named");
    TBPROF_SCOPE("x");
  }).join();
  Trace t = Collect();
  EXPECT_NE(TrackOf(t, "os-named"), nullptr);
}

TEST_F(RecorderTest, DropsAtTheCapAreCountedAndReported) {
  constexpr int kScopes = 50000;
  constexpr int64_t kCap = 20000;
  Start(/*level=*/2, kCap);
  for (int i = 0; i < kScopes; ++i) {
    TBPROF_SCOPE("capped");
  }
  Trace t = Collect();
  const ThreadTrack* track = TrackOf(t, "test-main");
  ASSERT_NE(track, nullptr);
  const int64_t kept = static_cast<int64_t>(track->events.size());
  EXPECT_LE(kept, kCap);
  EXPECT_GT(kept, kCap - 100);  // Only the absolute-time records of each block take room.
  EXPECT_EQ(kept + static_cast<int64_t>(t.dropped_host_events), kScopes);
  bool warned = false;
  for (const std::string& w : t.warnings) {
    if (w.find("dropped") != std::string::npos && w.find("TBPROF_MAX_EVENTS") != std::string::npos)
      warned = true;
  }
  EXPECT_TRUE(warned);
}

TEST_F(RecorderTest, CapIsSharedByThreads) {
  Start(/*level=*/2, /*max_events=*/30000);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([] {
      for (int k = 0; k < 20000; ++k) {
        TBPROF_SCOPE("t");
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Trace t = Collect();
  int64_t kept = 0;
  for (const ThreadTrack& track : t.threads) kept += track.events.size();
  EXPECT_LE(kept, 30000);
  EXPECT_EQ(kept + static_cast<int64_t>(t.dropped_host_events), 60000);
}

TEST_F(RecorderTest, EndWithoutBeginAndOpenScopesAreWarningsNotFatal) {
  static StaticSite site("orphan_end");
  Start();
  uint32_t id = ScopeBegin(&site);  // Registers the site; begin recorded.
  ScopeEnd(id);
  ScopeEnd(id);  // A second end: no begin left.
  std::optional<StaticScope> open;
  static StaticSite open_site("left_open");
  open.emplace(&open_site);
  Trace t = Collect();
  open.reset();  // Ends after the capture: ignored.
  const ThreadTrack* track = TrackOf(t, "test-main");
  ASSERT_NE(track, nullptr);
  ASSERT_EQ(track->events.size(), 2u);
  std::string all;
  for (const std::string& w : t.warnings) all += w + "\n";
  EXPECT_THAT(all, HasSubstr("1 scope end(s) without a begin"));
  EXPECT_THAT(all, HasSubstr("'orphan_end'"));
  EXPECT_THAT(all, HasSubstr("1 scope(s) still open at export"));
  EXPECT_THAT(all, HasSubstr("'left_open'"));
  // The open scope is closed at the end of the capture.
  for (const HostEvent& e : track->events) {
    if (NameOf(t, e) == "left_open") EXPECT_LE(e.end_ns, t.duration_ns);
  }
}

TEST_F(RecorderTest, ScopeStraddlingSessionsIsNotMisattributed) {
  Start();
  std::optional<StaticScope> scope;
  static StaticSite site("straddle");
  scope.emplace(&site);
  Trace first = Collect();
  Start();
  scope.reset();  // The end belongs to the first session: dropped, no warning.
  { TBPROF_SCOPE("clean"); }
  Trace second = Collect();
  const ThreadTrack* track = TrackOf(second, "test-main");
  ASSERT_NE(track, nullptr);
  ASSERT_EQ(track->events.size(), 1u);
  EXPECT_TRUE(second.warnings.empty()) << second.warnings[0];
}

TEST_F(RecorderTest, SixteenBytesPerScope) {
  Start();
  RecorderStats before = GetRecorderStats();
  for (int i = 0; i < 1000; ++i) {
    TBPROF_SCOPE("sized");
  }
  RecorderStats after = GetRecorderStats();
  // 2 words per scope; the block's first absolute-time record adds 2 words.
  EXPECT_LE((after.words_written - before.words_written) * 8, 1000 * kBytesPerScope + 16 * 2);
  EXPECT_GE((after.words_written - before.words_written) * 8, 1000 * kBytesPerScope);
}

TEST_F(RecorderTest, StartWhileRecordingFails) {
  Start();
  RecorderOptions options;
  EXPECT_EQ(StartRecording(options).code(), absl::StatusCode::kFailedPrecondition);
  Trace t;
  EXPECT_TRUE(CollectHostTrace(&t).ok());
  EXPECT_EQ(CollectHostTrace(&t).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ClockTest, ChoosesTscOnlyWhenInvariantAndUsedByTheKernel) {
  TscEvidence e;
  e.x86 = true;
  e.cpuid_invariant = true;
  e.clocksource = "tsc";
  EXPECT_EQ(ChooseClock(e).kind, ClockKind::kTsc);
  e.cpuid_invariant = false;
  e.constant_tsc = true;
  e.nonstop_tsc = true;
  EXPECT_EQ(ChooseClock(e).kind, ClockKind::kTsc);
  e.nonstop_tsc = false;
  EXPECT_EQ(ChooseClock(e).kind, ClockKind::kMonotonic);
  e.nonstop_tsc = true;
  e.clocksource = "hpet";
  ClockChoice c = ChooseClock(e);
  EXPECT_EQ(c.kind, ClockKind::kMonotonic);
  EXPECT_THAT(c.reason, HasSubstr("hpet"));
  e.x86 = false;
  e.clocksource = "tsc";
  EXPECT_EQ(ChooseClock(e).kind, ClockKind::kMonotonic);
}

TEST(ClockTest, FitMapsTicksLinearly) {
  ClockSample start{1000, 5000, 9000};
  ClockSample end{3000, 6000, 10000};  // 2000 ticks = 1000 ns.
  TickMap map = FitTickMap(start, end, ClockSample{}, ClockKind::kTsc);
  EXPECT_DOUBLE_EQ(map.ns_per_tick, 0.5);
  EXPECT_EQ(map.ToRelativeNs(1000), 0);
  EXPECT_EQ(map.ToRelativeNs(2000), 500);
  // An older baseline gives the slope when it spans longer.
  ClockSample baseline{500, 4000, 8000};
  TickMap longer = FitTickMap(start, ClockSample{5000, 6500, 10500}, baseline, ClockKind::kTsc);
  EXPECT_DOUBLE_EQ(longer.ns_per_tick, 2500.0 / 4500.0);
  EXPECT_EQ(longer.ToRelativeNs(1000), 0);  // Still exact at the session start.
  EXPECT_EQ(FitTickMap(start, end, baseline, ClockKind::kMonotonic).ns_per_tick, 1.0);
}

TEST(ClockTest, RealClockAgreesWithMonotonic) {
  InitClock();
  ClockSample a = SampleClocks();
  int64_t m0 = MonotonicNs();
  while (MonotonicNs() - m0 < 20 * 1000 * 1000) {
  }
  ClockSample b = SampleClocks();
  TickMap map = FitTickMap(a, b, FirstClockSample(), g_clock_kind.load());
  int64_t predicted = map.ToRelativeNs(b.ticks);
  EXPECT_NEAR(static_cast<double>(predicted), static_cast<double>(b.monotonic_ns - a.monotonic_ns),
              20000.0);
}

}  // namespace
}  // namespace tbprof::internal
