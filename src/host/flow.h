// Producer/consumer marks (tbprof/flow.h): kept beside the per-thread records and attached to
// the innermost host event around each mark when the capture is collected.
#ifndef TBPROF_SRC_HOST_FLOW_H_
#define TBPROF_SRC_HOST_FLOW_H_

#include "src/trace/trace_data.h"

namespace tbprof::internal {

// Sets HostEvent::flow_produced / flow_consumed on the events of `trace` (collected by
// CollectHostTrace) that enclose the capture's marks; marks of other captures are dropped.
// Marks outside any scope and drops are reported in trace->warnings.
void CollectFlows(Trace* trace);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_HOST_FLOW_H_
