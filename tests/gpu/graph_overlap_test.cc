// CUDA graphs and programmatic dependent launch on a real GPU. Skips (saying why) without a GPU.
//
// Graphs: a stream captured inside op scopes, instantiated and replayed inside another op; every
// replayed kernel must carry the op that captured it, in the capture session and in a later one
// that only replays. Overlap: two kernels of one stream launched with programmatic dependent
// launch run at the same time; both keep their CUPTI durations in the XSpace (the overlapping
// one on an extra line of the stream) and in the Chrome trace.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cupti/clock_sync.h"
#include "gtest/gtest.h"
#include "kernels.h"
#include "no_gpu.h"
#include "pdl_kernels.h"
#include "src/export/chrome_trace.h"
#include "src/export/xplane_writer.h"
#include "src/session/session.h"
#include "src/trace/device_source.h"
#include "src/trace/trace_data.h"
#include "tbprof/annotate.h"
#include "tensorflow/profiler/xplane.pb.h"

namespace tbprof::internal {
namespace {

class GraphOverlapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = NoGpuReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    ASSERT_EQ(cudaFree(nullptr), cudaSuccess);
    ASSERT_EQ(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), cudaSuccess);
  }
  void TearDown() override {
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }

  static std::string OpOf(const Trace& t, const DeviceEvent& e) {
    if (e.op_index < 0 || static_cast<size_t>(e.op_index) >= t.ops.size()) return "(none)";
    return t.ops[e.op_index].name;
  }

  // Graph kernels by block size (128: captured in Gemm, 256: in Relu, 64: outside any op).
  static std::map<uint32_t, std::vector<std::string>> GraphKernelOps(const Trace& t) {
    std::map<uint32_t, std::vector<std::string>> out;
    for (const DeviceEvent& e : t.device_events) {
      if (e.kind != DeviceEventKind::kKernel || e.graph_id == 0) continue;
      EXPECT_NE(e.graph_node_id, 0u);
      out[e.kernel.block[0]].push_back(OpOf(t, e));
    }
    return out;
  }

  cudaStream_t stream_ = nullptr;
};

TEST_F(GraphOverlapTest, GraphKernelsCarryTheOpThatCapturedThem) {
  constexpr int kReplays = 4;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  SessionOptions options;
  options.logdir = "/tmp";
  {
    Session session(options, CreateGpuDeviceSource());
    ASSERT_TRUE(session.Start().ok());
    ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    {
      tbprof::NameScope layer("dense");
      {
        TBPROF_OP("Gemm", "MatMul", {}, {});
        ASSERT_EQ(mlp_cuda::Empty(128, stream_), cudaSuccess);
      }
      {
        TBPROF_OP("Relu", "Relu", {}, {});
        ASSERT_EQ(mlp_cuda::Empty(256, stream_), cudaSuccess);
      }
    }
    ASSERT_EQ(mlp_cuda::Empty(64, stream_), cudaSuccess);
    ASSERT_EQ(cudaStreamEndCapture(stream_, &graph), cudaSuccess);
    ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
    {
      TBPROF_OP("Replay", "GraphLaunch", {}, {});
      for (int i = 0; i < kReplays; ++i) ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
      ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
    }
    ASSERT_TRUE(session.Collect().ok());
    const auto ops = GraphKernelOps(session.trace());
    EXPECT_EQ(ops.at(128), std::vector<std::string>(kReplays, "dense/Gemm"));
    EXPECT_EQ(ops.at(256), std::vector<std::string>(kReplays, "dense/Relu"));
    EXPECT_EQ(ops.at(64), std::vector<std::string>(kReplays, "Replay"));
    size_t attributed = 0;
    for (const auto& [block, names] : ops) attributed += block == 64 ? 0 : names.size();
    std::printf("gpu-check: graph_kernels_with_capturing_op=%zu of %d\n", attributed, 2 * kReplays);
  }
  {
    // A later capture that only replays still knows the ops.
    Session session(options, CreateGpuDeviceSource());
    ASSERT_TRUE(session.Start().ok());
    ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
    ASSERT_TRUE(session.Collect().ok());
    const auto ops = GraphKernelOps(session.trace());
    EXPECT_EQ(ops.at(128), std::vector<std::string>(1, "dense/Gemm"));
    EXPECT_EQ(ops.at(256), std::vector<std::string>(1, "dense/Relu"));
  }
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
}

TEST_F(GraphOverlapTest, ProgrammaticDependentLaunchKeepsBothKernelsWhole) {
  int device = 0;
  cudaDeviceProp prop;
  ASSERT_EQ(cudaGetDevice(&device), cudaSuccess);
  ASSERT_EQ(cudaGetDeviceProperties(&prop, device), cudaSuccess);
  if (prop.major < 9) GTEST_SKIP() << "programmatic dependent launch needs compute capability 9";
  int clock_khz = 0;
  ASSERT_EQ(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device), cudaSuccess);
  const long long cycles = static_cast<long long>(clock_khz) * 200;  // ~200 us.
  SessionOptions options;
  options.logdir = "/tmp";
  Session session(options, CreateGpuDeviceSource());
  ASSERT_TRUE(session.Start().ok());
  ASSERT_EQ(gpu_test::LaunchPrimary(cycles, stream_), cudaSuccess);  // Warm-up (module load).
  ASSERT_EQ(gpu_test::LaunchSecondary(cycles, stream_), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  ASSERT_EQ(gpu_test::LaunchPrimary(cycles, stream_), cudaSuccess);
  ASSERT_EQ(gpu_test::LaunchSecondary(cycles, stream_), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  ASSERT_TRUE(session.Collect().ok());
  const Trace& t = session.trace();
  std::vector<const DeviceEvent*> kernels;
  for (const DeviceEvent& e : t.device_events) {
    if (e.kind == DeviceEventKind::kKernel) kernels.push_back(&e);
  }
  ASSERT_EQ(kernels.size(), 4u);
  int overlaps = 0;
  for (size_t i = 0; i + 1 < kernels.size(); i += 2) {
    if (kernels[i + 1]->start_ns < kernels[i]->end_ns) ++overlaps;
  }
  EXPECT_GT(overlaps, 0) << "the secondary kernel never started before the primary ended";
  std::printf("gpu-check: pdl_overlapping_pairs=%d of 2\n", overlaps);

  // XSpace: every kernel with its CUPTI duration, the overlapping one on an extra line.
  tensorflow::profiler::XSpace space;
  ASSERT_TRUE(space.ParseFromString(EncodeXSpace(t)));
  std::multiset<int64_t> want;
  for (const DeviceEvent* k : kernels) want.insert((k->end_ns - k->start_ns) * 1000);
  std::multiset<int64_t> got;
  bool overlap_line = false;
  for (const auto& plane : space.planes()) {
    if (plane.name().rfind("/device:GPU:", 0) != 0) continue;
    for (const auto& line : plane.lines()) {
      overlap_line |= line.name().find(" overlap ") != std::string::npos;
      for (const auto& e : line.events()) {
        if (line.name() != "CUPTI overhead" && e.duration_ps() >= 100'000'000) {
          got.insert(e.duration_ps());
        }
      }
    }
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(overlap_line, overlaps > 0);
  for (const std::string& w : space.warnings()) {
    EXPECT_EQ(w.find("clipped"), std::string::npos) << w;
  }
  // Chrome trace: the overlapping kernel on its own thread of the stream.
  const std::string json = EncodeChromeTraceJson(t);
  EXPECT_EQ(json.find(" overlap 1") != std::string::npos, overlaps > 0);
}

// The GPU's kernel end, converted to the host clock, against the host's own clock: the kernel
// ends after the host released it and before the host saw its acknowledgement, so with the
// window that narrow the clocks agree to within about a microsecond.
TEST_F(GraphOverlapTest, KernelEndFallsInsideTheHostHandshakeWindow) {
  int* flags = nullptr;
  ASSERT_EQ(cudaHostAlloc(&flags, 2 * sizeof(int), cudaHostAllocMapped), cudaSuccess);
  int* device_flags = nullptr;
  ASSERT_EQ(cudaHostGetDevicePointer(&device_flags, flags, 0), cudaSuccess);
  constexpr int kRounds = 20;
  std::vector<std::pair<int64_t, int64_t>> windows;  // Host clock, absolute ns.
  std::unique_ptr<DeviceSource> source = CreateGpuDeviceSource();
  DeviceSourceOptions options;
  options.session_start_ns = cupti::HostClockNs();
  ASSERT_TRUE(source->Start(options).ok());
  for (int i = 0; i < kRounds; ++i) {
    volatile int* release = flags;
    volatile int* ack = flags + 1;
    *release = 0;
    *ack = 0;
    ASSERT_EQ(gpu_test::LaunchHandshake(device_flags, device_flags + 1, stream_), cudaSuccess);
    // Let the kernel start and spin.
    const int64_t wait_until = cupti::HostClockNs() + 200'000;
    while (cupti::HostClockNs() < wait_until) {
    }
    const int64_t released = cupti::HostClockNs();
    *release = 1;
    while (*ack == 0) {
    }
    const int64_t seen = cupti::HostClockNs();
    windows.push_back({released, seen});
    ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  }
  ASSERT_TRUE(source->Stop().ok());
  Trace t;
  ASSERT_TRUE(source->Collect(&t).ok());
  cudaFreeHost(flags);
  std::vector<const DeviceEvent*> kernels;
  for (const DeviceEvent& e : t.device_events) {
    if (e.kind == DeviceEventKind::kKernel) kernels.push_back(&e);
  }
  ASSERT_EQ(kernels.size(), static_cast<size_t>(kRounds));
  int64_t worst_ns = 0;  // How far outside its window a kernel end fell.
  int64_t widest_ns = 0;
  for (int i = 0; i < kRounds; ++i) {
    const int64_t end = options.session_start_ns + kernels[i]->end_ns;
    const auto [released, seen] = windows[i];
    widest_ns = std::max(widest_ns, seen - released);
    worst_ns = std::max({worst_ns, released - end, end - seen});
  }
  RecordProperty("clock_error_ns", static_cast<int>(worst_ns));
  RecordProperty("handshake_window_ns", static_cast<int>(widest_ns));
  std::printf("gpu-check: clock_error_ns=%lld handshake_window_ns=%lld\n",
              static_cast<long long>(worst_ns), static_cast<long long>(widest_ns));
  EXPECT_LE(worst_ns, 1'000) << "a kernel end fell outside its host window by " << worst_ns
                             << " ns";
}

}  // namespace
}  // namespace tbprof::internal
