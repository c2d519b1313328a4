// Which op each CUDA graph node belongs to, learnt when the graph is captured or built and used
// when it is replayed.
//
// A kernel replayed from a CUDA graph carries the correlation id of the cudaGraphLaunch call,
// not of the launch made inside the op that captured it. CUPTI's resource callbacks tell when
// a graph node is created (stream capture or cudaGraphAdd*Node, on the calling thread, so
// inside that thread's op scope), cloned (cudaGraphClone, and cudaGraphInstantiate, which
// clones every node into the executable graph) and when a graph is cloned from another. The
// registry keeps, per node, where it was created (thread, host time) and which node it was cloned
// from; at collection, with the host events of the session in the Trace, each creation is matched
// to the innermost op scope that contained it on its thread, and every device event launched by a
// graph node (CUPTI's graphNodeId) is given that op, following clones back to the node that was
// captured. Ops learnt in one session are kept for later ones: a graph captured once and replayed
// in a later capture still shows its ops.
//
// Cost: nothing at replay (no callback fires on cudaGraphLaunch); at capture, one callback per
// node (an id query, a lock and a vector append; bench/cupti/graph_bench.cc).
#ifndef TBPROF_CUPTI_GRAPH_NODES_H_
#define TBPROF_CUPTI_GRAPH_NODES_H_

#include <cuda.h>
#include <cupti.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "src/trace/trace_data.h"

namespace tbprof::internal::cupti {

// What GraphNodeRegistry::Resolve did, for warnings and tests.
struct GraphResolveResult {
  int64_t nodes_resolved = 0;       // Creations of this session matched to an op.
  int64_t nodes_outside_ops = 0;    // Creations of this session outside every op scope.
  int64_t events_attributed = 0;    // Device events given a graph op.
  int64_t events_unattributed = 0;  // Graph-launched device events whose node has no op.
};

class GraphNodeRegistry {
 public:
  // Caps (entries of each map); beyond them records are dropped and counted.
  explicit GraphNodeRegistry(size_t max_nodes = size_t{1} << 20) : max_nodes_(max_nodes) {}

  // A node created by thread `tid` at `host_ns` (absolute host clock), during a session.
  void NodeCreated(uint64_t node_id, uint32_t graph_id, int64_t tid, int64_t host_ns);
  // `node_id` is a clone of `original_id` (graph clone or instantiation).
  void NodeCloned(uint64_t node_id, uint64_t original_id);
  // Graph `graph_id` was cloned from `original_id` (cudaGraphClone).
  void GraphCloned(uint32_t graph_id, uint32_t original_id);

  // At collection, after the session's host events and device events are in `trace`
  // (`session_start_ns`: the absolute host time of trace time 0): matches this session's node
  // creations to ops and sets graph_op_index (appending to trace->ops an op learnt in an earlier
  // session that did not run in this one) and graph_orig_id of every graph-launched device
  // event. Creations are consumed; what was learnt is kept.
  GraphResolveResult Resolve(int64_t session_start_ns, Trace* trace);

  // Drops the creations recorded for a session that will not be collected.
  void DiscardPending();

  // Records not kept because a cap was reached.
  uint64_t dropped() const;

 private:
  struct Creation {
    uint64_t node_id;
    int64_t tid;
    int64_t host_ns;
  };
  // The op of `node_id` or of the node it was (transitively) cloned from; -1 if none.
  int32_t KnownOpOf(uint64_t node_id) const;
  uint32_t OriginalGraph(uint32_t graph_id) const;

  const size_t max_nodes_;
  mutable std::mutex mu_;
  std::vector<Creation> pending_;
  absl::flat_hash_map<uint64_t, uint64_t> original_node_;
  absl::flat_hash_map<uint32_t, uint32_t> original_graph_;     // Clone -> source graph.
  absl::flat_hash_map<uint64_t, int32_t> op_of_node_;          // Index into known_ops_.
  std::vector<OpInfo> known_ops_;                              // name, type, tensors only.
  absl::flat_hash_map<std::string, int32_t> known_op_by_key_;  // "name\0type".
  uint64_t dropped_ = 0;
};

// The CUPTI entry points that turn graph handles into the ids activity records carry
// (cuptiGetGraphNodeId, cuptiGetGraphId); tests pass fakes.
struct GraphIdFunctions {
  CUptiResult (*node_id)(CUgraphNode, uint64_t*) = nullptr;
  CUptiResult (*graph_id)(CUgraph, uint32_t*) = nullptr;
};

// The resource callbacks the registry needs (CUPTI_CB_DOMAIN_RESOURCE). Instantiation
// (GRAPHEXEC_CREATED) needs no callback of its own: it clones every node of the graph into the
// executable graph, each clone reported by GRAPHNODE_CLONED, and replayed records carry the
// executable graph's node ids.
inline constexpr CUpti_CallbackId kGraphResourceCallbacks[] = {
    CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED,
    CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED,
    CUPTI_CBID_RESOURCE_GRAPH_CLONED,
};

// True for the callback ids above.
bool IsGraphResourceCallback(CUpti_CallbackId cbid);

// Feeds one resource callback (`data` is its CUpti_GraphData) into `registry`: a node created
// while `in_session` is recorded with `tid` and `host_ns`; clones always.
// Ids that cannot be queried are skipped. Returns false when `data` or a needed function is
// null.
bool OnGraphResourceCallback(CUpti_CallbackId cbid, const CUpti_GraphData* data,
                             const GraphIdFunctions& ids, bool in_session, int64_t tid,
                             int64_t host_ns, GraphNodeRegistry* registry);

}  // namespace tbprof::internal::cupti

#endif  // TBPROF_CUPTI_GRAPH_NODES_H_
