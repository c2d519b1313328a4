// Producer/consumer marks (tbprof/flow.h): kept beside the per-thread records and attached to
// the innermost host event around each mark when the capture is collected.
#ifndef TBPROF_SRC_HOST_FLOW_H_
#define TBPROF_SRC_HOST_FLOW_H_

#include "src/trace/trace_data.h"

namespace tbprof::internal {

// Sets HostEvent::flow_produced / flow_consumed on the events of `trace` (collected by
// CollectHostTrace) that enclose the capture's marks; marks of other captures are dropped.
// Marks outside any scope and drops are reported in trace->warnings.
// Attaches the flow marks (FlowProduce/FlowConsume) of the session to the innermost events of
// `trace` around them, and forgets them.
void CollectFlows(Trace* trace);
// Ring mode: the same for a snapshot of the ring, keeping the marks (call before the
// snapshot's times are shifted).
void SnapshotFlows(Trace* trace);
// Ring mode: forgets marks older than `keep_ns`, so that they stay as bounded as the ring.
void TrimFlowMarks(int64_t keep_ns);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_HOST_FLOW_H_
