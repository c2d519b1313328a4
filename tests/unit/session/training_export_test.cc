#include <initializer_list>
#include <string>

#include "gtest/gtest.h"
#include "src/session/export_steps.h"
#include "src/trace/trace_data.h"

namespace tbprof::internal {
namespace {

Trace WithOps(std::initializer_list<const char*> names) {
  Trace t;
  for (const char* n : names) {
    OpInfo op;
    op.name = n;
    op.type = "MatMul";
    t.ops.push_back(op);
  }
  return t;
}

TEST(TrainingExportTest, ANameWithAWordStartingWithTrainIsTraining) {
  const Trace none;
  EXPECT_TRUE(IsTrainingExport("model_training", none));
  EXPECT_TRUE(IsTrainingExport("train", none));
  EXPECT_TRUE(IsTrainingExport("Train-step", none));
  EXPECT_TRUE(IsTrainingExport("resnet.training.3", none));
  EXPECT_TRUE(IsTrainingExport("modelTraining", none));
  EXPECT_FALSE(IsTrainingExport("model_inference", none));
  EXPECT_FALSE(IsTrainingExport("constrained", none));
  EXPECT_FALSE(IsTrainingExport("steps_2_4", none));
  EXPECT_FALSE(IsTrainingExport("", none));
  EXPECT_FALSE(IsTrainingExport("trai", none));
}

TEST(TrainingExportTest, OpsUnderAGradientScopeMakeATrainingJob) {
  EXPECT_TRUE(IsTrainingExport("steps_2_4", WithOps({"dense/MatMul", "gradients/dense/MatMul"})));
  EXPECT_TRUE(IsTrainingExport("m", WithOps({"gradients_2/dense/MatMul"})));
  EXPECT_TRUE(IsTrainingExport("m", WithOps({"model/gradient_tape/dense/MatMul"})));
  // The op's own name is not a scope, and other scopes do not count.
  EXPECT_FALSE(IsTrainingExport("m", WithOps({"dense/gradients"})));
  EXPECT_FALSE(IsTrainingExport("m", WithOps({"gradients"})));
  EXPECT_FALSE(IsTrainingExport("m", WithOps({"gradient_clip/dense/MatMul", "mlp/dense/Relu"})));
}

}  // namespace
}  // namespace tbprof::internal
