// Attribution of device work to the traced ops that launched it.
//
// A CUDA launch (a kLaunch host event with a CUPTI correlation id) happens inside the op
// scope that issued it; every device event with the same correlation id (the kernel, or all
// kernels of a CUDA graph launched as one) belongs to that op, except work replayed from a CUDA
// graph whose node the device source traced back to the op that captured it
// (DeviceEvent::graph_op_index): that op wins.
#ifndef TBPROF_SRC_MERGE_ATTRIBUTE_H_
#define TBPROF_SRC_MERGE_ATTRIBUTE_H_

#include <cstdint>

#include "src/trace/trace_data.h"

namespace tbprof::internal {

// What AttributeDeviceEvents found, for warnings and tests.
struct AttributionResult {
  int64_t launches = 0;              // kLaunch host events with a correlation id.
  int64_t launches_outside_ops = 0;  // Of those, launches not inside any op scope.
  int64_t device_events_attributed = 0;
  int64_t device_events_unattributed = 0;  // No launch, or a launch outside every op.
};

// Sets DeviceEvent::op_index for every device event of `trace`: the op is the innermost kOp
// host event (with a valid op_index) on the same thread that contains the kLaunch host event
// whose correlation id the device event carries, or the event's valid graph_op_index when it
// has one. Launches on a thread are only ever joined
// with op scopes of that thread. Device events that cannot be attributed get op_index -1.
// Deterministic and idempotent. `trace` must not be null.
AttributionResult AttributeDeviceEvents(Trace* trace);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_MERGE_ATTRIBUTE_H_
