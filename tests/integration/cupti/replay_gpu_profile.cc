// A GPU profile through the real capture path, without a GPU: a real Session
// records a small three-step forward pass on the CPU (StepScope, NameScope
// layers, TBPROF_OP ops) while a FakeDeviceSource stands in for CUPTI. Inside
// each op the program "calls" the CUDA runtime: it packs, with timestamps read
// at that moment on tbprof's host clock, the runtime API record of the call (on
// the calling OS thread, with a fresh correlation id) and the kernel or memcpy
// record the GPU would report a little later on a stream, and hands them to the
// fake as a completed activity buffer. The capture then goes through the real
// decoding, event building, merge and export, and the profile is written to
// LOGDIR.
//
//   replay_gpu_profile LOGDIR [--check] [--clock=host|realtime] [--graph] [--overlap]
//
// --overlap (with --graph): dense_2/Softmax's node is launched with
// programmatic dependent launch: at replay its kernel starts halfway through
// dense_2/BiasAdd's on the same stream, and both keep their durations (the
// later one on an extra line of the stream).
//
// --graph: the forward pass is captured once into a CUDA graph before the first
// step (each op's launch becomes a graph node: the fake gets CUPTI's
// GRAPHNODE_CREATED callback inside the op, then GRAPHNODE_CLONED for each node
// when the graph is instantiated) and every step replays it with one
// cudaGraphLaunch inside op "model/Replay": the kernels and copies then carry
// the launch's correlation id and the executable graph's node ids, and must
// still show the op that captured them.
//
// --clock=host (default): records are stamped on tbprof's host clock, as CUPTI
// does once tbprof registered its timestamp callback. --clock=realtime: records
// are stamped on CLOCK_REALTIME, CUPTI's own clock when that registration is
// unavailable; the fake then converts them with a clock pairing taken at
// session start, as the real source does.
// --check: read the written .xplane.pb back (tensorflow.profiler.XSpace) and
// verify what the replay put in: every kernel and copy carries the framework op
// whose scope contained its launch, correlation ids are uint64 on both the
// launch and the device event, copies have their exact byte counts, durations
// are the replayed ones, the device plane describes the GPU, and the
// dropped-records warning is in XSpace.warnings. Exit status 1 on the first
// report of a mismatch (all mismatches are printed).
#include <cupti.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cupti/clock_sync.h"
#include "src/session/session.h"
#include "src/trace/device_source.h"
#include "src/trace/trace_data.h"
#include "tbprof/annotate.h"
#include "tensorflow/profiler/xplane.pb.h"
#include "tests/fakes/cupti_activity_builder.h"
#include "tests/fakes/fake_device_source.h"

namespace tbprof::testing {
namespace {

using internal::cupti::HostClockNs;

constexpr uint32_t kComputeStream = 7;
constexpr uint32_t kCopyStream = 13;
constexpr int kSteps = 3;
constexpr uint64_t kDroppedRecords = 2;
// Launch latency: the GPU starts a command this long after the API call returns
// (at the earliest; later when the device is still busy with earlier work).
constexpr uint64_t kLaunchLatencyNs = 4'000;

// The clock CUPTI stamps records with.
int64_t RealtimeNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
int64_t (*g_record_clock)() = &HostClockNs;

void Spin(int64_t ns) {
  const int64_t end = HostClockNs() + ns;
  while (HostClockNs() < end) {
  }
}

uint32_t ThreadId() { return static_cast<uint32_t>(syscall(SYS_gettid)); }

internal::DeviceInfo H100() {
  internal::DeviceInfo d;
  d.ordinal = 0;
  d.name = "NVIDIA H100 80GB HBM3";
  d.compute_cap_major = 9;
  d.compute_cap_minor = 0;
  d.sm_count = 132;
  d.clock_rate_khz = 1'980'000;
  d.memory_bytes = 85'029'158'912;  // What cuDeviceTotalMem reports for the 80 GB part.
  d.memory_bandwidth_bytes_per_s = 3'352'320'000'000;
  d.max_threads_per_sm = 2048;
  d.max_blocks_per_sm = 32;
  d.max_registers_per_sm = 65536;
  d.max_shared_per_sm = 233'472;
  d.warp_size = 32;
  return d;
}

// A kernel the forward pass launches.
struct KernelSpec {
  const char *name;  // As CUPTI reports it (mangled or not); a literal, it must
                     // outlive Collect.
  uint32_t grid[3];
  uint32_t block[3];
  uint16_t registers;
  int32_t static_shared;
  int32_t dynamic_shared;
  uint64_t duration_ns;
};

// What one replayed call put on the device, for --check and the summary.
struct Replayed {
  std::string op;         // "dense_1/MatMul:MatMul".
  std::string launch_op;  // The op whose scope holds the launch call (the same, or the replay).
  std::string api;
  bool kernel = false;
  const KernelSpec *spec = nullptr;
  CUpti_ActivityMemcpyKind copy_kind = CUPTI_ACTIVITY_MEMCPY_KIND_UNKNOWN;
  uint64_t bytes = 0;
  uint64_t start_ns = 0;  // Absolute, host clock.
  uint64_t end_ns = 0;
  uint32_t tid = 0;
};

// The fake CUDA runtime: each call packs its API record and the device record
// and hands them to the fake CUPTI as one completed buffer.
class FakeRuntime {
 public:
  explicit FakeRuntime(FakeDeviceSource *cupti) : cupti_(cupti) {}

  // Stream capture: launches become nodes of graph kGraphId, nothing runs.
  void BeginCapture() { capturing_ = true; }
  // cudaStreamEndCapture + cudaGraphInstantiate: every node is cloned into the
  // executable graph (node id + kExecNodeOffset).
  void EndCaptureAndInstantiate() {
    capturing_ = false;
    for (const Captured &c : captured_) {
      cupti_->GraphCallback(
          CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED,
          MakeGraphNodeCloned(kGraphId, c.node + kExecNodeOffset, kGraphId, c.node));
    }
  }
  // cudaGraphLaunch inside `launch_op`: one API record, then every captured
  // node runs in capture order with the launch's correlation id.
  void GraphLaunch(const std::string &launch_op) {
    const uint32_t corr = next_correlation_++;
    const auto [begin, end] = ApiCall(2'500);
    const uint32_t tid = ThreadId();
    ActivityBufferBuilder b;
    b.Add(MakeApi(CUPTI_ACTIVITY_KIND_RUNTIME, CUPTI_RUNTIME_TRACE_CBID_cudaGraphLaunch_v10000,
                  begin, end, tid, corr));
    uint64_t previous_start = 0;
    for (const Captured &c : captured_) {
      uint64_t start = DeviceStart(end);
      if (c.op == overlap_op_ && previous_start != 0) {
        start = previous_start + (device_free_ns_ - previous_start) / 2;
      }
      previous_start = start;
      const uint64_t stop = start + (c.spec != nullptr ? c.spec->duration_ns : c.duration_ns);
      device_free_ns_ = std::max(device_free_ns_, stop);
      const uint64_t node = c.node + kExecNodeOffset;
      if (c.spec != nullptr) {
        CUpti_ActivityKernel10 kernel = KernelRecord(*c.spec, start, stop, corr);
        kernel.graphId = kGraphId;
        kernel.graphNodeId = node;
        b.Add(kernel);
      } else {
        CUpti_ActivityMemcpy6 copy =
            MakeMemcpy(c.copy_kind, c.bytes, start, stop, corr, 0, kCopyStream, /*async=*/true);
        copy.graphId = kGraphId;
        copy.graphNodeId = node;
        b.Add(copy);
      }
      Replayed r;
      r.op = c.op;
      r.launch_op = launch_op;
      r.api = "cudaGraphLaunch";
      r.kernel = c.spec != nullptr;
      r.spec = c.spec;
      r.copy_kind = c.copy_kind;
      r.bytes = c.bytes;
      r.start_ns = start;
      r.end_ns = stop;
      r.tid = tid;
      replayed_[{corr, node}] = std::move(r);
    }
    cupti_->AddBuffer(b.Build());
  }

  static CUpti_ActivityKernel10 KernelRecord(const KernelSpec &k, uint64_t start, uint64_t stop,
                                             uint32_t corr) {
    CUpti_ActivityKernel10 kernel = MakeKernel(k.name, start, stop, corr, 0, kComputeStream);
    kernel.gridX = k.grid[0];
    kernel.gridY = k.grid[1];
    kernel.gridZ = k.grid[2];
    kernel.blockX = k.block[0];
    kernel.blockY = k.block[1];
    kernel.blockZ = k.block[2];
    kernel.registersPerThread = k.registers;
    kernel.staticSharedMemory = k.static_shared;
    kernel.dynamicSharedMemory = k.dynamic_shared;
    return kernel;
  }

  // In graph replays, the node captured in `op` starts halfway through the
  // node before it (programmatic dependent launch) instead of after it.
  void OverlapNodeOf(std::string op) { overlap_op_ = std::move(op); }

  void LaunchKernel(std::string_view op, const KernelSpec &k) {
    if (capturing_) {
      Capture(op, &k, CUPTI_ACTIVITY_MEMCPY_KIND_UNKNOWN, 0, 0);
      return;
    }
    const uint32_t corr = next_correlation_++;
    const auto [begin, end] = ApiCall(3'000);
    const uint64_t start = DeviceStart(end);
    const uint64_t stop = start + k.duration_ns;
    device_free_ns_ = stop;
    const CUpti_ActivityKernel10 kernel = KernelRecord(k, start, stop, corr);
    const uint32_t tid = ThreadId();
    cupti_->AddBuffer(
        ActivityBufferBuilder()
            .Add(MakeApi(CUPTI_ACTIVITY_KIND_RUNTIME,
                         CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, begin, end, tid, corr))
            .Add(kernel)
            .Build());
    Replayed r;
    r.op = std::string(op);
    r.launch_op = r.op;
    r.api = "cudaLaunchKernel";
    r.kernel = true;
    r.spec = &k;
    r.start_ns = start;
    r.end_ns = stop;
    r.tid = tid;
    replayed_[{corr, 0}] = std::move(r);
  }

  void MemcpyAsync(std::string_view op, CUpti_ActivityMemcpyKind kind, uint64_t bytes,
                   uint64_t duration_ns) {
    if (capturing_) {
      Capture(op, nullptr, kind, bytes, duration_ns);
      return;
    }
    const uint32_t corr = next_correlation_++;
    const auto [begin, end] = ApiCall(2'000);
    const uint64_t start = DeviceStart(end);
    const uint64_t stop = start + duration_ns;
    device_free_ns_ = stop;
    const uint32_t tid = ThreadId();
    cupti_->AddBuffer(
        ActivityBufferBuilder()
            .Add(MakeApi(CUPTI_ACTIVITY_KIND_RUNTIME,
                         CUPTI_RUNTIME_TRACE_CBID_cudaMemcpyAsync_v3020, begin, end, tid, corr))
            .Add(MakeMemcpy(kind, bytes, start, stop, corr, 0, kCopyStream,
                            /*async=*/true))
            .Build());
    Replayed r;
    r.op = std::string(op);
    r.launch_op = r.op;
    r.api = "cudaMemcpyAsync";
    r.copy_kind = kind;
    r.bytes = bytes;
    r.start_ns = start;
    r.end_ns = stop;
    r.tid = tid;
    replayed_[{corr, 0}] = std::move(r);
  }

  // CUPTI's own work (a buffer flush), on its overhead line.
  void Overhead(uint64_t duration_ns) {
    const auto begin = static_cast<uint64_t>(g_record_clock());
    Spin(static_cast<int64_t>(duration_ns));
    cupti_->AddBuffer(ActivityBufferBuilder()
                          .Add(MakeOverhead(CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH, begin,
                                            begin + duration_ns, 0))
                          .Build());
  }

  // Waits (spinning, like cudaStreamSynchronize) until the device has finished
  // its work.
  void Synchronize() const {
    while (static_cast<uint64_t>(g_record_clock()) < device_free_ns_ + 1'000) {
    }
  }

  // By (correlation id, graph node id; 0 outside graphs).
  const std::map<std::pair<uint64_t, uint64_t>, Replayed> &replayed() const { return replayed_; }

 private:
  static constexpr uint32_t kGraphId = 3;
  static constexpr uint64_t kExecNodeOffset = 1000;
  struct Captured {
    std::string op;
    uint64_t node = 0;
    const KernelSpec *spec = nullptr;  // Null: a copy.
    CUpti_ActivityMemcpyKind copy_kind = CUPTI_ACTIVITY_MEMCPY_KIND_UNKNOWN;
    uint64_t bytes = 0;
    uint64_t duration_ns = 0;
  };
  // The call made under capture: CUPTI reports the new node on this thread.
  void Capture(std::string_view op, const KernelSpec *spec, CUpti_ActivityMemcpyKind kind,
               uint64_t bytes, uint64_t duration_ns) {
    ApiCall(1'500);
    const uint64_t node = 11 + captured_.size();
    cupti_->GraphCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED,
                          MakeGraphNodeCreated(kGraphId, node));
    captured_.push_back({std::string(op), node, spec, kind, bytes, duration_ns});
  }

  // The API call itself: [begin, end] on the host clock, read now.
  std::pair<uint64_t, uint64_t> ApiCall(int64_t cost_ns) {
    const auto begin = static_cast<uint64_t>(g_record_clock());
    Spin(cost_ns);
    return {begin, static_cast<uint64_t>(g_record_clock())};
  }
  uint64_t DeviceStart(uint64_t api_end) const {
    const uint64_t earliest = api_end + kLaunchLatencyNs;
    return earliest > device_free_ns_ ? earliest : device_free_ns_ + 1'000;
  }

  FakeDeviceSource *cupti_;
  uint32_t next_correlation_ = 1001;
  uint64_t device_free_ns_ = 0;
  std::map<std::pair<uint64_t, uint64_t>, Replayed> replayed_;
  bool capturing_ = false;
  std::vector<Captured> captured_;
  std::string overlap_op_;
};

const KernelSpec kGemm1 = {"sm90_xmma_gemm_f32f32_tf32f32_f32_nn_n_tilesize128x128x32_cublas",
                           {8, 16, 1},
                           {256, 1, 1},
                           168,
                           0,
                           98'304,
                           45'000};
const KernelSpec kBiasAdd = {"_Z12bias_add_f32PfPKfii", {256, 1, 1}, {256, 1, 1}, 24, 0, 0, 6'000};
const KernelSpec kRelu = {"_Z11relu_kernelPfi", {512, 1, 1}, {128, 1, 1}, 16, 0, 0, 4'000};
const KernelSpec kGemm2 = {"sm90_xmma_gemm_f32f32_tf32f32_f32_nn_n_tilesize64x64x32_cublas",
                           {4, 8, 1},
                           {128, 1, 1},
                           128,
                           16'384,
                           32'768,
                           30'000};
const KernelSpec kSoftmax = {
    "_Z15softmax_forwardILi128EEvPKfPfi", {64, 1, 1}, {128, 1, 1}, 32, 1'024, 0, 8'000};

constexpr uint64_t kInputBytes = 4 << 20;  // 1024 x 1024 floats.
constexpr uint64_t kOutputBytes = 40'960;  // 1024 x 10 floats.
constexpr uint64_t kInputCopyNs = 25'000;
constexpr uint64_t kOutputCopyNs = 3'000;

// One op of the forward pass: its host work around the call into the runtime.
template <typename Call>
void Op(const char *name, const char *type, const std::string &scope, Call call) {
  TBPROF_OP(name, type, {}, {});
  Spin(8'000);  // Shape checks, argument packing.
  call(scope + "/" + name + ":" + type);
  Spin(4'000);
}

bool g_overlap = false;

void ForwardPass(FakeRuntime &cuda) {
  {
    tbprof::NameScope layer("input");
    Op("CopyToDevice", "HostToDevice", "input", [&](const std::string &op) {
      cuda.MemcpyAsync(op, CUPTI_ACTIVITY_MEMCPY_KIND_HTOD, kInputBytes, kInputCopyNs);
    });
  }
  {
    tbprof::NameScope layer("dense_1");
    Op("MatMul", "MatMul", "dense_1",
       [&](const std::string &op) { cuda.LaunchKernel(op, kGemm1); });
    Op("BiasAdd", "BiasAdd", "dense_1",
       [&](const std::string &op) { cuda.LaunchKernel(op, kBiasAdd); });
    Op("Relu", "Relu", "dense_1", [&](const std::string &op) { cuda.LaunchKernel(op, kRelu); });
  }
  {
    tbprof::NameScope layer("dense_2");
    Op("MatMul", "MatMul", "dense_2",
       [&](const std::string &op) { cuda.LaunchKernel(op, kGemm2); });
    Op("BiasAdd", "BiasAdd", "dense_2",
       [&](const std::string &op) { cuda.LaunchKernel(op, kBiasAdd); });
    Op("Softmax", "Softmax", "dense_2",
       [&](const std::string &op) { cuda.LaunchKernel(op, kSoftmax); });
  }
  {
    tbprof::NameScope layer("output");
    Op("CopyToHost", "DeviceToHost", "output", [&](const std::string &op) {
      cuda.MemcpyAsync(op, CUPTI_ACTIVITY_MEMCPY_KIND_DTOH, kOutputBytes, kOutputCopyNs);
    });
  }
  TBPROF_SCOPE("synchronize");
  cuda.Synchronize();
}

// ---- --check: the written XSpace against what was replayed. ----

class Checks {
 public:
  bool Expect(bool ok, const std::string &what) {
    if (!ok) {
      std::printf("FAIL %s\n", what.c_str());
      ++failures_;
    }
    return ok;
  }
  int failures() const { return failures_; }

 private:
  int failures_ = 0;
};

struct PlaneView {
  const tensorflow::profiler::XPlane *plane = nullptr;
  std::string StatName(int64_t id) const {
    auto it = plane->stat_metadata().find(id);
    return it == plane->stat_metadata().end() ? "" : it->second.name();
  }
  std::string EventName(int64_t id) const {
    auto it = plane->event_metadata().find(id);
    return it == plane->event_metadata().end() ? "" : it->second.name();
  }
  const tensorflow::profiler::XStat *Stat(const tensorflow::profiler::XEvent &e,
                                          std::string_view name) const {
    for (const auto &s : e.stats()) {
      if (StatName(s.metadata_id()) == name) return &s;
    }
    return nullptr;
  }
  std::string Str(const tensorflow::profiler::XStat &s) const {
    if (s.value_case() == tensorflow::profiler::XStat::kRefValue) return StatName(s.ref_value());
    return s.str_value();
  }
};

const tensorflow::profiler::XPlane *FindPlane(const tensorflow::profiler::XSpace &space,
                                              std::string_view name) {
  for (const auto &p : space.planes()) {
    if (p.name() == name) return &p;
  }
  return nullptr;
}

std::string KernelDetails(const KernelSpec &k) {
  std::ostringstream s;
  s << "regs:" << k.registers << " static_shared:" << k.static_shared
    << " dynamic_shared:" << k.dynamic_shared << " grid:" << k.grid[0] << "," << k.grid[1] << ","
    << k.grid[2] << " block:" << k.block[0] << "," << k.block[1] << "," << k.block[2];
  return s.str();
}

int CheckXSpace(const std::string &path,
                const std::map<std::pair<uint64_t, uint64_t>, Replayed> &replayed) {
  Checks c;
  std::ifstream in(path, std::ios::binary);
  tensorflow::profiler::XSpace space;
  if (!c.Expect(in && space.ParseFromIstream(&in), "cannot parse " + path + " as an XSpace")) {
    return 1;
  }
  const auto *host_plane = FindPlane(space, "/host:CPU");
  const auto *gpu_plane = FindPlane(space, "/device:GPU:0");
  if (!c.Expect(host_plane != nullptr, "no /host:CPU plane") ||
      !c.Expect(gpu_plane != nullptr, "no /device:GPU:0 plane")) {
    return 1;
  }
  PlaneView host{host_plane};
  PlaneView gpu{gpu_plane};

  // Host side: each launch (an event with correlation_id) and the innermost op
  // event on its line that contains it. Times in ps on the host clock, relative
  // to the planes' common origin.
  struct Launch {
    std::string name;
    std::string op;  // Containing framework-op event ("scope/name:Type"), or "".
    int64_t tid = 0;
    int64_t begin_ps = 0;
    int64_t end_ps = 0;
  };
  std::map<uint64_t, Launch> launches;
  for (const auto &line : host_plane->lines()) {
    const int64_t base = line.timestamp_ns() * 1000;
    for (const auto &e : line.events()) {
      const auto *corr = host.Stat(e, "correlation_id");
      if (corr == nullptr) continue;
      if (!c.Expect(corr->value_case() == tensorflow::profiler::XStat::kUint64Value,
                    "host launch " + host.EventName(e.metadata_id()) +
                        ": correlation_id is not a uint64 stat")) {
        continue;
      }
      Launch l;
      l.name = host.EventName(e.metadata_id());
      l.tid = line.id();
      l.begin_ps = base + e.offset_ps();
      l.end_ps = l.begin_ps + e.duration_ps();
      int64_t best = INT64_MAX;
      for (const auto &o : line.events()) {
        const std::string name = host.EventName(o.metadata_id());
        if (name.find(':') == std::string::npos || &o == &e) continue;
        const int64_t ob = base + o.offset_ps();
        const int64_t oe = ob + o.duration_ps();
        if (ob <= l.begin_ps && l.end_ps <= oe && o.duration_ps() < best) {
          best = o.duration_ps();
          l.op = name;
        }
      }
      launches[corr->uint64_value()] = std::move(l);
    }
  }
  std::set<uint64_t> calls;
  for (const auto &[key, r] : replayed) calls.insert(key.first);
  c.Expect(launches.size() == calls.size(), "host plane has " + std::to_string(launches.size()) +
                                                " launches, replayed " +
                                                std::to_string(calls.size()));

  // Device side.
  size_t kernels = 0;
  size_t copies = 0;
  bool overhead_line = false;
  for (const auto &line : gpu_plane->lines()) {
    if (line.name() == "CUPTI overhead") overhead_line = !line.events().empty();
    const int64_t base = line.timestamp_ns() * 1000;
    for (const auto &e : line.events()) {
      const std::string name = gpu.EventName(e.metadata_id());
      const auto *corr = gpu.Stat(e, "correlation_id");
      if (line.name() == "CUPTI overhead") {
        c.Expect(corr == nullptr, "overhead event carries a correlation_id");
        continue;
      }
      if (!c.Expect(corr != nullptr, "device event " + name + " has no correlation_id") ||
          !c.Expect(corr->value_case() == tensorflow::profiler::XStat::kUint64Value,
                    "device event " + name + ": correlation_id is not a uint64 stat")) {
        continue;
      }
      const uint64_t id = corr->uint64_value();
      const auto *node_stat = gpu.Stat(e, "cuda_graph_node_id");
      const uint64_t node = node_stat != nullptr ? node_stat->uint64_value() : 0;
      auto r = replayed.find({id, node});
      if (!c.Expect(r != replayed.end(), "device event " + name + " has correlation id " +
                                             std::to_string(id) + " that was never replayed")) {
        continue;
      }
      const Replayed &want = r->second;
      const std::string what = name + " (correlation " + std::to_string(id) + ")";
      c.Expect(e.duration_ps() == static_cast<int64_t>((want.end_ns - want.start_ns) * 1000),
               what + ": lasts " + std::to_string(e.duration_ps()) + " ps, replayed " +
                   std::to_string((want.end_ns - want.start_ns) * 1000));
      const auto *tf_op = gpu.Stat(e, "tf_op");
      c.Expect(
          tf_op != nullptr && gpu.Str(*tf_op) == want.op,
          what + ": tf_op " + (tf_op ? gpu.Str(*tf_op) : "<none>") + ", launched in " + want.op);
      auto l = launches.find(id);
      if (c.Expect(l != launches.end(), what + ": no host launch with that correlation id")) {
        c.Expect(l->second.name == want.api,
                 what + ": launched by " + l->second.name + ", replayed " + want.api);
        c.Expect(l->second.op == want.launch_op, what + ": the launch sits in op '" + l->second.op +
                                                     "', expected " + want.launch_op);
        c.Expect(l->second.tid == want.tid, what + ": launch on thread " +
                                                std::to_string(l->second.tid) + ", replayed on " +
                                                std::to_string(want.tid));
        c.Expect(base + e.offset_ps() >= l->second.end_ps,
                 what +
                     ": starts before its launch returned (host/device "
                     "clocks disagree)");
      }
      if (want.kernel) {
        ++kernels;
        const auto *details = gpu.Stat(e, "kernel_details");
        const std::string text = details ? gpu.Str(*details) : "";
        c.Expect(text.rfind(KernelDetails(*want.spec) + " occ_pct:", 0) == 0,
                 what + ": kernel_details '" + text + "', expected '" + KernelDetails(*want.spec) +
                     " occ_pct:...'");
        c.Expect(line.id() == kComputeStream ||
                     line.name().rfind("Stream #" + std::to_string(kComputeStream) + "(", 0) == 0,
                 what + ": on line " + std::to_string(line.id()) + " '" + line.name() + "'");
        if (node != 0) {
          const auto *graph = gpu.Stat(e, "cuda_graph_id");
          c.Expect(graph != nullptr && graph->uint64_value() != 0,
                   what + ": graph node without cuda_graph_id");
        }
      } else {
        ++copies;
        const auto *details = gpu.Stat(e, "memcpy_details");
        const std::string text = details ? gpu.Str(*details) : "";
        const bool htod = want.copy_kind == CUPTI_ACTIVITY_MEMCPY_KIND_HTOD;
        const std::string kinds =
            htod ? "kind_src:host kind_dst:device" : "kind_src:device kind_dst:host";
        const std::string size = " size:" + std::to_string(want.bytes) + " ";
        const std::string num = " num_bytes:" + std::to_string(want.bytes);
        c.Expect(text.find(kinds) != std::string::npos && text.find(size) != std::string::npos &&
                     text.size() >= num.size() &&
                     text.compare(text.size() - num.size(), num.size(), num) == 0,
                 what + ": memcpy_details '" + text + "', expected " + kinds + size + "..." + num);
        c.Expect(name == (htod ? "MemcpyHToD" : "MemcpyDToH"),
                 what + ": named " + name + " (xprof classifies transfers by name)");
        c.Expect(line.id() == kCopyStream, what + ": on line " + std::to_string(line.id()));
      }
    }
  }
  size_t want_kernels = 0;
  for (const auto &[id, r] : replayed) want_kernels += r.kernel ? 1 : 0;
  c.Expect(kernels == want_kernels, "device plane has " + std::to_string(kernels) +
                                        " kernels, replayed " + std::to_string(want_kernels));
  c.Expect(copies == replayed.size() - want_kernels,
           "device plane has " + std::to_string(copies) + " copies, replayed " +
               std::to_string(replayed.size() - want_kernels));
  c.Expect(overhead_line, "no event on the device plane's \"CUPTI overhead\" line");

  // Device plane stats: what the run environment and the roofline read.
  std::map<std::string, const tensorflow::profiler::XStat *> plane_stats;
  for (const auto &s : gpu_plane->stats()) plane_stats[gpu.StatName(s.metadata_id())] = &s;
  auto int_stat = [&](const std::string &name) -> int64_t {
    auto it = plane_stats.find(name);
    if (it == plane_stats.end()) return -1;
    const auto &s = *it->second;
    return s.value_case() == tensorflow::profiler::XStat::kUint64Value
               ? static_cast<int64_t>(s.uint64_value())
               : s.int64_value();
  };
  const internal::DeviceInfo dev = H100();
  c.Expect(plane_stats.count("device_vendor") && gpu.Str(*plane_stats["device_vendor"]) == "Nvidia",
           "device plane: device_vendor is not Nvidia");
  c.Expect(
      plane_stats.count("gpu_device_name") && gpu.Str(*plane_stats["gpu_device_name"]) == dev.name,
      "device plane: gpu_device_name is not " + dev.name);
  c.Expect(int_stat("core_count") == dev.sm_count,
           "device plane: core_count " + std::to_string(int_stat("core_count")));
  c.Expect(int_stat("compute_cap_major") == 9 && int_stat("compute_cap_minor") == 0,
           "device plane: compute capability is not 9.0");
  c.Expect(int_stat("clock_rate") == dev.clock_rate_khz,
           "device plane: clock_rate " + std::to_string(int_stat("clock_rate")));
  c.Expect(int_stat("memory_size") == static_cast<int64_t>(dev.memory_bytes),
           "device plane: memory_size " + std::to_string(int_stat("memory_size")));
  c.Expect(int_stat("memory_bandwidth") == static_cast<int64_t>(dev.memory_bandwidth_bytes_per_s),
           "device plane: memory_bandwidth " + std::to_string(int_stat("memory_bandwidth")));
  c.Expect(gpu_plane->id() == 0, "device plane id is not its ordinal 0");

  bool dropped_warning = false;
  const std::string dropped = "CUPTI dropped " + std::to_string(kDroppedRecords) + " ";
  for (const std::string &w : space.warnings()) {
    dropped_warning |= w.find(dropped) != std::string::npos;
  }
  c.Expect(dropped_warning, "XSpace.warnings lacks '" + dropped + "...'");

  std::printf("check: %zu launches, %zu kernels, %zu copies, %d warnings: %s\n", launches.size(),
              kernels, copies, space.warnings_size(),
              c.failures() == 0 ? "all as replayed" : "MISMATCHES");
  return c.failures() == 0 ? 0 : 1;
}

int Main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr,
                 "usage: %s LOGDIR [--check] [--clock=host|realtime] [--graph] [--overlap]\n",
                 argv[0]);
    return 2;
  }
  const std::string logdir = argv[1];
  bool check = false;
  bool graph = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--check") {
      check = true;
    } else if (arg == "--overlap") {
      g_overlap = true;
    } else if (arg == "--graph") {
      graph = true;
    } else if (arg == "--clock=realtime") {
      g_record_clock = &RealtimeNs;
    } else if (arg != "--clock=host") {
      std::fprintf(stderr,
                   "unknown argument %s\nusage: %s LOGDIR [--check] "
                   "[--clock=host|realtime] [--graph] [--overlap]\n",
                   argv[i], argv[0]);
      return 2;
    }
  }

  FakeDeviceSourceConfig config;
  if (g_record_clock == &RealtimeNs) {
    config.clock_samples.push_back(internal::cupti::TakeClockSample(
        [](void *) { return static_cast<uint64_t>(RealtimeNs()); }, nullptr));
  }
  config.devices = {H100()};
  config.dropped_records = kDroppedRecords;
  auto owned = std::make_unique<FakeDeviceSource>(std::move(config));
  FakeRuntime cuda(owned.get());
  internal::SessionOptions options;
  options.logdir = logdir;
  options.gpu = GpuMode::kOn;
  options.graph = true;
  internal::Session session(options, std::move(owned));
  if (absl::Status s = session.Start(); !s.ok()) {
    std::fprintf(stderr, "session start failed: %s\n", s.ToString().c_str());
    return 1;
  }
  if (g_overlap) cuda.OverlapNodeOf("dense_2/Softmax:Softmax");
  if (graph) {
    // Captured once, before the steps; replayed by every step.
    cuda.BeginCapture();
    ForwardPass(cuda);
    cuda.EndCaptureAndInstantiate();
  }
  for (int64_t step = 0; step < kSteps; ++step) {
    tbprof::StepScope s(step, "train");
    if (step == 0) cuda.Overhead(2'000);
    if (graph) {
      tbprof::NameScope model("model");
      TBPROF_OP("Replay", "GraphLaunch", {}, {});
      Spin(3'000);
      cuda.GraphLaunch("model/Replay:GraphLaunch");
      Spin(3'000);
      cuda.Synchronize();
    } else {
      ForwardPass(cuda);
    }
    Spin(20'000);  // Optimizer bookkeeping on the host.
  }
  absl::StatusOr<ExportInfo> info = session.Export("gpu_replay", kSteps - 1, logdir, "replay");
  if (!info.ok()) {
    std::fprintf(stderr, "export failed: %s\n", info.status().ToString().c_str());
    return 1;
  }
  std::printf(
      "wrote %s: %lld threads, %lld host events, %lld device events, %lld ops, "
      "%lld steps, %lld warnings\n",
      info->xplane_path.c_str(), static_cast<long long>(info->threads),
      static_cast<long long>(info->host_events), static_cast<long long>(info->device_events),
      static_cast<long long>(info->ops), static_cast<long long>(info->steps),
      static_cast<long long>(info->warnings));
  // What was replayed, per op: device time over all steps (what
  // framework_op_stats must show).
  std::map<std::string, std::pair<int, uint64_t>> per_op;
  for (const auto &[id, r] : cuda.replayed()) {
    auto &[n, ns] = per_op[r.op];
    ++n;
    ns += r.end_ns - r.start_ns;
  }
  for (const auto &[op, v] : per_op) {
    std::printf("  replayed %-28s %d x, device %.3f us\n", op.c_str(), v.first, v.second / 1e3);
  }
  for (const std::string &w : session.trace().warnings) std::printf("  warning: %s\n", w.c_str());
  return check ? CheckXSpace(info->xplane_path, cuda.replayed()) : 0;
}

}  // namespace
}  // namespace tbprof::testing

int main(int argc, char **argv) { return tbprof::testing::Main(argc, argv); }
