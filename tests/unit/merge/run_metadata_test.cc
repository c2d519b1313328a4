#include "src/merge/run_metadata.h"

#include <regex>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/merge/merge.h"
#include "tensorflow/config.pb.h"
#include "tensorflow/step_stats.pb.h"
#include "tests/unit/merge/trace_builder.h"

namespace tbprof::internal {
namespace {

using testing::T;
using testing::TraceBuilder;

constexpr int64_t kMs = 1'000'000;

// A GPU model: input -> dense/MatMul (2 kernels on GPU 0) -> dense/Relu (CPU) -> a scalar
// loss, run for two steps, plus an op that never ran.
struct Fixture {
  Trace trace;
  TracedGraph traced;
  tensorflow::RunMetadata rm;
  std::string bytes;
  int32_t matmul, relu, loss, never;
};

Fixture Make() {
  TraceBuilder b;
  Fixture f;
  f.matmul = b.AddOp("dense/MatMul", "MatMul", {T(100, {32, 8}, 1, "x")}, {T(1, {32, 16})});
  f.relu = b.AddOp("dense/Relu", "Relu", {T(1, {32, 16})}, {T(2, {32, 16})});
  f.loss = b.AddOp("loss/Mean", "Mean", {T(2, {32, 16})}, {T(3, {})});
  f.never = b.AddOp("unused/Identity", "Identity", {T(3, {})}, {T(4, {})});
  for (int64_t step = 0; step < 2; ++step) {
    const int64_t base = step * 10 * kMs;
    b.Step(11, step, base, base + 10 * kMs);
    b.Op(11, f.matmul, base + 1 * kMs, base + 3 * kMs);
    b.Launch(11, step * 10 + 1, base + 1 * kMs + 10, base + 1 * kMs + 20);
    b.Launch(11, step * 10 + 2, base + 2 * kMs, base + 2 * kMs + 10);
    b.Kernel(step * 10 + 1, base + 4 * kMs, base + 5 * kMs, 0, 7, "sgemm_128x64");
    b.Kernel(step * 10 + 2, base + 5 * kMs, base + 5 * kMs + 500'000, 0, 9, "bias_kernel");
    b.Op(11, f.relu, base + 3 * kMs, base + 4 * kMs);
    b.Op(12, f.loss, base + 6 * kMs, base + 6 * kMs + 300);  // 0.3 us: rounds to 0.
  }
  f.trace = b.Build();
  f.trace.threads[0].name = "main";
  f.trace.threads[1].name = "loss worker";
  MergeTrace(&f.trace);
  absl::StatusOr<TracedGraph> traced = BuildTracedGraph(f.trace);
  EXPECT_TRUE(traced.ok()) << traced.status();
  f.traced = *std::move(traced);
  absl::StatusOr<std::string> bytes = BuildRunMetadata(f.trace, f.traced);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  f.bytes = *bytes;
  EXPECT_TRUE(f.rm.ParseFromString(f.bytes));
  return f;
}

const tensorflow::DeviceStepStats* Dev(const tensorflow::RunMetadata& rm, const std::string& d) {
  for (const auto& dev : rm.step_stats().dev_stats()) {
    if (dev.device() == d) return &dev;
  }
  return nullptr;
}

const tensorflow::NodeExecStats* Stats(const tensorflow::DeviceStepStats& dev,
                                       const std::string& node) {
  for (const auto& s : dev.node_stats()) {
    if (s.node_name() == node) return &s;
  }
  return nullptr;
}

TEST(RunMetadataTest, ExactlyOneFunctionGraphHoldingTheTracedGraph) {
  Fixture f = Make();
  ASSERT_EQ(f.rm.function_graphs_size(), 1);
  EXPECT_EQ(f.rm.partition_graphs_size(), 0);
  const tensorflow::GraphDef& graph = f.rm.function_graphs(0).pre_optimization_graph();
  std::set<std::string> names;
  for (const auto& node : graph.node()) names.insert(node.name());
  EXPECT_EQ(names, (std::set<std::string>{"x", "dense/MatMul", "dense/Relu", "loss/Mean",
                                          "unused/Identity"}));
}

// Spec §4.5: every DeviceStepStats device must end in device:<TYPE>:<N>, every node_name
// must be a graph node, compute time needs all_end_rel_micros > 0 (outside tensors have
// none: memory only), outputs carry shapes.
TEST(RunMetadataTest, EveryJoinRuleOfTheGraphsTabHolds) {
  Fixture f = Make();
  const std::regex device_re("/device:([^:]+:[0-9]+)$");
  std::set<std::string> graph_nodes;
  for (const auto& node : f.rm.function_graphs(0).pre_optimization_graph().node()) {
    graph_nodes.insert(node.name());
  }
  ASSERT_EQ(f.rm.step_stats().dev_stats_size(), 2);
  for (const auto& dev : f.rm.step_stats().dev_stats()) {
    EXPECT_TRUE(std::regex_search(dev.device(), device_re)) << dev.device();
    EXPECT_GT(dev.node_stats_size(), 0);
    for (const auto& s : dev.node_stats()) {
      EXPECT_TRUE(graph_nodes.count(s.node_name())) << s.node_name();
      if (s.node_name() == "x") {
        EXPECT_EQ(s.all_end_rel_micros(), 0) << s.node_name();
      } else {
        EXPECT_GT(s.all_end_rel_micros(), 0) << s.node_name();
      }
      EXPECT_GE(s.op_end_rel_micros(), s.op_start_rel_micros()) << s.node_name();
      EXPECT_LE(s.op_end_rel_micros(), s.all_end_rel_micros()) << s.node_name();
      for (const auto& out : s.output()) {
        EXPECT_TRUE(out.has_tensor_description()) << s.node_name();
        EXPECT_TRUE(out.tensor_description().has_shape()) << s.node_name();
      }
    }
  }
}

TEST(RunMetadataTest, CpuStatsCarryTimesMemoryShapesAndThreads) {
  Fixture f = Make();
  const auto* cpu = Dev(f.rm, "/job:localhost/replica:0/task:0/device:CPU:0");
  ASSERT_NE(cpu, nullptr);
  // The executions of the shown step (step 0: both last 10 ms, the lower median) and the input;
  // not the op that never ran.
  EXPECT_EQ(cpu->node_stats_size(), 4);
  EXPECT_EQ(Stats(*cpu, "unused/Identity"), nullptr);

  const auto* matmul = Stats(*cpu, "dense/MatMul");
  ASSERT_NE(matmul, nullptr);
  EXPECT_EQ(matmul->all_start_micros(), (f.trace.start_walltime_ns + 1 * kMs) / 1000);
  EXPECT_EQ(matmul->all_end_rel_micros(), 2000);  // Its execution in step 0: 2 ms.
  ASSERT_EQ(matmul->memory_size(), 1);
  EXPECT_EQ(matmul->memory(0).allocator_name(), "cpu");
  EXPECT_EQ(matmul->memory(0).total_bytes(), 32 * 16 * 4);
  ASSERT_EQ(matmul->output_size(), 1);
  EXPECT_EQ(matmul->output(0).tensor_description().dtype(), tensorflow::DT_FLOAT);
  ASSERT_EQ(matmul->output(0).tensor_description().shape().dim_size(), 2);
  EXPECT_EQ(matmul->output(0).tensor_description().shape().dim(1).size(), 16);
  EXPECT_EQ(matmul->thread_id(), 11u);
  EXPECT_EQ(cpu->thread_names().at(11), "main");
  EXPECT_EQ(cpu->thread_names().at(12), "loss worker");

  // A sub-microsecond op still shows: at least 1 us.
  const auto* loss = Stats(*cpu, "loss/Mean");
  ASSERT_NE(loss, nullptr);
  EXPECT_EQ(loss->all_end_rel_micros(), 1);
  // Scalar output: the shape is present with no dimensions.
  ASSERT_EQ(loss->output_size(), 1);
  EXPECT_TRUE(loss->output(0).tensor_description().has_shape());
  EXPECT_EQ(loss->output(0).tensor_description().shape().dim_size(), 0);

  const auto* input = Stats(*cpu, "x");
  ASSERT_NE(input, nullptr);
  EXPECT_EQ(input->all_start_micros(), matmul->all_start_micros());
  EXPECT_EQ(input->all_end_rel_micros(), 0);  // Memory, no compute time.
  ASSERT_EQ(input->memory_size(), 1);
  EXPECT_EQ(input->memory(0).total_bytes(), 32 * 8 * 4);
  EXPECT_EQ(input->output(0).tensor_description().shape().dim(0).size(), 32);

  // Sorted by start.
  for (int i = 1; i < cpu->node_stats_size(); ++i) {
    EXPECT_LE(cpu->node_stats(i - 1).all_start_micros(), cpu->node_stats(i).all_start_micros());
  }
}

TEST(RunMetadataTest, GpuStatsCarryTheKernelTimeOfEachOp) {
  Fixture f = Make();
  const auto* gpu = Dev(f.rm, "/job:localhost/replica:0/task:0/device:GPU:0");
  ASSERT_NE(gpu, nullptr);
  // Each kernel of step 0 with its own times and stream.
  ASSERT_EQ(gpu->node_stats_size(), 2);
  const auto& s = gpu->node_stats(0);
  EXPECT_EQ(s.node_name(), "dense/MatMul");
  EXPECT_EQ(s.all_start_micros(), (f.trace.start_walltime_ns + 4 * kMs) / 1000);
  EXPECT_EQ(s.all_end_rel_micros(), 1000);
  EXPECT_EQ(s.thread_id(), 7u);
  EXPECT_THAT(s.timeline_label(), ::testing::HasSubstr("sgemm_128x64"));
  const auto& bias = gpu->node_stats(1);
  EXPECT_EQ(bias.node_name(), "dense/MatMul");
  EXPECT_EQ(bias.all_start_micros(), (f.trace.start_walltime_ns + 5 * kMs) / 1000);
  EXPECT_EQ(bias.all_end_rel_micros(), 500);
  EXPECT_EQ(bias.thread_id(), 9u);
  EXPECT_EQ(gpu->thread_names().at(7), "Stream #7");
  EXPECT_EQ(gpu->thread_names().at(9), "Stream #9");
}

// The Graphs tab shows one step, the median by duration, each execution on its own; a name
// scope's time (first start to last end of its children) is then its span in that step.
TEST(RunMetadataTest, TheMedianStepWithEachExecution) {
  TraceBuilder b;
  const int32_t a = b.AddOp("layer/A", "A", {}, {T(1, {2})});
  const int32_t c = b.AddOp("layer/C", "C", {T(1, {2})}, {T(2, {2})});
  // Steps of 5, 9 and 7 ms: the median is step 2 (7 ms). A runs twice in each step.
  const int64_t durations[] = {5, 9, 7};
  int64_t base = 0;
  for (int64_t step = 0; step < 3; ++step) {
    const int64_t d = durations[step] * kMs;
    b.Step(1, step, base, base + d);
    b.Op(1, a, base + 1 * kMs, base + 2 * kMs).Op(1, c, base + 2 * kMs, base + 3 * kMs);
    b.Op(1, a, base + 3 * kMs, base + d - kMs);
    base += d;
  }
  Trace trace = b.Build();
  MergeTrace(&trace);
  const RepresentativeStep shown = ChooseRepresentativeStep(trace);
  ASSERT_TRUE(shown.marked);
  EXPECT_EQ(shown.step, 2);
  EXPECT_EQ(shown.steps, 3u);
  EXPECT_EQ(shown.start_ns, 14 * kMs);
  absl::StatusOr<TracedGraph> traced = BuildTracedGraph(trace);
  ASSERT_TRUE(traced.ok());
  absl::StatusOr<std::string> bytes = BuildRunMetadata(trace, *traced);
  ASSERT_TRUE(bytes.ok());
  tensorflow::RunMetadata rm;
  ASSERT_TRUE(rm.ParseFromString(*bytes));
  ASSERT_EQ(rm.step_stats().dev_stats_size(), 1);
  const auto& cpu = rm.step_stats().dev_stats(0);
  int64_t first = -1, last = -1, a_entries = 0;
  for (const auto& s : cpu.node_stats()) {
    if (s.all_end_rel_micros() == 0) continue;
    if (s.node_name() == "layer/A") ++a_entries;
    if (first < 0 || s.all_start_micros() < first) first = s.all_start_micros();
    last = std::max(last, s.all_start_micros() + s.all_end_rel_micros());
  }
  EXPECT_EQ(a_entries, 2);
  // "layer" spans 15..20 ms of the capture: 5 ms, as in the trace.
  EXPECT_EQ(first, (trace.start_walltime_ns + 15 * kMs) / 1000);
  EXPECT_EQ(last - first, 5000);
}

TEST(RunMetadataTest, WithoutStepsTheWholeCaptureIsShown) {
  TraceBuilder b;
  const int32_t op = b.AddOp("a/B", "B", {}, {T(1, {2})});
  b.Op(1, op, 0, 5000).Op(1, op, 10000, 12000);
  Trace trace = b.Build();
  trace.duration_ns = 20000;
  MergeTrace(&trace);
  EXPECT_FALSE(ChooseRepresentativeStep(trace).marked);
  absl::StatusOr<TracedGraph> traced = BuildTracedGraph(trace);
  ASSERT_TRUE(traced.ok());
  absl::StatusOr<std::string> bytes = BuildRunMetadata(trace, *traced);
  ASSERT_TRUE(bytes.ok());
  tensorflow::RunMetadata rm;
  ASSERT_TRUE(rm.ParseFromString(*bytes));
  EXPECT_EQ(rm.step_stats().dev_stats(0).node_stats_size(), 2);
}

TEST(RunMetadataTest, SameTraceSameBytes) {
  Fixture f = Make();
  absl::StatusOr<std::string> again = BuildRunMetadata(f.trace, f.traced);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, f.bytes);
}

TEST(RunMetadataTest, MismatchedGraphIsRejected) {
  Fixture f = Make();
  f.traced.op_nodes.pop_back();
  EXPECT_EQ(BuildRunMetadata(f.trace, f.traced).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RunMetadataTest, CpuOnlyTraceHasOnlyTheCpuDevice) {
  TraceBuilder b;
  const int32_t op = b.AddOp("a/B", "B", {}, {T(1, {2})});
  b.Op(1, op, 0, 5000);
  Trace trace = b.Build();
  MergeTrace(&trace);
  absl::StatusOr<TracedGraph> traced = BuildTracedGraph(trace);
  ASSERT_TRUE(traced.ok());
  absl::StatusOr<std::string> bytes = BuildRunMetadata(trace, *traced);
  ASSERT_TRUE(bytes.ok());
  tensorflow::RunMetadata rm;
  ASSERT_TRUE(rm.ParseFromString(*bytes));
  ASSERT_EQ(rm.step_stats().dev_stats_size(), 1);
  EXPECT_EQ(rm.step_stats().dev_stats(0).node_stats(0).all_end_rel_micros(), 5);
}

}  // namespace
}  // namespace tbprof::internal
