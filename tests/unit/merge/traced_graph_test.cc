#include "src/merge/traced_graph.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/merge/merge.h"
#include "tbprof/annotate.h"
#include "tests/unit/merge/trace_builder.h"

namespace tbprof::internal {
namespace {

using ::testing::ElementsAre;
using testing::T;
using testing::TraceBuilder;

const Node& NodeOf(const TracedGraph& traced, const std::string& name) {
  const Node* node = traced.graph.Find(name);
  EXPECT_NE(node, nullptr) << name;
  static const Node kEmpty;
  return node == nullptr ? kEmpty : *node;
}

TracedGraph BuildOrDie(Trace* trace) {
  MergeTrace(trace);
  absl::StatusOr<TracedGraph> traced = BuildTracedGraph(*trace);
  EXPECT_TRUE(traced.ok()) << traced.status();
  return traced.ok() ? *std::move(traced) : TracedGraph{};
}

TEST(TracedGraphTest, SkipConnectionAndNamedInput) {
  TraceBuilder b;
  const int32_t d1 =
      b.AddOp("block/dense_1/MatMul", "MatMul", {T(100, {-1, 8}, 1, "images")}, {T(1, {-1, 16})});
  const int32_t relu = b.AddOp("block/relu/Relu", "Relu", {T(1, {-1, 16})}, {T(2, {-1, 16})});
  const int32_t d2 = b.AddOp("block/dense_2/MatMul", "MatMul", {T(2, {-1, 16})}, {T(3, {-1, 16})});
  const int32_t add =
      b.AddOp("block/add/AddV2", "AddV2", {T(3, {-1, 16}), T(1, {-1, 16})}, {T(4, {-1, 16})});
  b.Op(1, d1, 0, 10).Op(1, relu, 10, 20).Op(1, d2, 20, 30).Op(1, add, 30, 40);
  Trace trace = b.Build();

  TracedGraph traced = BuildOrDie(&trace);

  EXPECT_EQ(traced.graph.size(), 5u);
  ASSERT_EQ(traced.inputs.size(), 1u);
  EXPECT_EQ(traced.inputs[0].node, "images");
  EXPECT_EQ(traced.inputs[0].first_consumer, d1);
  const Node& images = NodeOf(traced, "images");
  EXPECT_EQ(images.op, "Placeholder");
  ASSERT_EQ(images.outputs.size(), 1u);
  EXPECT_THAT(images.outputs[0].shape, ElementsAre(-1, 8));
  EXPECT_THAT(NodeOf(traced, "block/dense_1/MatMul").inputs, ElementsAre("images"));
  EXPECT_THAT(NodeOf(traced, "block/relu/Relu").inputs, ElementsAre("block/dense_1/MatMul"));
  EXPECT_THAT(NodeOf(traced, "block/add/AddV2").inputs,
              ElementsAre("block/dense_2/MatMul", "block/dense_1/MatMul"));
  const Node& out = NodeOf(traced, "block/add/AddV2");
  EXPECT_EQ(out.op, "AddV2");
  ASSERT_EQ(out.outputs.size(), 1u);
  EXPECT_EQ(out.outputs[0].dtype, DType::kFloat32);
  EXPECT_THAT(out.outputs[0].shape, ElementsAre(-1, 16));
  EXPECT_EQ(traced.op_nodes[add], "block/add/AddV2");
  EXPECT_TRUE(traced.graph.Validate().ok());
}

TEST(TracedGraphTest, DiamondWithMultiOutputProducer) {
  TraceBuilder b;
  const int32_t split =
      b.AddOp("split", "Split", {T(9, {4, 2}, 1)}, {T(10, {2, 2}), T(11, {2, 2})});
  const int32_t left = b.AddOp("left/Exp", "Exp", {T(10, {2, 2})}, {T(12, {2, 2})});
  const int32_t right = b.AddOp("right/Log", "Log", {T(11, {2, 2})}, {T(13, {2, 2})});
  const int32_t join = b.AddOp("join/Mul", "Mul", {T(12, {2, 2}), T(13, {2, 2})}, {T(14, {2, 2})});
  b.Op(1, split, 0, 1).Op(1, left, 1, 2).Op(1, right, 2, 3).Op(1, join, 3, 4);
  Trace trace = b.Build();

  TracedGraph traced = BuildOrDie(&trace);

  EXPECT_THAT(NodeOf(traced, "left/Exp").inputs, ElementsAre("split"));
  EXPECT_THAT(NodeOf(traced, "right/Log").inputs, ElementsAre("split:1"));
  EXPECT_THAT(NodeOf(traced, "join/Mul").inputs, ElementsAre("left/Exp", "right/Log"));
  EXPECT_THAT(NodeOf(traced, "split").inputs, ElementsAre("split/input_0"));
}

TEST(TracedGraphTest, OpsRunOnEveryStepAreOneNode) {
  TraceBuilder b;
  const int32_t a = b.AddOp("m/A", "A", {T(1, {3})}, {T(2, {3})});
  const int32_t c = b.AddOp("m/C", "C", {T(2, {3})}, {T(3, {3})});
  for (int64_t step = 0; step < 3; ++step) {
    b.Step(1, step, step * 100, step * 100 + 100);
    b.Op(1, a, step * 100 + 10, step * 100 + 20).Op(1, c, step * 100 + 30, step * 100 + 40);
  }
  Trace trace = b.Build();
  TracedGraph traced = BuildOrDie(&trace);
  EXPECT_EQ(traced.graph.size(), 3u);  // m/A/input_0, m/A, m/C.
  EXPECT_EQ(trace.ops[a].executions, 3);
  EXPECT_THAT(NodeOf(traced, "m/C").inputs, ElementsAre("m/A"));
}

TEST(TracedGraphTest, LatestProducerBeforeTheConsumerWinsAndInPlaceOpsDoNotLoop) {
  TraceBuilder b;
  // Buffer 5 is produced by A, consumed by B, then reused by C and consumed by D.
  const int32_t a = b.AddOp("A", "A", {}, {T(5, {2})});
  const int32_t bb = b.AddOp("B", "B", {T(5, {2})}, {T(6, {2})});
  const int32_t c = b.AddOp("C", "C", {T(6, {2})}, {T(5, {2})});
  // D works in place on buffer 5.
  const int32_t d = b.AddOp("D", "Relu", {T(5, {2})}, {T(5, {2})});
  const int32_t e = b.AddOp("E", "E", {T(5, {2})}, {T(7, {2})});
  b.Op(1, a, 0, 1).Op(1, bb, 1, 2).Op(1, c, 2, 3).Op(1, d, 3, 4).Op(1, e, 4, 5);
  Trace trace = b.Build();
  TracedGraph traced = BuildOrDie(&trace);
  EXPECT_THAT(NodeOf(traced, "B").inputs, ElementsAre("A"));
  EXPECT_THAT(NodeOf(traced, "D").inputs, ElementsAre("C"));
  EXPECT_THAT(NodeOf(traced, "E").inputs, ElementsAre("D"));
  EXPECT_TRUE(traced.inputs.empty());
}

TEST(TracedGraphTest, UnnamedAndUnknownInputs) {
  TraceBuilder b;
  // Two ops read the same outside tensor 50 (one input), another outside tensor 51, a named
  // one, and two tensors of unknown identity (id 0): one input each.
  const int32_t p = b.AddOp("P", "P", {T(50, {1}), T(51, {2})}, {T(1, {1})});
  const int32_t q = b.AddOp("Q", "Q", {T(50, {1}), T(52, {3}, 3, "tokens")}, {T(2, {1})});
  const int32_t r = b.AddOp("R", "R", {T(0, {4}), T(0, {5})}, {T(3, {1})});
  // A consumer whose producer only ran later (a recurrent state) reads it from outside.
  const int32_t s = b.AddOp("S", "S", {T(60, {1})}, {});
  const int32_t u = b.AddOp("U", "U", {}, {T(60, {1})});
  b.Op(1, p, 0, 1).Op(1, q, 1, 2).Op(1, r, 2, 3).Op(1, s, 3, 4).Op(1, u, 4, 5);
  Trace trace = b.Build();
  TracedGraph traced = BuildOrDie(&trace);
  // Unnamed outside tensors are constants in the scope of their first reader.
  EXPECT_THAT(NodeOf(traced, "P").inputs, ElementsAre("P/input_0", "P/input_1"));
  EXPECT_THAT(NodeOf(traced, "Q").inputs, ElementsAre("P/input_0", "tokens"));
  EXPECT_THAT(NodeOf(traced, "R").inputs, ElementsAre("R/input_0", "R/input_1"));
  EXPECT_THAT(NodeOf(traced, "S").inputs, ElementsAre("S/input_0"));
  ASSERT_EQ(traced.inputs.size(), 6u);
  EXPECT_EQ(NodeOf(traced, "P/input_1").op, "Const");
  EXPECT_EQ(NodeOf(traced, "tokens").op, "Placeholder");
  EXPECT_EQ(NodeOf(traced, "tokens").outputs[0].dtype, DType::kInt32);
  EXPECT_THAT(NodeOf(traced, "R/input_1").outputs[0].shape, ElementsAre(5));
}

TEST(TracedGraphTest, OutsideTensorsByRole) {
  TraceBuilder b;
  TensorInfo kernel = T(70, {4, 8}, 1, "kernel");
  kernel.role = static_cast<int32_t>(tbprof::TensorRole::kVariable);
  TensorInfo bias = T(71, {8}, 1, "bias");
  bias.role = static_cast<int32_t>(tbprof::TensorRole::kVariable);
  TensorInfo scale = T(72, {1}, 1, "scale");
  scale.role = static_cast<int32_t>(tbprof::TensorRole::kConstant);
  TensorInfo unnamed_variable = T(73, {8});
  unnamed_variable.role = static_cast<int32_t>(tbprof::TensorRole::kVariable);
  TensorInfo data = T(74, {2, 4});
  data.role = static_cast<int32_t>(tbprof::TensorRole::kInput);
  const int32_t mm = b.AddOp("model/dense_1/MatMul", "MatMul", {data, kernel}, {T(1, {2, 8})});
  const int32_t add =
      b.AddOp("model/dense_1/BiasAdd", "BiasAdd", {T(1, {2, 8}), bias}, {T(2, {2, 8})});
  const int32_t mul = b.AddOp("Mul", "Mul", {T(2, {2, 8}), scale, unnamed_variable}, {});
  b.Op(1, mm, 0, 1).Op(1, add, 1, 2).Op(1, mul, 2, 3);
  Trace trace = b.Build();
  TracedGraph traced = BuildOrDie(&trace);
  EXPECT_THAT(NodeOf(traced, "model/dense_1/MatMul").inputs,
              ElementsAre("input_0", "model/dense_1/kernel"));
  EXPECT_THAT(NodeOf(traced, "model/dense_1/BiasAdd").inputs,
              ElementsAre("model/dense_1/MatMul", "model/dense_1/bias"));
  EXPECT_THAT(NodeOf(traced, "Mul").inputs,
              ElementsAre("model/dense_1/BiasAdd", "scale", "Mul/input_2"));
  EXPECT_EQ(NodeOf(traced, "input_0").op, "Placeholder");
  EXPECT_EQ(NodeOf(traced, "model/dense_1/kernel").op, "VariableV2");
  EXPECT_EQ(NodeOf(traced, "scale").op, "Const");
  EXPECT_EQ(NodeOf(traced, "Mul/input_2").op, "VariableV2");
  EXPECT_THAT(NodeOf(traced, "model/dense_1/kernel").outputs[0].shape, ElementsAre(4, 8));
}

TEST(TracedGraphTest, DevicesFollowTheGpuWorkOfEachOp) {
  TraceBuilder b;
  const int32_t gpu_op = b.AddOp("dense/MatMul", "MatMul", {}, {T(1, {2})});
  const int32_t gpu1_op = b.AddOp("dense/BiasAdd", "BiasAdd", {T(1, {2})}, {T(2, {2})});
  const int32_t cpu_op = b.AddOp("post/ArgMax", "ArgMax", {T(2, {2})}, {T(3, {1}, 9)});
  b.Op(1, gpu_op, 0, 10).Launch(1, 1, 2, 3, 0);
  b.Op(1, gpu1_op, 10, 20).Launch(1, 2, 12, 13, 1).Launch(1, 3, 14, 15, 0);
  b.Op(1, cpu_op, 20, 30);
  b.Kernel(1, 5, 8, 0);
  b.Kernel(2, 15, 40, 1).Kernel(3, 40, 41, 0);  // Mostly GPU 1.
  Trace trace = b.Build();
  TracedGraph traced = BuildOrDie(&trace);
  EXPECT_EQ(NodeOf(traced, "dense/MatMul").device, "/device:GPU:0");
  EXPECT_EQ(NodeOf(traced, "dense/BiasAdd").device, "/device:GPU:1");
  EXPECT_EQ(NodeOf(traced, "post/ArgMax").device, "/device:CPU:0");
  EXPECT_THAT(traced.op_gpu, ElementsAre(0, 1, -1));
}

TEST(TracedGraphTest, NamesAreMadeValidAndUnique) {
  TraceBuilder b;
  const int32_t x = b.AddOp("my layer/Op (1)", "Custom");
  const int32_t y = b.AddOp("a//b/", "Custom");
  const int32_t z = b.AddOp("_hidden", "Custom");
  const int32_t w = b.AddOp("a/b", "Custom");
  const int32_t v = b.AddOp("", "");
  b.Op(1, x, 0, 1).Op(1, y, 1, 2).Op(1, z, 2, 3).Op(1, w, 3, 4).Op(1, v, 4, 5);
  Trace trace = b.Build();
  TracedGraph traced = BuildOrDie(&trace);
  EXPECT_THAT(traced.op_nodes, ElementsAre("my_layer/Op__1_", "a/b", "x_hidden", "a/b_1", "op_4"));
  EXPECT_EQ(NodeOf(traced, "op_4").op, "Op");
}

}  // namespace
}  // namespace tbprof::internal
