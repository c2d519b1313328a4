// The traced graph: the ops a capture saw, connected by the tensors they passed.
#ifndef TBPROF_SRC_MERGE_TRACED_GRAPH_H_
#define TBPROF_SRC_MERGE_TRACED_GRAPH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/trace/trace_data.h"
#include "tbprof/graph.h"

namespace tbprof::internal {

// An input of the traced graph: a tensor some op consumed that no earlier op produced.
struct TracedInput {
  std::string node;             // Name of its node.
  std::string op;               // "Placeholder", "VariableV2" or "Const" (see TensorRole).
  TensorInfo tensor;            // As the first consumer saw it.
  int32_t first_consumer = -1;  // Index into Trace::ops of the first op that consumed it.
};

// A Graph built from Trace::ops, with the mapping back to the trace.
struct TracedGraph {
  tbprof::Graph graph;
  // op_nodes[i]: the graph node of Trace::ops[i] (its name, made valid and unique).
  std::vector<std::string> op_nodes;
  // op_gpu[i]: GPU ordinal op i launched work on (the one with most device time), or -1.
  std::vector<int32_t> op_gpu;
  std::vector<TracedInput> inputs;
};

// Builds the traced graph of `trace` (run MergeTrace first, so that op order and devices are
// known):
//  - one node per OpInfo (name = OpInfo::name, op = OpInfo::type, outputs with dtype and
//    shape), however many times it ran; nodes are added in order of first execution;
//  - a data edge from the op that produced a tensor (same TensorInfo::id, output slot k
//    gives "name:k") to each op that consumed it: the latest producer whose first execution
//    precedes the consumer's, other than the consumer itself (buffers are reused, ops may
//    work in place);
//  - one node per tensor that came from outside (no earlier producer), by its
//    TensorInfo::role (tbprof::TensorRole): a top-level "Placeholder" named TensorInfo::name
//    (kInput, or kAuto with a name; "input_<k>" without one, k = 0, 1, ... in order of first
//    use); a "VariableV2" / "Const" named "<scope of its first consumer>/<name>" (kVariable /
//    kConstant; "<consumer>/input_<slot>" without a name); unnamed kAuto tensors are "Const"
//    nodes "<consumer>/input_<slot>" (slot = input position in the consumer), so weights sit
//    inside their layer; tensors with id 0 (unknown identity) each get their own node;
//  - device "/device:GPU:<n>" for ops whose kernels ran on GPU n, else "/device:CPU:0".
// Characters TensorBoard does not accept in node names become '_', duplicates get a "_<n>"
// suffix. Errors: Internal if the resulting graph does not validate.
absl::StatusOr<TracedGraph> BuildTracedGraph(const Trace& trace);

// "/device:GPU:<n>" or "/device:CPU:0" for n < 0.
std::string DeviceName(int32_t gpu);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_MERGE_TRACED_GRAPH_H_
