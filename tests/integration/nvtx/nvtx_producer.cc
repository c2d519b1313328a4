// A program annotated with NVTX only: it includes the CUDA toolkit's NVTX3 headers and nothing
// of tbprof. `tbprof run` captures it through NVTX's injection library.
#include <nvtx3/nvToolsExt.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

double Work(int n) {
  double x = 0;
  for (int i = 0; i < n; ++i) x += std::sqrt(static_cast<double>(i));
  return x;
}

nvtxEventAttributes_t Attributes(const char* message, uint32_t category = 0) {
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.messageType = NVTX_MESSAGE_TYPE_ASCII;
  a.message.ascii = message;
  a.category = category;
  a.colorType = NVTX_COLOR_ARGB;
  a.color = 0xff00ff00;
  a.payloadType = NVTX_PAYLOAD_TYPE_INT64;
  a.payload.llValue = 42;
  return a;
}

// NVTX calls after main returned: never recorded, never a crash.
struct AtExit {
  ~AtExit() {
    nvtxRangePushA("after_exit");
    nvtxRangePop();
    nvtxMarkA("after_exit_mark");
  }
} at_exit;

}  // namespace

int main() {
  nvtxNameOsThreadA(static_cast<uint32_t>(syscall(SYS_gettid)), "engine main");
  nvtxDomainHandle_t ops = nvtxDomainCreateA("tbprof.ops");
  nvtxDomainHandle_t io = nvtxDomainCreateA("engine.io");
  nvtxDomainNameCategoryA(io, 1, "disk");
  nvtxStringHandle_t load = nvtxDomainRegisterStringA(io, "load_batch");

  double sink = 0;
  for (int step = 0; step < 3; ++step) {
    nvtxRangePushA("forward");
    for (int layer = 0; layer < 2; ++layer) {
      const std::string name = "dense_" + std::to_string(layer) + "/matmul:MatMul";
      nvtxEventAttributes_t a = Attributes(name.c_str());
      nvtxDomainRangePushEx(ops, &a);
      sink += Work(20000);
      nvtxDomainRangePop(ops);
      nvtxEventAttributes_t relu = Attributes("dense_relu", 0);
      nvtxDomainRangePushEx(ops, &relu);
      sink += Work(5000);
      nvtxDomainRangePop(ops);
    }
    nvtxRangePop();
    nvtxMarkA("step_done");
  }

  // Input on another thread: a registered string with a named category, and a start/end range
  // started there and ended here.
  nvtxRangeId_t prefetch = 0;
  std::thread input([&] {
    nvtxNameOsThreadA(static_cast<uint32_t>(syscall(SYS_gettid)), "input thread");
    nvtxEventAttributes_t a = Attributes(nullptr, 1);
    a.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
    a.message.registered = load;
    nvtxDomainRangePushEx(io, &a);
    sink += Work(10000);
    nvtxDomainRangePop(io);
    prefetch = nvtxRangeStartA("prefetch");
  });
  input.join();
  sink += Work(1000);
  nvtxRangeEnd(prefetch);

  // Bad input: unbalanced pops, an end without a start, many distinct names, a domain
  // destroyed mid-capture.
  nvtxRangePop();
  nvtxRangePop();
  nvtxRangeEnd(123456789);
  for (int i = 0; i < 10000; ++i) {
    const std::string name = "distinct_" + std::to_string(i);
    nvtxRangePushA(name.c_str());
    nvtxRangePop();
  }
  nvtxDomainHandle_t doomed = nvtxDomainCreateA("doomed");
  nvtxEventAttributes_t d = Attributes("doomed_range");
  nvtxDomainRangePushEx(doomed, &d);
  nvtxDomainDestroy(doomed);
  nvtxDomainRangePop(doomed);
  nvtxDomainMarkEx(doomed, &d);
  nvtxDomainDestroy(ops);
  std::printf("done %.1f\n", sink);
  return 0;
}
