// Function tables for libcupti and the CUDA driver, filled with dlopen/dlsym. tbprof never links
// either library: a machine without CUDA loads nothing and a missing symbol only turns off the
// feature that needs it.
//
// libcupti search order (first that loads wins):
//   1. $TBPROF_CUPTI_PATH (a file path; when set, nothing else is tried),
//   2. libcupti.so.13 through the dynamic loader's path (LD_LIBRARY_PATH, rpath, ld.so.cache),
//   3. $CUDA_HOME/lib64, $CUDA_HOME/extras/CUPTI/lib64,
//   4. /usr/local/cuda/lib64, /usr/local/cuda/extras/CUPTI/lib64.
// The CUDA driver is libcuda.so.1 through the loader's path.
#ifndef TBPROF_CUPTI_CUPTI_API_H_
#define TBPROF_CUPTI_CUPTI_API_H_

#include <cuda.h>
#include <cupti.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tbprof::internal::cupti {

// Every libcupti entry point tbprof uses. Required entries are non-null after a successful
// LoadCupti(); optional ones (newer than the oldest supported CUPTI, or not needed for the core
// timeline) may be null and callers check.
struct CuptiApi {
  std::string path;      // What was dlopen'ed.
  uint32_t version = 0;  // cuptiGetVersion(): 130001 for CUDA 13.0 U1, 27 for 12.9, ...
  void* handle = nullptr;

  // Required.
  decltype(&::cuptiGetVersion) GetVersion = nullptr;
  decltype(&::cuptiGetResultString) GetResultString = nullptr;
  decltype(&::cuptiGetTimestamp) GetTimestamp = nullptr;
  decltype(&::cuptiSubscribe) Subscribe = nullptr;
  decltype(&::cuptiUnsubscribe) Unsubscribe = nullptr;
  decltype(&::cuptiEnableCallback) EnableCallback = nullptr;
  decltype(&::cuptiActivityEnable) ActivityEnable = nullptr;
  decltype(&::cuptiActivityDisable) ActivityDisable = nullptr;
  decltype(&::cuptiActivityRegisterCallbacks) ActivityRegisterCallbacks = nullptr;
  decltype(&::cuptiActivityFlushAll) ActivityFlushAll = nullptr;
  decltype(&::cuptiActivityGetNextRecord) ActivityGetNextRecord = nullptr;
  decltype(&::cuptiActivityGetNumDroppedRecords) ActivityGetNumDroppedRecords = nullptr;
  // Optional.
  decltype(&::cuptiEnableDomain) EnableDomain = nullptr;
  decltype(&::cuptiSetThreadIdType) SetThreadIdType = nullptr;
  decltype(&::cuptiActivityRegisterTimestampCallback) ActivityRegisterTimestampCallback = nullptr;
  decltype(&::cuptiActivityEnableRuntimeApi) ActivityEnableRuntimeApi = nullptr;
  decltype(&::cuptiActivityEnableDriverApi) ActivityEnableDriverApi = nullptr;
  decltype(&::cuptiActivityPushExternalCorrelationId) ActivityPushExternalCorrelationId = nullptr;
  decltype(&::cuptiActivityPopExternalCorrelationId) ActivityPopExternalCorrelationId = nullptr;
  decltype(&::cuptiActivitySetAttribute) ActivitySetAttribute = nullptr;
  decltype(&::cuptiGetLastError) GetLastError = nullptr;
  decltype(&::cuptiGetGraphNodeId) GetGraphNodeId = nullptr;  // CUDA graph attribution.
  decltype(&::cuptiGetGraphId) GetGraphId = nullptr;

  // Missing optional entry points, for Describe() and warnings.
  std::vector<std::string> missing_optional;

  // "CUPTI_ERROR_UNKNOWN (999)"; works for any code, even with a null GetResultString.
  std::string ResultString(CUptiResult result) const;
};

// The CUDA driver entry points used for the preflight and device properties.
struct CudaDriverApi {
  std::string path;
  void* handle = nullptr;
  bool was_loaded = false;  // libcuda was already in the process before tbprof looked.
  decltype(&::cuInit) Init = nullptr;
  decltype(&::cuDriverGetVersion) DriverGetVersion = nullptr;
  decltype(&::cuDeviceGetCount) DeviceGetCount = nullptr;
  decltype(&::cuDeviceGet) DeviceGet = nullptr;
  decltype(&::cuDeviceGetName) DeviceGetName = nullptr;
  decltype(&::cuDeviceGetAttribute) DeviceGetAttribute = nullptr;
  decltype(&::cuDeviceTotalMem_v2) DeviceTotalMem = nullptr;
  decltype(&::cuGetErrorName) GetErrorName = nullptr;  // Optional.

  // "CUDA_ERROR_NO_DEVICE (100)".
  std::string ErrorString(CUresult result) const;
};

// Candidate paths for libcupti in search order, given the environment (`cupti_path_env` is
// $TBPROF_CUPTI_PATH, `cuda_home_env` is $CUDA_HOME; null when unset). Pure; exposed for tests.
std::vector<std::string> CuptiCandidatePaths(const char* cupti_path_env,
                                             const char* cuda_home_env);

// Loads libcupti from the first candidate that loads and binds its entry points. Never closes
// the handle (CUPTI must stay loaded for the process). Errors: InvalidArgument for an empty
// $TBPROF_CUPTI_PATH, NotFound when no candidate loads (message lists what was tried and
// dlerror), FailedPrecondition when a required entry point is missing (too old a CUPTI).
// Thread-compatible: call from one thread at a time.
absl::StatusOr<std::unique_ptr<CuptiApi>> LoadCupti(const std::vector<std::string>& candidates);

// Loads the CUDA driver from `path` (normally "libcuda.so.1") and runs the preflight the CUPTI
// calls need: cuInit(0) succeeds and cuDeviceGetCount() > 0. Returns the table and the device
// count. Errors: Unavailable (no driver library, cuInit failed, e.g. the toolkit's stub
// library, or no device), FailedPrecondition (a required entry point is missing).
struct DriverPreflight {
  std::unique_ptr<CudaDriverApi> api;
  int device_count = 0;
};
absl::StatusOr<DriverPreflight> LoadCudaDriver(const std::string& path);

}  // namespace tbprof::internal::cupti

#endif  // TBPROF_CUPTI_CUPTI_API_H_
