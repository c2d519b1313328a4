// TBPROF_INPUT_WAIT / TBPROF_INPUT_WORK (include/tbprof/input.h): scopes under the names xprof
// reads as a step's wait for input and as input-pipeline work.
#include <string_view>
#include <thread>

#include "gtest/gtest.h"
#include "src/session/session.h"
#include "tbprof/annotate.h"
#include "tbprof/flow.h"
#include "tbprof/input.h"
#include "tests/unit/session/test_session_options.h"

namespace tbprof::internal {
namespace {

SessionOptions Options() { return HostOnlySessionOptions(/*host_level=*/1, 1 << 16); }

struct Found {
  const HostEvent* event = nullptr;
  int64_t tid = 0;
};

Found Find(const Trace& trace, std::string_view name) {
  for (const ThreadTrack& t : trace.threads) {
    for (const HostEvent& e : t.events) {
      if (trace.names[e.name] == name) return {&e, t.tid};
    }
  }
  return {};
}

TEST(InputAnnotationTest, WaitAndWorkCarryXprofsInputNames) {
  {
    TBPROF_INPUT_WAIT("before");  // Tracing off: nothing.
  }
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  std::thread input([] {
    TBPROF_INPUT_WORK("generate_batch");
    FlowProduce(1);
  });
  input.join();
  {
    StepScope step(0);
    {
      TBPROF_INPUT_WAIT("wait_for_input");
      FlowConsume(1);
    }
    TBPROF_SCOPE("compute");
  }
  ASSERT_TRUE(session.Collect().ok());
  const Trace& trace = session.trace();

  EXPECT_EQ(Find(trace, TBPROF_INPUT_WAIT_PREFIX "before").event, nullptr);
  const Found work = Find(trace, "Iterator::generate_batch");
  const Found wait = Find(trace, "IteratorGetNext/wait_for_input");
  const Found step = Find(trace, "step");
  ASSERT_NE(work.event, nullptr);
  ASSERT_NE(wait.event, nullptr);
  ASSERT_NE(step.event, nullptr);
  EXPECT_NE(work.tid, wait.tid);
  // The wait lies inside its step, on the step's thread: xprof counts it for that step.
  EXPECT_EQ(wait.tid, step.tid);
  EXPECT_LE(step.event->start_ns, wait.event->start_ns);
  EXPECT_LE(wait.event->end_ns, step.event->end_ns);
  EXPECT_EQ(wait.event->kind, HostEventKind::kScope);
  // They are scopes like any other: flows attach to them.
  EXPECT_EQ(work.event->flow_produced, 1u);
  EXPECT_EQ(wait.event->flow_consumed, 1u);
}

}  // namespace
}  // namespace tbprof::internal
