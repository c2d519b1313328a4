// RunMetadata for TensorBoard's Graphs tab "Profile" view: the traced graph plus step stats
// that join with it (spec §4.5).
#ifndef TBPROF_SRC_MERGE_RUN_METADATA_H_
#define TBPROF_SRC_MERGE_RUN_METADATA_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "src/merge/traced_graph.h"
#include "src/trace/trace_data.h"

namespace tbprof::internal {

// The StepStats device names: "/job:localhost/replica:0/task:0/device:CPU:0" and
// ".../device:GPU:<n>" (they end in "device:<TYPE>:<N>", as the Graphs tab requires).
std::string StepStatsDeviceName(int32_t gpu);

// The step whose executions the Graphs tab shows: TensorFlow's trace_export writes the stats
// of one run, so the card's "Compute time" means one step, not a sum over the capture.
struct RepresentativeStep {
  bool marked = false;   // False: no step was marked; the window is the whole capture.
  int64_t step = -1;     // Its step number (marked only).
  int64_t start_ns = 0;  // Its host window, relative to Trace::start_ns.
  int64_t end_ns = 0;
  // Device work of the step: what starts in [start_ns, device_end_ns), i.e. up to the next
  // step's start (work a step launched may finish after its host side).
  int64_t device_end_ns = 0;
  size_t steps = 0;  // How many steps the median was taken of.
};

// The median step by duration (the lower median for an even count; ties by step number), or
// the whole capture when no step was marked.
RepresentativeStep ChooseRepresentativeStep(const Trace& trace);

// Builds a serialized tensorflow.RunMetadata for a merged `trace` and its traced graph, with
// the executions of ChooseRepresentativeStep(trace) only:
//  - function_graphs: exactly one entry whose pre_optimization_graph is the traced GraphDef;
//  - step_stats, device CPU:0: one NodeExecStats per execution of an op that starts in the
//    step's window, node_name equal to the graph node's name, all_start_micros its absolute
//    wall-clock start and all_end_rel_micros its own duration (at least 1; micros are
//    truncated at both ends so that starts and ends line up with the trace), thread_id and
//    thread_names of the host thread it ran on; memory {allocator "cpu", total_bytes = output
//    bytes}, or, when the trace holds allocations recorded for ops (tbprof/memory.h), one
//    memory entry per allocator with the bytes that execution allocated (none for an op that
//    allocated nothing); output[] with dtype and shape of each output. Since TensorBoard takes a name
//    scope's time as its children's first start to last end, every scope then shows its
//    real wall span in that step;
//  - one NodeExecStats per traced input (constant or variable): its memory and output, no
//    compute time (all_end_rel_micros 0), at the start of its first consumer in the step;
//  - step_stats, device GPU:<n>: one NodeExecStats per kernel, copy or set of the step on GPU
//    n with its own start and duration; thread_id and thread_names name the streams.
// Deterministic. Errors: InvalidArgument for an invalid graph or one that does not match
// `trace`; ResourceExhausted over protobuf's 2 GiB limit.
absl::StatusOr<std::string> BuildRunMetadata(const Trace& trace, const TracedGraph& traced);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_MERGE_RUN_METADATA_H_
