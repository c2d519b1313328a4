// Data-parallel training of a small multi-layer perceptron with MPI, instrumented with tbprof:
// every rank runs the forward and backward passes on its own shard of the data, the gradients
// are summed with MPI_Allreduce (the op "grad/Allreduce:Allreduce"), then every rank applies
// the same SGD update. One rank can be slowed on purpose to see it named by `tbprof summary`.
//
// Run it as
//   TBPROF=1 TBPROF_STEPS=10:12 mpirun -np 4 ./mlp_mpi --logdir /tmp/tbprof_logs --slow-rank 2
// which gives one profile session with four files, one per rank
// (plugins/profile/<job id>_steps_10_12/<host>_rank<N>.xplane.pb), then
//   tbprof summary /tmp/tbprof_logs     # per-rank step times, the slowest rank and its lag
//   tensorboard --logdir /tmp/tbprof_logs
//
// Flags: --logdir DIR (TBPROF_LOGDIR), --steps N (default 16), --batch B (default 64),
// --slow-rank R (default -1: none) and --slow-ms MS (default 3): rank R computes MS ms longer
// each step, inside the op "input/Augment:Augment".
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tbprof/tbprof.h"

namespace {

constexpr int kIn = 128, kHidden = 256, kOut = 10;

struct Params {
  std::vector<float> w1 = std::vector<float>(kIn * kHidden);
  std::vector<float> w2 = std::vector<float>(kHidden * kOut);
  size_t size() const { return w1.size() + w2.size(); }
};

// y[m x n] = x[m x k] * w[k x n]
void MatMul(const float* x, const float* w, float* y, int m, int k, int n) {
  std::fill(y, y + m * n, 0.0f);
  for (int i = 0; i < m; ++i) {
    for (int kk = 0; kk < k; ++kk) {
      const float a = x[i * k + kk];
      for (int j = 0; j < n; ++j) y[i * n + j] += a * w[kk * n + j];
    }
  }
}

// Busy work standing in for a slow input pipeline or a slower GPU on one rank.
void Spin(double ms) {
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::duration<double, std::milli>(ms);
  volatile double sink = 0;
  while (std::chrono::steady_clock::now() < until) sink = sink + 1.0;
}

// One step: forward, backward (softmax cross-entropy), gradient allreduce, SGD update.
void TrainStep(Params* p, const std::vector<float>& x, const std::vector<int>& labels, int batch,
               int world, bool slow, double slow_ms) {
  std::vector<float> h(batch * kHidden), logits(batch * kOut), grad_logits(batch * kOut),
      grad_h(batch * kHidden);
  Params g;
  if (slow) {
    TBPROF_OP("input/Augment", "Augment", {}, {});
    Spin(slow_ms);
  }
  {
    tbprof::NameScope layer("dense_1");
    TBPROF_OP("MatMul", "MatMul", {}, {});
    MatMul(x.data(), p->w1.data(), h.data(), batch, kIn, kHidden);
    for (float& v : h) v = std::max(v, 0.0f);
  }
  {
    tbprof::NameScope layer("dense_2");
    TBPROF_OP("MatMul", "MatMul", {}, {});
    MatMul(h.data(), p->w2.data(), logits.data(), batch, kHidden, kOut);
  }
  {
    TBPROF_OP("loss/SoftmaxGrad", "SoftmaxCrossEntropyGrad", {}, {});
    for (int i = 0; i < batch; ++i) {
      float mx = -1e30f, sum = 0;
      for (int j = 0; j < kOut; ++j) mx = std::max(mx, logits[i * kOut + j]);
      for (int j = 0; j < kOut; ++j) sum += std::exp(logits[i * kOut + j] - mx);
      for (int j = 0; j < kOut; ++j) {
        grad_logits[i * kOut + j] =
            (std::exp(logits[i * kOut + j] - mx) / sum - (labels[i] == j ? 1.0f : 0.0f)) / batch;
      }
    }
  }
  {
    tbprof::NameScope layer("dense_2_grad");
    TBPROF_OP("MatMul", "MatMul", {}, {});
    std::fill(g.w2.begin(), g.w2.end(), 0.0f);
    for (int i = 0; i < batch; ++i) {
      for (int a = 0; a < kHidden; ++a) {
        const float hv = h[i * kHidden + a];
        if (hv == 0) continue;
        for (int j = 0; j < kOut; ++j) g.w2[a * kOut + j] += hv * grad_logits[i * kOut + j];
      }
    }
    for (int i = 0; i < batch; ++i) {
      for (int a = 0; a < kHidden; ++a) {
        float s = 0;
        for (int j = 0; j < kOut; ++j) s += grad_logits[i * kOut + j] * p->w2[a * kOut + j];
        grad_h[i * kHidden + a] = h[i * kHidden + a] > 0 ? s : 0;
      }
    }
  }
  {
    tbprof::NameScope layer("dense_1_grad");
    TBPROF_OP("MatMul", "MatMul", {}, {});
    std::fill(g.w1.begin(), g.w1.end(), 0.0f);
    for (int i = 0; i < batch; ++i) {
      for (int k = 0; k < kIn; ++k) {
        const float xv = x[i * kIn + k];
        for (int a = 0; a < kHidden; ++a) g.w1[k * kHidden + a] += xv * grad_h[i * kHidden + a];
      }
    }
  }
  {
    // The collective every rank waits in until the slowest one arrives.
    TBPROF_OP("grad/Allreduce", "Allreduce", {}, {});
    MPI_Allreduce(MPI_IN_PLACE, g.w1.data(), static_cast<int>(g.w1.size()), MPI_FLOAT, MPI_SUM,
                  MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, g.w2.data(), static_cast<int>(g.w2.size()), MPI_FLOAT, MPI_SUM,
                  MPI_COMM_WORLD);
  }
  {
    TBPROF_OP("sgd/Update", "ApplyGradientDescent", {}, {});
    const float lr = 0.05f / static_cast<float>(world);
    for (size_t i = 0; i < p->w1.size(); ++i) p->w1[i] -= lr * g.w1[i];
    for (size_t i = 0; i < p->w2.size(); ++i) p->w2[i] -= lr * g.w2[i];
  }
}

bool ParseNumber(const char* text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text, &end);
  return end != text && *end == '\0' && std::isfinite(*out);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, world = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  double steps = 16, batch = 64, slow_rank = -1, slow_ms = 3;
  std::string logdir;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    double* number = arg == "--steps"       ? &steps
                     : arg == "--batch"     ? &batch
                     : arg == "--slow-rank" ? &slow_rank
                     : arg == "--slow-ms"   ? &slow_ms
                                            : nullptr;
    if (arg == "--logdir" && i + 1 < argc) {
      logdir = argv[++i];
    } else if (number != nullptr && i + 1 < argc && ParseNumber(argv[i + 1], number)) {
      ++i;
    } else {
      if (rank == 0) {
        std::fprintf(stderr,
                     "usage: mlp_mpi [--logdir DIR] [--steps N] [--batch B] [--slow-rank R] "
                     "[--slow-ms MS]\n");
      }
      MPI_Finalize();
      return 2;
    }
  }
  if (steps < 1 || batch < 1 || slow_ms < 0) {
    if (rank == 0) std::fprintf(stderr, "mlp_mpi: --steps and --batch must be >= 1\n");
    MPI_Finalize();
    return 2;
  }
  // --logdir is TBPROF_LOGDIR; set before the first tbprof call reads the environment.
  if (!logdir.empty()) setenv("TBPROF_LOGDIR", logdir.c_str(), 1);

  // The same initial weights on every rank; each rank its own data shard.
  std::mt19937 init_rng(1234);
  std::normal_distribution<float> init(0.0f, 0.05f);
  Params p;
  for (float& v : p.w1) v = init(init_rng);
  for (float& v : p.w2) v = init(init_rng);
  std::mt19937 data_rng(100 + rank);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  const int b = static_cast<int>(batch);
  std::vector<float> x(b * kIn);
  std::vector<int> labels(b);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t step = 0; step < static_cast<int64_t>(steps); ++step) {
    for (int i = 0; i < b; ++i) {
      labels[i] = static_cast<int>(data_rng() % kOut);
      for (int k = 0; k < kIn; ++k) x[i * kIn + k] = noise(data_rng) + (k % kOut == labels[i]);
    }
    tbprof::StepScope s(step);
    TrainStep(&p, x, labels, b, world, rank == static_cast<int>(slow_rank), slow_ms);
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    std::printf("mlp_mpi: %d ranks, %d steps in %.1f ms%s\n", world, static_cast<int>(steps), ms,
                slow_rank >= 0 ? " (one rank slowed on purpose)" : "");
  }
  MPI_Finalize();
  return 0;
}
