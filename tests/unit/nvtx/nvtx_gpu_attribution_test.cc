// GPU work launched inside an NVTX range of an op domain is attributed to that op, as inside an
// OpScope; the launch -> kernel arrow is in the Chrome trace. CUPTI records are hand-packed and
// replayed through the real cupti/ code (no GPU needed).
#include <cupti.h>
#include <nvtx3/nvToolsExt.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "cupti/clock_sync.h"
#include "gtest/gtest.h"
#include "src/export/chrome_trace.h"
#include "src/session/session.h"
#include "tests/fakes/fake_device_source.h"

namespace tbprof::testing {
namespace {

const bool kEnabled = [] {
  setenv("TBPROF", "1", 1);
  unsetenv("NVTX_INJECTION64_PATH");
  unsetenv("TBPROF_STEPS");
  setenv("TBPROF_NVTX_OP_DOMAINS", "engine", 1);
  return true;
}();

void Spin(int64_t ns) {
  const int64_t end = internal::cupti::HostClockNs() + ns;
  while (internal::cupti::HostClockNs() < end) {
  }
}

int Count(const std::string& s, std::string_view what) {
  int n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(NvtxGpuAttributionTest, KernelsLaunchedInAnOpRangeBelongToIt) {
  ASSERT_TRUE(kEnabled);
  nvtxDomainHandle_t engine = nvtxDomainCreateA("engine");
  auto owned = std::make_unique<FakeDeviceSource>(FakeDeviceSourceConfig());
  FakeDeviceSource* fake = owned.get();
  internal::SessionOptions options;
  options.logdir = ::testing::TempDir();
  internal::Session session(options, std::move(owned));
  ASSERT_TRUE(session.Start().ok());
  const auto tid = static_cast<uint32_t>(syscall(SYS_gettid));
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.messageType = NVTX_MESSAGE_TYPE_ASCII;
  a.message.ascii = "gemm_layer";  // Type from the domain: "Engine".
  nvtxDomainRangePushEx(engine, &a);
  Spin(50000);
  const uint64_t begin = static_cast<uint64_t>(internal::cupti::HostClockNs());
  Spin(2000);  // "cudaLaunchKernel".
  const uint64_t end = static_cast<uint64_t>(internal::cupti::HostClockNs());
  fake->AddBuffer(
      ActivityBufferBuilder()
          .Add(MakeApi(CUPTI_ACTIVITY_KIND_RUNTIME, CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000,
                       begin, end, tid, 271))
          .Add(MakeKernel("_Z4gemmv", end + 3000, end + 9000, 271))
          .Build());
  Spin(50000);
  nvtxDomainRangePop(engine);
  ASSERT_TRUE(session.Collect().ok());
  const internal::Trace& t = session.trace();
  ASSERT_EQ(t.device_events.size(), 1u);
  const int32_t op = t.device_events[0].op_index;
  ASSERT_GE(op, 0);
  EXPECT_EQ(t.ops[op].name, "gemm_layer");
  EXPECT_EQ(t.ops[op].type, "Engine");
  EXPECT_EQ(t.ops[op].kernel_count, 1);

  const std::string json = internal::EncodeChromeTraceJson(t);
  EXPECT_EQ(Count(json, "{\"ph\":\"s\",\"id\":1,"), 1);
  EXPECT_EQ(Count(json, "{\"ph\":\"f\",\"bp\":\"e\",\"id\":1,"), 1);
  EXPECT_EQ(Count(json, "\"cat\":\"launch\""), 2);
}

}  // namespace
}  // namespace tbprof::testing
