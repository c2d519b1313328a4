#include "src/merge/attribute.h"

#include <algorithm>
#include <cstddef>
#include <unordered_map>
#include <vector>

#include "src/merge/host_nesting.h"

namespace tbprof::internal {

AttributionResult AttributeDeviceEvents(Trace* trace) {
  AttributionResult result;
  std::unordered_map<uint64_t, int32_t> op_of_correlation;
  for (const ThreadTrack& thread : trace->threads) {
    const std::vector<int32_t> parents = InnermostEnclosingOps(thread.events, trace->ops.size());
    for (size_t i = 0; i < thread.events.size(); ++i) {
      const HostEvent& event = thread.events[i];
      if (event.kind != HostEventKind::kLaunch || event.correlation_id == 0) continue;
      ++result.launches;
      const int32_t parent = parents[i];
      if (parent < 0) {
        ++result.launches_outside_ops;
        continue;
      }
      op_of_correlation[event.correlation_id] = thread.events[parent].op_index;
    }
  }
  for (DeviceEvent& event : trace->device_events) {
    event.op_index = -1;
    if (event.graph_op_index >= 0 &&
        static_cast<size_t>(event.graph_op_index) < trace->ops.size()) {
      // Replayed from a CUDA graph: the op that captured the node, not the one that replayed it.
      event.op_index = event.graph_op_index;
    } else if (event.correlation_id != 0) {
      auto it = op_of_correlation.find(event.correlation_id);
      if (it != op_of_correlation.end()) event.op_index = it->second;
    }
    if (event.op_index >= 0) {
      ++result.device_events_attributed;
    } else {
      ++result.device_events_unattributed;
    }
  }
  return result;
}

}  // namespace tbprof::internal
