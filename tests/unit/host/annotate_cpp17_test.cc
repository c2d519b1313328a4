// The public annotation and capture headers compile as C++17 with -Wall -Wextra -pedantic
// -Werror (this file is built with CXX_STANDARD 17), and the macros work in that mode.
#include <gtest/gtest.h>

#include <cstdint>

#include "tbprof/annotate.h"
#include "tbprof/memory.h"
#include "tbprof/trace.h"

namespace {

static_assert(__cplusplus == 201703L, "this test must be built as C++17");

TEST(AnnotateCpp17Test, MacrosAndClassesCompileAndRunWhileOff) {
  float buffer[6] = {};
  for (int64_t step = 0; step < 2; ++step) {
    tbprof::StepScope s(step);
    tbprof::NameScope layer("dense");
    // clang-format off
    TBPROF_SCOPE("a"); TBPROF_SCOPE("b");  // Two on one line: names made unique by __COUNTER__.
    // clang-format on
    TBPROF_OP("MatMul", "MatMul", {tbprof::TensorRef(buffer, tbprof::DType::kFloat32, {2, 3})}, {});
    tbprof::OpScope op("Relu", "Relu");
  }
  tbprof::MemoryAllocator arena("cpp17_arena");
  arena.RecordAlloc(buffer, sizeof(buffer), 32);
  arena.RecordFree(buffer);
  tbprof::SetThreadName("cpp17");
  tbprof::TraceOptions options;
  options.host_level = 1;
  EXPECT_TRUE(tbprof::TraceOn(options).ok());  // TBPROF unset: a no-op.
  EXPECT_TRUE(tbprof::TraceOff().ok());
}

}  // namespace
