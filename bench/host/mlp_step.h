// A small MLP step for the benchmarks that compare a step's time with and without something
// recorded (memory_bench, flight_bench): 4 layers of 64x64 MatMul + Relu, a StepScope, name
// scopes and ops, activations from a caching arena like examples/mlp_cpu's, whose allocations
// can be recorded (tbprof/memory.h).
#ifndef TBPROF_BENCH_HOST_MLP_STEP_H_
#define TBPROF_BENCH_HOST_MLP_STEP_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "tbprof/annotate.h"
#include "tbprof/memory.h"

namespace tbprof::internal {

// A caching arena like examples/mlp_cpu's: blocks kept by size and handed out again.
class BenchArena {
 public:
  explicit BenchArena(bool record) : record_(record), tracker_("bench_mlp_arena") {}
  ~BenchArena() {
    for (auto& [bytes, blocks] : free_) {
      for (float* p : blocks) delete[] p;
    }
  }
  float* Allocate(size_t n) {
    std::vector<float*>& list = free_[n];
    float* p;
    if (!list.empty()) {
      p = list.back();
      list.pop_back();
    } else {
      p = new float[n];
    }
    if (record_) tracker_.RecordAlloc(p, static_cast<int64_t>(n * sizeof(float)));
    return p;
  }
  void Free(float* p, size_t n) {
    if (record_) tracker_.RecordFree(p);
    free_[n].push_back(p);
  }

 private:
  bool record_;
  MemoryAllocator tracker_;
  std::map<size_t, std::vector<float*>> free_;
};

inline constexpr int kDim = 64, kLayers = 4;
inline float g_w[kLayers][kDim * kDim];

// One step: per layer, allocate z and y, MatMul into z, Relu into y, free the previous y and z.
inline __attribute__((noinline)) float MlpStep(BenchArena& arena, const float* x) {
  StepScope step(0);
  NameScope model("mlp");
  const float* in = x;
  float* prev = nullptr;
  float sum = 0;
  for (int l = 0; l < kLayers; ++l) {
    NameScope layer("dense");
    float* z = arena.Allocate(kDim * kDim);
    {
      TBPROF_OP("MatMul", "MatMul", {}, {});
      for (int i = 0; i < kDim; ++i) {
        for (int j = 0; j < kDim; ++j) {
          float acc = 0;
          for (int k = 0; k < kDim; ++k) acc += in[i * kDim + k] * g_w[l][k * kDim + j];
          z[i * kDim + j] = acc;
        }
      }
    }
    float* y = arena.Allocate(kDim * kDim);
    {
      TBPROF_OP("Relu", "Relu", {}, {});
      for (int i = 0; i < kDim * kDim; ++i) y[i] = std::max(0.0f, z[i]);
    }
    arena.Free(z, kDim * kDim);
    if (prev != nullptr) arena.Free(prev, kDim * kDim);
    prev = y;
    in = y;
  }
  sum = prev[0];
  arena.Free(prev, kDim * kDim);
  return sum;
}

// The step's input; also sets the weights.
inline std::vector<float> MlpInput() {
  for (int l = 0; l < kLayers; ++l) std::fill(g_w[l], g_w[l] + kDim * kDim, 0.01f);
  return std::vector<float>(kDim * kDim, 0.5f);
}

}  // namespace tbprof::internal

#endif  // TBPROF_BENCH_HOST_MLP_STEP_H_
