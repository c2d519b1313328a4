// Input pipelines: the work that prepares a step's data, and the time a step waits for it.
//
//   void InputThread() {                                  // prepares batches ahead of the model
//     for (...) {
//       TBPROF_INPUT_WORK("generate_batch");              // "Iterator::generate_batch"
//       ... read, decode, augment ...
//     }
//   }
//   for (int64_t step = 0; step < n; ++step) {
//     tbprof::StepScope s(step);
//     { TBPROF_INPUT_WAIT("wait_for_input"); x = queue.pop(); }  // "IteratorGetNext/wait_..."
//     model.Forward(x);
//   }
//
// Both are TBPROF_SCOPE spans whose names follow the conventions TensorBoard's Profile tab
// (xprof) uses for tf.data, so that its overview page and input-pipeline analyzer account for
// them (docs/input-pipeline.md has the details):
//   - TBPROF_INPUT_WAIT(name) is recorded as "IteratorGetNext/<name>". Inside a step, xprof
//     counts the time of an event whose name starts with "IteratorGetNext" as the host waiting
//     for input: the step-time graph's "Input" part, the overview page's and the input-pipeline
//     analyzer's "% of the total step time sampled is waiting for input".
//   - TBPROF_INPUT_WORK(name) is recorded as "Iterator::<name>", the form of tf.data's iterator
//     events: xprof lists it as an input op (type "Dataset") in the input-pipeline analyzer's
//     host-side table (category "Preprocessing"; a name ending in "::TFRecord", "::TextLine",
//     "::FixedLengthRecord", "::SSTable", "::RecordIO" or "::ArrayRecord" is a file read).
//     Input work does not count in the step breakdown: a step is slowed by input only where it
//     waits, so mark the wait too.
// Wait only where the step really blocks (popping a queue), not around work the step does
// itself: that time would be reported as input instead of host compute.
//
// Cost: exactly that of TBPROF_SCOPE (one relaxed load and a predicted branch while tracing is
// off; nothing at all with -DTBPROF_COMPILE_OUT=1). `name` must be a string literal.
// Thread-safety: as every annotation (tbprof/annotate.h).
#ifndef TBPROF_INPUT_H_
#define TBPROF_INPUT_H_

#include "tbprof/annotate.h"

// The prefixes xprof recognises. Part of the recorded names: the Chrome trace, `tbprof summary`
// and the trace viewer show them too.
#define TBPROF_INPUT_WAIT_PREFIX "IteratorGetNext/"
#define TBPROF_INPUT_WORK_PREFIX "Iterator::"

// TBPROF_INPUT_WAIT("name"): the enclosing block is time the current step waits for its input.
#define TBPROF_INPUT_WAIT(name) TBPROF_SCOPE(TBPROF_INPUT_WAIT_PREFIX name)

// TBPROF_INPUT_WORK("name"): the enclosing block is input-pipeline work (reading, decoding,
// preparing a batch), usually on an input thread.
#define TBPROF_INPUT_WORK(name) TBPROF_SCOPE(TBPROF_INPUT_WORK_PREFIX name)

#endif  // TBPROF_INPUT_H_
