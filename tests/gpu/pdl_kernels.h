// Kernels for the GPU tests of CUDA graphs and programmatic dependent launch (pdl_kernels.cu).
#ifndef TBPROF_TESTS_GPU_PDL_KERNELS_H_
#define TBPROF_TESTS_GPU_PDL_KERNELS_H_

#include <cuda_runtime.h>

namespace tbprof::gpu_test {

// Launches a kernel that lets the next kernel of `stream` start at once (it triggers
// programmatic launch completion first) and then spins for about `cycles` clock cycles.
cudaError_t LaunchPrimary(long long cycles, cudaStream_t stream);
// Launches, with programmatic stream serialization allowed (programmatic dependent launch), a
// kernel that spins for about `cycles` cycles and only then waits for the previous kernel of
// `stream` (cudaGridDependencySynchronize): it runs while that kernel still runs.
cudaError_t LaunchSecondary(long long cycles, cudaStream_t stream);

// Launches a one-thread kernel that waits until the host sets `*release` (mapped pinned memory)
// to 1, then sets `*ack` to 1 and ends: its end time on the GPU lies between the host's write
// and the host seeing the acknowledgement (for the host/GPU clock agreement check).
cudaError_t LaunchHandshake(volatile int* release, volatile int* ack, cudaStream_t stream);

}  // namespace tbprof::gpu_test

#endif  // TBPROF_TESTS_GPU_PDL_KERNELS_H_
