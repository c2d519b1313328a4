#include "src/merge/model_summary.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/merge/merge.h"
#include "tests/unit/merge/trace_builder.h"

namespace tbprof::internal {
namespace {

using ::testing::HasSubstr;
using testing::T;
using testing::TraceBuilder;

constexpr int64_t kUs = 1000;

// Compares with testdata/<name>; TBPROF_UPDATE_GOLDEN=1 rewrites the file instead.
void ExpectGolden(const std::string& actual, const std::string& name) {
  const std::string path = std::string(TBPROF_MERGE_TESTDATA_DIR) + "/" + name;
  if (const char* update = std::getenv("TBPROF_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << path;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing golden file " << path;
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str()) << "golden " << path << " differs";
}

// Two steps of 1 ms: a GPU MatMul (host 100 us, kernels 400 us per step), a CPU custom layer
// with a nested op, and an op whose name and type need escaping.
Trace GpuTrace() {
  TraceBuilder b;
  const int32_t matmul =
      b.AddOp("dense_1/MatMul", "MatMul", {T(100, {-1, 784}, 1, "images")}, {T(1, {-1, 128})});
  const int32_t attention = b.AddOp("my_attention_1/MyAttention", "MyAttention", {T(1, {-1, 128})},
                                    {T(2, {-1, 128}), T(3, {-1, 8, 8})});
  const int32_t softmax =
      b.AddOp("my_attention_1/softmax_1/Softmax", "Softmax", {T(1, {-1, 128})}, {T(4, {-1, 8, 8})});
  const int32_t odd = b.AddOp("post/arg*max", "Arg|Max_<v2>", {T(2, {-1, 128})}, {T(5, {-1}, 9)});
  for (int64_t step = 0; step < 2; ++step) {
    const int64_t base = step * 1000 * kUs;
    b.Step(1, step, base, base + 1000 * kUs);
    b.Op(1, matmul, base + 0, base + 100 * kUs)
        .Launch(1, step + 1, base + 10 * kUs, base + 20 * kUs);
    b.Kernel(step + 1, base + 100 * kUs, base + 400 * kUs);
    b.Kernel(step + 1, base + 350 * kUs, base + 500 * kUs);  // Overlaps: busy 400 us.
    b.Op(1, attention, base + 100 * kUs, base + 600 * kUs);
    b.Op(1, softmax, base + 200 * kUs, base + 300 * kUs);
    b.Op(1, odd, base + 600 * kUs, base + 650 * kUs);
  }
  Trace trace = b.Build();
  MergeTrace(&trace);
  return trace;
}

TracedGraph Traced(const Trace& trace) {
  absl::StatusOr<TracedGraph> traced = BuildTracedGraph(trace);
  EXPECT_TRUE(traced.ok()) << traced.status();
  return traced.ok() ? *std::move(traced) : TracedGraph{};
}

TEST(ModelSummaryTest, GpuModelMatchesGolden) {
  Trace trace = GpuTrace();
  ExpectGolden(ModelSummaryMarkdown(trace, Traced(trace), "model_inference"),
               "model_summary_gpu.md");
}

TEST(ModelSummaryTest, CpuModelWithoutStepsMatchesGolden) {
  TraceBuilder b;
  const int32_t conv =
      b.AddOp("conv_1/Conv2D", "Conv2D", {T(9, {1, 28, 28, 1})}, {T(1, {1, 26, 26, 8})});
  const int32_t pool =
      b.AddOp("pool_1/MaxPool", "MaxPool", {T(1, {1, 26, 26, 8})}, {T(2, {1, 13, 13, 8})});
  b.Op(1, conv, 0, 300 * kUs).Op(1, pool, 300 * kUs, 350 * kUs);
  Trace trace = b.Build();
  trace.duration_ns = 500 * kUs;
  MergeTrace(&trace);
  ExpectGolden(ModelSummaryMarkdown(trace, Traced(trace), "cnn"), "model_summary_cpu.md");
}

TEST(ModelSummaryTest, RowsAreSortedByCostAndShareIsOfStepTime) {
  Trace trace = GpuTrace();
  const std::string md = ModelSummaryMarkdown(trace, Traced(trace), "m");
  // MatMul: GPU 900 us; attention: self 800 us; softmax: 200 us.
  const size_t attention = md.find("`my_attention_1/MyAttention`");
  const size_t matmul = md.find("`dense_1/MatMul`");
  const size_t softmax = md.find("`my_attention_1/softmax_1/Softmax`");
  ASSERT_NE(attention, std::string::npos);
  ASSERT_NE(matmul, std::string::npos);
  ASSERT_NE(softmax, std::string::npos);
  EXPECT_LT(matmul, attention);
  EXPECT_LT(attention, softmax);
  EXPECT_THAT(md, HasSubstr("2 steps, 2.000 ms total step time, GPU busy 40.0 %"));
  EXPECT_THAT(md, HasSubstr("Arg\\|Max\\_&lt;v2&gt;"));
}

TEST(ModelSummaryTest, StepScalarsAndNodeTimings) {
  Trace trace = GpuTrace();
  const std::vector<StepScalar> scalars = StepScalars(trace);
  ASSERT_EQ(scalars.size(), 2u);
  EXPECT_EQ(scalars[1].step, 1);
  EXPECT_DOUBLE_EQ(scalars[0].step_time_ms, 1.0);
  EXPECT_DOUBLE_EQ(scalars[0].gpu_busy_share, 0.4);
  // Each point at its own step's end, not at the export's time.
  ASSERT_GT(trace.start_walltime_ns, 0);
  EXPECT_DOUBLE_EQ(scalars[0].wall_time_s,
                   static_cast<double>(trace.start_walltime_ns + trace.steps[0].end_ns) / 1e9);
  EXPECT_LT(scalars[0].wall_time_s, scalars[1].wall_time_s);

  const TracedGraph traced = Traced(trace);
  const auto timings = NodeTimings(trace, traced);
  ASSERT_EQ(timings.size(), 4u);
  const NodeTiming& matmul = timings.at("dense_1/MatMul");
  EXPECT_EQ(matmul.executions, 2);
  EXPECT_DOUBLE_EQ(matmul.host_ms, 0.2);
  EXPECT_DOUBLE_EQ(matmul.gpu_ms, 0.9);  // Kernels summed, not unioned: 2 x (300 + 150) us.
  EXPECT_DOUBLE_EQ(matmul.share, 0.45);
  EXPECT_DOUBLE_EQ(timings.at("my_attention_1/MyAttention").share, 0.4);
  EXPECT_EQ(timings.count("images"), 0u);  // Inputs are not timed.
}

TEST(ModelSummaryTest, NodeTimingsAnnotateTheDotPicture) {
  Trace trace = GpuTrace();
  const TracedGraph traced = Traced(trace);
  DotOptions options;
  options.timings = NodeTimings(trace, traced);
  const std::string dot = ToDot(traced.graph, options);
  EXPECT_THAT(dot, HasSubstr("0.900 ms"));   // MatMul's GPU time.
  EXPECT_THAT(dot, HasSubstr("2 (45.0%)"));  // Its executions and share.
  EXPECT_THAT(dot, HasSubstr("1.00 ms"));    // The custom layer's host time.
  EXPECT_THAT(ToDot(traced.graph), ::testing::Not(HasSubstr("45.0%")));
}

}  // namespace
}  // namespace tbprof::internal
