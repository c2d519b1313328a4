#include "src/config/config.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tbprof::internal {
namespace {

using ::testing::HasSubstr;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ConfigTest, DefaultsWhenNothingIsSet) {
  Config c;
  ASSERT_TRUE(ParseConfig(Env({}), &c).ok());
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.logdir, "tbprof_logs");
  EXPECT_EQ(c.run, "");
  EXPECT_FALSE(c.has_steps);
  EXPECT_EQ(c.host_level, 2);
  EXPECT_EQ(c.max_events, kDefaultMaxEvents);
  EXPECT_EQ(c.gpu, GpuMode::kAuto);
  EXPECT_EQ(c.port, 0);
}

TEST(ConfigTest, GoodValues) {
  Config c;
  ASSERT_TRUE(ParseConfig(Env({{"TBPROF", "1"},
                               {"TBPROF_LOGDIR", "/tmp/logs"},
                               {"TBPROF_RUN", "exp1/train"},
                               {"TBPROF_STEPS", "10:12"},
                               {"TBPROF_HOST_LEVEL", "3"},
                               {"TBPROF_MAX_EVENTS", "1000"},
                               {"TBPROF_GPU", "OFF"},
                               {"TBPROF_PORT", "6009"}}),
                          &c)
                  .ok());
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.logdir, "/tmp/logs");
  EXPECT_EQ(c.run, "exp1/train");
  EXPECT_TRUE(c.has_steps);
  EXPECT_EQ(c.steps_first, 10);
  EXPECT_EQ(c.steps_last, 12);
  EXPECT_EQ(c.host_level, 3);
  EXPECT_EQ(c.max_events, 1000);
  EXPECT_EQ(c.gpu, GpuMode::kOff);
  EXPECT_EQ(c.port, 6009);
}

TEST(ConfigTest, OtherAcceptedSpellings) {
  Config c;
  ASSERT_TRUE(ParseConfig(Env({{"TBPROF", "true"},
                               {"TBPROF_STEPS", "7"},
                               {"TBPROF_GPU", "on"},
                               {"TBPROF_PORT", "off"},
                               {"TBPROF_RUN", ""}}),
                          &c)
                  .ok());
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.steps_first, 7);
  EXPECT_EQ(c.steps_last, 7);
  EXPECT_EQ(c.gpu, GpuMode::kOn);
  EXPECT_EQ(c.port, 0);
  ASSERT_TRUE(ParseConfig(Env({{"TBPROF", "0"}, {"TBPROF_GPU", "auto"}}), &c).ok());
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.gpu, GpuMode::kAuto);
}

struct BadCase {
  const char* var;
  const char* value;
  const char* accepted;  // A fragment of the accepted-values text.
};

class BadValueTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadValueTest, NamesVariableValueAndAcceptedValuesAndTurnsTracingOff) {
  const BadCase& bad = GetParam();
  std::map<std::string, std::string> vars = {{"TBPROF", "1"}, {"TBPROF_STEPS", "1:2"}};
  vars[bad.var] = bad.value;
  Config c;
  absl::Status s = ParseConfig(Env(vars), &c);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr(std::string(bad.var) + "='" + bad.value + "'"));
  EXPECT_THAT(std::string(s.message()), HasSubstr(bad.accepted));

  std::vector<std::string> lines;
  Config loaded = LoadConfig(Env(vars), [&](std::string_view line) { lines.emplace_back(line); });
  EXPECT_FALSE(loaded.enabled);
  EXPECT_FALSE(loaded.has_steps);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr(bad.var));

  // The default report is one stderr line naming the variable.
  ::testing::internal::CaptureStderr();
  LoadConfig(Env(vars));
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr(std::string("tbprof: ") + bad.var + "='"));
  EXPECT_THAT(err, HasSubstr("tracing stays off"));
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
}

INSTANTIATE_TEST_SUITE_P(
    AllVariables, BadValueTest,
    ::testing::Values(
        BadCase{"TBPROF", "yes please", "expected 1"}, BadCase{"TBPROF", "2", "expected 1"},
        BadCase{"TBPROF_LOGDIR", "", "directory path"},
        BadCase{"TBPROF_LOGDIR", "  ", "directory path"}, BadCase{"TBPROF_RUN", "/abs", "relative"},
        BadCase{"TBPROF_RUN", "a/../b", "relative"}, BadCase{"TBPROF_RUN", "a//b", "relative"},
        BadCase{"TBPROF_STEPS", "12:10", "A:B"}, BadCase{"TBPROF_STEPS", "a:b", "A:B"},
        BadCase{"TBPROF_STEPS", "-1:3", "A:B"}, BadCase{"TBPROF_STEPS", "1:2:3", "A:B"},
        BadCase{"TBPROF_STEPS", "", "A:B"}, BadCase{"TBPROF_HOST_LEVEL", "0", "expected 1"},
        BadCase{"TBPROF_HOST_LEVEL", "4", "expected 1"},
        BadCase{"TBPROF_HOST_LEVEL", "two", "expected 1"},
        BadCase{"TBPROF_MAX_EVENTS", "0", "from 1 to"},
        BadCase{"TBPROF_MAX_EVENTS", "-5", "from 1 to"},
        BadCase{"TBPROF_MAX_EVENTS", "1e6", "from 1 to"},
        BadCase{"TBPROF_MAX_EVENTS", "99999999999999999999", "from 1 to"},
        BadCase{"TBPROF_GPU", "cuda", "auto, off or on"},
        BadCase{"TBPROF_PORT", "70000", "1 to 65535"},
        BadCase{"TBPROF_PORT", "http", "1 to 65535"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      return std::string(info.param.var) + "_" + std::to_string(info.index);
    });

// A 100 KB value was echoed whole, and a line break in a value split the one-line report.
TEST(ConfigTest, LongOrBinaryBadValuesAreCutToOneShortLine) {
  const std::string huge = "x" + std::string(100 * 1024 - 1, 'y');
  std::vector<std::string> lines;
  LoadConfig(Env({{"TBPROF", "1"}, {"TBPROF_GPU", huge}}),
             [&](std::string_view line) { lines.emplace_back(line); });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_LT(lines[0].size(), 200u) << lines[0];
  EXPECT_THAT(lines[0], HasSubstr("TBPROF_GPU='x" + std::string(63, 'y') + "... (102400 bytes)'"));

  lines.clear();
  LoadConfig(Env({{"TBPROF", "1"}, {"TBPROF_RUN", "/a\nb\x01\\"}}),
             [&](std::string_view line) { lines.emplace_back(line); });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("TBPROF_RUN='/a\\x0ab\\x01\\x5c'"));
}

TEST(ConfigTest, FlightRecorderVariables) {
  Config c;
  ASSERT_TRUE(ParseConfig(Env({}), &c).ok());
  EXPECT_FALSE(c.flight);
  EXPECT_EQ(c.flight_mb, kDefaultFlightMb);
  EXPECT_EQ(c.flight_window_ms, kDefaultFlightWindowMs);
  EXPECT_EQ(c.slow_step_ms, 0);
  EXPECT_FALSE(c.flight_dump_at_exit);
  ASSERT_TRUE(ParseConfig(Env({{"TBPROF", "Flight"},
                               {"TBPROF_FLIGHT_MB", "16"},
                               {"TBPROF_FLIGHT_WINDOW_MS", "5000"},
                               {"TBPROF_SLOW_STEP_MS", "250"},
                               {"TBPROF_FLIGHT_DUMP_AT_EXIT", "1"}}),
                          &c)
                  .ok());
  EXPECT_TRUE(c.flight);
  EXPECT_FALSE(c.enabled);  // TraceOn and TBPROF_STEPS do not capture in flight mode.
  EXPECT_EQ(c.flight_mb, 16);
  EXPECT_EQ(c.flight_window_ms, 5000);
  EXPECT_EQ(c.slow_step_ms, 250);
  EXPECT_TRUE(c.flight_dump_at_exit);
  absl::Status s = ParseConfig(Env({{"TBPROF", "flight"},
                                    {"TBPROF_FLIGHT_MB", "0"},
                                    {"TBPROF_FLIGHT_WINDOW_MS", "soon"},
                                    {"TBPROF_SLOW_STEP_MS", "-3"},
                                    {"TBPROF_FLIGHT_DUMP_AT_EXIT", "maybe"}}),
                               &c);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("TBPROF_FLIGHT_MB='0' is not valid"));
  EXPECT_THAT(s.message(), HasSubstr("TBPROF_FLIGHT_WINDOW_MS='soon' is not valid"));
  EXPECT_THAT(s.message(), HasSubstr("TBPROF_SLOW_STEP_MS='-3' is not valid"));
  EXPECT_THAT(s.message(), HasSubstr("TBPROF_FLIGHT_DUMP_AT_EXIT='maybe' is not valid"));
}

TEST(ConfigTest, SeveralBadValuesGiveOneLineEach) {
  std::vector<std::string> lines;
  Config c = LoadConfig(Env({{"TBPROF", "1"}, {"TBPROF_GPU", "x"}, {"TBPROF_HOST_LEVEL", "9"}}),
                        [&](std::string_view line) { lines.emplace_back(line); });
  EXPECT_FALSE(c.enabled);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("TBPROF_HOST_LEVEL"));
  EXPECT_THAT(lines[1], HasSubstr("TBPROF_GPU"));
}

TEST(ConfigTest, Validators) {
  EXPECT_TRUE(ValidateRun("r", "train").ok());
  EXPECT_FALSE(ValidateRun("r", "..").ok());
  EXPECT_TRUE(ValidateHostLevel("h", 1).ok());
  EXPECT_FALSE(ValidateHostLevel("h", 0).ok());
  EXPECT_TRUE(ValidateMaxEvents("m", 1).ok());
  EXPECT_FALSE(ValidateMaxEvents("m", 0).ok());
}

TEST(ConfigTest, ProcessEnvironmentReadsGetenv) {
  setenv("TBPROF_CONFIG_TEST_VAR", "abc", 1);
  EXPECT_EQ(ProcessEnvironment()("TBPROF_CONFIG_TEST_VAR"), "abc");
  unsetenv("TBPROF_CONFIG_TEST_VAR");
  EXPECT_EQ(ProcessEnvironment()("TBPROF_CONFIG_TEST_VAR"), std::nullopt);
}

}  // namespace
}  // namespace tbprof::internal
