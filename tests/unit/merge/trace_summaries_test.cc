#include "src/merge/trace_summaries.h"

#include <dirent.h>

#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/export/event_file_reader.h"
#include "src/util/file_util.h"
#include "tensorflow/config.pb.h"
#include "tensorflow/event.pb.h"
#include "tests/unit/merge/sample_traces.h"

namespace tbprof::internal {
namespace {

using ::testing::HasSubstr;

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TBPROF_TEST_TMPDIR");
  std::string dir = JoinPath(base != nullptr && *base ? base : "/tmp", name);
  std::string cmd = "rm -rf '" + dir + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(MakeDirs(dir).ok());
  return dir;
}

struct Decoded {
  std::map<std::string, tensorflow::RunMetadata> run_metadata;  // By tag.
  std::map<std::string, std::string> text;                      // By tag.
  std::map<std::string, std::vector<std::pair<int64_t, float>>> scalars;
};

Decoded Decode(const std::string& path) {
  Decoded out;
  absl::StatusOr<std::vector<tensorflow::Event>> events = ReadEventFile(path);
  EXPECT_TRUE(events.ok()) << events.status();
  if (!events.ok()) return out;
  for (const tensorflow::Event& event : *events) {
    for (const auto& value : event.summary().value()) {
      const std::string& plugin = value.metadata().plugin_data().plugin_name();
      if (plugin == "graph_run_metadata") {
        EXPECT_EQ(value.metadata().plugin_data().content(), "1");
        EXPECT_EQ(value.tensor().dtype(), tensorflow::DT_STRING);
        EXPECT_EQ(value.tensor().tensor_shape().dim_size(), 0);
        EXPECT_EQ(value.tensor().string_val_size(), 1);
        EXPECT_TRUE(out.run_metadata[value.tag()].ParseFromString(value.tensor().string_val(0)));
      } else if (plugin == "text") {
        out.text[value.tag()] = value.tensor().string_val(0);
      } else if (plugin == "scalars") {
        out.scalars[value.tag()].emplace_back(event.step(), value.tensor().float_val(0));
      }
    }
  }
  return out;
}

TEST(TraceSummariesTest, TwoExportsGiveTwoTagsEachWithItsOwnGraphAndStats) {
  const std::string dir = TempDir("trace_summaries_two_exports");
  absl::StatusOr<std::unique_ptr<SummaryWriter>> writer = SummaryWriter::Create(dir);
  ASSERT_TRUE(writer.ok()) << writer.status();
  const Trace training = testing::SampleModelTrace(/*training=*/true);
  const Trace inference = testing::SampleModelTrace(/*training=*/false);
  ASSERT_TRUE(WriteTraceSummaries(training, "model_training", 0, writer->get()).ok());
  ASSERT_TRUE(WriteTraceSummaries(inference, "model_inference", 1, writer->get()).ok());

  const Decoded d = Decode((*writer)->path());
  ASSERT_EQ(d.run_metadata.size(), 2u);
  auto node_names = [](const tensorflow::RunMetadata& rm) {
    std::vector<std::string> names;
    EXPECT_EQ(rm.function_graphs_size(), 1);
    for (const auto& n : rm.function_graphs(0).pre_optimization_graph().node()) {
      names.push_back(n.name());
    }
    return names;
  };
  const auto train_nodes = node_names(d.run_metadata.at("model_training"));
  const auto infer_nodes = node_names(d.run_metadata.at("model_inference"));
  EXPECT_THAT(train_nodes, ::testing::Contains("dropout_1/Dropout"));
  EXPECT_THAT(train_nodes, ::testing::Contains("gradients/dense_2/MatMul_grad/MatMul"));
  EXPECT_THAT(train_nodes, ::testing::Contains("labels"));
  EXPECT_THAT(infer_nodes, ::testing::Not(::testing::Contains("dropout_1/Dropout")));
  EXPECT_THAT(infer_nodes, ::testing::Contains("my_attention_1/MyAttention"));
  EXPECT_EQ(train_nodes.size(), 10u);  // 8 ops + images + labels.
  EXPECT_EQ(infer_nodes.size(), 6u);   // 5 ops + images.

  // Step stats join with each tag's own graph.
  for (const auto& [tag, rm] : d.run_metadata) {
    std::set<std::string> names;
    std::map<std::string, std::string> ops;
    for (const auto& n : rm.function_graphs(0).pre_optimization_graph().node()) {
      names.insert(n.name());
      ops[n.name()] = n.op();
    }
    ASSERT_EQ(rm.step_stats().dev_stats_size(), 2) << tag;
    for (const auto& dev : rm.step_stats().dev_stats()) {
      for (const auto& s : dev.node_stats()) {
        EXPECT_TRUE(names.count(s.node_name())) << tag << " " << s.node_name();
        const std::string& op = ops[s.node_name()];
        if (op == "Placeholder" || op == "Const" || op == "VariableV2") {
          EXPECT_EQ(s.all_end_rel_micros(), 0) << tag << " " << s.node_name();  // Memory only.
        } else {
          EXPECT_GT(s.all_end_rel_micros(), 0) << tag << " " << s.node_name();
        }
      }
    }
  }

  EXPECT_THAT(d.text.at("model_training/model_summary"),
              HasSubstr("**model\\_training**: 3 steps"));
  EXPECT_THAT(d.text.at("model_inference/model_summary"), HasSubstr("`dense_1/MatMul`"));
  ASSERT_EQ(d.scalars.at("model_training/step_time_ms").size(), 3u);
  EXPECT_FLOAT_EQ(d.scalars.at("model_training/step_time_ms")[2].second, 1.8f);
  EXPECT_EQ(d.scalars.at("model_training/step_time_ms")[2].first, 2);
  EXPECT_FLOAT_EQ(d.scalars.at("model_inference/step_time_ms")[0].second, 1.0f);
  // Inference GPU busy per step: kernels [5, 205), [25, 55), [35, 55), [705, 755) us: the
  // union is 250 us of 1000 us (their plain sum would be 300).
  EXPECT_FLOAT_EQ(d.scalars.at("model_inference/gpu_busy_share")[0].second, 0.25f);
}

TEST(TraceSummariesTest, CpuOnlyTraceHasNoGpuBusyScalar) {
  const std::string dir = TempDir("trace_summaries_cpu");
  absl::StatusOr<std::unique_ptr<SummaryWriter>> writer = SummaryWriter::Create(dir);
  ASSERT_TRUE(writer.ok());
  Trace trace = testing::SampleModelTrace(false);
  trace.device_events.clear();
  MergeTrace(&trace);
  ASSERT_TRUE(WriteTraceSummaries(trace, "cpu_model", 0, writer->get()).ok());
  const Decoded d = Decode((*writer)->path());
  EXPECT_EQ(d.scalars.count("cpu_model/gpu_busy_share"), 0u);
  EXPECT_EQ(d.scalars.at("cpu_model/step_time_ms").size(), 3u);
  EXPECT_EQ(d.run_metadata.at("cpu_model").step_stats().dev_stats_size(), 1);
}

TEST(TraceSummariesTest, EmptyNameIsRejected) {
  const std::string dir = TempDir("trace_summaries_bad");
  absl::StatusOr<std::unique_ptr<SummaryWriter>> writer = SummaryWriter::Create(dir);
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(WriteTraceSummaries(testing::SampleModelTrace(false), "", 0, writer->get()).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tbprof::internal
