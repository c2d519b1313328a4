// A capture session with a device source: the fake replaying CUPTI records whose launches
// happen inside real OpScopes (the precondition of attributing kernels to ops), and the real
// CUPTI source on a machine where it cannot start (the capture goes on CPU-only).
#include <cupti.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "cupti/clock_sync.h"
#include "gtest/gtest.h"
#include "src/trace/device_source.h"
#include "src/session/session.h"
#include "src/trace/trace_data.h"
#include "tbprof/annotate.h"
#include "tests/fakes/fake_device_source.h"

namespace tbprof::testing {
namespace {

using internal::HostEvent;
using internal::HostEventKind;
using internal::Session;
using internal::SessionOptions;
using internal::Trace;

void Spin(int64_t ns) {
  const int64_t end = internal::cupti::HostClockNs() + ns;
  while (internal::cupti::HostClockNs() < end) {
  }
}

std::string TempDir() {
  const char* dir = std::getenv("TBPROF_TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

TEST(SessionWithDeviceSourceTest, LaunchSitsInsideTheOpScopeThatIssuedIt) {
  auto owned = std::make_unique<FakeDeviceSource>(FakeDeviceSourceConfig());
  FakeDeviceSource* fake = owned.get();
  SessionOptions options;
  options.logdir = TempDir();
  Session session(options, std::move(owned));
  ASSERT_TRUE(session.Start().ok());
  const auto tid = static_cast<uint32_t>(syscall(SYS_gettid));
  {
    tbprof::NameScope layer("dense_1");
    TBPROF_OP("MatMul", "MatMul", {}, {});
    Spin(50000);
    const uint64_t begin = static_cast<uint64_t>(internal::cupti::HostClockNs());
    Spin(2000);  // "cudaLaunchKernel".
    const uint64_t end = static_cast<uint64_t>(internal::cupti::HostClockNs());
    fake->AddBuffer(ActivityBufferBuilder()
                        .Add(MakeApi(CUPTI_ACTIVITY_KIND_RUNTIME,
                                     CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, begin, end,
                                     tid, 314))
                        .Add(MakeKernel("_Z6matmulv", end + 3000, end + 9000, 314))
                        .Build());
    Spin(50000);
  }
  ASSERT_TRUE(session.Collect().ok());
  const Trace& t = session.trace();
  EXPECT_EQ(fake->start_calls(), 1);
  EXPECT_EQ(fake->stop_calls(), 1);

  const internal::ThreadTrack* track = nullptr;
  for (const auto& th : t.threads) {
    if (th.tid == tid) track = &th;
  }
  ASSERT_NE(track, nullptr);
  const HostEvent* op = nullptr;
  const HostEvent* launch = nullptr;
  for (const HostEvent& e : track->events) {
    if (e.kind == HostEventKind::kOp && t.names[e.name] == "dense_1/MatMul:MatMul") op = &e;
    if (e.kind == HostEventKind::kLaunch) launch = &e;
  }
  ASSERT_NE(op, nullptr);
  ASSERT_NE(launch, nullptr);
  EXPECT_EQ(launch->correlation_id, 314u);
  EXPECT_GE(launch->start_ns, op->start_ns);
  EXPECT_LE(launch->end_ns, op->end_ns);
  ASSERT_EQ(t.device_events.size(), 1u);
  EXPECT_EQ(t.device_events[0].correlation_id, 314u);
  EXPECT_EQ(t.names[t.device_events[0].name], "matmul()");
  EXPECT_GT(t.device_events[0].start_ns, launch->end_ns);
}

TEST(SessionWithDeviceSourceTest, CaptureGoesOnWithoutCupti) {
  setenv("TBPROF_CUPTI_PATH", "/nonexistent/libcupti.so.13", 1);
  SessionOptions options;
  options.logdir = TempDir();
  Session session(options, internal::CreateGpuDeviceSource());
  ASSERT_TRUE(session.Start().ok());
  {
    TBPROF_OP("Relu", "Relu", {}, {});
    Spin(10000);
  }
  ASSERT_TRUE(session.Collect().ok());
  unsetenv("TBPROF_CUPTI_PATH");
  const Trace& t = session.trace();
  EXPECT_TRUE(t.device_events.empty());
  bool op_seen = false;
  for (const auto& th : t.threads) {
    for (const HostEvent& e : th.events) op_seen |= e.kind == HostEventKind::kOp;
  }
  EXPECT_TRUE(op_seen);
  bool warned = false;
  for (const std::string& w : t.warnings) warned |= w.find("GPU tracing unavailable") != std::string::npos;
  // A program that never loaded the CUDA driver gets no warning in the profile (at most a line
  // on stderr); one that did is told GPU tracing failed.
  EXPECT_EQ(warned, internal::CudaDriverLoaded());
}

}  // namespace
}  // namespace tbprof::testing
