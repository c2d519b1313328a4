// Adversarial but well-formed files through the `tbprof` commands: names deep or long enough to
// break code that recurses or backtracks per character, and times at the ends of the int64 range.
// Each command must finish with a clear result, in bounded memory, without undefined behaviour.
#include <cstdint>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/tools/tools_test_util.h"
#include "tools/profile_summary.h"
#include "tools/xspace_util.h"

namespace tbprof::cli {
namespace {

using testing::GoodEvents;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadBytes;
using testing::RunTbprof;
using testing::TestDir;
using testing::WriteEventFile;
using testing::WriteProfile;
namespace xp = tensorflow::profiler;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// GoodEvents() with the step stats' GPU device renamed to `device`.
std::vector<tensorflow::Event> EventsWithDevice(const std::string& device) {
  tensorflow::RunMetadata rm = testing::SmallRunMetadata();
  rm.mutable_step_stats()->mutable_dev_stats(1)->set_device(device);
  std::vector<tensorflow::Event> events = GoodEvents();
  events[2] = testing::RunMetadataEvent(rm, "model_inference");
  return events;
}

TEST(StepStatsDeviceTypeTest, MatchesTheDeviceSuffixOnly) {
  EXPECT_EQ(StepStatsDeviceType("/job:localhost/replica:0/task:0/device:GPU:0"), "GPU");
  EXPECT_EQ(StepStatsDeviceType("/device:CPU:12"), "CPU");
  EXPECT_EQ(StepStatsDeviceType("/device:a/b:3"), "a/b");
  EXPECT_EQ(StepStatsDeviceType("/device:GPU:0/stream:all"), std::nullopt);
  EXPECT_EQ(StepStatsDeviceType("/device:GPU:"), std::nullopt);
  EXPECT_EQ(StepStatsDeviceType("/device::0"), std::nullopt);
  EXPECT_EQ(StepStatsDeviceType("device:GPU:0"), std::nullopt);
  EXPECT_EQ(StepStatsDeviceType("/device:GPU:x0"), std::nullopt);
  EXPECT_EQ(StepStatsDeviceType("/device:X:GPU:0"), std::nullopt);
  EXPECT_EQ(StepStatsDeviceType(":0"), std::nullopt);
  EXPECT_EQ(StepStatsDeviceType("0"), std::nullopt);
  EXPECT_EQ(StepStatsDeviceType(""), std::nullopt);
}

// libstdc++'s std::regex recursed once per character of the device name and overflowed the
// stack on names of some ten thousand characters.
TEST(AdversarialFileTest, ValidateTakesA30000CharacterDeviceName) {
  const std::string dir = TestDir();
  WriteEventFile(dir, EventsWithDevice("/device:" + std::string(30000, 'G') + ":0"));
  testing::CliResult r = RunTbprof({"validate", dir});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  WriteEventFile(dir, EventsWithDevice("/" + std::string(30000, 'x')));
  r = RunTbprof({"validate", dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("[event.step-stats-device]"));
}

TEST(AdversarialFileTest, DotTakesA30000CharacterDeviceName) {
  const std::string dir = TestDir();
  WriteEventFile(dir, EventsWithDevice("/job:x/device:" + std::string(30000, 'Q') + ":7"));
  testing::CliResult r = RunTbprof({"dot", dir, "-o", dir + "/g.dot"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("2 with times"));
}

// `tbprof dot` recursed once per name scope level: 20,000 levels overflowed the stack after
// allocating gigabytes (every level held its whole path).
TEST(AdversarialFileTest, DotTakesA20000LevelNameScope) {
  const std::string dir = TestDir();
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "s/";
  deep += "Relu";
  tensorflow::GraphDef graph = testing::SmallGraphDef();
  graph.mutable_node(2)->set_name(deep);
  WriteEventFile(dir, {testing::FileVersionEvent(), testing::GraphDefEvent(graph)});
  testing::CliResult r = RunTbprof({"dot", dir, "-o", dir + "/g.dot"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string dot = ReadBytes(dir + "/g.dot");
  EXPECT_THAT(dot, HasSubstr("dense/MatMul"));
  EXPECT_LT(dot.size(), size_t{4} << 20) << "the drawing grows with the square of the depth";
}

// A host plane whose one line holds `events` (start offset, duration) of op "dense/MatMul".
xp::XSpace ProfileWithEvents(int64_t line_timestamp_ns,
                             const std::vector<std::pair<int64_t, int64_t>>& events) {
  xp::XSpace space;
  xp::XPlane* plane = space.add_planes();
  plane->set_id(1);
  plane->set_name(std::string(kHostPlaneName));
  (*plane->mutable_event_metadata())[1].set_id(1);
  (*plane->mutable_event_metadata())[1].set_name("dense/MatMul:MatMul");
  xp::XLine* line = plane->add_lines();
  line->set_id(1);
  line->set_timestamp_ns(line_timestamp_ns);
  for (const auto& [offset, duration] : events) {
    xp::XEvent* e = line->add_events();
    e->set_metadata_id(1);
    e->set_offset_ps(offset);
    e->set_duration_ps(duration);
  }
  return space;
}

// Sums of durations and the profile's extent overflowed int64 (undefined behaviour; wrapped to
// negative totals in practice). They saturate instead.
TEST(AdversarialFileTest, SummaryTotalsSaturateOnExtremeTimes) {
  ProfileSummary s =
      SummarizeXSpace(ProfileWithEvents(0, {{0, kMax}, {kMax - 10, kMax}, {kMin, kMax}}), "p");
  ASSERT_EQ(s.ops.size(), 1u);
  EXPECT_EQ(s.ops[0].count, 3);
  EXPECT_EQ(s.ops[0].host_total_ps, kMax);
  EXPECT_GE(s.ops[0].host_self_ps, 0);
  EXPECT_GE(s.duration_ps, 0);

  s = SummarizeXSpace(ProfileWithEvents(kMin / 1000, {{kMin, 5}, {0, kMax}}), "p");
  EXPECT_GE(s.duration_ps, 0);
  EXPECT_GE(s.ops[0].host_total_ps, 0);

  const std::string dir = TestDir();
  WriteProfile(
      dir,
      ProfileWithEvents(kMax / 1000, {{kMax, kMax}, {0, kMax}, {kMin, kMax}}).SerializeAsString());
  testing::CliResult r = RunTbprof({"summary", dir});
  EXPECT_EQ(r.code, 0) << r.err;
  r = RunTbprof({"summary", dir, "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(AdversarialFileTest, SummaryTaskEnvironmentTimesSaturate) {
  xp::XSpace space = ProfileWithEvents(0, {{0, 10}});
  xp::XPlane* env = space.add_planes();
  env->set_id(2);
  env->set_name(std::string(kTaskEnvironmentPlaneName));
  (*env->mutable_stat_metadata())[1].set_name("profile_start_time");
  (*env->mutable_stat_metadata())[2].set_name("profile_stop_time");
  xp::XStat* start = env->add_stats();
  start->set_metadata_id(1);
  start->set_int64_value(0);
  xp::XStat* stop = env->add_stats();
  stop->set_metadata_id(2);
  stop->set_int64_value(kMax / 999);
  ProfileSummary s = SummarizeXSpace(space, "p");
  EXPECT_EQ(s.duration_ps, kMax);  // (stop - start) * 1000 overflowed to a negative time.
}

// Given one profile file, the summary said "No profile session under FILE" and then summarized
// that very file.
TEST(CliSummaryMessageTest, OneProfileFileIsNamedAsSuch) {
  const std::string dir = TestDir();
  const std::string path = WriteProfile(dir, testing::GoodXSpaceBytes());
  testing::CliResult r = RunTbprof({"summary", path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("No profile session")));
  EXPECT_THAT(r.out, HasSubstr("Profile file " + path));
  // A log directory with event files only still says there is no profile session.
  const std::string events_only = TestDir() + "/events";
  WriteEventFile(events_only, GoodEvents());
  r = RunTbprof({"summary", events_only});
  EXPECT_THAT(r.out, HasSubstr("No profile session under " + events_only));
}

}  // namespace
}  // namespace tbprof::cli
