// The command line on profiles written by TensorFlow 2.21 and JAX (tests/data/foreign, made by
// make_corpus.py there): steps and op tables equal what xprof 2.24.2 showed for the same files
// (expected_xprof.txt, recorded by xprof itself), `validate` passes them, the Chrome export
// keeps one track per thread.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "src/export/chrome_trace.h"
#include "tests/unit/tools/tools_test_util.h"
#include "tools/logdir.h"
#include "tools/profile_summary.h"
#include "tools/validate.h"
#include "tools/xspace_io.h"
#include "tools/xspace_to_trace.h"

namespace tbprof::cli {
namespace {

const std::string kCorpus = TBPROF_FOREIGN_CORPUS;
const char* const kCases[] = {"jax_eager",  "jax_jit",     "keras_fit",
                              "tf_nosteps", "tf_profiler", "tf_trace_export"};

struct ExpectedStep {
  std::string name;  // "train 3"
  double ms = 0;
};

struct ExpectedOp {
  std::string type;
  std::string name;
  int64_t count = 0;
  double self_us = 0;
};

struct Expected {
  std::vector<ExpectedStep> steps;
  std::vector<ExpectedOp> ops;
};

// expected_xprof.txt: "profile PATH", then "step NAME... MS" and "op TYPE NAME COUNT SELF_US".
std::map<std::string, Expected> ReadExpected() {
  std::map<std::string, Expected> out;
  std::ifstream in(kCorpus + "/expected_xprof.txt");
  std::string line;
  Expected* current = nullptr;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind == "profile") {
      std::string path;
      words >> path;
      current = &out[path];
    } else if (kind == "step" && current != nullptr) {
      std::vector<std::string> parts;
      for (std::string w; words >> w;) parts.push_back(w);
      ExpectedStep step;
      step.ms = std::stod(parts.back());
      parts.pop_back();
      for (const std::string& p : parts) step.name += (step.name.empty() ? "" : " ") + p;
      current->steps.push_back(step);
    } else if (kind == "op" && current != nullptr) {
      ExpectedOp op;
      words >> op.type >> op.name >> op.count >> op.self_us;
      current->ops.push_back(op);
    }
  }
  return out;
}

tensorflow::profiler::XSpace Read(const std::string& path) {
  std::ostringstream err;
  absl::StatusOr<tensorflow::profiler::XSpace> space = ReadXSpaceFile(path, err, false);
  EXPECT_TRUE(space.ok()) << path << ": " << space.status();
  return space.ok() ? *space : tensorflow::profiler::XSpace();
}

TEST(ForeignProfileTest, CorpusHasEveryCase) {
  const std::map<std::string, Expected> expected = ReadExpected();
  EXPECT_EQ(expected.size(), std::size(kCases));
  for (const char* c : kCases) {
    EXPECT_TRUE(std::any_of(expected.begin(), expected.end(), [&](const auto& e) {
      return e.first.rfind(c, 0) == 0;
    })) << c;
  }
}

TEST(ForeignProfileTest, StepsAreXprofOverviewSteps) {
  for (const auto& [path, want] : ReadExpected()) {
    SCOPED_TRACE(path);
    ProfileSummary s = SummarizeXSpace(Read(kCorpus + "/" + path), path);
    std::vector<ExpectedStep> got;
    for (const StepSummary& step : s.steps) {
      got.push_back({step.name + " " + std::to_string(step.step), step.duration_ps / 1e9});
    }
    ASSERT_EQ(got.size(), want.steps.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].name, want.steps[i].name);
      EXPECT_NEAR(got[i].ms, want.steps[i].ms, 1e-6) << got[i].name;
    }
    const bool warned =
        std::find(s.warnings.begin(), s.warnings.end(), kNoStepMarkerMessage) != s.warnings.end();
    EXPECT_EQ(warned, want.steps.empty()) << "the overview page's no-step message";
  }
}

TEST(ForeignProfileTest, OpTableIsXprofFrameworkOpStats) {
  for (const auto& [path, want] : ReadExpected()) {
    SCOPED_TRACE(path);
    ProfileSummary s = SummarizeXSpace(Read(kCorpus + "/" + path), path);
    std::map<std::string, const OpSummary*> ops;
    for (const OpSummary& op : s.ops) ops[op.name] = &op;
    size_t framework_ops = 0;
    for (const ExpectedOp& w : want.ops) {
      // xprof lists tf.data iterators as "Dataset" ops; they are no framework ops to tbprof.
      if (w.type == "Dataset") continue;
      ++framework_ops;
      auto it = ops.find(w.name);
      ASSERT_NE(it, ops.end()) << w.name;
      EXPECT_EQ(it->second->type, w.type) << w.name;
      EXPECT_EQ(it->second->count, w.count) << w.name;
      EXPECT_NEAR(it->second->host_self_ps / 1e6, w.self_us, 0.0015) << w.name;
    }
    EXPECT_EQ(s.ops.size(), framework_ops);
  }
}

TEST(ForeignProfileTest, ValidatePassesWithNotesAndStrictFails) {
  for (const char* c : kCases) {
    SCOPED_TRACE(c);
    absl::StatusOr<LogdirContents> contents = ScanLogdir(kCorpus + "/" + c);
    ASSERT_TRUE(contents.ok()) << contents.status();
    std::ostringstream err;
    Violations violations;
    ValidateLogdir(*contents, err, false, &violations);
    violations.Finish();
    EXPECT_EQ(violations.errors(), 0) << FormatViolations(violations);
    EXPECT_GT(violations.notes(), 0);
    Violations strict;
    ValidateLogdir(*contents, err, false, &strict, ValidateOptions{.strict = true});
    strict.Finish();
    EXPECT_EQ(strict.errors(), violations.notes());
  }
}

TEST(ForeignProfileTest, ProducerIsDetected) {
  for (const auto& [path, want] : ReadExpected()) {
    EXPECT_FALSE(IsTbprofXSpace(Read(kCorpus + "/" + path))) << path;
  }
  EXPECT_TRUE(IsTbprofEventFile("logs/events.out.tfevents.1700000000.host.42.tbprof"));
  EXPECT_FALSE(IsTbprofEventFile("logs/events.out.tfevents.1796165152.vm.23959.0.v2"));
}

// The value of `"key":` in one line of the Chrome JSON (the exporter writes one event a line).
std::string Field(const std::string& line, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  size_t at = line.find(k);
  if (at == std::string::npos) return "";
  at += k.size();
  size_t end = line.find_first_of(",}", at);
  return line.substr(at, end - at);
}

TEST(ForeignProfileTest, ChromeExportKeepsOneTrackPerThread) {
  for (const auto& [path, want] : ReadExpected()) {
    SCOPED_TRACE(path);
    const tensorflow::profiler::XSpace space = Read(kCorpus + "/" + path);
    std::set<int64_t> lines;
    for (const auto& plane : space.planes()) {
      if (plane.name() != "/host:CPU") continue;
      for (const auto& line : plane.lines()) lines.insert(line.id());
    }
    const std::string json = internal::EncodeChromeTraceJson(XSpaceToTrace(space));
    std::istringstream in(json);
    std::set<int64_t> tids;
    std::set<std::string> real_ids;
    int64_t events = 0, with_args = 0;
    for (std::string line; std::getline(in, line);) {
      if (Field(line, "pid") != "1") continue;
      ASSERT_EQ(line.find("\"step_num\":-1"), std::string::npos) << line;
      if (line.find("\"thread_name\"") != std::string::npos) {
        const int64_t tid = std::stoll(Field(line, "tid"));
        EXPECT_TRUE(tids.insert(tid).second) << "two threads share tid " << tid;
        EXPECT_GE(tid, 0);
        EXPECT_LE(tid, 0x7fffffff) << "Chrome trace viewers drop larger thread ids";
        // Threads keep their id unless some id does not fit; then each says its real one.
        const std::string real = Field(line, "thread_id");
        real_ids.insert(real.size() >= 2 ? real.substr(1, real.size() - 2) : std::to_string(tid));
      } else if (Field(line, "ph") == "\"X\"") {
        ++events;
        EXPECT_EQ(tids.count(std::stoll(Field(line, "tid"))), 1u) << line;
        if (line.find("\"args\"") != std::string::npos) ++with_args;
      }
    }
    EXPECT_EQ(tids.size(), lines.size());
    std::set<std::string> want_ids;
    for (int64_t id : lines) want_ids.insert(std::to_string(id));
    EXPECT_EQ(real_ids, want_ids) << "each thread keeps its XLine id as an argument";
    EXPECT_GT(events, 0);
    EXPECT_GT(with_args, 0) << "event stats come along as args";
  }
}

TEST(ForeignProfileTest, ValidateCommandPassesAndStrictFails) {
  testing::CliResult ok = testing::RunTbprof({"validate", kCorpus + "/tf_profiler"});
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("note: "), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("OK: "), std::string::npos) << ok.out;
  testing::CliResult strict =
      testing::RunTbprof({"validate", kCorpus + "/tf_profiler", "--strict"});
  EXPECT_EQ(strict.code, 1) << strict.out;
  EXPECT_NE(strict.out.find("[xplane.step-marker]"), std::string::npos) << strict.out;
}

TEST(ForeignProfileTest, DotDrawsEveryFunctionGraphTimedByTheProfile) {
  const std::string out = testing::TestDir() + "/g.dot";
  testing::CliResult r = testing::RunTbprof({"dot", kCorpus + "/tf_trace_export", "-o", out});
  ASSERT_EQ(r.code, 0) << r.err;
  // trace_export wrote two function graphs and no step stats; the profile times the ops.
  EXPECT_NE(r.err.find("2 function graphs: 0 (12 nodes), 1 (3 nodes)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(15 nodes, 6 with times)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("times from the newest profile"), std::string::npos) << r.err;
  const std::string dot = testing::ReadBytes(out);
  EXPECT_NE(dot.find("function_0"), std::string::npos);
  EXPECT_NE(dot.find("function_1"), std::string::npos);

  testing::CliResult one =
      testing::RunTbprof({"dot", kCorpus + "/tf_trace_export", "-o", out, "--function", "1"});
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_NE(one.err.find("(3 nodes, 0 with times)"), std::string::npos) << one.err;
  testing::CliResult none =
      testing::RunTbprof({"dot", kCorpus + "/tf_trace_export", "-o", out, "--function", "2"});
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("it has 0 (12 nodes), 1 (3 nodes)"), std::string::npos) << none.err;
}

TEST(ForeignProfileTest, DotPassesOverKerasEmptyBatchTraceAndNamesTheModelGraph) {
  const std::string out = testing::TestDir() + "/g.dot";
  testing::CliResult r = testing::RunTbprof({"dot", kCorpus + "/keras_fit", "-o", out});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("batch_4 hold no graph"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("keras hold a Keras model config"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tbprof::cli
