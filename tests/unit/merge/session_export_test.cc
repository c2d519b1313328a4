// A real capture through the Session and the public API, exported twice into one run: the
// merge runs at collection (kernels of a fake GPU get their ops, and tf_op in the xplane) and
// each export adds its graph, step stats, model summary and scalars to the run's event file.
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/export/event_file_reader.h"
#include "src/host/clock.h"
#include "src/merge/run_event_files.h"
#include "src/session/session.h"
#include "src/trace/device_source.h"
#include "src/util/file_util.h"
#include "tbprof/tbprof.h"
#include "tensorflow/config.pb.h"
#include "tensorflow/event.pb.h"
#include "tensorflow/profiler/xplane.pb.h"

namespace tbprof::internal {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

std::string FreshDir(const std::string& name) {
  const char* base = std::getenv("TBPROF_TEST_TMPDIR");
  std::string dir = JoinPath(base != nullptr && *base ? base : "/tmp", name);
  EXPECT_EQ(std::system(("rm -rf '" + dir + "'").c_str()), 0);
  return dir;
}

void Spin(std::chrono::microseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

// A GPU that runs one 300 us kernel per Launch(), 100 us after the call, on stream 7.
class FakeGpu : public DeviceSource {
 public:
  absl::Status Start(const DeviceSourceOptions& options) override {
    start_ns_ = options.session_start_ns;
    return absl::OkStatus();
  }
  absl::Status Stop() override { return absl::OkStatus(); }
  absl::Status Collect(Trace* trace) override {
    DeviceInfo info;
    info.ordinal = 0;
    info.name = "Fake GPU";
    trace->devices.push_back(info);
    trace->names.push_back("fake_gemm");
    const NameId kernel_name = static_cast<NameId>(trace->names.size() - 1);
    trace->names.push_back("cudaLaunchKernel");
    const NameId launch_name = static_cast<NameId>(trace->names.size() - 1);
    for (const Launch& l : launches_) {
      ThreadTrack* track = nullptr;
      for (ThreadTrack& t : trace->threads) {
        if (t.tid == l.tid) track = &t;
      }
      if (track == nullptr) {
        trace->threads.push_back(ThreadTrack{l.tid, "launcher", {}});
        track = &trace->threads.back();
      }
      HostEvent launch;
      launch.kind = HostEventKind::kLaunch;
      launch.start_ns = l.at_ns;
      launch.end_ns = l.at_ns + 1000;
      launch.name = launch_name;
      launch.correlation_id = l.correlation;
      launch.device_id = 0;
      track->events.push_back(launch);
      std::stable_sort(track->events.begin(), track->events.end(),
                       [](const HostEvent& a, const HostEvent& b) {
                         if (a.start_ns != b.start_ns) return a.start_ns < b.start_ns;
                         return a.end_ns > b.end_ns;
                       });
      DeviceEvent kernel;
      kernel.kind = DeviceEventKind::kKernel;
      kernel.start_ns = l.at_ns + 100'000;
      kernel.end_ns = l.at_ns + 400'000;
      kernel.name = kernel_name;
      kernel.stream_id = 7;
      kernel.correlation_id = l.correlation;
      kernel.kernel.grid[0] = kernel.kernel.block[0] = 1;
      trace->device_events.push_back(kernel);
    }
    launches_.clear();
    return absl::OkStatus();
  }
  std::string Describe() const override { return "fake"; }

  // Called by the model inside an op scope.
  void LaunchKernel() {
    launches_.push_back({static_cast<int64_t>(syscall(SYS_gettid)), MonotonicNs() - start_ns_,
                         next_correlation_++});
  }

 private:
  struct Launch {
    int64_t tid;
    int64_t at_ns;
    uint64_t correlation;
  };
  int64_t start_ns_ = 0;
  uint64_t next_correlation_ = 1;
  std::vector<Launch> launches_;
};

// x -> layer/MatMul (GPU) -> layer/Add (skip connection from x) [-> train/Loss when training].
void RunModel(int64_t first_step, int steps, bool training, FakeGpu* gpu) {
  const int64_t shape[] = {8, 4};
  const TensorRef x = TensorRef::WithId(1, DType::kFloat32, shape, "x");
  const TensorRef h = TensorRef::WithId(2, DType::kFloat32, shape);
  const TensorRef y = TensorRef::WithId(3, DType::kFloat32, shape);
  const TensorRef loss = TensorRef::WithId(4, DType::kFloat32, {});
  for (int64_t step = first_step; step < first_step + steps; ++step) {
    StepScope s(step);
    NameScope layer("layer");
    {
      TBPROF_OP("MatMul", "MatMul", {x}, {h});
      Spin(std::chrono::microseconds(500));
      if (gpu != nullptr) gpu->LaunchKernel();
      Spin(std::chrono::microseconds(500));
    }
    {
      TBPROF_OP("Add", "AddV2", {h, x}, {y});
      Spin(std::chrono::microseconds(300));
    }
    if (training) {
      NameScope t("train");
      TBPROF_OP("Loss", "MyLoss", {y}, {loss});
      Spin(std::chrono::microseconds(200));
    }
  }
}

struct Decoded {
  std::map<std::string, tensorflow::RunMetadata> run_metadata;
  std::set<std::string> text_tags;
  std::map<std::string, std::vector<std::pair<int64_t, float>>> scalars;
};

Decoded DecodeRun(const std::string& dir) {
  Decoded out;
  const std::string path = RunEventFiles::Process().PathFor(dir);
  EXPECT_FALSE(path.empty()) << "no event file for " << dir;
  absl::StatusOr<std::vector<tensorflow::Event>> events = ReadEventFile(path);
  EXPECT_TRUE(events.ok()) << events.status();
  if (!events.ok()) return out;
  for (const auto& e : *events) {
    for (const auto& v : e.summary().value()) {
      const std::string& plugin = v.metadata().plugin_data().plugin_name();
      if (plugin == "graph_run_metadata") {
        EXPECT_TRUE(out.run_metadata[v.tag()].ParseFromString(v.tensor().string_val(0)));
      } else if (plugin == "text") {
        out.text_tags.insert(v.tag());
      } else if (plugin == "scalars") {
        out.scalars[v.tag()].emplace_back(e.step(), v.tensor().float_val(0));
      }
    }
  }
  return out;
}

const tensorflow::NodeDef* FindNode(const tensorflow::RunMetadata& rm, const std::string& name) {
  for (const auto& n : rm.function_graphs(0).pre_optimization_graph().node()) {
    if (n.name() == name) return &n;
  }
  return nullptr;
}

TEST(SessionExportTest, TwoExportsOfThePublicApiAreTwoTagsOfOneRun) {
  const std::string dir = FreshDir("session_export_public");
  TraceOptions options;
  options.force = true;
  options.logdir = dir;
  options.gpu = GpuMode::kOff;
  ASSERT_TRUE(TraceOn(options).ok());
  RunModel(0, 3, /*training=*/true, nullptr);
  ASSERT_TRUE(TraceExport("model_training", 2).ok());
  ASSERT_TRUE(TraceOn(options).ok());
  RunModel(3, 2, /*training=*/false, nullptr);
  ASSERT_TRUE(TraceExport("model_inference", 4).ok());

  const Decoded d = DecodeRun(dir);
  ASSERT_EQ(d.run_metadata.size(), 2u);
  const tensorflow::RunMetadata& train = d.run_metadata.at("model_training");
  const tensorflow::RunMetadata& infer = d.run_metadata.at("model_inference");
  ASSERT_EQ(train.function_graphs_size(), 1);
  ASSERT_EQ(infer.function_graphs_size(), 1);
  EXPECT_EQ(train.function_graphs(0).pre_optimization_graph().node_size(), 4);  // x + 3 ops.
  EXPECT_EQ(infer.function_graphs(0).pre_optimization_graph().node_size(), 3);
  ASSERT_NE(FindNode(train, "layer/train/Loss"), nullptr);
  EXPECT_EQ(FindNode(train, "layer/train/Loss")->op(), "MyLoss");
  EXPECT_EQ(FindNode(infer, "layer/train/Loss"), nullptr);
  ASSERT_NE(FindNode(infer, "layer/Add"), nullptr);
  EXPECT_THAT(FindNode(infer, "layer/Add")->input(), ElementsAre("layer/MatMul", "x"));
  EXPECT_THAT(FindNode(train, "layer/train/Loss")->input(), ElementsAre("layer/Add"));

  // Step stats: CPU only here, the executions of one step (the median): the MatMul about
  // 1 ms, the input x with no compute time.
  ASSERT_EQ(train.step_stats().dev_stats_size(), 1);
  std::map<std::string, int64_t> micros;
  for (const auto& s : train.step_stats().dev_stats(0).node_stats()) {
    micros[s.node_name()] = s.all_end_rel_micros();
  }
  EXPECT_EQ(micros.size(), 4u);
  EXPECT_GE(micros["layer/MatMul"], 1000);
  EXPECT_LT(micros["layer/MatMul"], 1000 * 20);
  EXPECT_GE(micros["layer/train/Loss"], 200);
  EXPECT_EQ(micros["x"], 0);

  EXPECT_THAT(d.text_tags, Contains("model_training/model_summary"));
  EXPECT_THAT(d.text_tags, Contains("model_inference/model_summary"));
  const auto& train_steps = d.scalars.at("model_training/step_time_ms");
  ASSERT_EQ(train_steps.size(), 3u);
  EXPECT_EQ(train_steps[0].first, 0);
  EXPECT_EQ(train_steps[2].first, 2);
  EXPECT_GE(train_steps[0].second, 1.49f);  // At least 1 + 0.3 + 0.2 ms of spinning.
  EXPECT_LT(train_steps[0].second, 100.0f);
  EXPECT_EQ(d.scalars.at("model_inference/step_time_ms").size(), 2u);
  EXPECT_EQ(d.scalars.count("model_training/gpu_busy_share"), 0u);
}

TEST(SessionExportTest, KernelsOfAFakeGpuAreMergedIntoOpsStatsAndTheXplane) {
  const std::string dir = FreshDir("session_export_fake_gpu");
  SessionOptions options;
  options.logdir = dir;
  options.gpu = GpuMode::kOn;
  auto gpu_owned = std::make_unique<FakeGpu>();
  FakeGpu* gpu = gpu_owned.get();
  Session session(options, std::move(gpu_owned));
  ASSERT_TRUE(session.Start().ok());
  RunModel(0, 2, /*training=*/false, gpu);
  absl::StatusOr<ExportInfo> info = session.Export("gpu_model", 1);
  ASSERT_TRUE(info.ok()) << info.status();

  // The merge ran at collection.
  const Trace& trace = session.trace();
  ASSERT_EQ(trace.device_events.size(), 2u);
  for (const DeviceEvent& e : trace.device_events) {
    ASSERT_GE(e.op_index, 0);
    EXPECT_EQ(trace.ops[e.op_index].name, "layer/MatMul");
  }
  ASSERT_EQ(trace.steps.size(), 2u);
  EXPECT_EQ(trace.steps[0].gpu_busy_ns, 300'000);

  // The xplane's kernels carry tf_op.
  std::string bytes;
  ASSERT_TRUE(ReadFile(info->xplane_path, &bytes).ok());
  tensorflow::profiler::XSpace space;
  ASSERT_TRUE(space.ParseFromString(bytes));
  int kernels_with_tf_op = 0;
  for (const auto& plane : space.planes()) {
    if (plane.name() != "/device:GPU:0") continue;
    int64_t tf_op_id = -1;
    for (const auto& [id, md] : plane.stat_metadata()) {
      if (md.name() == "tf_op") tf_op_id = id;
    }
    for (const auto& line : plane.lines()) {
      for (const auto& event : line.events()) {
        for (const auto& stat : event.stats()) {
          if (stat.metadata_id() != tf_op_id) continue;
          const std::string value = stat.has_ref_value()
                                        ? plane.stat_metadata().at(stat.ref_value()).name()
                                        : stat.str_value();
          EXPECT_EQ(value, "layer/MatMul:MatMul");
          ++kernels_with_tf_op;
        }
      }
    }
  }
  EXPECT_EQ(kernels_with_tf_op, 2);

  // The events file: GPU step stats for the MatMul's kernel of the shown step, 300 us, and
  // the GPU busy share.
  const Decoded d = DecodeRun(dir);
  const tensorflow::RunMetadata& rm = d.run_metadata.at("gpu_model");
  bool found_gpu = false;
  for (const auto& dev : rm.step_stats().dev_stats()) {
    if (dev.device() != "/job:localhost/replica:0/task:0/device:GPU:0") continue;
    found_gpu = true;
    ASSERT_EQ(dev.node_stats_size(), 1);
    EXPECT_EQ(dev.node_stats(0).node_name(), "layer/MatMul");
    EXPECT_EQ(dev.node_stats(0).all_end_rel_micros(), 300);
  }
  EXPECT_TRUE(found_gpu);
  EXPECT_EQ(FindNode(rm, "layer/MatMul")->device(), "/device:GPU:0");
  EXPECT_EQ(FindNode(rm, "layer/Add")->device(), "/device:CPU:0");
  const auto& busy = d.scalars.at("gpu_model/gpu_busy_share");
  ASSERT_EQ(busy.size(), 2u);
  EXPECT_GT(busy[0].second, 0.05f);
  EXPECT_LT(busy[0].second, 0.5f);
}

}  // namespace
}  // namespace tbprof::internal
