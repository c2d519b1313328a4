#include "cupti/cupti_api.h"

#include <dlfcn.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tbprof::internal::cupti {
namespace {

constexpr char kCuptiSoname[] = "libcupti.so.13";

std::string DlError() {
  const char* e = dlerror();
  return e != nullptr ? std::string(e) : std::string("unknown dlopen error");
}

// Binds `name` from `handle` into `*fn`; true when found.
template <typename Fn>
bool Bind(void* handle, const char* name, Fn* fn) {
  *fn = reinterpret_cast<Fn>(dlsym(handle, name));
  return *fn != nullptr;
}

}  // namespace

std::string CuptiApi::ResultString(CUptiResult result) const {
  const char* text = nullptr;
  if (GetResultString != nullptr && GetResultString(result, &text) == CUPTI_SUCCESS &&
      text != nullptr) {
    return absl::StrCat(text, " (", static_cast<int>(result), ")");
  }
  return absl::StrCat("CUPTI error ", static_cast<int>(result));
}

std::string CudaDriverApi::ErrorString(CUresult result) const {
  const char* text = nullptr;
  if (GetErrorName != nullptr && GetErrorName(result, &text) == CUDA_SUCCESS && text != nullptr) {
    return absl::StrCat(text, " (", static_cast<int>(result), ")");
  }
  return absl::StrCat("CUDA error ", static_cast<int>(result));
}

std::vector<std::string> CuptiCandidatePaths(const char* cupti_path_env,
                                             const char* cuda_home_env) {
  if (cupti_path_env != nullptr) return {std::string(cupti_path_env)};
  std::vector<std::string> paths = {kCuptiSoname};
  auto add_home = [&paths](const std::string& home) {
    if (home.empty()) return;
    paths.push_back(absl::StrCat(home, "/lib64/", kCuptiSoname));
    paths.push_back(absl::StrCat(home, "/extras/CUPTI/lib64/", kCuptiSoname));
  };
  if (cuda_home_env != nullptr) add_home(cuda_home_env);
  if (cuda_home_env == nullptr || std::string(cuda_home_env) != "/usr/local/cuda") {
    add_home("/usr/local/cuda");
  }
  return paths;
}

absl::StatusOr<std::unique_ptr<CuptiApi>> LoadCupti(const std::vector<std::string>& candidates) {
  if (candidates.size() == 1 && candidates[0].empty()) {
    return absl::InvalidArgumentError(
        "TBPROF_CUPTI_PATH is set but empty: give the path of libcupti.so, or unset it");
  }
  std::vector<std::string> tried;
  void* handle = nullptr;
  std::string path;
  for (const std::string& candidate : candidates) {
    handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) {
      path = candidate;
      break;
    }
    tried.push_back(absl::StrCat(candidate, " (", DlError(), ")"));
  }
  if (handle == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("libcupti could not be loaded; tried: ", absl::StrJoin(tried, "; "),
                     ". Set TBPROF_CUPTI_PATH to the library, or TBPROF_GPU=off"));
  }
  auto api = std::make_unique<CuptiApi>();
  api->handle = handle;
  api->path = path;
  std::vector<std::string> missing;
#define TBPROF_BIND_REQUIRED(field, symbol) \
  if (!Bind(handle, #symbol, &api->field)) missing.push_back(#symbol)
#define TBPROF_BIND_OPTIONAL(field, symbol) \
  if (!Bind(handle, #symbol, &api->field)) api->missing_optional.push_back(#symbol)
  TBPROF_BIND_REQUIRED(GetVersion, cuptiGetVersion);
  TBPROF_BIND_REQUIRED(GetResultString, cuptiGetResultString);
  TBPROF_BIND_REQUIRED(GetTimestamp, cuptiGetTimestamp);
  TBPROF_BIND_REQUIRED(Subscribe, cuptiSubscribe);
  TBPROF_BIND_REQUIRED(Unsubscribe, cuptiUnsubscribe);
  TBPROF_BIND_REQUIRED(EnableCallback, cuptiEnableCallback);
  TBPROF_BIND_REQUIRED(ActivityEnable, cuptiActivityEnable);
  TBPROF_BIND_REQUIRED(ActivityDisable, cuptiActivityDisable);
  TBPROF_BIND_REQUIRED(ActivityRegisterCallbacks, cuptiActivityRegisterCallbacks);
  TBPROF_BIND_REQUIRED(ActivityFlushAll, cuptiActivityFlushAll);
  TBPROF_BIND_REQUIRED(ActivityGetNextRecord, cuptiActivityGetNextRecord);
  TBPROF_BIND_REQUIRED(ActivityGetNumDroppedRecords, cuptiActivityGetNumDroppedRecords);
  TBPROF_BIND_OPTIONAL(EnableDomain, cuptiEnableDomain);
  TBPROF_BIND_OPTIONAL(SetThreadIdType, cuptiSetThreadIdType);
  TBPROF_BIND_OPTIONAL(ActivityRegisterTimestampCallback, cuptiActivityRegisterTimestampCallback);
  TBPROF_BIND_OPTIONAL(ActivityEnableRuntimeApi, cuptiActivityEnableRuntimeApi);
  TBPROF_BIND_OPTIONAL(ActivityEnableDriverApi, cuptiActivityEnableDriverApi);
  TBPROF_BIND_OPTIONAL(ActivityPushExternalCorrelationId, cuptiActivityPushExternalCorrelationId);
  TBPROF_BIND_OPTIONAL(ActivityPopExternalCorrelationId, cuptiActivityPopExternalCorrelationId);
  TBPROF_BIND_OPTIONAL(ActivitySetAttribute, cuptiActivitySetAttribute);
  TBPROF_BIND_OPTIONAL(GetLastError, cuptiGetLastError);
  TBPROF_BIND_OPTIONAL(GetGraphNodeId, cuptiGetGraphNodeId);
  TBPROF_BIND_OPTIONAL(GetGraphId, cuptiGetGraphId);
#undef TBPROF_BIND_REQUIRED
#undef TBPROF_BIND_OPTIONAL
  if (!missing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " lacks entry points tbprof needs (CUPTI too old?): ",
                     absl::StrJoin(missing, ", ")));
  }
  uint32_t version = 0;
  const CUptiResult r = api->GetVersion(&version);
  if (r != CUPTI_SUCCESS) {
    return absl::FailedPreconditionError(
        absl::StrCat("cuptiGetVersion failed in ", path, ": ", api->ResultString(r)));
  }
  api->version = version;
  return api;
}

absl::StatusOr<DriverPreflight> LoadCudaDriver(const std::string& path) {
  auto api = std::make_unique<CudaDriverApi>();
  api->path = path;
  // Whether the application already brought the driver in. tbprof loads it either way: a
  // capture usually starts before the program's first CUDA call, and refusing to load the
  // driver then would lose exactly the first traced steps.
  void* loaded = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  api->was_loaded = loaded != nullptr;
  if (loaded != nullptr) dlclose(loaded);  // Drops only the reference NOLOAD took.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "no CUDA driver (", path, " could not be loaded: ", DlError(), "); GPU tracing is off"));
  }
  api->handle = handle;
  std::vector<std::string> missing;
#define TBPROF_BIND(field, symbol) \
  if (!Bind(handle, #symbol, &api->field)) missing.push_back(#symbol)
  TBPROF_BIND(Init, cuInit);
  TBPROF_BIND(DriverGetVersion, cuDriverGetVersion);
  TBPROF_BIND(DeviceGetCount, cuDeviceGetCount);
  TBPROF_BIND(DeviceGet, cuDeviceGet);
  TBPROF_BIND(DeviceGetName, cuDeviceGetName);
  TBPROF_BIND(DeviceGetAttribute, cuDeviceGetAttribute);
  TBPROF_BIND(DeviceTotalMem, cuDeviceTotalMem_v2);
#undef TBPROF_BIND
  Bind(handle, "cuGetErrorName", &api->GetErrorName);
  if (!missing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " lacks CUDA driver entry points: ", absl::StrJoin(missing, ", ")));
  }
  const CUresult init = api->Init(0);
  if (init != CUDA_SUCCESS) {
    return absl::UnavailableError(absl::StrCat("cuInit(0) failed in ", path, ": ",
                                               api->ErrorString(init),
                                               "; GPU tracing is off"));
  }
  int count = 0;
  const CUresult c = api->DeviceGetCount(&count);
  if (c != CUDA_SUCCESS) {
    return absl::UnavailableError(
        absl::StrCat("cuDeviceGetCount failed: ", api->ErrorString(c), "; GPU tracing is off"));
  }
  if (count <= 0) {
    return absl::UnavailableError("the CUDA driver sees no GPU; GPU tracing is off");
  }
  DriverPreflight result;
  result.api = std::move(api);
  result.device_count = count;
  return result;
}

}  // namespace tbprof::internal::cupti
