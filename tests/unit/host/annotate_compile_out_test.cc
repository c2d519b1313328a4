// Built with TBPROF_COMPILE_OUT=1: every annotation compiles to nothing, arguments included,
// even while a capture is recording.
#include <gtest/gtest.h>

#include "src/host/recorder.h"
#include "src/trace/trace_data.h"
#include "tbprof/annotate.h"
#include "tbprof/input.h"
#include "tbprof/memory.h"

namespace tbprof::internal {
namespace {

static_assert(TBPROF_COMPILE_OUT, "this test must be built with TBPROF_COMPILE_OUT=1");

int g_evaluations = 0;
TensorRef Counted() {
  ++g_evaluations;
  return TensorRef();
}

TEST(AnnotateCompileOutTest, NothingIsEvaluatedOrRecorded) {
  RecorderOptions options;
  ASSERT_TRUE(StartRecording(options).ok());
  {
    StepScope step(1);
    NameScope layer("dense");
    TBPROF_SCOPE("compiled_out");
    TBPROF_INPUT_WAIT("wait_compiled_out");
    TBPROF_INPUT_WORK("work_compiled_out");
    TBPROF_OP("MatMul", "MatMul", {Counted()}, {Counted()});
    OpScope op("Relu", "Relu");
    MemoryAllocator arena("compiled_out_arena");
    arena.RecordAlloc(&g_evaluations, 4);
    arena.RecordFree(&g_evaluations);
  }
  Trace trace;
  ASSERT_TRUE(CollectHostTrace(&trace).ok());
  EXPECT_EQ(g_evaluations, 0);
  EXPECT_TRUE(trace.threads.empty());
  EXPECT_TRUE(trace.steps.empty());
  EXPECT_TRUE(trace.ops.empty());
  EXPECT_TRUE(trace.memory_events.empty());
}

}  // namespace
}  // namespace tbprof::internal
