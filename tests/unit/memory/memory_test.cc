#include "tbprof/memory.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "src/export/chrome_trace.h"
#include "src/export/xplane_writer.h"
#include "src/memory/memory_analysis.h"
#include "src/merge/run_metadata.h"
#include "src/merge/traced_graph.h"
#include "src/session/session.h"
#include "tbprof/annotate.h"
#include "tensorflow/config.pb.h"
#include "tensorflow/profiler/xplane.pb.h"
#include "tensorflow/step_stats.pb.h"
#include "tests/unit/session/test_session_options.h"

namespace tbprof::internal {
namespace {

SessionOptions Options() { return HostOnlySessionOptions(/*host_level=*/2, 1 << 20); }

const void* Addr(uintptr_t a) { return reinterpret_cast<const void*>(a); }

std::vector<const MemoryEvent*> EventsOf(const Trace& trace, std::string_view allocator) {
  std::vector<const MemoryEvent*> out;
  for (const MemoryEvent& e : trace.memory_events) {
    if (trace.allocators[e.allocator].name == allocator) out.push_back(&e);
  }
  return out;
}

int WarningsWith(const Trace& trace, std::string_view text) {
  int n = 0;
  for (const std::string& w : trace.warnings) n += w.find(text) != std::string::npos ? 1 : 0;
  return n;
}

TEST(MemoryTest, NothingIsRecordedWhileTracingIsOff) {
  MemoryAllocator a("off_arena");
  a.RecordAlloc(Addr(0x1000), 64);
  a.RecordFree(Addr(0x1000));
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  ASSERT_TRUE(session.Collect().ok());
  EXPECT_TRUE(session.trace().memory_events.empty());
}

TEST(MemoryTest, AllocationsTakeTheirOpShapeStepAndBytesInUse) {
  MemoryAllocator arena("unit_arena");
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  const int64_t dims[] = {4, 8};
  {
    StepScope step(7);
    NameScope layer("dense_1");
    // The output is allocated before its op opens (its TensorRef must exist at TBPROF_OP).
    arena.RecordAlloc(Addr(0x10000), 128, 256);
    {
      TBPROF_OP("MatMul", "MatMul", {}, {TensorRef(Addr(0x10000), DType::kFloat32, dims)});
      arena.RecordAlloc(Addr(0x20000), 100, 128);  // A temporary inside the op.
      arena.RecordFree(Addr(0x20000));
    }
    arena.RecordFree(Addr(0x10000), 128);
  }
  ASSERT_TRUE(session.Collect().ok());
  const Trace& trace = session.trace();
  std::vector<const MemoryEvent*> ev = EventsOf(trace, "unit_arena");
  ASSERT_EQ(ev.size(), 4u);
  for (const MemoryEvent* e : ev) {
    EXPECT_TRUE(e->valid);
    EXPECT_EQ(e->step, 7);
    ASSERT_GE(e->op_index, 0);
    EXPECT_EQ(trace.ops[e->op_index].name, "dense_1/MatMul");
  }
  EXPECT_EQ(ev[0]->kind, MemoryEventKind::kAlloc);
  EXPECT_TRUE(ev[0]->has_shape);
  EXPECT_EQ(MemoryEventTensorText(*ev[0]), "float32[4, 8]");
  EXPECT_FALSE(ev[1]->has_shape);  // 100 bytes is no output of the op.
  EXPECT_EQ(ev[0]->bytes_in_use, 256);
  EXPECT_EQ(ev[1]->bytes_in_use, 384);
  EXPECT_EQ(ev[2]->kind, MemoryEventKind::kFree);
  EXPECT_EQ(ev[2]->allocation_bytes, 128);  // Taken from its allocation.
  EXPECT_EQ(ev[2]->bytes_in_use, 256);
  EXPECT_EQ(ev[3]->bytes_in_use, 0);
  EXPECT_EQ(ev[3]->peak_bytes_in_use, 384);
  // Rounding waste while both are alive: 1 - 228 / 384.
  EXPECT_NEAR(ev[1]->fragmentation, 1.0 - 228.0 / 384.0, 1e-9);

  std::vector<AllocatorSummary> s = SummarizeMemory(trace);
  ASSERT_EQ(s.size(), trace.allocators.size());
  const AllocatorSummary* sum = nullptr;
  for (const AllocatorSummary& a : s) sum = a.name == "unit_arena" ? &a : sum;
  ASSERT_NE(sum, nullptr);
  EXPECT_EQ(sum->peak_bytes, 384);
  EXPECT_EQ(sum->peak_step, 7);
  ASSERT_EQ(sum->alive_at_peak.size(), 2u);
  EXPECT_EQ(trace.memory_events[sum->alive_at_peak[0]].allocation_bytes, 256);  // Largest first.
  EXPECT_TRUE(sum->leaks.empty());
  EXPECT_EQ(WarningsWith(trace, "unit_arena"), 0);
}

TEST(MemoryTest, ReportedStatsAreShownAndLeaksFound) {
  MemoryAllocator pool("reporting_pool");
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  AllocatorStats st;
  st.bytes_in_use = 5000;
  st.bytes_reserved = 8000;
  st.peak_bytes_in_use = 9000;
  st.largest_free_block_bytes = 1500;
  pool.RecordAlloc(Addr(0x30000), 1000, 1024, &st);
  pool.RecordAlloc(Addr(0x40000), 64);  // Never freed in the capture.
  ASSERT_TRUE(session.Collect().ok());
  const Trace& trace = session.trace();
  std::vector<const MemoryEvent*> ev = EventsOf(trace, "reporting_pool");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]->bytes_in_use, 5000);
  EXPECT_EQ(ev[0]->bytes_reserved, 8000);
  EXPECT_EQ(ev[0]->peak_bytes_in_use, 9000);
  EXPECT_NEAR(ev[0]->fragmentation, 1.0 - 1500.0 / 3000.0, 1e-9);
  EXPECT_EQ(ev[1]->bytes_in_use, 1024 + 64);  // Not reported: counted by tbprof.
  EXPECT_EQ(ev[1]->allocation_bytes, 64);     // 0 = the requested size.
  for (const AllocatorSummary& a : SummarizeMemory(trace)) {
    if (a.name != "reporting_pool") continue;
    EXPECT_EQ(a.peak_bytes, 5000);
    ASSERT_EQ(a.leaks.size(), 2u);
    EXPECT_EQ(a.leaked_bytes, 1024 + 64);
  }
}

TEST(MemoryTest, BadRecordsAreCountedReportedAndLeftOutOfTheTotals) {
  MemoryAllocator bad("bad_arena");
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  {
    TBPROF_SCOPE("work");
    bad.RecordFree(Addr(0xdead0));  // Never allocated in the capture.
    bad.RecordAlloc(Addr(0x50000), 256);
    bad.RecordFree(Addr(0x50000));
    bad.RecordFree(Addr(0x50000));  // Double free.
    bad.RecordFree(Addr(0x50000));  // And again.
    bad.RecordAlloc(Addr(0x60000), 0);
    bad.RecordAlloc(Addr(0x61000), -5);
    bad.RecordAlloc(Addr(0x70000), 512);
    bad.RecordAlloc(Addr(0x70000), 512);  // Already live.
    bad.RecordAlloc(nullptr, 32);         // A null address is still an address.
    bad.RecordFree(nullptr);
  }
  ASSERT_TRUE(session.Collect().ok());
  const Trace& trace = session.trace();
  EXPECT_EQ(WarningsWith(trace, "'bad_arena': 1 free(s) of an address not allocated"), 1);
  EXPECT_EQ(WarningsWith(trace, "'bad_arena': 2 double free(s)"), 1);
  EXPECT_EQ(WarningsWith(trace, "'bad_arena': 2 allocation(s) with a zero or negative size"), 1);
  EXPECT_EQ(WarningsWith(trace, "'bad_arena': 1 allocation(s) at an address already"), 1);
  std::vector<const MemoryEvent*> ev = EventsOf(trace, "bad_arena");
  ASSERT_EQ(ev.size(), 11u);
  int invalid = 0;
  for (const MemoryEvent* e : ev) invalid += e->valid ? 0 : 1;
  EXPECT_EQ(invalid, 6);
  EXPECT_EQ(ev.back()->bytes_in_use, 512);  // Only the first 0x70000 is still in use.
  // The trace is whole: the scope is there, and the XSpace lists the warnings and only the valid
  // memory events.
  bool work = false;
  for (const ThreadTrack& t : trace.threads) {
    for (const HostEvent& e : t.events) work |= trace.names[e.name] == "work";
  }
  EXPECT_TRUE(work);
  tensorflow::profiler::XSpace space;
  ASSERT_TRUE(space.ParseFromString(EncodeXSpace(trace)));
  int listed = 0;
  for (const std::string& w : space.warnings())
    listed += w.find("bad_arena") != std::string::npos ? 1 : 0;
  EXPECT_EQ(listed, 4);
  int memory_events = 0;
  for (const auto& plane : space.planes()) {
    for (const auto& line : plane.lines()) {
      if (line.name() == "tbprof memory") memory_events += line.events_size();
    }
  }
  EXPECT_EQ(memory_events, 5);
}

TEST(MemoryTest, HugeSizesSaturateInsteadOfOverflowing) {
  MemoryAllocator huge("huge_arena");
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  huge.RecordAlloc(Addr(0x1000), INT64_MAX - 1);
  huge.RecordAlloc(Addr(0x2000), INT64_MAX - 1);
  huge.RecordFree(Addr(0x1000));
  ASSERT_TRUE(session.Collect().ok());
  std::vector<const MemoryEvent*> ev = EventsOf(session.trace(), "huge_arena");
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[1]->bytes_in_use, INT64_MAX);
  EXPECT_EQ(ev[1]->peak_bytes_in_use, INT64_MAX);
  EXPECT_GE(ev[2]->bytes_in_use, 0);
  tensorflow::profiler::XSpace space;
  EXPECT_TRUE(space.ParseFromString(EncodeXSpace(session.trace())));
}

TEST(MemoryTest, ManyThreadsAtOnceLoseNothing) {
  constexpr int kThreads = 8, kPairs = 2000;
  MemoryAllocator shared("threads_arena");
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&shared, t] {
      for (int i = 0; i < kPairs; ++i) {
        const void* p = Addr(0x100000u * (t + 1) + 64u * static_cast<uintptr_t>(i % 16));
        shared.RecordAlloc(p, 64);
        shared.RecordFree(p);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(session.Collect().ok());
  const Trace& trace = session.trace();
  std::vector<const MemoryEvent*> ev = EventsOf(trace, "threads_arena");
  ASSERT_EQ(ev.size(), size_t{2} * kThreads * kPairs);
  for (const MemoryEvent* e : ev) ASSERT_TRUE(e->valid);
  EXPECT_EQ(ev.back()->bytes_in_use, 0);
  EXPECT_GE(ev.back()->peak_bytes_in_use, 64);
  EXPECT_LE(ev.back()->peak_bytes_in_use, 64 * kThreads);
  for (size_t i = 1; i < ev.size(); ++i) ASSERT_LE(ev[i - 1]->time_ns, ev[i]->time_ns);
  EXPECT_EQ(WarningsWith(trace, "threads_arena"), 0);
}

struct MallocArena {
  void* Allocate(size_t bytes) { return std::malloc(bytes); }
  void Deallocate(void* p, size_t) { std::free(p); }
};

TEST(MemoryTest, TrackedAllocatorRecordsEveryCall) {
  TrackedAllocator<MallocArena> arena("tracked_malloc");
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  void* a = arena.Allocate(40);
  void* b = arena.Allocate(24);
  arena.Deallocate(a, 40);
  arena.Deallocate(b, 24);
  ASSERT_TRUE(session.Collect().ok());
  std::vector<const MemoryEvent*> ev = EventsOf(session.trace(), "tracked_malloc");
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0]->address, reinterpret_cast<uintptr_t>(a));
  EXPECT_EQ(ev[1]->bytes_in_use, 64);
  EXPECT_EQ(ev[3]->bytes_in_use, 0);
  EXPECT_EQ(ev[3]->peak_bytes_in_use, 64);
}

TEST(MemoryTest, XSpaceHasOneMemoryLineWithIncreasingOffsets) {
  MemoryAllocator arena("xspace_arena");
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  std::thread other([&arena] {
    TBPROF_SCOPE("other_thread");
    for (int i = 0; i < 50; ++i) {
      arena.RecordAlloc(Addr(0x90000 + 64 * i), 64);
      arena.RecordFree(Addr(0x90000 + 64 * i));
    }
  });
  other.join();
  for (int i = 0; i < 50; ++i) {
    arena.RecordAlloc(Addr(0xa0000 + 64 * i), 64);
    arena.RecordFree(Addr(0xa0000 + 64 * i));
  }
  ASSERT_TRUE(session.Collect().ok());
  tensorflow::profiler::XSpace space;
  ASSERT_TRUE(space.ParseFromString(EncodeXSpace(session.trace())));
  const tensorflow::profiler::XPlane* host = nullptr;
  for (const auto& plane : space.planes()) host = plane.name() == "/host:CPU" ? &plane : host;
  ASSERT_NE(host, nullptr);
  int memory_lines = 0;
  for (const auto& line : host->lines()) {
    if (line.name() != "tbprof memory") continue;
    ++memory_lines;
    EXPECT_EQ(line.timestamp_ns(), 0);  // The capture start: a fixed origin.
    ASSERT_EQ(line.events_size(), 200);
    for (int i = 1; i < line.events_size(); ++i) {
      ASSERT_LT(line.events(i - 1).offset_ps(), line.events(i).offset_ps());
    }
    const auto& meta = host->event_metadata().at(line.events(0).metadata_id());
    EXPECT_EQ(meta.name(), "MemoryAllocation");
    std::vector<std::string> stats;
    for (const auto& s : line.events(0).stats()) {
      stats.push_back(host->stat_metadata().at(s.metadata_id()).name());
    }
    for (const char* want : {"allocator_name", "bytes_allocated", "bytes_available",
                             "fragmentation", "peak_bytes_in_use", "requested_bytes",
                             "allocation_bytes", "addr", "region_type", "data_type", "shape"}) {
      EXPECT_NE(std::find(stats.begin(), stats.end(), want), stats.end()) << want;
    }
  }
  EXPECT_EQ(memory_lines, 1);
}

// The Graphs tab's Memory of a node: what the op allocated in the representative step, per
// allocator, not the size of the tensors it wrote.
TEST(MemoryTest, GraphNodeMemoryIsWhatTheOpAllocatedInTheStep) {
  MemoryAllocator arena("graph_arena");
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  const int64_t dims[] = {8, 8};  // 256 bytes of float32.
  float in[64], w[64], out[64];
  for (int64_t step = 0; step < 3; ++step) {
    StepScope s(step);
    NameScope layer("dense");
    arena.RecordAlloc(out, 256, 512);  // Its output, allocated just before the op opens.
    {
      TBPROF_OP("MatMul", "MatMul",
                {TensorRef(in, DType::kFloat32, dims),
                 TensorRef::Variable(w, DType::kFloat32, dims, "kernel")},
                {TensorRef(out, DType::kFloat32, dims)});
      arena.RecordAlloc(in, 1000, 1024);  // A workspace.
      arena.RecordFree(in);
    }
    {
      TBPROF_OP("Relu", "Relu", {TensorRef(out, DType::kFloat32, dims)},
                {TensorRef(out, DType::kFloat32, dims)});  // In place: allocates nothing.
    }
    arena.RecordFree(out);
  }
  ASSERT_TRUE(session.Collect().ok());
  const Trace& trace = session.trace();
  absl::StatusOr<TracedGraph> traced = BuildTracedGraph(trace);
  ASSERT_TRUE(traced.ok()) << traced.status();
  absl::StatusOr<std::string> bytes = BuildRunMetadata(trace, *traced);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  tensorflow::RunMetadata rm;
  ASSERT_TRUE(rm.ParseFromString(*bytes));
  std::map<std::string, int64_t> total;
  std::map<std::string, int> executions;
  for (const auto& dev : rm.step_stats().dev_stats()) {
    for (const auto& node : dev.node_stats()) {
      ++executions[node.node_name()];
      for (const auto& m : node.memory()) {
        if (node.node_name() == "dense/MatMul") {
          EXPECT_EQ(m.allocator_name(), "graph_arena");
        }
        total[node.node_name()] += m.total_bytes();
      }
    }
  }
  EXPECT_EQ(executions["dense/MatMul"], 1);  // One step: the representative one.
  EXPECT_EQ(total["dense/MatMul"], 512 + 1024);
  EXPECT_EQ(total["dense/Relu"], 0);
  EXPECT_EQ(total["dense/kernel"], 256);  // Weights keep their tensor size.
}

TEST(MemoryTest, ChromeTraceCounterAndModelSummaryPerScope) {
  MemoryAllocator arena("counter_arena");
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  {
    StepScope s(3);
    NameScope model("mlp");
    {
      NameScope layer("dense_1");
      TBPROF_OP("MatMul", "MatMul", {}, {});
      arena.RecordAlloc(Addr(0x1000), 100);
    }
    {
      NameScope layer("dense_2");
      TBPROF_OP("MatMul", "MatMul", {}, {});
      arena.RecordAlloc(Addr(0x2000), 300);
      arena.RecordFree(Addr(0x1000));
    }
    arena.RecordFree(Addr(0x2000));
    arena.RecordFree(Addr(0x3000));  // Unknown: no counter point.
  }
  ASSERT_TRUE(session.Collect().ok());
  const Trace& trace = session.trace();
  const std::string json = EncodeChromeTraceJson(trace);
  int points = 0;
  for (size_t at = json.find("\"ph\":\"C\""); at != std::string::npos;
       at = json.find("\"ph\":\"C\"", at + 1)) {
    ++points;
  }
  EXPECT_EQ(points, 4);
  EXPECT_NE(json.find("\"name\":\"bytes in use (counter_arena)\""), std::string::npos);
  EXPECT_NE(json.find("\"args\":{\"bytes\":400}"), std::string::npos);

  std::vector<ScopeMemory> scopes = MemoryPerScope(trace);
  std::map<std::string, int64_t> peak;
  for (const ScopeMemory& s : scopes) peak[s.scope] = s.peak_bytes;
  EXPECT_EQ(peak["mlp"], 400);
  EXPECT_EQ(peak["mlp/dense_1"], 100);
  EXPECT_EQ(peak["mlp/dense_2"], 300);
  const std::string md = MemoryMarkdown(trace);
  EXPECT_NE(md.find("allocator `counter_arena`: peak 400 bytes in use in step 3 "
                    "(`mlp/dense_2/MatMul`)"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| `mlp/dense_1` | 100 | 100 |"), std::string::npos) << md;
}

}  // namespace
}  // namespace tbprof::internal
