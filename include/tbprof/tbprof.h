// Everything tbprof offers, in one include: annotations (annotate.h, flow.h, input.h),
// allocations (memory.h), capture control (trace.h), graphs (graph.h), summaries (summary.h)
// and the version.
#ifndef TBPROF_TBPROF_H_
#define TBPROF_TBPROF_H_

#include "tbprof/annotate.h"  // IWYU pragma: export
#include "tbprof/flow.h"      // IWYU pragma: export
#include "tbprof/graph.h"     // IWYU pragma: export
#include "tbprof/input.h"     // IWYU pragma: export
#include "tbprof/memory.h"    // IWYU pragma: export
#include "tbprof/summary.h"   // IWYU pragma: export
#include "tbprof/trace.h"     // IWYU pragma: export
#include "tbprof/version.h"   // IWYU pragma: export

#endif  // TBPROF_TBPROF_H_
