// Cause and effect: which work produced what another piece of work consumes, possibly on
// another thread. An input thread that prepares batch 12 calls FlowProduce(12) inside the scope
// that made it; the step that uses it calls FlowConsume(12) inside its own scope:
//
//   { TBPROF_SCOPE("generate_batch"); ...; tbprof::FlowProduce(batch_id); }   // input thread
//   tbprof::StepScope s(step);
//   { TBPROF_SCOPE("wait_for_input"); x = queue.pop(); tbprof::FlowConsume(x.id); }
//
// The innermost scope open on the calling thread (TBPROF_SCOPE, TBPROF_OP, StepScope, a
// NameScope recorded at TBPROF_HOST_LEVEL >= 2, an NVTX push range) becomes the producer or
// consumer of `id`. xprof's trace viewer draws an arrow from the producer to each consumer (the
// events carry xprof's producer/consumer stats `_p`/`_pt`/`_c`/`_ct`, context type 0 =
// kGeneric), and so does the Chrome trace (flow events). An id is a number chosen by the
// program, unique while the arrow matters (a batch number, a request id); 0 is ignored. A scope
// keeps the first id it produced and the first it consumed.
//
// Cost: nothing while tracing is off (one relaxed load, like every annotation); while on, one
// timestamp and a short locked append: meant for one mark per batch or request, not per op.
#ifndef TBPROF_FLOW_H_
#define TBPROF_FLOW_H_

#include <cstdint>

#include "tbprof/internal/annotate_fast.h"

namespace tbprof {
namespace internal {
void FlowMark(uint64_t id, bool consumer);
}  // namespace internal

// Marks the calling thread's innermost open scope as the producer of `id`.
inline void FlowProduce(uint64_t id) {
#if !defined(TBPROF_COMPILE_OUT) || !TBPROF_COMPILE_OUT
  if (internal::MayRecord(internal::kScopeMask)) internal::FlowMark(id, /*consumer=*/false);
#else
  (void)id;
#endif
}

// Marks the calling thread's innermost open scope as a consumer of `id`.
inline void FlowConsume(uint64_t id) {
#if !defined(TBPROF_COMPILE_OUT) || !TBPROF_COMPILE_OUT
  if (internal::MayRecord(internal::kScopeMask)) internal::FlowMark(id, /*consumer=*/true);
#else
  (void)id;
#endif
}

}  // namespace tbprof

#endif  // TBPROF_FLOW_H_
