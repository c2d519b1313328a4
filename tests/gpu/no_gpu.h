// Why the GPU tests cannot run here ("" when a CUDA GPU is usable): they skip with this reason.
#ifndef TBPROF_TESTS_GPU_NO_GPU_H_
#define TBPROF_TESTS_GPU_NO_GPU_H_

#include <cuda_runtime.h>

#include <string>

namespace tbprof::internal {

inline std::string NoGpuReason() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) return std::string("no usable CUDA driver: ") + cudaGetErrorString(e);
  if (count == 0) return "no CUDA GPU";
  return "";
}

}  // namespace tbprof::internal

#endif  // TBPROF_TESTS_GPU_NO_GPU_H_
