// A multi-layer perceptron's forward pass on the GPU (784 -> 512 -> 256 -> 10, softmax), with
// our own CUDA kernels, instrumented with tbprof: a NameScope per layer, an op per kernel or
// copy, a StepScope per step. With TBPROF=1 (or --trace) it writes a log directory whose Profile
// tab shows the CPU ops, their cudaLaunchKernel calls and the kernels and copies on the GPU
// streams, linked by correlation id.
//
//   TBPROF=1 TBPROF_LOGDIR=/tmp/tb ./mlp_cuda --steps 5
//   ./mlp_cuda --trace --logdir /tmp/tb
//
// The layers' outputs come from a caching pool over cudaMalloc that reports each allocation and
// free to tbprof (allocator "GPU_0_pool" in the Memory Profile tool: one sawtooth per step).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "kernels.h"
#include "tbprof/tbprof.h"

namespace {

#define MLP_CHECK(call)                                                                 \
  do {                                                                                  \
    cudaError_t e_ = (call);                                                            \
    if (e_ != cudaSuccess) {                                                            \
      std::fprintf(stderr, "mlp_cuda: %s failed: %s\n", #call, cudaGetErrorString(e_)); \
      std::exit(1);                                                                     \
    }                                                                                   \
  } while (0)

struct DeviceTensor {
  float* data = nullptr;
  std::vector<int64_t> shape;
  int64_t size() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  tbprof::TensorRef ref() const { return tbprof::TensorRef(data, tbprof::DType::kFloat32, shape); }
  // A weight, shown as "<layer>/<name>" in the graph (like Keras' "dense_1/kernel").
  tbprof::TensorRef var(const char* name) const {
    return tbprof::TensorRef::Variable(data, tbprof::DType::kFloat32, shape, name);
  }
};

DeviceTensor Alloc(std::vector<int64_t> shape) {
  DeviceTensor t;
  t.shape = std::move(shape);
  MLP_CHECK(cudaMalloc(&t.data, t.size() * sizeof(float)));
  return t;
}

// Activations: device blocks kept by size and handed out again, as engines' caching allocators
// do; one stream, so a block freed after its last use was queued may be reused by later work.
class DevicePool {
 public:
  ~DevicePool() {
    for (auto& [bytes, blocks] : free_) {
      for (float* p : blocks) cudaFree(p);
    }
  }
  DeviceTensor Alloc(std::vector<int64_t> shape) {
    DeviceTensor t;
    t.shape = std::move(shape);
    const size_t bytes = static_cast<size_t>(t.size()) * sizeof(float);
    std::vector<float*>& cached = free_[bytes];
    if (!cached.empty()) {
      t.data = cached.back();
      cached.pop_back();
    } else {
      MLP_CHECK(cudaMalloc(&t.data, bytes));
    }
    tracker_.RecordAlloc(t.data, static_cast<int64_t>(bytes));
    return t;
  }
  void Free(const DeviceTensor& t) {
    tracker_.RecordFree(t.data);
    free_[static_cast<size_t>(t.size()) * sizeof(float)].push_back(t.data);
  }

 private:
  tbprof::MemoryAllocator tracker_{"GPU_0_pool"};
  std::map<size_t, std::vector<float*>> free_;
};

class Dense {
 public:
  Dense(std::string name, int in, int out, bool relu, std::mt19937* rng)
      : name_(std::move(name)), in_(in), out_(out), relu_(relu) {
    w_ = Alloc({in, out});
    b_ = Alloc({out});
    std::normal_distribution<float> dist(0.f, std::sqrt(2.f / in));
    std::vector<float> host(static_cast<size_t>(in) * out);
    for (float& v : host) v = dist(*rng);
    MLP_CHECK(
        cudaMemcpy(w_.data, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
    std::vector<float> bias(out, 0.01f);
    MLP_CHECK(
        cudaMemcpy(b_.data, bias.data(), bias.size() * sizeof(float), cudaMemcpyHostToDevice));
  }

  // The layer's output, from `pool` (the caller frees it).
  DeviceTensor Forward(const DeviceTensor& x, cudaStream_t stream, DevicePool* pool) {
    tbprof::NameScope layer(name_);
    const int batch = static_cast<int>(x.shape[0]);
    DeviceTensor y = pool->Alloc({batch, out_});
    {
      TBPROF_OP("MatMul", "MatMul", {x.ref(), w_.var("kernel")}, {y.ref()});
      MLP_CHECK(mlp_cuda::Gemm(x.data, w_.data, y.data, batch, out_, in_, stream));
    }
    {
      TBPROF_OP(relu_ ? "Relu" : "BiasAdd", relu_ ? "Relu" : "BiasAdd", {y.ref(), b_.var("bias")},
                {y.ref()});
      MLP_CHECK(mlp_cuda::BiasAct(y.data, b_.data, batch, out_, relu_, stream));
    }
    return y;
  }

 private:
  std::string name_;
  int in_, out_;
  bool relu_;
  DeviceTensor w_, b_;
};

struct Args {
  int steps = 5;
  int batch = 64;
  bool trace = false;
  std::string logdir;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mlp_cuda: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--steps") {
      a.steps = std::atoi(next());
    } else if (arg == "--batch") {
      a.batch = std::atoi(next());
    } else if (arg == "--trace") {
      a.trace = true;
    } else if (arg == "--logdir") {
      a.logdir = next();
    } else {
      std::fprintf(stderr, "usage: mlp_cuda [--steps N] [--batch N] [--trace] [--logdir DIR]\n");
      std::exit(2);
    }
  }
  if (a.steps < 1 || a.batch < 1) {
    std::fprintf(stderr, "mlp_cuda: --steps and --batch must be positive\n");
    std::exit(2);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "mlp_cuda: no CUDA GPU available\n");
    return 77;  // "skipped" for test drivers.
  }
  std::mt19937 rng(42);
  Dense l1("dense_1", 784, 512, true, &rng);
  Dense l2("dense_2", 512, 256, true, &rng);
  Dense l3("dense_3", 256, 10, false, &rng);
  cudaStream_t stream;
  MLP_CHECK(cudaStreamCreate(&stream));
  DevicePool pool;
  DeviceTensor x = Alloc({args.batch, 784});
  DeviceTensor probs = Alloc({args.batch, 10});
  std::vector<float> input(static_cast<size_t>(x.size()));
  std::vector<float> output(static_cast<size_t>(probs.size()));
  std::uniform_real_distribution<float> pixel(0.f, 1.f);
  for (float& v : input) v = pixel(rng);

  tbprof::TraceOptions options;
  options.force = args.trace;
  if (!args.logdir.empty()) options.logdir = args.logdir;
  if (absl::Status s = tbprof::TraceOn(options); !s.ok()) {
    std::fprintf(stderr, "mlp_cuda: TraceOn: %s\n", s.ToString().c_str());
  }
  double checksum = 0;
  for (int64_t step = 0; step < args.steps; ++step) {
    tbprof::StepScope s(step);
    {
      TBPROF_OP("input", "MemcpyHtoD", {}, {x.ref()});
      MLP_CHECK(cudaMemcpyAsync(x.data, input.data(), input.size() * sizeof(float),
                                cudaMemcpyHostToDevice, stream));
    }
    DeviceTensor h1 = l1.Forward(x, stream, &pool);
    DeviceTensor h2 = l2.Forward(h1, stream, &pool);
    pool.Free(h1);
    DeviceTensor logits = l3.Forward(h2, stream, &pool);
    pool.Free(h2);
    {
      TBPROF_OP("softmax", "Softmax", {logits.ref()}, {probs.ref()});
      MLP_CHECK(mlp_cuda::Softmax(logits.data, probs.data, args.batch, 10, stream));
    }
    {
      TBPROF_OP("output", "MemcpyDtoH", {probs.ref()}, {});
      MLP_CHECK(cudaMemcpyAsync(output.data(), probs.data, output.size() * sizeof(float),
                                cudaMemcpyDeviceToHost, stream));
      MLP_CHECK(cudaStreamSynchronize(stream));
    }
    pool.Free(logits);
    for (float p : output) checksum += p;
  }
  if (absl::Status s = tbprof::TraceExport("mlp_cuda", args.steps - 1); !s.ok()) {
    std::fprintf(stderr, "mlp_cuda: TraceExport: %s\n", s.ToString().c_str());
    return 1;
  }
  // Each row of probabilities sums to 1.
  std::printf("mlp_cuda: %d steps, batch %d, probability sum %.3f (expected %d)\n", args.steps,
              args.batch, checksum, args.steps * args.batch);
  return std::fabs(checksum - args.steps * args.batch) < 1e-2 * args.steps * args.batch ? 0 : 1;
}
