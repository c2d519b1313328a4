// src/ranks: launcher variables, names, the shared session directory and clock offsets, and a
// Session of each rank writing into the one shared session.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/config/config.h"
#include "src/ranks/clock_offsets.h"
#include "src/ranks/rank_env.h"
#include "src/ranks/shared_session.h"
#include "src/session/session.h"
#include "src/util/file_util.h"
#include "tbprof/tbprof.h"
#include "tensorflow/profiler/xplane.pb.h"

namespace tbprof::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

RankJob Read(std::map<std::string, std::string> vars, std::vector<std::string>* errors) {
  return ReadRankEnvironment(Env(std::move(vars)), errors);
}

TEST(RankEnvTest, NoLauncherMeansNoJob) {
  std::vector<std::string> errors;
  RankJob job = Read({}, &errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_FALSE(job.in_job());
  EXPECT_FALSE(job.shared_session());
  EXPECT_EQ(SharedSessionName(job, "steps_1_2", 2), "");
}

TEST(RankEnvTest, EachLauncher) {
  std::vector<std::string> errors;
  RankJob ompi = Read({{"OMPI_COMM_WORLD_RANK", "3"},
                       {"OMPI_COMM_WORLD_SIZE", "8"},
                       {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                       {"PMIX_NAMESPACE", "prterun-node1-4242@1"}},
                      &errors);
  EXPECT_EQ(ompi.rank, 3);
  EXPECT_EQ(ompi.world_size, 8);
  EXPECT_EQ(ompi.local_rank, 1);
  EXPECT_EQ(ompi.launcher, "Open MPI");
  EXPECT_EQ(ompi.job_id, "prterun-node1-4242@1");
  RankJob pmi = Read({{"PMI_RANK", "1"}, {"PMI_SIZE", "2"}}, &errors);
  EXPECT_EQ(pmi.launcher, "MPICH/PMI");
  EXPECT_EQ(pmi.rank, 1);
  EXPECT_FALSE(pmi.shared_session());  // No job id: nothing all ranks agree on.
  RankJob slurm = Read({{"SLURM_PROCID", "5"},
                        {"SLURM_NTASKS", "16"},
                        {"SLURM_JOB_ID", "991"},
                        {"SLURM_STEP_ID", "2"}},
                       &errors);
  EXPECT_EQ(slurm.launcher, "Slurm");
  EXPECT_EQ(slurm.job_id, "991.2");
  // torchrun under srun: torchrun's global rank wins over Slurm's task id.
  RankJob torch = Read({{"RANK", "9"},
                        {"WORLD_SIZE", "32"},
                        {"LOCAL_RANK", "1"},
                        {"SLURM_PROCID", "1"},
                        {"SLURM_NTASKS", "4"},
                        {"TORCHELASTIC_RUN_ID", "abc"}},
                       &errors);
  EXPECT_EQ(torch.launcher, "torchrun");
  EXPECT_EQ(torch.rank, 9);
  EXPECT_EQ(torch.world_size, 32);
  EXPECT_EQ(torch.job_id, "abc");
  EXPECT_TRUE(errors.empty());
}

TEST(RankEnvTest, MalformedLauncherVariablesAreIgnored) {
  std::vector<std::string> errors;
  RankJob job = Read({{"RANK", "first"}, {"WORLD_SIZE", "4"}}, &errors);
  EXPECT_FALSE(job.in_job());
  job = Read({{"RANK", "4"}, {"WORLD_SIZE", "4"}}, &errors);  // rank >= size
  EXPECT_FALSE(job.in_job());
  EXPECT_TRUE(errors.empty());
}

TEST(RankEnvTest, OverridesAndTheirValidation) {
  std::vector<std::string> errors;
  RankJob job = Read({{"OMPI_COMM_WORLD_RANK", "3"},
                      {"OMPI_COMM_WORLD_SIZE", "8"},
                      {"TBPROF_RANK", "5"},
                      {"TBPROF_SESSION", "exp7.steps_1_2"}},
                     &errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(job.rank, 5);
  EXPECT_EQ(job.world_size, 8);
  EXPECT_EQ(SharedSessionName(job, "steps_1_2", 2), "exp7.steps_1_2");

  errors.clear();
  Read({{"TBPROF_RANK", "-1"}, {"TBPROF_WORLD_SIZE", "zero"}, {"TBPROF_SESSION", "../x"}}, &errors);
  ASSERT_THAT(errors, SizeIs(3));
  EXPECT_THAT(errors[0], HasSubstr("TBPROF_RANK='-1' is not valid"));
  EXPECT_THAT(errors[1], HasSubstr("TBPROF_WORLD_SIZE='zero' is not valid"));
  EXPECT_THAT(errors[2], HasSubstr("TBPROF_SESSION='../x' is not valid"));

  errors.clear();
  Read({{"TBPROF_RANK", "4"}, {"TBPROF_WORLD_SIZE", "4"}}, &errors);
  ASSERT_THAT(errors, SizeIs(1));
  EXPECT_THAT(errors[0], HasSubstr("not below the world size 4"));
}

TEST(RankEnvTest, BadOverrideTurnsTracingOffWithOneLine) {
  std::vector<std::string> lines;
  Config c = LoadConfig(Env({{"TBPROF", "1"}, {"TBPROF_RANK", "x"}}),
                        [&](std::string_view line) { lines.emplace_back(line); });
  EXPECT_FALSE(c.enabled);
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0], HasSubstr("TBPROF_RANK='x'"));
  Config ok = LoadConfig(Env({{"TBPROF", "1"}, {"TBPROF_RANK", "2"}, {"TBPROF_WORLD_SIZE", "4"}}));
  EXPECT_TRUE(ok.enabled);
  EXPECT_EQ(ok.ranks.rank, 2);
}

TEST(RankEnvTest, NamesReadWellAndSortByRank) {
  EXPECT_EQ(RankHostLabel("node3", 5), "node3 rank 5");
  EXPECT_EQ(RankHostLabel("node3", -1), "node3");
  EXPECT_EQ(RankFileStem("node3", 5, 8), "node3_rank5");
  EXPECT_EQ(RankFileStem("node3", 5, 16), "node3_rank05");
  EXPECT_EQ(RankFileStem("node3", 5, 256), "node3_rank005");
  EXPECT_EQ(RankFileStem("a:b/c d", 0, 1), "a_b_c_d_rank0");
  EXPECT_EQ(RankFileStem("node3", -1, 0), "node3");
  std::vector<std::string> stems;
  for (int r : {10, 2, 0}) stems.push_back(RankFileStem("n", r, 12));
  std::sort(stems.begin(), stems.end());
  EXPECT_THAT(stems, ElementsAre("n_rank00", "n_rank02", "n_rank10"));
}

TEST(RankEnvTest, SessionNameFromJobIdAndSteps) {
  RankJob job;
  job.rank = 1;
  job.world_size = 2;
  job.job_id = "prterun-node1-4242@1";
  EXPECT_EQ(SharedSessionName(job, "steps_10_12", 12), "prterun-node1-4242_1_steps_10_12");
  EXPECT_EQ(SharedSessionName(job, "model train", 7), "prterun-node1-4242_1_model_train_7");
}

std::string TmpDir(const std::string& name) {
  const char* base = std::getenv("TBPROF_TEST_TMPDIR");
  std::string dir = std::string(base != nullptr ? base : "/tmp/tbprof_ranks_test") + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(SharedSessionTest, RanksJoinOneDirectoryAndNeverClobber) {
  const std::string root = TmpDir("shared");
  absl::StatusOr<std::string> a = JoinSharedSessionDir(root, "s", "h_rank0");
  absl::StatusOr<std::string> b = JoinSharedSessionDir(root, "s", "h_rank1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, root + "/s");
  EXPECT_EQ(*b, *a);
  ASSERT_TRUE(WriteFileAtomically(*a + "/h_rank0.xplane.pb", "x").ok());
  // Rank 0 captures again under the same name: next to the first, not over it.
  absl::StatusOr<std::string> again = JoinSharedSessionDir(root, "s", "h_rank0");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, root + "/s_1");
  std::string bytes;
  ASSERT_TRUE(ReadFile(*a + "/h_rank0.xplane.pb", &bytes).ok());
  EXPECT_EQ(bytes, "x");
  ASSERT_TRUE(WriteFileAtomically(root + "/file", "y").ok());
  absl::StatusOr<std::string> bad = JoinSharedSessionDir(root, "file", "h_rank0");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ClockOffsetsTest, MedianOfMatchedAnchorsWithSpread) {
  std::vector<std::vector<ClockAnchor>> anchors(3);
  for (int64_t s = 0; s < 5; ++s) {
    for (int64_t k = 0; k < 2; ++k) {
      const int64_t t = 1'000'000 * s + 100'000 * k;
      anchors[0].push_back({s, k, t});
      anchors[1].push_back({s, k, t + 7'000'000 + (k == 0 ? 2'000 : -2'000)});
    }
  }
  anchors[1].push_back({99, 0, 5});  // No counterpart on the reference: ignored.
  anchors[2].push_back({42, 0, 1});
  std::vector<ClockOffset> o = EstimateClockOffsets(anchors);
  ASSERT_THAT(o, SizeIs(3));
  EXPECT_EQ(o[0].offset_ns, 0);
  EXPECT_EQ(o[0].uncertainty_ns, 0);
  EXPECT_EQ(o[1].offset_ns, 7'000'000);
  EXPECT_EQ(o[1].uncertainty_ns, 2'000);
  EXPECT_EQ(o[1].matches, 10);
  EXPECT_EQ(o[2].matches, 0);
  EXPECT_EQ(o[2].uncertainty_ns, -1);
  EXPECT_TRUE(EstimateClockOffsets(anchors, 3).empty());
}

// Two ranks of one job, each its own Session, export into one session directory with one file
// each; a rank that fails to write leaves the other's file and the directory in place.
TEST(RankSessionTest, RanksOfOneJobShareOneSession) {
  const std::string logdir = TmpDir("session");
  std::vector<std::string> dirs;
  for (int rank = 0; rank < 3; ++rank) {
    SessionOptions o;
    o.logdir = logdir;
    o.gpu = GpuMode::kOff;
    o.job.rank = rank;
    o.job.world_size = 3;
    o.job.job_id = "job42";
    if (rank == 2) {
      // Make this rank's write fail: its trace file name is taken by a directory.
      std::filesystem::create_directories(logdir + "/plugins/profile/job42_steps_10_12/" +
                                          RankFileStem(Hostname(), 2, 3) + ".trace.json.gz");
    }
    Session session(o, nullptr);
    ASSERT_TRUE(session.Start().ok());
    {
      tbprof::StepScope step(10);
      TBPROF_OP("grad/Allreduce", "Allreduce", {}, {});
    }
    absl::StatusOr<ExportInfo> info = session.Export("steps_10_12", 12);
    if (rank == 2) {
      EXPECT_FALSE(info.ok());
      continue;
    }
    ASSERT_TRUE(info.ok()) << info.status();
    dirs.push_back(info->session_dir);
    EXPECT_THAT(info->xplane_path, HasSubstr("_rank" + std::to_string(rank) + ".xplane.pb"));
    std::string bytes;
    ASSERT_TRUE(ReadFile(info->xplane_path, &bytes).ok());
    tensorflow::profiler::XSpace space;
    ASSERT_TRUE(space.ParseFromString(bytes));
    ASSERT_EQ(space.hostnames_size(), 1);
    EXPECT_EQ(space.hostnames(0), Hostname() + " rank " + std::to_string(rank));
    // The Task Environment names the rank and the shared base of the line timestamps.
    std::map<std::string, int64_t> env;
    int64_t first_line_ns = -1;
    for (const auto& plane : space.planes()) {
      if (plane.name() == "/host:CPU" && plane.lines_size() > 0) {
        first_line_ns = plane.lines(0).timestamp_ns();
      }
      if (plane.name() != "Task Environment") continue;
      for (const auto& stat : plane.stats()) {
        env[plane.stat_metadata().at(stat.metadata_id()).name()] =
            stat.has_uint64_value() ? static_cast<int64_t>(stat.uint64_value())
                                    : stat.int64_value();
      }
    }
    EXPECT_EQ(env["tbprof_rank"], rank);
    EXPECT_EQ(env["tbprof_world_size"], 3);
    const int64_t base = env["tbprof_line_time_base_ns"];
    EXPECT_EQ(base % (int64_t{86400} * 1'000'000'000), 0);  // 00:00 UTC of the day.
    // Line times count from that base: the first event lies after the capture start.
    EXPECT_GE(base + first_line_ns, env["profile_start_time"]);
    EXPECT_LT(base + first_line_ns, env["profile_start_time"] + 1'000'000'000);
  }
  ASSERT_THAT(dirs, SizeIs(2));
  EXPECT_EQ(dirs[0], dirs[1]);
  EXPECT_EQ(dirs[0], logdir + "/plugins/profile/job42_steps_10_12");
  int xplanes = 0;
  for (const auto& e : std::filesystem::directory_iterator(dirs[0])) {
    xplanes += e.path().string().ends_with(".xplane.pb");
  }
  EXPECT_EQ(xplanes, 2);
}

}  // namespace
}  // namespace tbprof::internal
