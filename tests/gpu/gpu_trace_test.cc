// GPU tracing on a real GPU, end to end through CUPTI. Every test skips (with the reason) when
// there is no GPU or no driver; on a GPU machine they check counts, bytes, times, streams,
// graphs, threads and the launch <-> kernel links exactly.
#include <cuda_runtime.h>
#include <dirent.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "cupti/clock_sync.h"
#include "gtest/gtest.h"
#include "kernels.h"
#include "no_gpu.h"
#include "src/trace/device_source.h"
#include "src/session/session.h"
#include "src/trace/trace_data.h"
#include "tbprof/annotate.h"
#include "tensorflow/profiler/xplane.pb.h"

namespace tbprof::internal {
namespace {

int64_t Gettid() { return static_cast<int64_t>(syscall(SYS_gettid)); }

class GpuTraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = NoGpuReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    ASSERT_EQ(cudaFree(nullptr), cudaSuccess);  // Context up before the session.
  }

  // Runs `work` inside a GPU trace session and returns what it collected.
  Trace Capture(const std::function<void()>& work) {
    std::unique_ptr<DeviceSource> source = CreateGpuDeviceSource();
    DeviceSourceOptions options;
    options.session_start_ns = cupti::HostClockNs();
    Trace trace;
    trace.start_ns = options.session_start_ns;
    const absl::Status started = source->Start(options);
    EXPECT_TRUE(started.ok()) << started;
    if (!started.ok()) return trace;
    work();
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    EXPECT_TRUE(source->Stop().ok());
    EXPECT_TRUE(source->Collect(&trace).ok());
    return trace;
  }

  static std::vector<const DeviceEvent*> Kernels(const Trace& t, const std::string& part) {
    std::vector<const DeviceEvent*> out;
    for (const DeviceEvent& e : t.device_events) {
      if (e.kind == DeviceEventKind::kKernel && t.names[e.name].find(part) != std::string::npos) {
        out.push_back(&e);
      }
    }
    return out;
  }

  // correlation id -> (launch event, its thread id).
  static absl::flat_hash_map<uint64_t, std::pair<const HostEvent*, int64_t>> Launches(
      const Trace& t) {
    absl::flat_hash_map<uint64_t, std::pair<const HostEvent*, int64_t>> out;
    for (const ThreadTrack& th : t.threads) {
      for (const HostEvent& e : th.events) {
        if (e.kind == HostEventKind::kLaunch) out[e.correlation_id] = {&e, th.tid};
      }
    }
    return out;
  }
};

TEST_F(GpuTraceTest, NLaunchesGiveNKernelEventsEachLinkedToItsLaunch) {
  constexpr int kN = 1000;
  Trace t = Capture([] {
    for (int i = 0; i < kN; ++i) ASSERT_EQ(mlp_cuda::Empty(32, nullptr), cudaSuccess);
  });
  const auto kernels = Kernels(t, "EmptyKernel");
  ASSERT_EQ(kernels.size(), static_cast<size_t>(kN));
  const auto launches = Launches(t);
  std::set<uint64_t> correlations;
  for (const DeviceEvent* k : kernels) {
    correlations.insert(k->correlation_id);
    auto it = launches.find(k->correlation_id);
    ASSERT_NE(it, launches.end()) << "kernel without launch, correlation " << k->correlation_id;
    EXPECT_EQ(it->second.second, Gettid());
    EXPECT_EQ(it->second.first->device_id, k->device_id);
    EXPECT_LE(it->second.first->start_ns, k->start_ns);  // Causality on one clock.
    EXPECT_GT(k->end_ns, k->start_ns);
  }
  EXPECT_EQ(correlations.size(), static_cast<size_t>(kN));
  std::printf("gpu-check: launches=%d kernels=%zu linked=%zu\n", kN, kernels.size(),
              correlations.size());
  for (const std::string& w : t.warnings) ADD_FAILURE() << "warning: " << w;
  ASSERT_FALSE(t.devices.empty());
  EXPECT_FALSE(t.devices[0].name.empty());
  EXPECT_GT(t.devices[0].sm_count, 0);
  EXPECT_GT(t.devices[0].memory_bandwidth_bytes_per_s, 0u);
  EXPECT_GT(kernels[0]->kernel.occupancy_pct, 0.0);
}

TEST_F(GpuTraceTest, KernelDurationsAgreeWithCudaEventsWithinFivePercent) {
  constexpr int kN = 10;
  std::vector<float> event_ms(kN);
  Trace t = Capture([&] {
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    for (int i = 0; i < kN; ++i) {
      cudaEventRecord(start, nullptr);
      mlp_cuda::Spin(2'000'000, nullptr);  // About 1 ms.
      cudaEventRecord(stop, nullptr);
      cudaEventSynchronize(stop);
      cudaEventElapsedTime(&event_ms[i], start, stop);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  });
  const auto kernels = Kernels(t, "SpinKernel");
  ASSERT_EQ(kernels.size(), static_cast<size_t>(kN));
  double worst_pct = 0;
  for (int i = 0; i < kN; ++i) {
    const double traced_ms = (kernels[i]->end_ns - kernels[i]->start_ns) / 1e6;
    EXPECT_NEAR(traced_ms, event_ms[i], 0.05 * event_ms[i]) << "kernel " << i;
    worst_pct = std::max(worst_pct, 100.0 * std::fabs(traced_ms - event_ms[i]) / event_ms[i]);
  }
  std::printf("gpu-check: duration_vs_cuda_events_max_pct=%.2f\n", worst_pct);
}

TEST_F(GpuTraceTest, CopyAndMemsetByteCountsAreExact) {
  constexpr size_t kH2D = (1 << 20) + 12345, kD2H = 777, kD2D = 4096, kSet = 65536;
  std::vector<char> host(kH2D, 1);
  char* dev = nullptr;
  ASSERT_EQ(cudaMalloc(&dev, kH2D + kD2D), cudaSuccess);
  Trace t = Capture([&] {
    cudaMemcpy(dev, host.data(), kH2D, cudaMemcpyHostToDevice);
    cudaMemcpy(host.data(), dev, kD2H, cudaMemcpyDeviceToHost);
    cudaMemcpy(dev + kH2D, dev, kD2D, cudaMemcpyDeviceToDevice);
    cudaMemset(dev, 0, kSet);
  });
  cudaFree(dev);
  std::vector<std::pair<MemcpyKind, uint64_t>> copies;
  uint64_t memset_bytes = 0;
  for (const DeviceEvent& e : t.device_events) {
    if (e.kind == DeviceEventKind::kMemcpy) copies.push_back({e.memcpy_kind, e.bytes});
    if (e.kind == DeviceEventKind::kMemset) memset_bytes += e.bytes;
  }
  EXPECT_EQ(copies, (std::vector<std::pair<MemcpyKind, uint64_t>>{
                        {MemcpyKind::kHtoD, kH2D}, {MemcpyKind::kDtoH, kD2H},
                        {MemcpyKind::kDtoD, kD2D}}));
  EXPECT_EQ(memset_bytes, kSet);
  std::printf("gpu-check: copies=%zu h2d_bytes=%llu memset_bytes=%llu\n", copies.size(),
              copies.empty() ? 0ull : static_cast<unsigned long long>(copies[0].second),
              static_cast<unsigned long long>(memset_bytes));
}

TEST_F(GpuTraceTest, SeveralStreamsAreKeptApart) {
  constexpr int kStreams = 3, kPerStream = 20;
  cudaStream_t streams[kStreams];
  for (auto& s : streams) ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  Trace t = Capture([&] {
    for (int i = 0; i < kPerStream; ++i) {
      for (auto& s : streams) mlp_cuda::Empty(64, s);
    }
  });
  for (auto& s : streams) cudaStreamDestroy(s);
  absl::flat_hash_map<int64_t, int> per_stream;
  for (const DeviceEvent* k : Kernels(t, "EmptyKernel")) ++per_stream[k->stream_id];
  ASSERT_EQ(per_stream.size(), static_cast<size_t>(kStreams));
  for (const auto& [stream, count] : per_stream) EXPECT_EQ(count, kPerStream) << stream;
}

TEST_F(GpuTraceTest, GraphKernelsAppearOneByOneWithTheGraphLaunchCorrelation) {
  constexpr int kNodes = 5, kReplays = 3;
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), cudaSuccess);
  for (int i = 0; i < kNodes; ++i) mlp_cuda::Empty(32, stream);
  ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  Trace t = Capture([&] {
    for (int i = 0; i < kReplays; ++i) cudaGraphLaunch(exec, stream);
  });
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
  const auto kernels = Kernels(t, "EmptyKernel");
  ASSERT_EQ(kernels.size(), static_cast<size_t>(kNodes * kReplays));
  const auto launches = Launches(t);
  absl::flat_hash_map<uint64_t, int> per_launch;
  for (const DeviceEvent* k : kernels) {
    auto it = launches.find(k->correlation_id);
    ASSERT_NE(it, launches.end());
    EXPECT_EQ(t.names[it->second.first->name].find("GraphLaunch") != std::string::npos, true)
        << t.names[it->second.first->name];
    ++per_launch[k->correlation_id];
  }
  ASSERT_EQ(per_launch.size(), static_cast<size_t>(kReplays));
  for (const auto& [corr, n] : per_launch) EXPECT_EQ(n, kNodes);
}

TEST_F(GpuTraceTest, TwoThreadsLaunchingAtOnceKeepTheirOwnLaunches) {
  constexpr int kPerThread = 200;
  std::atomic<int64_t> tids[2];
  Trace t = Capture([&] {
    auto body = [&](int index) {
      tids[index] = Gettid();
      cudaStream_t s;
      cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
      for (int i = 0; i < kPerThread; ++i) mlp_cuda::Empty(index == 0 ? 32 : 64, s);
      cudaStreamSynchronize(s);
      cudaStreamDestroy(s);
    };
    std::thread a(body, 0), b(body, 1);
    a.join();
    b.join();
  });
  const auto launches = Launches(t);
  int seen[2] = {0, 0};
  for (const DeviceEvent* k : Kernels(t, "EmptyKernel")) {
    auto it = launches.find(k->correlation_id);
    ASSERT_NE(it, launches.end());
    // Block size tells which thread launched it.
    const int index = k->kernel.block[0] == 32 ? 0 : 1;
    EXPECT_EQ(it->second.second, tids[index].load());
    ++seen[index];
  }
  EXPECT_EQ(seen[0], kPerThread);
  EXPECT_EQ(seen[1], kPerThread);
}

TEST_F(GpuTraceTest, KernelLaunchedInAnOpScopeLinksToALaunchInsideIt) {
  SessionOptions options;
  options.logdir = "/tmp";
  Session session(options, CreateGpuDeviceSource());
  ASSERT_TRUE(session.Start().ok());
  {
    TBPROF_OP("MatMul", "MatMul", {}, {});
    ASSERT_EQ(mlp_cuda::Empty(128, nullptr), cudaSuccess);
    cudaDeviceSynchronize();
  }
  ASSERT_TRUE(session.Collect().ok());
  const Trace& t = session.trace();
  const auto kernels = Kernels(t, "EmptyKernel");
  ASSERT_EQ(kernels.size(), 1u);
  const ThreadTrack* track = nullptr;
  for (const ThreadTrack& th : t.threads) {
    if (th.tid == Gettid()) track = &th;
  }
  ASSERT_NE(track, nullptr);
  const HostEvent* op = nullptr;
  const HostEvent* launch = nullptr;
  for (const HostEvent& e : track->events) {
    if (e.kind == HostEventKind::kOp && t.names[e.name] == "MatMul:MatMul") op = &e;
    if (e.kind == HostEventKind::kLaunch && e.correlation_id == kernels[0]->correlation_id) launch = &e;
  }
  ASSERT_NE(op, nullptr);
  ASSERT_NE(launch, nullptr);
  EXPECT_GE(launch->start_ns, op->start_ns);
  EXPECT_LE(launch->end_ns, op->end_ns);
  if (kernels[0]->op_index >= 0) {  // Filled by the merge step when it is built in.
    EXPECT_EQ(t.ops.at(kernels[0]->op_index).type, "MatMul");
  }
}

#ifdef TBPROF_MLP_CUDA_PATH
TEST_F(GpuTraceTest, MlpCudaTracedEndToEnd) {
  char dir_template[] = "/tmp/tbprof_mlp_cuda_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string logdir = dir_template;
  const std::string command = std::string(TBPROF_MLP_CUDA_PATH) + " --steps 3 --trace --logdir " +
                              logdir + " > " + logdir + "/stdout.txt 2>&1";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "see " << logdir << "/stdout.txt";
  std::string xplane;
  const std::string profile = logdir + "/plugins/profile";
  DIR* sessions = opendir(profile.c_str());
  ASSERT_NE(sessions, nullptr) << profile;
  while (dirent* s = readdir(sessions)) {
    if (s->d_name[0] == '.') continue;
    DIR* files = opendir((profile + "/" + s->d_name).c_str());
    while (files != nullptr && (xplane.empty())) {
      dirent* f = readdir(files);
      if (f == nullptr) break;
      const std::string name = f->d_name;
      if (name.size() > 10 && name.substr(name.size() - 10) == ".xplane.pb") {
        xplane = profile + "/" + s->d_name + "/" + name;
      }
    }
    if (files != nullptr) closedir(files);
  }
  closedir(sessions);
  ASSERT_FALSE(xplane.empty()) << "no .xplane.pb under " << profile;
  std::ifstream in(xplane, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  tensorflow::profiler::XSpace space;
  ASSERT_TRUE(space.ParseFromString(bytes.str()));
  const tensorflow::profiler::XPlane* gpu = nullptr;
  for (const auto& p : space.planes()) {
    if (p.name() == "/device:GPU:0") gpu = &p;
  }
  ASSERT_NE(gpu, nullptr);
  std::set<std::string> names;
  int64_t events = 0;
  for (const auto& line : gpu->lines()) {
    for (const auto& e : line.events()) {
      ++events;
      auto md = gpu->event_metadata().find(e.metadata_id());
      if (md != gpu->event_metadata().end()) names.insert(md->second.name());
    }
  }
  // Per step: 3 GEMMs, 3 bias kernels, 1 softmax, 2 copies.
  EXPECT_GE(events, 3 * 9);
  bool gemm = false, softmax = false;
  for (const std::string& n : names) {
    gemm |= n.find("GemmKernel") != std::string::npos;
    softmax |= n.find("SoftmaxKernel") != std::string::npos;
  }
  EXPECT_TRUE(gemm);
  EXPECT_TRUE(softmax);
}
#endif

}  // namespace
}  // namespace tbprof::internal
