#include "pdl_kernels.h"

namespace tbprof::gpu_test {
namespace {

__device__ void SpinCycles(long long cycles) {
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
}

__global__ void PrimaryKernel(long long cycles) {
#if __CUDA_ARCH__ >= 900
  cudaTriggerProgrammaticLaunchCompletion();
#endif
  SpinCycles(cycles);
}

__global__ void SecondaryKernel(long long cycles) {
  SpinCycles(cycles);
#if __CUDA_ARCH__ >= 900
  cudaGridDependencySynchronize();
#endif
}

__global__ void HandshakeKernel(volatile int* release, volatile int* ack) {
  while (*release == 0) {
  }
  __threadfence_system();
  *ack = 1;
  __threadfence_system();
}

}  // namespace

cudaError_t LaunchHandshake(volatile int* release, volatile int* ack, cudaStream_t stream) {
  HandshakeKernel<<<1, 1, 0, stream>>>(release, ack);
  return cudaGetLastError();
}

cudaError_t LaunchPrimary(long long cycles, cudaStream_t stream) {
  PrimaryKernel<<<1, 32, 0, stream>>>(cycles);
  return cudaGetLastError();
}

cudaError_t LaunchSecondary(long long cycles, cudaStream_t stream) {
  cudaLaunchAttribute attribute[1];
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(1);
  config.blockDim = dim3(32);
  config.stream = stream;
  config.attrs = attribute;
  config.numAttrs = 1;
  return cudaLaunchKernelEx(&config, SecondaryKernel, cycles);
}

}  // namespace tbprof::gpu_test
