// Empty kernels for the launch-bound benchmark (compiled by nvcc; the benchmark is host C++).
#include <cuda_runtime.h>

namespace {
__global__ void EmptyKernel() {}
}  // namespace

// Launches `n` empty kernels on `stream`; returns the first launch error.
cudaError_t TbprofLaunchEmptyKernels(int n, cudaStream_t stream) {
  for (int i = 0; i < n; ++i) EmptyKernel<<<1, 32, 0, stream>>>();
  return cudaGetLastError();
}

// Captures `nodes` empty kernels on `stream` into an executable graph.
cudaError_t TbprofCaptureEmptyGraph(int nodes, cudaStream_t stream, cudaGraphExec_t* exec) {
  cudaGraph_t graph = nullptr;
  cudaError_t e = cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal);
  if (e != cudaSuccess) return e;
  for (int i = 0; i < nodes; ++i) EmptyKernel<<<1, 32, 0, stream>>>();
  e = cudaStreamEndCapture(stream, &graph);
  if (e != cudaSuccess) return e;
  e = cudaGraphInstantiate(exec, graph, 0);
  cudaGraphDestroy(graph);
  return e;
}
