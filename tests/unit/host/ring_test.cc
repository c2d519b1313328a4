// The recorder's ring (flight recorder) mode: wraparound, the memory budget, the time window,
// and snapshots taken while threads record.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/host/clock.h"
#include "src/host/recorder.h"
#include "src/trace/trace_data.h"
#include "tbprof/annotate.h"

namespace tbprof::internal {
namespace {

std::atomic<int64_t> g_now{1000000};
int64_t FakeNow() { return g_now.load(); }
void Advance(int64_t ns) { g_now.fetch_add(ns); }

const ThreadTrack* TrackOf(const Trace& t, const std::string& name) {
  for (const ThreadTrack& track : t.threads) {
    if (track.name == name) return &track;
  }
  return nullptr;
}

// Scopes per 64 KiB block (two words each, after the block's absolute-time record).
constexpr int64_t kScopesPerBlock = (kBlockWords - 2) / 2;

class RingTest : public ::testing::Test {
 protected:
  void SetUp() override { SetThreadName("ring-main"); }
  void TearDown() override { DiscardRecording(); }

  void StartRing(int64_t budget_blocks, int64_t window_ns) {
    RecorderOptions o;
    o.ring = true;
    o.max_events = budget_blocks * kBlockWords / 2;
    o.ring_window_ns = window_ns;
    o.record_tensors = false;
    ASSERT_TRUE(StartRecording(o).ok());
  }
  Trace Snapshot() {
    Trace t;
    absl::Status s = SnapshotRing(&t);
    EXPECT_TRUE(s.ok()) << s;
    return t;
  }
};

// Records `n` scopes named "s", one ns apart.
void Scopes(int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    TBPROF_SCOPE("s");
    Advance(1);
  }
}

TEST_F(RingTest, WrapsAroundKeepingTheNewestEventsWithinTheBudget) {
  ScopedTestClock clock(&FakeNow);
  StartRing(/*budget_blocks=*/4, /*window_ns=*/0);
  const int64_t kScopes = 20 * kScopesPerBlock;  // Five times the budget.
  Scopes(kScopes);
  { TBPROF_SCOPE("last"); }
  RecorderStats stats = GetRecorderStats();
  EXPECT_LE(stats.blocks_in_use, 4);
  Trace t = Snapshot();
  const ThreadTrack* track = TrackOf(t, "ring-main");
  ASSERT_NE(track, nullptr);
  // At least the budget minus one block's worth and the thread's own state (charged to the
  // same budget: its record, well under 64 scopes' worth), at most the budget, and the newest
  // last.
  EXPECT_GE(static_cast<int64_t>(track->events.size()), 3 * kScopesPerBlock - 1 - 64);
  EXPECT_LE(static_cast<int64_t>(track->events.size()), 4 * kScopesPerBlock + 1);
  EXPECT_EQ(t.names.at(track->events.back().name), "last");
  EXPECT_EQ(t.dropped_host_events, 0u);
  // The ring keeps recording after a snapshot, and a second snapshot sees the same history
  // plus what came after.
  { TBPROF_SCOPE("after"); }
  Trace again = Snapshot();
  const ThreadTrack* track2 = TrackOf(again, "ring-main");
  ASSERT_NE(track2, nullptr);
  EXPECT_EQ(again.names.at(track2->events.back().name), "after");
  EXPECT_GE(track2->events.size(), track->events.size());
  EXPECT_TRUE(IsRecording());
}

TEST_F(RingTest, BudgetIsSharedByThreads) {
  StartRing(/*budget_blocks=*/8, /*window_ns=*/0);
  // Blocks still held by threads of earlier sessions (rewound on their next record).
  const int64_t stale = GetRecorderStats().blocks_in_use;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([] {
      for (int64_t k = 0; k < 10 * kScopesPerBlock; ++k) {
        TBPROF_SCOPE("w");
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_LE(GetRecorderStats().blocks_in_use - stale, 8);
  Trace t = Snapshot();
  int64_t events = 0;
  for (const ThreadTrack& track : t.threads) events += track.events.size();
  EXPECT_GT(events, 2 * kScopesPerBlock);
  EXPECT_LE(events, 8 * kScopesPerBlock + 8);
}

TEST_F(RingTest, BlocksOlderThanTheWindowAreRecycled) {
  ScopedTestClock clock(&FakeNow);
  constexpr int64_t kWindowNs = 1000000;  // 1 ms of the injected clock.
  StartRing(/*budget_blocks=*/64, kWindowNs);
  { TBPROF_SCOPE("ancient"); }
  Scopes(2 * kScopesPerBlock);
  Advance(5 * kWindowNs);
  Scopes(3 * kScopesPerBlock);
  MaintainRing();
  // The budget allows 64 blocks; the window keeps about the last three.
  EXPECT_LE(GetRecorderStats().blocks_in_use, 5);
  Trace t = Snapshot();
  const ThreadTrack* track = TrackOf(t, "ring-main");
  ASSERT_NE(track, nullptr);
  for (const HostEvent& e : track->events) {
    ASSERT_NE(t.names.at(e.name), "ancient");
  }
}

TEST_F(RingTest, ExitedThreadsAreForgottenOnceOutsideTheWindow) {
  ScopedTestClock clock(&FakeNow);
  constexpr int64_t kWindowNs = 1000000;
  StartRing(/*budget_blocks=*/64, kWindowNs);
  std::thread([] {
    SetThreadName("short-lived");
    Scopes(10);
  }).join();
  Trace before = Snapshot();
  EXPECT_NE(TrackOf(before, "short-lived"), nullptr);
  Advance(2 * kWindowNs);
  { TBPROF_SCOPE("now"); }
  MaintainRing();
  Trace after = Snapshot();
  EXPECT_EQ(TrackOf(after, "short-lived"), nullptr);
  EXPECT_NE(TrackOf(after, "ring-main"), nullptr);
}

TEST_F(RingTest, SnapshotsWhileThreadsRecordNeverLoseTheRing) {
  StartRing(/*budget_blocks=*/16, /*window_ns=*/0);
  const int64_t stale = GetRecorderStats().blocks_in_use;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> written{0};
  std::thread writer([&] {
    SetThreadName("writer");
    while (!stop.load(std::memory_order_relaxed)) {
      TBPROF_SCOPE("busy");
      written.fetch_add(1, std::memory_order_relaxed);
    }
  });
  // Snapshots run while the writer fills and recycles its blocks (several times the budget).
  while (written.load() < 4 * kScopesPerBlock) std::this_thread::yield();
  for (int i = 0; i < 20 || written.load() < 40 * kScopesPerBlock; ++i) {
    Trace t = Snapshot();
    for (const ThreadTrack& track : t.threads) {
      for (const HostEvent& e : track.events) ASSERT_LE(e.start_ns, e.end_ns);
    }
  }
  stop = true;
  writer.join();
  // The chains detached during the snapshots went back, then the budget was enforced again.
  MaintainRing();
  EXPECT_LE(GetRecorderStats().blocks_in_use - stale, 16);
  Trace last = Snapshot();
  const ThreadTrack* track = TrackOf(last, "writer");
  ASSERT_NE(track, nullptr) << last.threads.size() << " threads, dropped "
                            << last.dropped_host_events;
  EXPECT_GT(track->events.size(), 1000u);
}

// Snapshots racing with the end of the ring session (stop, discard, a new session) while
// short-lived threads record and exit: a snapshot that finds the session gone when it splices
// its chains back gives the blocks to the pool and touches no thread record (which the
// discard may have freed). ASan checks the records; the block count checks the chains.
TEST_F(RingTest, SnapshotsRacingARestartGiveTheirBlocksBack) {
  DiscardRecording();
  const int64_t before = GetRecorderStats().blocks_in_use;
  StartRing(/*budget_blocks=*/64, /*window_ns=*/0);
  std::atomic<bool> stop{false};
  std::thread snapshotter([&] {
    while (!stop.load()) {
      Trace t;
      absl::Status s = SnapshotRing(&t);
      EXPECT_TRUE(s.ok() || s.code() == absl::StatusCode::kFailedPrecondition) << s;
    }
  });
  for (int round = 0; round < 300; ++round) {
    // A thread that fills two blocks (a chain the snapshots detach) and exits.
    std::thread([] {
      for (int i = 0; i < 3 * kScopesPerBlock / 2; ++i) {
        TBPROF_SCOPE("short_lived");
      }
    }).join();
    std::this_thread::sleep_for(std::chrono::microseconds(100 * (round % 7)));
    StopRecording();
    DiscardRecording();  // Frees the exited thread's record.
    StartRing(/*budget_blocks=*/64, /*window_ns=*/0);
  }
  stop = true;
  snapshotter.join();
  StopRecording();
  DiscardRecording();
  // This thread's current block stays with it; nothing else may be left out of the pool.
  EXPECT_LE(GetRecorderStats().blocks_in_use, before + 1);
}

TEST_F(RingTest, SnapshotNeedsARingSession) {
  Trace t;
  EXPECT_EQ(SnapshotRing(&t).code(), absl::StatusCode::kFailedPrecondition);
  RecorderOptions o;
  ASSERT_TRUE(StartRecording(o).ok());
  EXPECT_EQ(SnapshotRing(&t).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tbprof::internal
