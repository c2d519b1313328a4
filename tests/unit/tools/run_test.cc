// `tbprof run`: the program gets TBPROF=1 and the TBPROF_* variables, its exit status is
// forwarded (128+N for a signal), and the profile it wrote is summarized.
#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/tools/tools_test_util.h"
#include "tools/run_command.h"

namespace tbprof::cli {
namespace {

using ::testing::HasSubstr;
using testing::RunTbprof;
using testing::TestDir;

TEST(CliRunTest, ForwardsExitCodes) {
  const std::string dir = TestDir();
  for (int code : {0, 1, 3, 42}) {
    testing::CliResult r =
        RunTbprof({"run", "--logdir", dir, "--", "/bin/sh", "-c", "exit " + std::to_string(code)});
    EXPECT_EQ(r.code, code) << r.err;
    EXPECT_THAT(r.err, HasSubstr("exited with status " + std::to_string(code)));
  }
}

TEST(CliRunTest, SignalsBecome128PlusTheSignal) {
  const std::string dir = TestDir();
  testing::CliResult r =
      RunTbprof({"run", "--logdir", dir, "--", "/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(r.code, 128 + 15) << r.err;
}

TEST(CliRunTest, MissingProgramIs127) {
  const std::string dir = TestDir();
  testing::CliResult r = RunTbprof({"run", "--logdir", dir, "--", "/nonexistent/program"});
  EXPECT_EQ(r.code, 127);
  EXPECT_THAT(r.err, HasSubstr("cannot run /nonexistent/program"));
}

TEST(CliRunTest, SetsTheCaptureEnvironment) {
  const std::string dir = TestDir();
  testing::CliResult r = RunTbprof(
      {"run", "--steps", "2:5", "--logdir", dir, "--run", "r1", "--", "/bin/sh", "-c",
       "test \"$TBPROF\" = 1 && test \"$TBPROF_STEPS\" = 2:5 && test \"$TBPROF_LOGDIR\" = '" + dir +
           "' && test \"$TBPROF_RUN\" = r1"});
  EXPECT_EQ(r.code, 0) << r.err;
  RunOptions options;
  options.steps = "1:1";
  std::vector<std::string> env = ChildEnvironment(options);
  EXPECT_THAT(env, ::testing::Contains("TBPROF=1"));
  EXPECT_THAT(env, ::testing::Contains("TBPROF_STEPS=1:1"));
  EXPECT_EQ(std::count_if(env.begin(), env.end(),
                          [](const std::string& e) { return e.rfind("TBPROF=", 0) == 0; }),
            1);
}

TEST(CliRunTest, SummarizesTheNewProfile) {
  const std::string dir = TestDir();
  const std::string source = dir + "/source.xplane.pb";
  testing::WriteBytes(source, testing::GoodXSpaceBytes());
  // An older session that must not be the one summarized.
  testing::WriteProfile(dir + "/logs", testing::GoodXSpaceBytes(), "2099_01_01_00_00_00", "old");
  testing::CliResult r = RunTbprof(
      {"run", "--logdir", dir + "/logs", "--", "/bin/sh", "-c",
       "d=\"$TBPROF_LOGDIR/plugins/profile/2026_03_03_03_03_03\"; mkdir -p \"$d\" && cp '" +
           source + "' \"$d/newhost.xplane.pb\" && exit 5"});
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Profile session 2026_03_03_03_03_03"));
  EXPECT_THAT(r.err, HasSubstr("newhost.xplane.pb"));
  EXPECT_THAT(r.err, HasSubstr("dense_1/MatMul"));
}

TEST(CliRunTest, SaysWhenNothingWasWritten) {
  const std::string dir = TestDir();
  testing::CliResult r = RunTbprof({"run", "--logdir", dir, "--", "/bin/true"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("no new profile under " + dir));
}

TEST(CliRunTest, StepsRangeIsValidated) {
  EXPECT_TRUE(ValidateStepsRange("2:5").ok());
  EXPECT_TRUE(ValidateStepsRange("0:0").ok());
  EXPECT_FALSE(ValidateStepsRange("5:2").ok());
  EXPECT_FALSE(ValidateStepsRange("-1:2").ok());
  EXPECT_FALSE(ValidateStepsRange("2").ok());
  EXPECT_FALSE(ValidateStepsRange("a:b").ok());
}

TEST(CliRunTest, PointsNvtxAtTheInjectionLibraryUnlessAnotherIsSet) {
  RunOptions options;
  options.nvtx_library = "/opt/tbprof/lib/libtbprof_nvtx_inject.so";
  unsetenv("NVTX_INJECTION64_PATH");
  EXPECT_THAT(
      ChildEnvironment(options),
      ::testing::Contains("NVTX_INJECTION64_PATH=/opt/tbprof/lib/libtbprof_nvtx_inject.so"));
  setenv("NVTX_INJECTION64_PATH", "/other/tool.so", 1);
  EXPECT_THAT(ChildEnvironment(options),
              ::testing::Contains("NVTX_INJECTION64_PATH=/other/tool.so"));
  unsetenv("NVTX_INJECTION64_PATH");
  // The library of this build is found (beside the binary or in the build tree).
  const std::string found = FindNvtxInjectionLibrary();
  if (!found.empty()) EXPECT_THAT(found, HasSubstr("libtbprof_nvtx_inject.so"));
  setenv("TBPROF_NVTX_LIBRARY", "/does/not/exist.so", 1);
  EXPECT_EQ(FindNvtxInjectionLibrary(), "");
  unsetenv("TBPROF_NVTX_LIBRARY");
}

}  // namespace
}  // namespace tbprof::cli
