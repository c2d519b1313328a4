// A model whose graph depends on the mode, traced twice: a small classifier with a custom
// layer type (GatedResidual) and a skip connection, where training adds dropout, a loss and
// the backward and update ops. The two captures are exported as two tags of one run,
// "model_training" and "model_inference", each with its own graph and step statistics, as
// tf.summary.trace_export does for two traced functions.
//
//   TBPROF=1 ./conditional --logdir logs      then: tensorboard --logdir logs
//
// Without TBPROF=1 the program runs the same computation and writes nothing.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tbprof/tbprof.h"

namespace {

using tbprof::DType;
using tbprof::TensorRef;

// A dense row-major float tensor; its buffer address is its identity in the traced graph.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  Tensor() = default;
  Tensor(std::vector<int64_t> s, float fill = 0) : shape(std::move(s)) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    data.assign(static_cast<size_t>(n), fill);
  }
  int64_t rows() const { return shape[0]; }
  int64_t cols() const { return shape.size() > 1 ? shape[1] : 1; }
  TensorRef ref(const char* name = nullptr) const {
    return TensorRef(data.data(), DType::kFloat32, shape, name);
  }
  // A weight, shown as "<layer>/<name>" in the graph (like Keras' "dense_1/kernel").
  TensorRef var(const char* name) const {
    return TensorRef::Variable(data.data(), DType::kFloat32, shape, name);
  }
};

Tensor Random(std::vector<int64_t> shape, std::mt19937* rng, float scale) {
  Tensor t(std::move(shape));
  std::normal_distribution<float> dist(0.0f, scale);
  for (float& v : t.data) v = dist(*rng);
  return t;
}

// y = x W (x: [n, k], W: [k, m]) into y's existing buffer (its identity stays the same).
void MatMulInto(const Tensor& x, const Tensor& w, Tensor* out) {
  Tensor& y = *out;
  std::fill(y.data.begin(), y.data.end(), 0.0f);
  for (int64_t i = 0; i < x.rows(); ++i) {
    for (int64_t p = 0; p < x.cols(); ++p) {
      const float a = x.data[i * x.cols() + p];
      for (int64_t j = 0; j < w.cols(); ++j)
        y.data[i * w.cols() + j] += a * w.data[p * w.cols() + j];
    }
  }
}

Tensor MatMul(const Tensor& x, const Tensor& w) {
  Tensor y({x.rows(), w.cols()});
  MatMulInto(x, w, &y);
  return y;
}

class Dense {
 public:
  Dense(std::string name, int64_t in, int64_t out, bool relu, std::mt19937* rng)
      : name_(std::move(name)), w_(Random({in, out}, rng, 0.2f)), b_({out}, 0.01f), relu_(relu) {}

  // `input_name` names x in the graph when it comes from outside the model.
  Tensor Forward(const Tensor& x, const char* input_name = nullptr) {
    tbprof::NameScope scope(name_);
    Tensor y({x.rows(), w_.cols()});
    {
      TBPROF_OP("MatMul", "MatMul", {x.ref(input_name), w_.var("kernel")}, {y.ref()});
      MatMulInto(x, w_, &y);
    }
    {
      TBPROF_OP("BiasAdd", "BiasAdd", {y.ref(), b_.var("bias")}, {y.ref()});
      for (int64_t i = 0; i < y.rows(); ++i) {
        for (int64_t j = 0; j < y.cols(); ++j) y.data[i * y.cols() + j] += b_.data[j];
      }
    }
    if (relu_) {
      TBPROF_OP("Relu", "Relu", {y.ref()}, {y.ref()});
      for (float& v : y.data) v = std::max(v, 0.0f);
    }
    return y;
  }

  Tensor& weights() { return w_; }

 private:
  std::string name_;
  Tensor w_;
  Tensor b_;
  bool relu_;
};

// A custom layer type: y = x * sigmoid(x Wg), one op of type "GatedResidual".
class GatedResidual {
 public:
  GatedResidual(int64_t width, std::mt19937* rng) : wg_(Random({width, width}, rng, 0.2f)) {}

  Tensor Forward(const Tensor& x) {
    tbprof::NameScope scope("gated_residual_1");
    Tensor y(x.shape);
    TBPROF_OP("GatedResidual", "GatedResidual", {x.ref(), wg_.var("gate_kernel")}, {y.ref()});
    const Tensor gate = MatMul(x, wg_);
    for (size_t i = 0; i < y.data.size(); ++i) {
      y.data[i] = x.data[i] / (1.0f + std::exp(-gate.data[i]));
    }
    return y;
  }

 private:
  Tensor wg_;
};

class Classifier {
 public:
  explicit Classifier(std::mt19937* rng)
      : dense_1_("dense_1", 16, 32, /*relu=*/true, rng),
        gated_(32, rng),
        dense_2_("dense_2", 32, 4, /*relu=*/false, rng),
        rng_(rng) {}

  // One step. Training adds dropout, the loss, gradients and the update.
  float Step(const Tensor& features, const std::vector<int>& labels, bool training) {
    Tensor h = dense_1_.Forward(features, "features");
    Tensor g = gated_.Forward(h);
    Tensor r(h.shape);
    {
      tbprof::NameScope scope("residual");
      TBPROF_OP("AddV2", "AddV2", {g.ref(), h.ref()}, {r.ref()});  // Skip connection.
      for (size_t i = 0; i < r.data.size(); ++i) r.data[i] = g.data[i] + h.data[i];
    }
    if (training) r = Dropout(r);
    Tensor logits = dense_2_.Forward(r);
    Tensor probs(logits.shape);
    {
      tbprof::NameScope scope("softmax");
      TBPROF_OP("Softmax", "Softmax", {logits.ref()}, {probs.ref()});
      for (int64_t i = 0; i < logits.rows(); ++i) {
        float mx = -1e30f, sum = 0;
        for (int64_t j = 0; j < logits.cols(); ++j) mx = std::max(mx, logits.data[i * 4 + j]);
        for (int64_t j = 0; j < logits.cols(); ++j) {
          sum += probs.data[i * 4 + j] = std::exp(logits.data[i * 4 + j] - mx);
        }
        for (int64_t j = 0; j < logits.cols(); ++j) probs.data[i * 4 + j] /= sum;
      }
    }
    if (!training) return 0;
    return Backward(r, probs, labels);
  }

 private:
  Tensor Dropout(const Tensor& x) {
    tbprof::NameScope scope("dropout_1");
    Tensor y(x.shape);
    TBPROF_OP("Dropout", "Dropout", {x.ref()}, {y.ref()});
    std::bernoulli_distribution keep(0.9);
    for (size_t i = 0; i < x.data.size(); ++i) y.data[i] = keep(*rng_) ? x.data[i] / 0.9f : 0;
    return y;
  }

  float Backward(const Tensor& r, const Tensor& probs, const std::vector<int>& labels) {
    const int64_t n = probs.rows();
    const int64_t labels_shape[] = {n};
    Tensor loss(std::vector<int64_t>{});
    Tensor dlogits(probs.shape);
    {
      tbprof::NameScope scope("loss");
      TBPROF_OP("SparseSoftmaxCrossEntropy", "SparseSoftmaxCrossEntropyWithLogits",
                {probs.ref(), TensorRef(labels.data(), DType::kInt32, labels_shape, "labels")},
                {loss.ref(), dlogits.ref()});
      for (int64_t i = 0; i < n; ++i) {
        loss.data[0] -= std::log(std::max(probs.data[i * 4 + labels[i]], 1e-7f)) / n;
        for (int64_t j = 0; j < 4; ++j) {
          dlogits.data[i * 4 + j] = (probs.data[i * 4 + j] - (j == labels[i] ? 1 : 0)) / n;
        }
      }
    }
    Tensor r_t({r.cols(), r.rows()});
    Tensor dw({r.cols(), 4});
    {
      tbprof::NameScope grads("gradients");
      tbprof::NameScope layer("dense_2");
      {
        TBPROF_OP("Transpose", "Transpose", {r.ref()}, {r_t.ref()});
        for (int64_t i = 0; i < r.rows(); ++i) {
          for (int64_t j = 0; j < r.cols(); ++j)
            r_t.data[j * r.rows() + i] = r.data[i * r.cols() + j];
        }
      }
      {
        TBPROF_OP("MatMul_grad", "MatMul", {r_t.ref(), dlogits.ref()}, {dw.ref()});
        MatMulInto(r_t, dlogits, &dw);
      }
    }
    {
      tbprof::NameScope scope("optimizer");
      Tensor& w = dense_2_.weights();
      TBPROF_OP("ApplyGradientDescent", "ApplyGradientDescent", {w.ref(), dw.ref()}, {w.ref()});
      for (size_t i = 0; i < w.data.size(); ++i) w.data[i] -= 0.1f * dw.data[i];
    }
    return loss.data[0];
  }

  Dense dense_1_;
  GatedResidual gated_;
  Dense dense_2_;
  std::mt19937* rng_;
};

bool Check(const absl::Status& status, const char* what) {
  if (status.ok()) return true;
  std::fprintf(stderr, "conditional: %s: %s\n", what, status.ToString().c_str());
  return false;
}

// One line per export: the tag it added to the Graphs tab and the profile session it wrote.
void PrintExport(const char* tag) {
  if (std::optional<tbprof::ExportInfo> info = tbprof::LastExportInfo()) {
    std::printf("  tag %-16s %lld ops, %lld steps%s -> %s\n", tag,
                static_cast<long long>(info->ops), static_cast<long long>(info->steps),
                info->training ? ", a training job" : "", info->session_dir.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    // --logdir DIR (or DIR alone) is TBPROF_LOGDIR; set before the first tbprof call reads it.
    if (arg == "--logdir" && i + 1 < argc) {
      setenv("TBPROF_LOGDIR", argv[++i], 1);
    } else if (!arg.empty() && arg[0] != '-') {
      setenv("TBPROF_LOGDIR", argv[i], 1);
    } else {
      std::fprintf(stderr, "usage: conditional [--logdir] DIR   (trace with TBPROF=1)\n");
      return 2;
    }
  }
  std::mt19937 rng(7);
  Classifier model(&rng);
  const int64_t batch = 64;
  Tensor features = Random({batch, 16}, &rng, 1.0f);
  std::vector<int> labels(batch);
  for (int64_t i = 0; i < batch; ++i) labels[i] = static_cast<int>(i % 4);

  bool ok = true;
  // Training: dropout, loss, gradients and the update are part of the traced graph.
  ok &= Check(tbprof::TraceOn(), "TraceOn");
  float loss = 0;
  for (int64_t step = 0; step < 5; ++step) {
    tbprof::StepScope s(step, "train");
    loss = model.Step(features, labels, /*training=*/true);
  }
  ok &= Check(tbprof::TraceExport("model_training", 4), "TraceExport(model_training)");
  PrintExport("model_training");

  // Inference: the same layers without the training-only branch.
  ok &= Check(tbprof::TraceOn(), "TraceOn");
  for (int64_t step = 5; step < 8; ++step) {
    tbprof::StepScope s(step, "predict");
    model.Step(features, labels, /*training=*/false);
  }
  ok &= Check(tbprof::TraceExport("model_inference", 7), "TraceExport(model_inference)");
  PrintExport("model_inference");

  std::printf("final training loss %.4f\n", loss);
  if (std::optional<tbprof::ExportInfo> info = tbprof::LastExportInfo()) {
    std::printf(
        "the Graphs tab has one tag per export, each with its own graph and stats:\n"
        "  tensorboard --logdir %s\n",
        info->logdir.c_str());
  } else {
    std::printf("tracing is off (set TBPROF=1 to write a trace)\n");
  }
  return ok ? 0 : 1;
}
