// Runs the mlp_cpu example with TBPROF=1 TBPROF_STEPS=2:4 and checks the host side of the
// written profile against the rules TensorBoard's profile tools rely on (spec §3 and §7),
// decoding it with our own XSpace protos.
#include <dirent.h>
#include <sys/wait.h>

#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "src/util/file_util.h"
#include "tensorflow/profiler/xplane.pb.h"

namespace {

using tensorflow::profiler::XEvent;
using tensorflow::profiler::XLine;
using tensorflow::profiler::XPlane;
using tensorflow::profiler::XSpace;
using tensorflow::profiler::XStat;

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    closedir(d);
  }
  return out;
}

class MlpCpuProfileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* tmp = std::getenv("TBPROF_TEST_TMPDIR");
    logdir_ = new std::string(std::string(tmp != nullptr ? tmp : "/tmp") + "/mlp_cpu_profile");
    std::string cmd = "rm -rf '" + *logdir_ + "' && mkdir -p '" + *logdir_ +
                      "' && env -u TBPROF_RUN TBPROF=1 "
                      "TBPROF_STEPS=2:4 TBPROF_GPU=off '" MLP_CPU_PATH
                      "' --steps 6 --batch 16 "
                      "--logdir '" +
                      *logdir_ + "' > '" + *logdir_ + ".out' 2>&1";
    int rc = std::system(cmd.c_str());
    ASSERT_EQ(WEXITSTATUS(rc), 0) << cmd;
    std::string profile = *logdir_ + "/plugins/profile";
    std::vector<std::string> sessions = List(profile);
    ASSERT_EQ(sessions.size(), 1u);
    std::string session = profile + "/" + sessions[0];
    for (const std::string& f : List(session)) {
      if (f.size() > 10 && f.substr(f.size() - 10) == ".xplane.pb") xplane_ = session + "/" + f;
    }
    ASSERT_FALSE(xplane_.empty());
    std::string bytes;
    ASSERT_TRUE(tbprof::internal::ReadFile(xplane_, &bytes).ok());
    space_ = new XSpace();
    ASSERT_TRUE(space_->ParseFromString(bytes));
  }

  static const XPlane* Plane(const std::string& name) {
    for (const XPlane& p : space_->planes()) {
      if (p.name() == name) return &p;
    }
    return nullptr;
  }
  static std::string StatName(const XPlane& p, const XStat& s) {
    auto it = p.stat_metadata().find(s.metadata_id());
    return it == p.stat_metadata().end() ? "" : it->second.name();
  }
  static std::string EventName(const XPlane& p, const XEvent& e) {
    auto it = p.event_metadata().find(e.metadata_id());
    return it == p.event_metadata().end() ? "" : it->second.name();
  }

  static std::string* logdir_;
  static std::string xplane_;
  static XSpace* space_;
};

std::string* MlpCpuProfileTest::logdir_ = nullptr;
std::string MlpCpuProfileTest::xplane_;
XSpace* MlpCpuProfileTest::space_ = nullptr;

TEST_F(MlpCpuProfileTest, OneHostnameAndAHostPlane) {
  ASSERT_NE(space_, nullptr);
  EXPECT_EQ(space_->hostnames_size(), 1);
  ASSERT_NE(Plane("/host:CPU"), nullptr);
  EXPECT_EQ(Plane("/device:GPU:0"), nullptr);
}

TEST_F(MlpCpuProfileTest, OneLinePerThreadWithRelativeTimestamps) {
  const XPlane* host = Plane("/host:CPU");
  ASSERT_NE(host, nullptr);
  std::set<int64_t> ids;
  std::set<std::string> names;
  for (const XLine& line : host->lines()) {
    EXPECT_TRUE(ids.insert(line.id()).second) << "duplicate line id " << line.id();
    EXPECT_GE(line.id(), 0);
    names.insert(line.display_name().empty() ? line.name() : line.display_name());
    // Session-relative: far below epoch nanoseconds (spec §7.1).
    EXPECT_LT(line.timestamp_ns(), int64_t{3600} * 1000000000);
  }
  // The main and input threads, and the line of the activation arena's memory events.
  EXPECT_EQ(host->lines_size(), 3);
  EXPECT_EQ(names.count("input"), 1u);
  EXPECT_EQ(names.count("tbprof memory"), 1u);
}

TEST_F(MlpCpuProfileTest, OpsStepsAndNesting) {
  const XPlane* host = Plane("/host:CPU");
  ASSERT_NE(host, nullptr);
  const std::regex op_syntax("[A-Za-z0-9.][A-Za-z0-9_./>-]*:[A-Z_][A-Za-z0-9_]*");
  std::set<std::string> op_names;
  std::vector<int64_t> steps;
  for (const XLine& line : host->lines()) {
    struct Span {
      int64_t start, end;
      std::string name;
    };
    std::vector<Span> open;  // Stack of enclosing events.
    std::vector<Span> step_spans;
    int64_t prev_start = -1;
    for (const XEvent& e : line.events()) {
      const int64_t start = e.offset_ps();
      const int64_t end = start + e.duration_ps();
      EXPECT_GE(start, prev_start) << "events are sorted by start";
      prev_start = start;
      std::string name = EventName(*host, e);
      while (!open.empty() && open.back().end <= start) open.pop_back();
      if (!open.empty()) {
        EXPECT_LE(end, open.back().end) << name << " partially overlaps " << open.back().name;
      }
      open.push_back({start, end, name});
      bool root = false;
      int64_t step = -1;
      for (const XStat& s : e.stats()) {
        std::string stat = StatName(*host, s);
        if (stat == "_r") {
          EXPECT_EQ(s.value_case(), XStat::kInt64Value);
          root = true;
        }
        if (stat == "step_num") {
          EXPECT_EQ(s.value_case(), XStat::kInt64Value);
          step = s.int64_value();
        }
      }
      if (root) {
        EXPECT_GE(step, 0) << "a step root carries step_num";
        steps.push_back(step);
        step_spans.push_back({start, end, name});
      }
      // Ops are "scope/name:Type"; input work (TBPROF_INPUT_WORK) is "Iterator::<name>".
      if (name.find(':') != std::string::npos && name.rfind("Iterator::", 0) != 0) {
        EXPECT_TRUE(std::regex_match(name, op_syntax)) << name;
        op_names.insert(name);
        if (!step_spans.empty() || line.name() != "input") {
          bool inside = false;
          for (const Span& s : step_spans) inside |= s.start <= start && end <= s.end;
          EXPECT_TRUE(inside) << name << " outside every step";
        }
      }
    }
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(op_names.size(), 12u);
  EXPECT_EQ(op_names.count("mlp/dense_1/MatMul:MatMul"), 1u);
  EXPECT_EQ(op_names.count("mlp/dense_4/Softmax:Softmax"), 1u);
}

TEST_F(MlpCpuProfileTest, MetadataRules) {
  const std::set<std::string> loop_names = {"WhileOp-EvalCond", "WhileOp-StartBody", "ForOp",
                                            "ParallelForOp", "ForeverOp"};
  for (const XPlane& p : space_->planes()) {
    std::set<std::string> stat_names;
    for (const auto& [id, md] : p.stat_metadata()) {
      EXPECT_EQ(id, md.id());
      EXPECT_NE(md.name(), "group_id") << "xprof assigns group_id itself";
      EXPECT_TRUE(stat_names.insert(md.name()).second) << "duplicate stat " << md.name();
    }
    for (const auto& [id, md] : p.event_metadata()) {
      EXPECT_EQ(id, md.id());
      EXPECT_EQ(loop_names.count(md.name()), 0u) << md.name();
    }
  }
}

TEST_F(MlpCpuProfileTest, TaskEnvironmentHasStartAndStop) {
  const XPlane* env = Plane("Task Environment");
  ASSERT_NE(env, nullptr);
  std::map<std::string, uint64_t> stats;
  for (const XStat& s : env->stats()) {
    EXPECT_EQ(s.value_case(), XStat::kUint64Value) << StatName(*env, s);
    stats[StatName(*env, s)] = s.uint64_value();
  }
  ASSERT_EQ(stats.count("profile_start_time"), 1u);
  ASSERT_EQ(stats.count("profile_stop_time"), 1u);
  EXPECT_GT(stats["profile_start_time"], uint64_t{1600000000} * 1000000000);  // Epoch ns.
  EXPECT_GE(stats["profile_stop_time"], stats["profile_start_time"]);
}

// TBPROF_STEPS reaching past the program's last step: the capture is written at exit.
TEST(MlpCpuStepsPastTheEndTest, CaptureIsWrittenAtExit) {
  const char* tmp = std::getenv("TBPROF_TEST_TMPDIR");
  std::string logdir = std::string(tmp != nullptr ? tmp : "/tmp") + "/mlp_cpu_past_end";
  std::string out = logdir + ".out";
  std::string cmd = "rm -rf '" + logdir + "' && mkdir -p '" + logdir +
                    "' && env TBPROF=1 "
                    "TBPROF_STEPS=1:10 TBPROF_GPU=off '" MLP_CPU_PATH
                    "' --steps 3 --batch 8 "
                    "--logdir '" +
                    logdir + "' > '" + out + "' 2>&1";
  ASSERT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0) << cmd;
  std::string text;
  ASSERT_TRUE(tbprof::internal::ReadFile(out, &text).ok());
  EXPECT_NE(text.find("the program ended before the last step"), std::string::npos) << text;
  std::vector<std::string> sessions = List(logdir + "/plugins/profile");
  ASSERT_EQ(sessions.size(), 1u) << text;
  std::string session = logdir + "/plugins/profile/" + sessions[0];
  int xplanes = 0;
  for (const std::string& f : List(session)) xplanes += f.find(".xplane.pb") != std::string::npos;
  EXPECT_EQ(xplanes, 1);
}

// TBPROF_GPU=auto (the default) on a program that never uses CUDA: no GPU warning in the
// profile (XSpace.warnings is the Profile tab's banner), at most one line about it on stderr.
TEST(MlpCpuGpuAutoTest, NoGpuWarningForACpuOnlyProgram) {
  const char* tmp = std::getenv("TBPROF_TEST_TMPDIR");
  std::string logdir = std::string(tmp != nullptr ? tmp : "/tmp") + "/mlp_cpu_gpu_auto";
  std::string out = logdir + ".out";
  std::string cmd = "rm -rf '" + logdir + "' && mkdir -p '" + logdir +
                    "' && env -u TBPROF_GPU TBPROF=1 TBPROF_STEPS=1:2 '" MLP_CPU_PATH
                    "' --steps 3 --batch 8 --logdir '" +
                    logdir + "' > '" + out + "' 2>&1";
  ASSERT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0) << cmd;
  std::string text;
  ASSERT_TRUE(tbprof::internal::ReadFile(out, &text).ok());
  size_t gpu_lines = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    gpu_lines += text.substr(at, end - at).find("GPU tracing") != std::string::npos;
    at = end + 1;
  }
  EXPECT_LE(gpu_lines, 1u) << text;
  std::vector<std::string> sessions = List(logdir + "/plugins/profile");
  ASSERT_EQ(sessions.size(), 1u) << text;
  std::string session = logdir + "/plugins/profile/" + sessions[0];
  std::string bytes;
  for (const std::string& f : List(session)) {
    if (f.find(".xplane.pb") != std::string::npos) {
      ASSERT_TRUE(tbprof::internal::ReadFile(session + "/" + f, &bytes).ok());
    }
  }
  XSpace space;
  ASSERT_TRUE(space.ParseFromString(bytes));
  for (const std::string& w : space.warnings()) {
    EXPECT_EQ(w.find("GPU"), std::string::npos) << w;
  }
}

}  // namespace
