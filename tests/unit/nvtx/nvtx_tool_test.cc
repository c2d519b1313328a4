#include "src/nvtx/nvtx_tool.h"

#include <nvtx3/nvToolsExt.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/session/session.h"
#include "tbprof/annotate.h"

namespace tbprof::internal {
namespace {

// The tool attaches only with TBPROF=1, read once at the first NVTX call.
const bool kEnabled = [] {
  setenv("TBPROF", "1", 1);
  unsetenv("NVTX_INJECTION64_PATH");
  unsetenv("TBPROF_STEPS");
  setenv("TBPROF_NVTX_OP_DOMAINS", "tbprof.ops,engine", 1);
  return true;
}();

SessionOptions Options() {
  SessionOptions o;
  o.logdir = ::testing::TempDir();
  o.gpu = GpuMode::kOff;
  o.host_level = 2;
  o.max_events = 1 << 20;
  return o;
}

struct Found {
  const ThreadTrack* track = nullptr;
  const HostEvent* event = nullptr;
};

Found Find(const Trace& trace, std::string_view name) {
  for (const ThreadTrack& t : trace.threads) {
    for (const HostEvent& e : t.events) {
      if (trace.names[e.name] == name) return {&t, &e};
    }
  }
  return {};
}

bool HasWarning(const Trace& trace, const char* text) {
  for (const std::string& w : trace.warnings) {
    if (absl::StrContains(w, text)) return true;
  }
  return false;
}

TEST(NvtxSplitTest, SplitsNameAndType) {
  std::string name, type;
  nvtx::SplitOpMessage("layer1/matmul:MatMul", "engine", &name, &type);
  EXPECT_EQ(name, "layer1/matmul");
  EXPECT_EQ(type, "MatMul");
  nvtx::SplitOpMessage("aten::addmm", "engine", &name, &type);
  EXPECT_EQ(name, "aten::addmm");
  EXPECT_EQ(type, "Engine");
  nvtx::SplitOpMessage("x:lower", "tbprof.ops", &name, &type);
  EXPECT_EQ(name, "x:lower");
  EXPECT_EQ(type, "Tbprof_ops");
  nvtx::SplitOpMessage("ratio 1:2", "", &name, &type);
  EXPECT_EQ(name, "ratio 1:2");
  EXPECT_EQ(type, "NVTX");
}

TEST(NvtxSplitTest, ParsesOpDomains) {
  std::string error;
  nvtx::OpDomains d = nvtx::ParseOpDomains(" a, default ,*", &error);
  EXPECT_TRUE(error.empty());
  EXPECT_EQ(d.names, std::vector<std::string>{"a"});
  EXPECT_TRUE(d.unnamed);
  EXPECT_TRUE(d.all);
  d = nvtx::ParseOpDomains("a,,b", &error);
  EXPECT_TRUE(absl::StrContains(error, "TBPROF_NVTX_OP_DOMAINS"));
  EXPECT_EQ(d.names.size(), 3u);  // The defaults.
  d = nvtx::ParseOpDomains("", &error);
  EXPECT_TRUE(d.names.empty());
}

TEST(NvtxToolTest, RecordsRangesMarksDomainsAndNames) {
  ASSERT_TRUE(kEnabled);
  nvtxRangePushA("before_capture");  // Pushed while no capture records.
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  EXPECT_LT(nvtxRangePop(), 0);  // Its pop: counted, not recorded.

  nvtxDomainHandle_t ops = nvtxDomainCreateA("tbprof.ops");
  nvtxDomainHandle_t lib = nvtxDomainCreateA("mylib");
  nvtxDomainNameCategoryA(lib, 7, "io");
  nvtxStringHandle_t reg = nvtxDomainRegisterStringA(lib, "registered_range");
  nvtxNameOsThreadA(static_cast<uint32_t>(syscall(SYS_gettid)), "nvtx main");

  nvtxRangePushA("outer");
  {
    nvtxEventAttributes_t a{};
    a.version = NVTX_VERSION;
    a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    a.messageType = NVTX_MESSAGE_TYPE_ASCII;
    a.message.ascii = "dense_1/matmul:MatMul";
    nvtxDomainRangePushEx(ops, &a);
    a.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
    a.message.registered = reg;
    a.category = 7;
    nvtxDomainRangePushEx(lib, &a);
    nvtxDomainRangePop(lib);
    nvtxDomainMarkEx(lib, &a);
    nvtxDomainRangePop(ops);
  }
  nvtxRangePop();
  EXPECT_LT(nvtxRangePop(), 0);  // Unbalanced.
  nvtxRangeEnd(987654321);       // End without a start.

  // A range started here and ended on another thread.
  nvtxRangeId_t cross = nvtxRangeStartA("cross_thread");
  std::thread([cross] { nvtxRangeEnd(cross); }).join();

  // Many distinct names.
  for (int i = 0; i < 10000; ++i) {
    std::string name = absl::StrCat("name_", i);
    nvtxRangePushA(name.c_str());
    nvtxRangePop();
  }
  // A domain destroyed mid-capture, then used by mistake.
  nvtxDomainHandle_t gone = nvtxDomainCreateA("gone");
  nvtxDomainRangePushEx(gone, nullptr);
  nvtxDomainDestroy(gone);
  nvtxDomainRangePop(gone);
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.messageType = NVTX_MESSAGE_TYPE_ASCII;
  a.message.ascii = "after_destroy";
  nvtxDomainRangePushEx(gone, &a);

  ASSERT_TRUE(session.Collect().ok());
  const Trace& trace = session.trace();

  Found outer = Find(trace, "outer");
  ASSERT_NE(outer.event, nullptr);
  EXPECT_EQ(outer.track->name, "nvtx main");
  Found op = Find(trace, "dense_1/matmul:MatMul");
  ASSERT_NE(op.event, nullptr);
  EXPECT_EQ(op.event->kind, HostEventKind::kOp);
  ASSERT_GE(op.event->op_index, 0);
  EXPECT_EQ(trace.ops[op.event->op_index].type, "MatMul");
  EXPECT_GE(op.event->start_ns, outer.event->start_ns);
  EXPECT_LE(op.event->end_ns, outer.event->end_ns);
  Found inner = Find(trace, "registered_range [io]");
  ASSERT_NE(inner.event, nullptr);
  EXPECT_GE(inner.event->start_ns, op.event->start_ns);
  EXPECT_LE(inner.event->end_ns, op.event->end_ns);
  EXPECT_EQ(inner.track, op.track);
  Found cross_range = Find(trace, "cross_thread");
  ASSERT_NE(cross_range.event, nullptr);
  EXPECT_EQ(cross_range.track->name, "NVTX NVTX ranges");
  EXPECT_EQ(Find(trace, "before_capture").event, nullptr);
  EXPECT_EQ(Find(trace, "after_destroy").event, nullptr);
  std::set<std::string> names;
  for (const HostEvent& e : outer.track->events) {
    if (absl::StartsWith(trace.names[e.name], "name_")) names.insert(trace.names[e.name]);
  }
  EXPECT_EQ(names.size(), 10000u);

  EXPECT_TRUE(HasWarning(trace, "NVTX: 2 range pop(s) without a push")) << trace.warnings.size();
  EXPECT_TRUE(HasWarning(trace, "NVTX: 1 range end(s) without a start"));
  EXPECT_TRUE(HasWarning(trace, "NVTX: 2 call(s) on a destroyed domain"));
}

TEST(NvtxToolTest, CallsBetweenCapturesAreNotRecorded) {
  nvtxRangePushA("between");
  nvtxRangePop();
  Session session(Options(), nullptr);
  ASSERT_TRUE(session.Start().ok());
  nvtxRangePushA("inside");
  nvtxRangePop();
  ASSERT_TRUE(session.Collect().ok());
  EXPECT_EQ(Find(session.trace(), "between").event, nullptr);
  EXPECT_NE(Find(session.trace(), "inside").event, nullptr);
  // No warnings carried over from the previous capture.
  EXPECT_FALSE(HasWarning(session.trace(), "NVTX:"));
}

}  // namespace
}  // namespace tbprof::internal
