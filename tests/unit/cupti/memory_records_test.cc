// GPU memory through CUPTI's MEMORY2 records: hand-packed records through the real decoder, the
// event builder and the memory analysis, as a capture on a GPU would run them.
#include <cupti.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cupti/activity_decoder.h"
#include "cupti/event_builder.h"
#include "gtest/gtest.h"
#include "src/memory/memory_analysis.h"
#include "tests/fakes/cupti_activity_builder.h"

namespace tbprof::internal::cupti {
namespace {

using ::tbprof::testing::ActivityBuffer;
using ::tbprof::testing::ActivityBufferBuilder;
using ::tbprof::testing::MakeKernel;
using ::tbprof::testing::MakeMemory;

constexpr auto kAlloc = CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION;
constexpr auto kRelease = CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE;

DecodedActivities Decode(ActivityBuffer& buffer) {
  DecodedActivities out;
  DecodeActivityBuffer(buffer.data(), buffer.size(), BuiltinRecordWalker(), DecodeOptions(), &out);
  return out;
}

TEST(CuptiMemoryTest, DecodesAllocationsAndReleases) {
  ActivityBuffer b = ActivityBufferBuilder()
                         .Add(MakeMemory(kAlloc, 0x7f0000, 1 << 20, 1000, /*device_id=*/1))
                         .Add(MakeKernel("k", 1100, 1200, 5))
                         .Add(MakeMemory(kRelease, 0x7f0000, 1 << 20, 2000, 1))
                         .Add(MakeMemory(kAlloc, 0x800000, 4096, 3000, 0,
                                         CUPTI_ACTIVITY_MEMORY_KIND_DEVICE, /*pool_bytes=*/1 << 22))
                         .Build();
  DecodedActivities d = Decode(b);
  ASSERT_EQ(d.memory.size(), 3u);
  EXPECT_EQ(d.gpu.size(), 1u);
  EXPECT_FALSE(d.memory[0].is_free);
  EXPECT_EQ(d.memory[0].kind, MemoryRecord::Kind::kDevice);
  EXPECT_EQ(d.memory[0].address, 0x7f0000u);
  EXPECT_EQ(d.memory[0].bytes, uint64_t{1} << 20);
  EXPECT_EQ(d.memory[0].timestamp, 1000u);
  EXPECT_EQ(d.memory[0].device_id, 1u);
  EXPECT_TRUE(d.memory[1].is_free);
  EXPECT_TRUE(d.memory[2].from_pool);
  EXPECT_EQ(d.memory[2].pool_bytes, uint64_t{1} << 22);
  EXPECT_EQ(d.counters.malformed_buffers, 0u);
}

TEST(CuptiMemoryTest, BadRecordsAreCountedNotKept) {
  auto no_time = MakeMemory(kAlloc, 0x1000, 64, 0);
  auto other_op = MakeMemory(kAlloc, 0x2000, 64, 500);
  other_op.memoryOperationType = CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_INVALID;
  ActivityBufferBuilder builder;
  builder.Add(no_time).Add(other_op).Add(MakeMemory(kAlloc, 0x3000, 64, 600));
  ActivityBuffer b = builder.Build();
  b.Truncate(b.size() - 8);  // The last record is cut short.
  DecodedActivities d = Decode(b);
  EXPECT_TRUE(d.memory.empty());
  EXPECT_EQ(d.counters.invalid_timestamps, 1u);
  EXPECT_EQ(d.counters.ignored_records, 1u);
  EXPECT_EQ(d.counters.malformed_buffers + d.counters.truncated_records, 1u);
}

// Per-GPU allocators in the trace, with a peak the memory analysis computes.
TEST(CuptiMemoryTest, BuildsPerGpuAllocatorsWithTheirPeak) {
  ActivityBuffer b =
      ActivityBufferBuilder()
          .Add(MakeMemory(kAlloc, 0xa000, 1000, 10'000, 0))
          .Add(MakeMemory(kAlloc, 0xb000, 3000, 11'000, 0))
          .Add(MakeMemory(kRelease, 0xa000, 1000, 12'000, 0))
          .Add(MakeMemory(kAlloc, 0xc000, 500, 13'000, 0))
          .Add(MakeMemory(kRelease, 0xb000, 3000, 14'000, 0))
          .Add(MakeMemory(kAlloc, 0xd000, 7000, 11'500, 1))
          .Add(MakeMemory(kAlloc, 0xe000, 64, 12'500, 0, CUPTI_ACTIVITY_MEMORY_KIND_PINNED))
          .Add(MakeMemory(kAlloc, 0xf000, 64, 500, 0))  // Before the session.
          .Build();
  DecodedActivities d = Decode(b);
  BuildOptions options;
  options.session_start_ns = 1000;
  Trace trace;
  ASSERT_TRUE(BuildTrace(d, options, &trace).ok());
  AnalyzeMemory(&trace);
  std::vector<AllocatorSummary> summary = SummarizeMemory(trace);
  std::map<std::string, const AllocatorSummary*> by_name;
  for (const AllocatorSummary& s : summary) by_name[s.name] = &s;
  ASSERT_EQ(by_name.size(), 3u);
  ASSERT_NE(by_name["GPU_0_cuda"], nullptr);
  EXPECT_EQ(by_name["GPU_0_cuda"]->peak_bytes, 4000);
  EXPECT_EQ(by_name["GPU_0_cuda"]->peak_time_ns, 11'000 - 1000);
  EXPECT_EQ(by_name["GPU_0_cuda"]->leaked_bytes, 500);
  ASSERT_NE(by_name["GPU_1_cuda"], nullptr);
  EXPECT_EQ(by_name["GPU_1_cuda"]->peak_bytes, 7000);
  ASSERT_NE(by_name["cuda_pinned"], nullptr);
  EXPECT_EQ(by_name["cuda_pinned"]->peak_bytes, 64);
  bool before_warning = false;
  for (const std::string& w : trace.warnings) {
    before_warning |= w.find("1 GPU records started before the session") != std::string::npos;
  }
  EXPECT_TRUE(before_warning);
}

}  // namespace
}  // namespace tbprof::internal::cupti
