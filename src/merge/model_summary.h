// The model summary of an export: a markdown table for TensorBoard's Text tab, per-step
// scalars for its Scalars tab, and per-node timings for the annotated graph picture.
#ifndef TBPROF_SRC_MERGE_MODEL_SUMMARY_H_
#define TBPROF_SRC_MERGE_MODEL_SUMMARY_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "src/merge/traced_graph.h"
#include "src/trace/trace_data.h"
#include "tbprof/graph.h"

namespace tbprof::internal {

// What one op costs in a capture: its host self time, or its device time when that is longer
// (device work runs beside the host, so the two are not added).
int64_t OpTimeNs(const OpInfo& op);

// The time the ops' shares are taken of: the summed durations of the steps, or the capture's
// duration when no step was marked. At least 1.
int64_t TotalStepTimeNs(const Trace& trace);

// True if the capture saw any device work (kernels, copies, sets).
bool HasDeviceWork(const Trace& trace);

// A markdown summary of a merged trace: a header line (title, steps, total step time, GPU busy
// share when there was device work), a line naming the step whose executions the Graphs tab
// shows (ChooseRepresentativeStep: "step N, the median of K by duration"), then one table row
// per op that ran, by decreasing OpTimeNs (ties by name): op (the graph node name from
// `traced`), type, output shapes, executions in the capture, host ms (capture total and mean
// per execution), GPU ms (capture total), share of step time %. Renders as a table in
// TensorBoard's Text tab (names in code spans, markdown characters escaped).
// With recorded allocations (tbprof/memory.h), a memory part follows: MemoryMarkdown.
std::string ModelSummaryMarkdown(const Trace& trace, const TracedGraph& traced,
                                 std::string_view title);

// One point per step for the Scalars tab.
struct StepScalar {
  int64_t step = 0;
  double step_time_ms = 0;
  double gpu_busy_share = 0;  // 0..1 of the step's duration.
  double wall_time_s = 0;     // When the step ended, seconds since the epoch (0: unknown).
};

// Per-step values of a merged trace, in step order.
std::vector<StepScalar> StepScalars(const Trace& trace);

// Per-node timings of a merged trace for DotOptions::timings, keyed by graph node name:
// executions, total host ms, GPU ms and share = OpTimeNs / TotalStepTimeNs (0..1).
std::map<std::string, tbprof::NodeTiming> NodeTimings(const Trace& trace,
                                                      const TracedGraph& traced);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_MERGE_MODEL_SUMMARY_H_
