// `tbprof summary`'s memory section, from a profile tbprof wrote.
#include "tools/memory_summary.h"

#include <string>

#include "gtest/gtest.h"
#include "src/export/xplane_writer.h"
#include "src/session/session.h"
#include "tbprof/annotate.h"
#include "tbprof/memory.h"
#include "tools/profile_summary.h"
#include "tools/summary_report.h"

namespace tbprof::cli {
namespace {

using internal::Session;
using internal::SessionOptions;

const void* Addr(uintptr_t a) { return reinterpret_cast<const void*>(a); }

// Two steps of a layer that allocates its output and a temporary; step 1 also keeps a cache
// entry it never frees (a leak of the capture).
tensorflow::profiler::XSpace Profile() {
  SessionOptions o;
  o.logdir = ::testing::TempDir();
  o.gpu = GpuMode::kOff;
  o.host_level = 2;
  Session session(o, nullptr);
  EXPECT_TRUE(session.Start().ok());
  MemoryAllocator arena("summary_arena");
  const int64_t dims[] = {16, 16};
  for (int64_t step = 0; step < 2; ++step) {
    StepScope s(step);
    NameScope layer("dense");
    arena.RecordAlloc(Addr(0x1000), 1024);
    {
      TBPROF_OP("MatMul", "MatMul", {}, {TensorRef(Addr(0x1000), DType::kFloat32, dims)});
      arena.RecordAlloc(Addr(0x2000), 3000, 4096);
      if (step == 1) arena.RecordAlloc(Addr(0x9000), 512);  // Never freed.
      arena.RecordFree(Addr(0x2000));
    }
    arena.RecordFree(Addr(0x1000));
  }
  EXPECT_TRUE(session.Collect().ok());
  tensorflow::profiler::XSpace space;
  EXPECT_TRUE(space.ParseFromString(internal::EncodeXSpace(session.trace())));
  return space;
}

TEST(MemorySummaryTest, PeakAliveAllocationsAndLeaksPerAllocator) {
  const tensorflow::profiler::XSpace space = Profile();
  ProfileSummary p = SummarizeXSpace(space, "h.xplane.pb");
  ASSERT_EQ(p.memory.size(), 1u);
  const AllocatorMemorySummary& a = p.memory[0];
  EXPECT_EQ(a.name, "summary_arena");
  // Step 1 reaches 1024 + 4096 + 512 inside MatMul; step 0 only 1024 + 4096.
  EXPECT_EQ(a.peak_bytes, 1024 + 4096 + 512);
  EXPECT_EQ(a.peak_step, 1);
  EXPECT_EQ(a.peak_op, "dense/MatMul:MatMul");
  EXPECT_EQ(a.allocations, 5);
  EXPECT_EQ(a.frees, 4);
  ASSERT_EQ(a.alive_at_peak.size(), 3u);
  EXPECT_EQ(a.alive_at_peak[0].bytes, 4096);  // Largest first.
  EXPECT_EQ(a.alive_at_peak[0].requested_bytes, 3000);
  EXPECT_EQ(a.alive_at_peak[1].tensor, "float32[16, 16]");
  ASSERT_EQ(a.leaks.size(), 1u);
  EXPECT_EQ(a.leaks[0].bytes, 512);
  EXPECT_EQ(a.leaks[0].step, 1);
  EXPECT_EQ(a.leaked_bytes, 512);
  // Memory events name their op but are no executions of it; their line is no thread.
  for (const OpSummary& op : p.ops) {
    if (op.name == "dense/MatMul") EXPECT_EQ(op.count, 2);
  }
  EXPECT_EQ(p.host_threads, 1);

  SummaryReport report;
  report.profiles.push_back(p);
  const std::string text = FormatSummaryText(report, 10);
  EXPECT_NE(text.find("\"summary_arena\": peak 5.5 KiB (5632 bytes)"), std::string::npos) << text;
  EXPECT_NE(text.find("step 1, op dense/MatMul:MatMul"), std::string::npos) << text;
  EXPECT_NE(text.find("Leaks: 1 allocation(s), 512 bytes"), std::string::npos) << text;
  std::string json;  // Without the indentation.
  for (char c : FormatSummaryJson(report, 10)) {
    if (c != ' ' && c != '\n') json.push_back(c);
  }
  EXPECT_NE(json.find("\"allocator\":\"summary_arena\",\"peak_bytes\":5632"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"leaks_total\":1,\"leaked_bytes\":512"), std::string::npos) << json;
}

TEST(MemorySummaryTest, NoMemoryEventsNoSectionAndAnEmptyJsonList) {
  tensorflow::profiler::XSpace space;
  space.add_planes()->set_name("/host:CPU");
  ProfileSummary p = SummarizeXSpace(space, "h.xplane.pb");
  EXPECT_TRUE(p.memory.empty());
  SummaryReport report;
  report.profiles.push_back(p);
  EXPECT_EQ(FormatSummaryText(report, 10).find("Memory:"), std::string::npos);
  std::string json;  // Without the indentation.
  for (char c : FormatSummaryJson(report, 10)) {
    if (c != ' ' && c != '\n') json.push_back(c);
  }
  EXPECT_NE(json.find("\"memory\":[]"), std::string::npos) << json;
}

}  // namespace
}  // namespace tbprof::cli
