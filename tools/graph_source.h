// `tbprof dot`: finds a graph in event files (a graph_run_metadata summary's function graph,
// or the run graph Event.graph_def), turns the GraphDef back into a tbprof::Graph, and turns
// the step stats recorded with it into per-node timings for ToDot.
#ifndef TBPROF_TOOLS_GRAPH_SOURCE_H_
#define TBPROF_TOOLS_GRAPH_SOURCE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tbprof/graph.h"
#include "tensorflow/config.pb.h"
#include "tensorflow/graph.pb.h"
#include "tools/event_files.h"

namespace tbprof::cli {

struct GraphSource {
  std::string file;  // Event file it came from.
  std::string tag;   // "" for the run graph.
  // The graph drawn: the run graph, or the chosen function graph of the run metadata, or all
  // of them side by side, each under a "function_<i>/" scope.
  tensorflow::GraphDef graph;
  std::optional<tensorflow::RunMetadata> run_metadata;  // With step stats, when recorded.
  std::vector<int> function_sizes;  // Nodes of each function graph of the run metadata.
  int function = -1;                // The function graph drawn, -1: all of them.
  bool scoped = false;              // Node names carry FunctionScope(i).
  // Tags of graph_run_metadata summaries passed over because they hold no graph (Keras'
  // batch_N traces), and tags of Keras model summaries (not drawn).
  std::vector<std::string> skipped_empty_tags;
  std::vector<std::string> keras_model_tags;
};

// The scope a function graph's nodes get when several are drawn together.
std::string FunctionScope(int index);

// With `tag`: the newest graph_run_metadata[_graph] summary (or tagged run metadata, whose
// graph is then the run graph) of that tag. Without: the newest graph_run_metadata summary,
// else the newest run graph. NotFound listing the tags present when nothing matches;
// InvalidArgument naming the file and record when the graph does not decode.
// Without `tag`, graph_run_metadata summaries holding no graph (Keras' empty batch_N
// traces) are passed over. `function` picks one function graph of the run metadata (-1: all;
// OutOfRange listing them when there is no such graph).
absl::StatusOr<GraphSource> FindGraph(const std::vector<EventFileContents>& files,
                                      const std::optional<std::string>& tag, int function = -1);

// GraphDef -> Graph: names, ops, inputs, control inputs, devices, scalar/shape/type/int-list
// attributes, and outputs from `_output_shapes` (dtype from the `T` or `dtype` attribute).
// InvalidArgument naming the node when the graph breaks Graph's rules.
absl::StatusOr<Graph> GraphFromGraphDef(const tensorflow::GraphDef& graph_def);

// Per-node timings from step stats: host time from CPU devices, GPU time from GPU devices
// (nanosecond fields when present, else microseconds), `executions` from `executions_by_node`
// when the node is there (counts from the profile), else the number of stats entries; `share`
// = the node's GPU time over all GPU time when any node has GPU time, else host time over all
// host time. Only devices the Graphs tab accepts ("/device:<TYPE>:<N>" at the end) count.
// Per-node timings from a profile where the graph has no step stats (TensorFlow 2.21's
// trace_export writes none): a node whose name, without `scope`, is a framework op of the
// profile gets the op's executions and total host time; `share` as in TimingsFromStepStats.
// `ops_count_ms`: op name -> (executions, host milliseconds). `scoped`: the graph holds several
// function graphs under FunctionScope(i).
std::map<std::string, NodeTiming> TimingsFromProfileOps(
    const Graph& graph, const std::map<std::string, std::pair<int64_t, double>>& ops_count_ms,
    bool scoped);

std::map<std::string, NodeTiming> TimingsFromStepStats(
    const tensorflow::StepStats& step_stats, const Graph& graph,
    const std::map<std::string, int64_t>& executions_by_node);

}  // namespace tbprof::cli

#endif  // TBPROF_TOOLS_GRAPH_SOURCE_H_
