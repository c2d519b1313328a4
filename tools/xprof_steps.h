// The steps of a profile as xprof's overview page finds them, for profiles written by any
// producer (tbprof, TensorFlow, JAX). xprof does not read steps off the events directly: it
// groups the events first, then keeps the groups that look like steps:
//
// * Roots are the events with an `_r` stat (root level = its value), events named
//   "TraceContext" (level 1), "ProcessBatch" (2) and "BatchingSessionRun" (1). Runtime
//   events such as FunctionRun or SessionRun are not roots by themselves. Roots of a tf.data
//   function (`step_id` of an InstantiatedCapturedFunction::Run* event) are skipped.
// * Events are connected by nesting on their line (async `_a` events excepted), by
//   producer/consumer stats (`_pt`/`_p` -> `_ct`/`_c`), by ExecutorState::Process ->
//   IteratorGetNext*Op::DoCompute (`step_id`, `iter_num`) and by kernel launch -> kernel
//   (`correlation_id`). Roots are taken by level (highest first), then by start time; a root
//   below a root of the same level belongs to that one. Each root's group is everything
//   reachable from it that no earlier group took; group ids count from 0.
// * When the event names include TensorFlow loop ops (WhileOp-EvalCond, ForOp...), nothing is
//   grouped; when ExecutorState::Process events carry iterations of a loop (`iter_num` other
//   than 0), each iteration is a group instead.
// * A group is a step when it has a step marker on the host plane: an event whose name starts
//   with "train", "test" or "TraceContext" without a '/', or a root that is not a runtime
//   event (FunctionRun, SessionRun, RunGraph, ExecutorState::Process). The step's time is its
//   longest marker. xprof drops the groups whose time is 0 and, on a CPU-only profile, those
//   without host compute (an event of the group other than the markers, EagerExecute*,
//   FunctionRun* and IteratorGetNext*, not hidden under higher-priority ones); with GPUs, a
//   step is the extent of its kernels and copies on each GPU (the longest), and needs a kernel.
//
// Steps are numbered as xprof names them: the `iter_num` or `step_num` stat of the root or an
// event above it, else the group id.
#ifndef TBPROF_TOOLS_XPROF_STEPS_H_
#define TBPROF_TOOLS_XPROF_STEPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tensorflow/profiler/xplane.pb.h"

namespace tbprof::cli {

struct XprofStep {
  int64_t group_id = 0;
  int64_t step = 0;  // The number xprof shows in the group name.
  std::string name;  // xprof's group name: "<root name or graph_type> <step>".
  std::string root;  // Name of the root event.
  int64_t start_ps = 0;
  int64_t duration_ps = 0;
};

struct XprofSteps {
  std::vector<XprofStep> steps;  // Kept steps, by group id.
  int64_t roots = 0;             // Root events found.
  int64_t groups = 0;            // Groups formed.
  int64_t dropped = 0;           // Groups with a marker that xprof drops (no compute, no time).
  bool loop_ops = false;         // TensorFlow loop op names: xprof groups nothing.
};

// Groups the events of `space` as xprof does and returns its steps. Linear in the number of
// events (plus sorting); cheap when the profile holds no root at all.
XprofSteps FindXprofSteps(const tensorflow::profiler::XSpace& space);

}  // namespace tbprof::cli

#endif  // TBPROF_TOOLS_XPROF_STEPS_H_
