// The cross-rank view of `tbprof summary` (tools/rank_summary.h) over synthetic rank files
// written by the real XSpace writer, with per-rank clock offsets injected.
#include "tools/rank_summary.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/export/xplane_writer.h"
#include "src/ranks/rank_env.h"
#include "tests/unit/ranks/synthetic_ranks.h"
#include "tests/unit/tools/tools_test_util.h"
#include "tools/rank_align.h"
#include "tools/xspace_util.h"

namespace tbprof::cli {
namespace {

using internal::testing::RankCapture;
using internal::testing::RankScenario;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// Writes one file per rank into <logdir>/plugins/profile/job_steps/ and returns the paths.
std::vector<std::string> WriteRanks(const std::string& logdir, const RankScenario& sc) {
  std::vector<std::string> files;
  for (int r = 0; r < sc.world_size; ++r) {
    internal::Trace t = RankCapture(sc, r);
    const std::string path = logdir + "/plugins/profile/job_steps/" +
                             internal::RankFileStem(t.hostname, r, sc.world_size) + ".xplane.pb";
    testing::WriteBytes(path, internal::EncodeXSpace(t));
    files.push_back(path);
  }
  return files;
}

RankScenario Skewed() {
  RankScenario sc;
  sc.world_size = 4;
  sc.slow_rank = 2;
  sc.slow_extra_ns = 3'000'000;
  // Clocks several milliseconds apart, as on different hosts.
  sc.clock_offset_ns = {0, 5'000'000, -7'300'000, 12'100'000};
  return sc;
}

TEST(RankSummaryTest, AlignsSkewedClocksWithin100Microseconds) {
  const RankScenario sc = Skewed();
  std::vector<std::string> files = WriteRanks(testing::TestDir(), sc);
  std::ostringstream err;
  std::vector<std::string> skipped;
  RankReport report = SummarizeRankFiles(files, "Allreduce", err, false, &skipped);
  EXPECT_TRUE(skipped.empty());
  ASSERT_THAT(report.ranks, SizeIs(4));
  EXPECT_EQ(report.anchors, "Allreduce ends");
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(report.ranks[r].rank, r);
    EXPECT_EQ(report.ranks[r].host, "node" + std::to_string(r) + " rank " + std::to_string(r));
    EXPECT_EQ(report.ranks[r].machine, "node" + std::to_string(r));
    EXPECT_EQ(report.same_clock[r], r == 0);
    EXPECT_NEAR(report.offsets[r].offset_ns, sc.clock_offset_ns[r], 100'000) << "rank " << r;
    EXPECT_EQ(report.offsets[r].matches, sc.steps);
    EXPECT_GE(report.offsets[r].uncertainty_ns, 0);
    EXPECT_LE(report.offsets[r].uncertainty_ns, 2 * sc.exit_jitter_ns);
  }
  // Before alignment the step ends differ by the clock offsets; after, by the exit jitter.
  ASSERT_THAT(report.steps, SizeIs(sc.steps));
  for (const RankReport::StepRow& s : report.steps) {
    EXPECT_LT(s.end_spread_ns, 100'000) << "step " << s.step;
    EXPECT_EQ(report.ranks[s.slowest].rank, 2);
    EXPECT_NEAR(s.lag_ns, sc.slow_extra_ns, 20'000);
  }
  ASSERT_EQ(report.straggler, 2);
  EXPECT_EQ(report.rows[2].slowest_in, sc.steps);
  // The fast ranks wait for the slow one in the allreduce.
  EXPECT_GT(report.rows[0].mean_wait_ns, report.rows[2].mean_wait_ns + 2'000'000);
}

TEST(RankSummaryTest, WithoutCollectivesStepEndsAlignTheClocks) {
  RankScenario sc = Skewed();
  std::vector<std::string> files = WriteRanks(testing::TestDir(), sc);
  std::ostringstream err;
  std::vector<std::string> skipped;
  RankReport report = SummarizeRankFiles(files, "Broadcast", err, false, &skipped);
  EXPECT_EQ(report.anchors, "step ends");
  for (int r = 0; r < 4; ++r) EXPECT_NEAR(report.offsets[r].offset_ns, sc.clock_offset_ns[r], 1000);
}

TEST(RankSummaryTest, RanksOfOneMachineShareItsClock) {
  RankScenario sc = Skewed();
  sc.ranks_per_host = 2;
  sc.clock_offset_ns = {0, 0, -7'300'000, -7'300'000};
  sc.exit_jitter_ns = 40'000;  // Noisy collective ends must not invent offsets on one machine.
  std::vector<std::string> files = WriteRanks(testing::TestDir(), sc);
  std::ostringstream err;
  std::vector<std::string> skipped;
  RankReport report = SummarizeRankFiles(files, "Allreduce", err, false, &skipped);
  ASSERT_THAT(report.ranks, SizeIs(4));
  EXPECT_TRUE(report.same_clock[1]);
  EXPECT_EQ(report.offsets[1].offset_ns, 0);
  EXPECT_EQ(report.offsets[1].uncertainty_ns, 0);
  EXPECT_FALSE(report.same_clock[2]);
  EXPECT_NEAR(report.offsets[2].offset_ns, -7'300'000, 100'000);
  EXPECT_EQ(report.offsets[2].offset_ns, report.offsets[3].offset_ns);  // One per machine.
}

TEST(RankSummaryTest, SummaryCommandNamesTheSlowRank) {
  const std::string logdir = testing::TestDir();
  WriteRanks(logdir, Skewed());
  testing::CliResult text = testing::RunTbprof({"summary", logdir});
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("Ranks: 4 profiles"));
  EXPECT_THAT(text.out, HasSubstr("Slowest rank: 2 (node2 rank 2), slowest in 5 of 5 steps, "));
  testing::CliResult json = testing::RunTbprof({"summary", logdir, "--ranks", "--json"});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"format\": \"tbprof.ranks.v1\""));
  EXPECT_THAT(json.out, HasSubstr("\"slowest_rank\": 2,"));
  testing::CliResult other =
      testing::RunTbprof({"summary", logdir, "--ranks", "--collective", "Broadcast"});
  EXPECT_THAT(other.out, HasSubstr("clocks aligned to rank 0 on step ends"));
}

}  // namespace
}  // namespace tbprof::cli

namespace tbprof::cli {
namespace {

int64_t TaskEnvironmentInt(const tensorflow::profiler::XSpace& space, const std::string& name) {
  for (const auto& plane : space.planes()) {
    if (plane.name() != "Task Environment") continue;
    PlaneIndex index(plane);
    if (const auto* stat = index.FindPlaneStat(name))
      return PlaneIndex::StatInt(*stat).value_or(-2);
  }
  return -3;
}

TEST(RankAlignTest, AlignedCopyRecordsTheCorrectionAndLinesUp) {
  const std::string logdir = testing::TestDir();
  const RankScenario sc = Skewed();
  std::vector<std::string> files = WriteRanks(logdir, sc);
  testing::CliResult r = testing::RunTbprof({"align", logdir});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string aligned = logdir + "/plugins/profile/job_steps_aligned";
  EXPECT_THAT(r.out, HasSubstr("aligned 4 profiles on Allreduce ends into " + aligned));
  for (int rank = 0; rank < 4; ++rank) {
    const std::string name = files[rank].substr(files[rank].find_last_of('/'));
    tensorflow::profiler::XSpace original, copy;
    ASSERT_TRUE(original.ParseFromString(testing::ReadBytes(files[rank])));
    ASSERT_TRUE(copy.ParseFromString(testing::ReadBytes(aligned + name)));
    const int64_t offset = TaskEnvironmentInt(copy, "tbprof_clock_offset_ns");
    EXPECT_NEAR(offset, sc.clock_offset_ns[rank], 100'000);
    EXPECT_GE(TaskEnvironmentInt(copy, "tbprof_clock_offset_uncertainty_ns"), 0);
    EXPECT_EQ(TaskEnvironmentInt(copy, "profile_start_time"),
              TaskEnvironmentInt(original, "profile_start_time") - offset);
    if (rank > 0)
      EXPECT_THAT(copy.warnings(copy.warnings_size() - 1), HasSubstr("clock aligned to rank 0"));
  }
  // The aligned copy needs no further correction, and is never overwritten.
  std::ostringstream err;
  std::vector<std::string> skipped, again;
  for (const std::string& f : files) again.push_back(aligned + f.substr(f.find_last_of('/')));
  RankReport report = SummarizeRankFiles(again, "Allreduce", err, false, &skipped);
  for (const internal::ClockOffset& o : report.offsets) EXPECT_LT(std::abs(o.offset_ns), 100'000);
  EXPECT_NE(testing::RunTbprof({"align", logdir, "--session", "job_steps"}).code, 0);
}

}  // namespace
}  // namespace tbprof::cli
