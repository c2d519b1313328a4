// Chooses the GPU device source at link time: CUPTI when cupti/ is built into the library
// (it defines TBPROF_WITH_CUPTI and CreateCuptiDeviceSource), otherwise a source that says why
// there is no GPU tracing.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "src/trace/device_source.h"

namespace tbprof::internal {

#if TBPROF_WITH_CUPTI
std::unique_ptr<DeviceSource> CreateCuptiDeviceSource();
#endif

namespace {

class UnavailableDeviceSource final : public DeviceSource {
 public:
  absl::Status Start(const DeviceSourceOptions&) override {
    return absl::UnavailableError("tbprof was built without CUPTI (TBPROF_CUPTI=OFF)");
  }
  absl::Status Stop() override { return absl::OkStatus(); }
  absl::Status Collect(Trace*) override { return absl::OkStatus(); }
  std::string Describe() const override { return "none (built without CUPTI)"; }
};

}  // namespace

std::unique_ptr<DeviceSource> CreateGpuDeviceSource() {
#if TBPROF_WITH_CUPTI
  return CreateCuptiDeviceSource();
#else
  return std::make_unique<UnavailableDeviceSource>();
#endif
}

}  // namespace tbprof::internal
