// Annotations allocate nothing while tracing is off, and nothing in steady state while it is on
// (after the first block and the first sight of each op and name). Counts every operator new
// of this test binary.
#include <atomic>
#include <cstdlib>
#include <new>

#include "gtest/gtest.h"
#include "src/host/recorder.h"
#include "src/trace/trace_data.h"
#include "tbprof/annotate.h"
#include "tbprof/memory.h"

namespace {
std::atomic<int64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// The nothrow form too (std::stable_sort's buffer): its memory is freed by the operator delete
// below, so it must come from malloc as well.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace tbprof::internal {
namespace {

float g_x[8], g_w[8], g_y[8];

void Forward(int64_t step) {
  static const MemoryAllocator* arena = new MemoryAllocator("no_allocation_arena");
  StepScope s(step);
  NameScope model("model");
  for (int layer = 0; layer < 3; ++layer) {
    NameScope scope(layer == 0 ? "dense_1" : layer == 1 ? "dense_2" : "dense_3");
    {
      TBPROF_OP("MatMul", "MatMul",
                {TensorRef(g_x, DType::kFloat32, {2, 4}), TensorRef(g_w, DType::kFloat32, {4, 2})},
                {TensorRef(g_y, DType::kFloat32, {2, 2})});
    }
    { TBPROF_OP("Relu", "Relu", {TensorRef(g_y, DType::kFloat32, {2, 2})}, {}); }
    arena->RecordAlloc(g_w, 32);  // Recorded allocations take no allocation either.
    arena->RecordFree(g_w);
    TBPROF_SCOPE("plain");
  }
}

TEST(NoAllocationTest, TracingOff) {
  Forward(0);  // Reads the configuration.
  int64_t before = g_allocations.load();
  for (int i = 0; i < 1000; ++i) Forward(i);
  EXPECT_EQ(g_allocations.load() - before, 0);
}

TEST(NoAllocationTest, TracingOnSteadyState) {
  for (int session = 0; session < 2; ++session) {
    RecorderOptions options;
    options.host_level = 2;
    ASSERT_TRUE(StartRecording(options).ok());  // Fills the block pool.
    Forward(0);                                 // First sight of every op and name in this session.
    int64_t before = g_allocations.load();
    for (int i = 1; i < 1000; ++i) Forward(i);  // ~ 30000 records: several blocks.
    EXPECT_EQ(g_allocations.load() - before, 0) << "session " << session;
    Trace t;
    ASSERT_TRUE(CollectHostTrace(&t).ok());
    ASSERT_EQ(t.threads.size(), 1u);
    EXPECT_EQ(t.threads[0].events.size(), 1000u * (1 + 1 + 3 * 4));
    EXPECT_EQ(t.ops.size(), 6u);
    EXPECT_EQ(t.memory_events.size(), 1000u * 3 * 2);
  }
}

}  // namespace
}  // namespace tbprof::internal
