// CUDA-graph kernels attributed to the op that captured them, without a GPU: a real Session
// whose fake CUPTI gets, inside real op scopes, the resource callbacks CUPTI 13 sends while a
// stream is captured (GRAPHNODE_CREATED), instantiated (GRAPHNODE_CLONED into the executable
// graph) and cloned (GRAPH_CLONED + GRAPHNODE_CLONED), then the packed kernel records of the
// replays (CUpti_ActivityKernel10 with graphId / graphNodeId, correlated with the
// cudaGraphLaunch call). Every replayed kernel must carry the op whose scope captured its node.
#include <cupti.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "cupti/clock_sync.h"
#include "cupti/graph_nodes.h"
#include "gtest/gtest.h"
#include "src/session/session.h"
#include "src/trace/trace_data.h"
#include "tbprof/annotate.h"
#include "tests/fakes/fake_device_source.h"

namespace tbprof::testing {
namespace {

using internal::DeviceEvent;
using internal::Session;
using internal::SessionOptions;
using internal::Trace;
using internal::cupti::GraphNodeRegistry;
using internal::cupti::HostClockNs;

void Spin(int64_t ns) {
  const int64_t end = HostClockNs() + ns;
  while (HostClockNs() < end) {
  }
}

std::string TempDir() {
  const char* dir = std::getenv("TBPROF_TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

uint32_t Tid() { return static_cast<uint32_t>(syscall(SYS_gettid)); }

CUpti_ActivityKernel10 GraphKernel(const char* name, uint64_t start, uint64_t end,
                                   uint32_t correlation, uint32_t graph, uint64_t node) {
  CUpti_ActivityKernel10 k = MakeKernel(name, start, end, correlation);
  k.graphId = graph;
  k.graphNodeId = node;
  return k;
}

// A stream capture inside three op scopes: MatMul's and Relu's launches become nodes 11 and 12
// of graph 1; node 13 is captured outside any op. Instantiation clones them into the
// executable graph as nodes 101..103.
void CaptureAndInstantiate(FakeDeviceSource* fake) {
  {
    tbprof::NameScope layer("dense_1");
    {
      TBPROF_OP("MatMul", "MatMul", {}, {});
      Spin(20000);
      fake->GraphCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED, MakeGraphNodeCreated(1, 11));
      Spin(20000);
    }
    {
      TBPROF_OP("Relu", "Relu", {}, {});
      Spin(20000);
      fake->GraphCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED, MakeGraphNodeCreated(1, 12));
      Spin(20000);
    }
  }
  Spin(20000);
  fake->GraphCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED, MakeGraphNodeCreated(1, 13));
  for (uint64_t node : {11, 12, 13}) {
    fake->GraphCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED,
                        MakeGraphNodeCloned(1, node + 90, 1, node));
  }
}

// One cudaGraphLaunch inside op "Replay" (correlation `corr`) and its kernels, one per node.
void Replay(FakeDeviceSource* fake, uint32_t corr, uint32_t graph,
            const std::map<uint64_t, const char*>& kernels) {
  TBPROF_OP("Replay", "GraphLaunch", {}, {});
  Spin(10000);
  const uint64_t begin = static_cast<uint64_t>(HostClockNs());
  Spin(3000);
  const uint64_t end = static_cast<uint64_t>(HostClockNs());
  ActivityBufferBuilder b;
  b.Add(MakeApi(CUPTI_ACTIVITY_KIND_RUNTIME, CUPTI_RUNTIME_TRACE_CBID_cudaGraphLaunch_v10000, begin,
                end, Tid(), corr));
  uint64_t t = end + 5000;
  for (const auto& [node, name] : kernels) {
    b.Add(GraphKernel(name, t, t + 7000, corr, graph, node));
    t += 8000;
  }
  fake->AddBuffer(b.Build());
  Spin(10000);
}

std::string OpOf(const Trace& t, const DeviceEvent& e) {
  if (e.op_index < 0 || static_cast<size_t>(e.op_index) >= t.ops.size()) return "(none)";
  return t.ops[e.op_index].name;
}

std::map<uint64_t, std::string> OpsByNode(const Trace& t) {
  std::map<uint64_t, std::string> ops;
  for (const DeviceEvent& e : t.device_events) ops[e.graph_node_id] = OpOf(t, e);
  return ops;
}

TEST(GraphAttributionTest, ReplayedKernelsCarryTheOpThatCapturedTheirNode) {
  auto owned = std::make_unique<FakeDeviceSource>(FakeDeviceSourceConfig());
  FakeDeviceSource* fake = owned.get();
  SessionOptions options;
  options.logdir = TempDir();
  Session session(options, std::move(owned));
  ASSERT_TRUE(session.Start().ok());
  CaptureAndInstantiate(fake);
  // cudaGraphClone of graph 1 into graph 2 (nodes 21, 22 from 11, 12), instantiated as 201, 202.
  fake->GraphCallback(CUPTI_CBID_RESOURCE_GRAPH_CLONED, MakeGraphCloned(2, 1));
  fake->GraphCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED, MakeGraphNodeCloned(2, 21, 1, 11));
  fake->GraphCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED, MakeGraphNodeCloned(2, 22, 1, 12));
  fake->GraphCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED, MakeGraphNodeCloned(2, 201, 2, 21));
  fake->GraphCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED, MakeGraphNodeCloned(2, 202, 2, 22));
  for (uint32_t i = 0; i < 3; ++i) {
    Replay(fake, 500 + i, 1, {{101, "_Z4gemmv"}, {102, "_Z4reluv"}, {103, "_Z4copyv"}});
  }
  Replay(fake, 600, 2, {{201, "_Z4gemmv"}, {202, "_Z4reluv"}});
  ASSERT_TRUE(session.Collect().ok());
  const Trace& t = session.trace();

  ASSERT_EQ(t.device_events.size(), 11u);
  int per_node[300] = {};
  for (const DeviceEvent& e : t.device_events) {
    ASSERT_LT(e.graph_node_id, 300u);
    ++per_node[e.graph_node_id];
    const std::string op = OpOf(t, e);
    switch (e.graph_node_id) {
      case 101:
      case 201:
        EXPECT_EQ(op, "dense_1/MatMul") << e.graph_node_id;
        break;
      case 102:
      case 202:
        EXPECT_EQ(op, "dense_1/Relu") << e.graph_node_id;
        break;
      case 103:
        // Captured outside every op: the op that launched the graph.
        EXPECT_EQ(op, "Replay");
        break;
      default:
        ADD_FAILURE() << "unexpected node " << e.graph_node_id;
    }
    EXPECT_EQ(e.graph_orig_id, e.graph_id == 2 ? 1u : 0u);
  }
  EXPECT_EQ(per_node[101], 3);
  EXPECT_EQ(per_node[201], 1);

  // Per-node GPU time (the Graphs tab) counts the replays: 4 x 7 us for MatMul and Relu.
  for (const internal::OpInfo& op : t.ops) {
    if (op.name == "dense_1/MatMul" || op.name == "dense_1/Relu") {
      EXPECT_EQ(op.gpu_ns, 4 * 7000) << op.name;
      EXPECT_EQ(op.kernel_count, 4) << op.name;
    }
    if (op.name == "Replay") EXPECT_EQ(op.gpu_ns, 3 * 7000);
  }
}

TEST(GraphAttributionTest, GraphCapturedInAnEarlierSessionKeepsItsOps) {
  auto graphs = std::make_shared<GraphNodeRegistry>();
  {
    FakeDeviceSourceConfig config;
    config.graphs = graphs;
    auto owned = std::make_unique<FakeDeviceSource>(std::move(config));
    FakeDeviceSource* fake = owned.get();
    SessionOptions options;
    options.logdir = TempDir();
    Session capture(options, std::move(owned));
    ASSERT_TRUE(capture.Start().ok());
    CaptureAndInstantiate(fake);
    ASSERT_TRUE(capture.Collect().ok());
  }
  // A later capture sees only replays: MatMul and Relu never run in it.
  FakeDeviceSourceConfig config;
  config.graphs = graphs;
  auto owned = std::make_unique<FakeDeviceSource>(std::move(config));
  FakeDeviceSource* fake = owned.get();
  SessionOptions options;
  options.logdir = TempDir();
  Session session(options, std::move(owned));
  ASSERT_TRUE(session.Start().ok());
  Replay(fake, 700, 1, {{101, "_Z4gemmv"}, {102, "_Z4reluv"}, {103, "_Z4copyv"}});
  ASSERT_TRUE(session.Collect().ok());
  const Trace& t = session.trace();
  const std::map<uint64_t, std::string> expected = {
      {101, "dense_1/MatMul"}, {102, "dense_1/Relu"}, {103, "Replay"}};
  EXPECT_EQ(OpsByNode(t), expected);
  for (const internal::OpInfo& op : t.ops) {
    if (op.name == "dense_1/MatMul") {
      EXPECT_EQ(op.type, "MatMul");
      EXPECT_EQ(op.gpu_ns, 7000);
    }
  }
}

TEST(GraphAttributionTest, NodesCreatedOutsideASessionAreNotAttributed) {
  auto owned = std::make_unique<FakeDeviceSource>(FakeDeviceSourceConfig());
  FakeDeviceSource* fake = owned.get();
  // Before Start: CUPTI reports the creation but no session records ops.
  {
    TBPROF_OP("Early", "Early", {}, {});
    fake->GraphCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED, MakeGraphNodeCreated(5, 51));
  }
  fake->GraphCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED, MakeGraphNodeCloned(5, 151, 5, 51));
  SessionOptions options;
  options.logdir = TempDir();
  Session session(options, std::move(owned));
  ASSERT_TRUE(session.Start().ok());
  Replay(fake, 800, 5, {{151, "_Z4gemmv"}});
  ASSERT_TRUE(session.Collect().ok());
  const Trace& t = session.trace();
  ASSERT_EQ(t.device_events.size(), 1u);
  EXPECT_EQ(OpOf(t, t.device_events[0]), "Replay");
  EXPECT_EQ(t.device_events[0].graph_op_index, -1);
}

TEST(GraphAttributionTest, CallbackWithoutDataOrIdsIsRejected) {
  GraphNodeRegistry registry;
  const CUpti_GraphData data = MakeGraphNodeCreated(1, 11);
  EXPECT_FALSE(internal::cupti::OnGraphResourceCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED,
                                                        nullptr, FakeGraphIdFunctions(), true, 1, 1,
                                                        &registry));
  EXPECT_FALSE(internal::cupti::OnGraphResourceCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED,
                                                        &data, internal::cupti::GraphIdFunctions(),
                                                        true, 1, 1, &registry));
  EXPECT_TRUE(internal::cupti::IsGraphResourceCallback(CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED));
  EXPECT_FALSE(internal::cupti::IsGraphResourceCallback(CUPTI_CBID_RESOURCE_CONTEXT_CREATED));
}

TEST(GraphAttributionTest, CloneCycleEndsTheWalk) {
  GraphNodeRegistry registry;
  registry.NodeCloned(1, 2);
  registry.NodeCloned(2, 1);
  Trace t;
  DeviceEvent e;
  e.graph_id = 9;
  e.graph_node_id = 1;
  t.device_events.push_back(e);
  const auto r = registry.Resolve(0, &t);
  EXPECT_EQ(r.events_unattributed, 1);
  EXPECT_EQ(t.device_events[0].graph_op_index, -1);
}

TEST(GraphAttributionTest, CapsBoundWhatIsKept) {
  GraphNodeRegistry registry(/*max_nodes=*/2);
  registry.NodeCreated(1, 1, 1, 10);
  registry.NodeCreated(2, 1, 1, 20);
  registry.NodeCreated(3, 1, 1, 30);
  registry.NodeCloned(11, 1);
  registry.NodeCloned(12, 2);
  registry.NodeCloned(13, 3);
  EXPECT_EQ(registry.dropped(), 2u);
}

}  // namespace
}  // namespace tbprof::testing
