// `tbprof summary`: tables and JSON on a synthetic profile (golden files), self time from
// nesting, steps, kernels, session choice and event file counts.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/tools/tools_test_util.h"
#include "tools/profile_summary.h"

namespace tbprof::cli {
namespace {

using testing::GoodEvents;
using testing::GoodXSpaceBytes;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadBytes;
using testing::RunTbprof;
using testing::TestDir;
using testing::WriteBytes;
using testing::WriteEventFile;
using testing::WriteProfile;
namespace xp = tensorflow::profiler;

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// Compares with testdata/<name>; TBPROF_UPDATE_GOLDENS=1 rewrites the file instead.
void ExpectGolden(const std::string& actual, const std::string& name) {
  const std::string path = std::string(TBPROF_TOOLS_TESTDATA) + "/" + name;
  if (std::getenv("TBPROF_UPDATE_GOLDENS") != nullptr) {
    WriteBytes(path, actual);
    return;
  }
  EXPECT_EQ(actual, ReadBytes(path))
      << "golden " << path << " differs (TBPROF_UPDATE_GOLDENS=1 rewrites it)";
}

TEST(CliSummaryTest, TableMatchesGolden) {
  const std::string dir = TestDir();
  WriteProfile(dir, GoodXSpaceBytes());
  WriteEventFile(dir, GoodEvents());
  testing::CliResult r = RunTbprof({"summary", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  ExpectGolden(ReplaceAll(r.out, dir, "LOGDIR"), "summary.txt");
  EXPECT_EQ(r.err, "");
}

TEST(CliSummaryTest, JsonMatchesGolden) {
  const std::string dir = TestDir();
  WriteProfile(dir, GoodXSpaceBytes());
  WriteEventFile(dir, GoodEvents());
  testing::CliResult r = RunTbprof({"summary", dir, "--json", "--top", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  ExpectGolden(ReplaceAll(r.out, dir, "LOGDIR"), "summary.json");
}

TEST(CliSummaryTest, TopLimitsRowsButKeepsTotals) {
  const std::string dir = TestDir();
  WriteProfile(dir, GoodXSpaceBytes());
  testing::CliResult r = RunTbprof({"summary", dir, "--top=2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Top ops by self time (host self + device), 2 of 7"));
  EXPECT_THAT(r.out, HasSubstr("Top GPU kernels by total time, 2 of 6"));
  r = RunTbprof({"summary", dir, "--json", "--top", "1"});
  EXPECT_THAT(r.out, HasSubstr("\"ops_total\": 7"));
  EXPECT_EQ(r.out.find("\"name\": \"dense_1/MatMul\""), std::string::npos)
      << "only one op (dense_1/BiasAdd, first by name among equals) is listed";
}

// A host plane with an op holding a nested op, a plain scope and an instant; a step root;
// a GPU plane with two kernels attributed to the outer op.
xp::XSpace NestedSpace() {
  xp::XSpace space;
  space.add_hostnames("nesthost");
  xp::XPlane* host = space.add_planes();
  host->set_id(1);
  host->set_name("/host:CPU");
  auto event_md = [](xp::XPlane* p, int64_t id, const std::string& name) {
    auto& m = (*p->mutable_event_metadata())[id];
    m.set_id(id);
    m.set_name(name);
  };
  auto stat_md = [](xp::XPlane* p, int64_t id, const std::string& name) {
    auto& m = (*p->mutable_stat_metadata())[id];
    m.set_id(id);
    m.set_name(name);
  };
  event_md(host, 1, "train");
  event_md(host, 2, "net/Outer:Outer");
  event_md(host, 3, "net/Inner:Inner");
  event_md(host, 4, "plain scope");
  stat_md(host, 1, "_r");
  stat_md(host, 2, "step_num");
  auto add = [](xp::XLine* line, int64_t md, int64_t start_us, int64_t dur_us) {
    xp::XEvent* e = line->add_events();
    e->set_metadata_id(md);
    e->set_offset_ps(start_us * 1'000'000);
    e->set_duration_ps(dur_us * 1'000'000);
    return e;
  };
  xp::XLine* line = host->add_lines();
  line->set_id(7);
  line->set_name("main");
  line->set_timestamp_ns(1000);
  xp::XEvent* step = add(line, 1, 0, 200);
  auto* r = step->add_stats();
  r->set_metadata_id(1);
  r->set_int64_value(1);
  auto* num = step->add_stats();
  num->set_metadata_id(2);
  num->set_int64_value(42);
  add(line, 2, 10, 100);  // Outer [10, 110)
  add(line, 3, 20, 30);   //   Inner [20, 50)
  add(line, 4, 60, 10);   //   scope [60, 70)
  add(line, 3, 80, 0);    //   Inner instant
  add(line, 3, 150, 20);  // Inner alone [150, 170)

  xp::XPlane* gpu = space.add_planes();
  gpu->set_id(0);
  gpu->set_name("/device:GPU:0");
  event_md(gpu, 1, "gemm_kernel");
  stat_md(gpu, 1, "kernel_details");
  stat_md(gpu, 2, "tf_op");
  xp::XLine* stream = gpu->add_lines();
  stream->set_id(3);
  stream->set_name("Stream #3(Kernel)");
  stream->set_timestamp_ns(1000);
  for (int64_t start : {30, 90}) {
    xp::XEvent* k = add(stream, 1, start, start == 30 ? 5 : 15);
    auto* d = k->add_stats();
    d->set_metadata_id(1);
    d->set_str_value(
        "regs:40 static_shared:0 dynamic_shared:128 grid:4,2,1 block:64,1,1 occ_pct:25");
    auto* op = k->add_stats();
    op->set_metadata_id(2);
    op->set_str_value("net/Outer:Outer");
  }
  return space;
}

TEST(CliSummaryTest, SelfTimeComesFromNestingOnTheLine) {
  ProfileSummary s = SummarizeXSpace(NestedSpace(), "x.xplane.pb");
  EXPECT_EQ(s.host, "nesthost");
  ASSERT_EQ(s.ops.size(), 2u);
  const OpSummary& outer = s.ops[0];
  EXPECT_EQ(outer.name, "net/Outer");
  EXPECT_EQ(outer.type, "Outer");
  EXPECT_EQ(outer.count, 1);
  EXPECT_EQ(outer.host_total_ps, 100'000'000);
  // 100 us minus the nested op (30), the plain scope (10) and the instant (0).
  EXPECT_EQ(outer.host_self_ps, 60'000'000);
  EXPECT_EQ(outer.device_ps, 20'000'000);
  EXPECT_EQ(outer.device_events, 2);
  const OpSummary& inner = s.ops[1];
  EXPECT_EQ(inner.name, "net/Inner");
  EXPECT_EQ(inner.count, 3);
  EXPECT_EQ(inner.host_total_ps, 50'000'000);
  EXPECT_EQ(inner.host_self_ps, 50'000'000);
}

TEST(CliSummaryTest, KernelsAndStepsAreReported) {
  ProfileSummary s = SummarizeXSpace(NestedSpace(), "x.xplane.pb");
  ASSERT_EQ(s.kernels.size(), 1u);
  EXPECT_EQ(s.kernels[0].name, "gemm_kernel");
  EXPECT_EQ(s.kernels[0].op, "net/Outer");
  EXPECT_EQ(s.kernels[0].count, 2);
  EXPECT_EQ(s.kernels[0].min_ps, 5'000'000);
  EXPECT_EQ(s.kernels[0].max_ps, 15'000'000);
  EXPECT_EQ(s.kernels[0].grid, "4,2,1");
  EXPECT_EQ(s.kernels[0].block, "64,1,1");
  EXPECT_EQ(s.kernels[0].registers, 40);
  EXPECT_DOUBLE_EQ(s.kernels[0].occupancy_pct, 25);
  // With GPUs, the overview page takes a step's time from the kernels its launches started
  // (correlation ids); these kernels have none, so the step root makes no step.
  EXPECT_TRUE(s.steps.empty());
  // Host only: the step root with compute inside is a step, timed by the root.
  xp::XSpace host_only = NestedSpace();
  host_only.mutable_planes()->RemoveLast();
  ProfileSummary h = SummarizeXSpace(host_only, "x.xplane.pb");
  ASSERT_EQ(h.steps.size(), 1u);
  EXPECT_EQ(h.steps[0].step, 42);
  EXPECT_EQ(h.steps[0].duration_ps, 200'000'000);
  EXPECT_EQ(h.steps[0].start_ps, 1'000'000);
  StepStats stats = ComputeStepStats(h.steps);
  EXPECT_EQ(stats.count, 1);
  EXPECT_EQ(stats.max_ps, 200'000'000);
}

TEST(CliSummaryTest, WarnsWhenStepsAndHostPlaneAreMissing) {
  xp::XSpace space = NestedSpace();
  space.mutable_planes(0)->set_name("/host:Other");
  space.add_warnings("3 host events dropped");
  ProfileSummary s = SummarizeXSpace(space, "x.xplane.pb");
  EXPECT_THAT(s.warnings, ::testing::Contains(HasSubstr("no \"/host:CPU\" plane")));
  EXPECT_THAT(s.warnings, ::testing::Contains("profile warning: 3 host events dropped"));
  // The device side still counts.
  ASSERT_EQ(s.ops.size(), 1u);
  EXPECT_EQ(s.ops[0].device_ps, 20'000'000);
}

TEST(CliSummaryTest, PicksTheNewestSessionUnlessOneIsNamed) {
  const std::string dir = TestDir();
  WriteProfile(dir + "/train", GoodXSpaceBytes(), "2026_01_01_00_00_00", "old");
  std::string nested;
  ASSERT_TRUE(NestedSpace().SerializeToString(&nested));
  WriteProfile(dir + "/eval", nested, "2026_05_01_00_00_00", "new");
  testing::CliResult r = RunTbprof({"summary", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Profile session 2026_05_01_00_00_00 of run \"eval\""));
  EXPECT_THAT(r.out, HasSubstr("net/Outer"));
  r = RunTbprof({"summary", dir, "--session", "2026_01_01_00_00_00"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("of run \"train\""));
  EXPECT_THAT(r.out, HasSubstr("dense_1/MatMul"));
  r = RunTbprof({"summary", dir, "--run", "train"});
  EXPECT_THAT(r.out, HasSubstr("of run \"train\""));
  r = RunTbprof({"summary", dir, "--run", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("no profile session of run \"nope\""));
}

TEST(CliSummaryTest, AcceptsOneXplaneFile) {
  const std::string dir = TestDir();
  const std::string path = WriteProfile(dir, GoodXSpaceBytes());
  testing::CliResult r = RunTbprof({"summary", path, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"host\": \"testhost\""));
  EXPECT_THAT(r.out, HasSubstr("\"event_files\": []"));
}

TEST(CliSummaryTest, CountsEventFileRecordsAndTags) {
  const std::string dir = TestDir();
  WriteEventFile(dir, GoodEvents());
  testing::CliResult r = RunTbprof({"summary", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("No profile session under"));
  EXPECT_THAT(r.out, HasSubstr("4 records, 1 graph(s), 1 run metadata, 1 other summaries; "
                               "tags: model_inference"));
  EXPECT_THAT(r.out, Not(HasSubstr("ERROR")));
}

}  // namespace
}  // namespace tbprof::cli

namespace tbprof::cli {
namespace {

TEST(CliSummaryTest, PointsAtAProfileOutsideTheLayout) {
  const std::string dir = testing::TestDir();
  testing::WriteBytes(dir + "/loose.xplane.pb", testing::GoodXSpaceBytes());
  testing::CliResult r = testing::RunTbprof({"summary", dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, ::testing::HasSubstr(dir + "/loose.xplane.pb is not in a "
                                                "<run>/plugins/profile/<session>/ directory"));
  r = testing::RunTbprof({"summary", dir + "/loose.xplane.pb"});
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
}  // namespace tbprof::cli
