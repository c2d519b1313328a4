#include "src/host/flow.h"

#include <map>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "src/export/chrome_trace.h"
#include "src/export/xplane_writer.h"
#include "src/session/session.h"
#include "tbprof/annotate.h"
#include "tbprof/flow.h"
#include "tensorflow/profiler/xplane.pb.h"
#include "tests/unit/session/test_session_options.h"

namespace tbprof::internal {
namespace {

SessionOptions Options() { return HostOnlySessionOptions(/*host_level=*/2, 1 << 16); }

const HostEvent* Find(const Trace& trace, std::string_view name, int64_t* tid = nullptr) {
  for (const ThreadTrack& t : trace.threads) {
    for (const HostEvent& e : t.events) {
      if (trace.names[e.name] == name) {
        if (tid != nullptr) *tid = t.tid;
        return &e;
      }
    }
  }
  return nullptr;
}

int Count(const std::string& s, std::string_view what) {
  int n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(FlowTest, ProducerAndConsumerOnTwoThreadsBecomeArrows) {
  FlowProduce(99);  // Tracing off: nothing.
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  std::thread producer([] {
    for (uint64_t id = 1; id <= 3; ++id) {
      TBPROF_SCOPE("produce");
      { TBPROF_SCOPE("fill"); }
      FlowProduce(id);
    }
  });
  producer.join();
  for (uint64_t id = 1; id <= 3; ++id) {
    TBPROF_SCOPE("consume");
    FlowConsume(id);
    FlowConsume(id + 100);  // A second id for the same scope: dropped, counted.
  }
  FlowProduce(42);  // Outside any scope: counted.
  {
    TBPROF_SCOPE("orphan");
    FlowConsume(77);  // Nobody produced 77: no arrow.
  }
  ASSERT_TRUE(session.Collect().ok());
  const Trace& trace = session.trace();

  int64_t producer_tid = 0, consumer_tid = 0;
  const HostEvent* produce = Find(trace, "produce", &producer_tid);
  const HostEvent* consume = Find(trace, "consume", &consumer_tid);
  ASSERT_NE(produce, nullptr);
  ASSERT_NE(consume, nullptr);
  EXPECT_NE(producer_tid, consumer_tid);
  EXPECT_EQ(produce->flow_produced, 1u);
  EXPECT_EQ(consume->flow_consumed, 1u);
  EXPECT_EQ(Find(trace, "fill")->flow_produced, 0u);  // Closed before the mark.
  int with_warning = 0;
  for (const std::string& w : trace.warnings) {
    if (absl::StrContains(w, "1 flow mark(s) (FlowProduce/FlowConsume) made outside")) {
      ++with_warning;
    }
    if (absl::StrContains(w, "3 flow mark(s) were dropped: their scope already")) ++with_warning;
  }
  EXPECT_EQ(with_warning, 2);

  // Chrome trace: three producer -> consumer arrows, each start with its finish; none for 77.
  const std::string json = EncodeChromeTraceJson(trace);
  EXPECT_EQ(Count(json, "{\"ph\":\"s\""), 3);
  EXPECT_EQ(Count(json, "{\"ph\":\"f\",\"bp\":\"e\""), 3);
  EXPECT_EQ(Count(json, "\"args\":{\"id\":77}"), 0);

  // XSpace: xprof's producer/consumer stats on the two events.
  tensorflow::profiler::XSpace space;
  ASSERT_TRUE(space.ParseFromString(EncodeXSpace(trace)));
  std::map<std::string, int> stats;
  for (const auto& plane : space.planes()) {
    if (plane.name() != "/host:CPU") continue;
    std::map<int64_t, std::string> stat_names;
    for (const auto& [id, m] : plane.stat_metadata()) stat_names[id] = m.name();
    for (const auto& line : plane.lines()) {
      for (const auto& event : line.events()) {
        for (const auto& stat : event.stats()) {
          const std::string& name = stat_names[stat.metadata_id()];
          if (name == "_p" || name == "_c") {
            EXPECT_GE(stat.uint64_value(), 1u);
            EXPECT_LE(stat.uint64_value(), 77u);
          }
          ++stats[name];
        }
      }
    }
  }
  EXPECT_EQ(stats["_p"], 3);
  EXPECT_EQ(stats["_pt"], 3);
  EXPECT_EQ(stats["_c"], 4);  // Three consumes and the orphan.
  EXPECT_EQ(stats["_ct"], 4);
}

}  // namespace
}  // namespace tbprof::internal
