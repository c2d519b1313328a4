#include "cupti/cupti_tracer.h"

#include <cupti.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cupti/activity_decoder.h"
#include "cupti/api_names.h"
#include "cupti/buffer_pool.h"
#include "cupti/clock_sync.h"
#include "cupti/cupti_api.h"
#include "cupti/device_info.h"
#include "cupti/error_manager.h"
#include "cupti/event_builder.h"
#include "cupti/graph_nodes.h"

namespace tbprof::internal {
std::unique_ptr<DeviceSource> CreateCuptiDeviceSource();
}  // namespace tbprof::internal

namespace tbprof::internal::cupti {
namespace {

constexpr size_t kMaxBufferBytes = 4u << 20;
constexpr size_t kMinBufferBytes = 64u << 10;
constexpr auto kFlushPeriod = std::chrono::milliseconds(100);
// CUPTI accepts a null buffer from the request callback (to shed load) from API version 27
// (CUDA 12.9); older versions crash on it.
constexpr uint32_t kNullBufferVersion = 27;
// CUDA 13.0 Update 1 fixed a deadlock when disabling CONCURRENT_KERNEL; older versions keep it
// enabled between sessions (records arriving outside a session are discarded).
constexpr uint32_t kSafeKernelDisableVersion = 130001;

class CuptiTracer;
std::atomic<CuptiTracer*> g_owner{nullptr};

int64_t OsThreadId() { return static_cast<int64_t>(syscall(SYS_gettid)); }

uint64_t CUPTIAPI HostTimestamp() { return static_cast<uint64_t>(HostClockNs()); }

class CuptiTracer {
 public:
  explicit CuptiTracer(TracerConfig config) : config_(std::move(config)) {}

  absl::Status Start(const DeviceSourceOptions& options) {
    std::lock_guard<std::mutex> lock(session_mu_);
    if (active_) return absl::FailedPreconditionError("a GPU trace session is already running");
    if (absl::Status s = EnsureInitialized(); !s.ok()) return s;
    options_ = options;
    const size_t buffer_bytes =
        std::clamp<size_t>(options.max_buffer_bytes / 8, kMinBufferBytes, kMaxBufferBytes);
    if (!pool_) pool_ = std::make_unique<BufferPool>(buffer_bytes, options.max_buffer_bytes);
    pool_->SetCap(std::max<uint64_t>(options.max_buffer_bytes, pool_->buffer_bytes()));
    pool_->Prepare(4);
    {
      std::lock_guard<std::mutex> decode_lock(decode_mu_);
      decoded_.Clear();
      decode_options_.cupti_version = api_->version;
      decode_options_.max_records = std::max<size_t>(
          1, options.max_buffer_bytes / (sizeof(GpuRecord) + sizeof(ApiRecord)));
    }
    {
      std::lock_guard<std::mutex> tid_lock(tid_mu_);
      launch_tids_.clear();
    }
    graphs_.DiscardPending();  // Creations of a session that was never collected.
    dropped_.store(0);
    cap_dropped_buffers_.store(0);
    samples_.clear();
    if (!timestamps_on_host_clock_) samples_.push_back(Sample());

    session_errors_ = std::make_unique<ErrorManager>(
        [this](int r) { return api_->ResultString(static_cast<CUptiResult>(r)); });
    collecting_.store(true);
    EnableSession();
    if (session_errors_->failed()) {
      collecting_.store(false);
      Latch(session_errors_->status());
      return disabled_;
    }
    active_ = true;
    stop_flush_ = false;
    flush_thread_ = std::thread([this] { FlushLoop(); });
    return absl::OkStatus();
  }

  absl::Status Stop() {
    std::lock_guard<std::mutex> lock(session_mu_);
    if (!active_) return absl::OkStatus();
    {
      std::lock_guard<std::mutex> flush_lock(flush_mu_);
      stop_flush_ = true;
    }
    flush_cv_.notify_all();
    flush_thread_.join();
    absl::Status status;
    CUptiResult r = api_->ActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
    if (r != CUPTI_SUCCESS) {
      status = absl::InternalError(
          absl::StrCat("cuptiActivityFlushAll(FORCED) failed: ", api_->ResultString(r)));
    }
    session_errors_->UndoAll();  // Disables the kinds and launch callbacks of this session.
    api_->ActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
    Drain();
    collecting_.store(false);
    if (!timestamps_on_host_clock_) samples_.push_back(Sample());
    if (fatal_error_.load()) {
      session_warnings_.push_back("CUPTI reported a fatal error; GPU tracing is off");
      Latch(absl::InternalError("CUPTI reported a fatal error (CUPTI_CBID_STATE_FATAL_ERROR)"));
    }
    active_ = false;
    collected_ = false;
    return status;
  }

  absl::Status Collect(Trace* trace) {
    std::lock_guard<std::mutex> lock(session_mu_);
    if (active_) return absl::FailedPreconditionError("Collect() before Stop()");
    if (trace == nullptr) return absl::InvalidArgumentError("Collect: null trace");
    if (collected_) return absl::OkStatus();
    collected_ = true;
    BuildOptions build;
    build.session_start_ns = options_.session_start_ns;
    build.devices = devices_;
    if (!timestamps_on_host_clock_) {
      auto clock = ClockConverter::FromSamples(samples_);
      if (!clock.ok()) {
        trace->warnings.push_back(std::string(clock.status().message()));
        return absl::OkStatus();
      }
      build.clock = *clock;
    }
    {
      std::lock_guard<std::mutex> tid_lock(tid_mu_);
      build.launch_tids = std::move(launch_tids_);
      launch_tids_.clear();
    }
    std::lock_guard<std::mutex> decode_lock(decode_mu_);
    decoded_.counters.cupti_dropped += dropped_.exchange(0);
    decoded_.counters.cap_dropped_buffers += cap_dropped_buffers_.exchange(0);
    absl::Status status = BuildTrace(decoded_, build, trace);
    if (graph_callbacks_) {
      const GraphResolveResult graphs = graphs_.Resolve(options_.session_start_ns, trace);
      if (graphs.events_unattributed > 0) {
        session_warnings_.push_back(absl::StrCat(
            graphs.events_unattributed,
            " CUDA-graph device events have no op: their graph was captured outside an op scope "
            "or before GPU tracing first started in this process"));
      }
    }
    for (const std::string& w : session_warnings_) trace->warnings.push_back(w);
    session_warnings_.clear();
    decoded_.Clear();
    return status;
  }

  std::string Describe() const {
    std::lock_guard<std::mutex> lock(session_mu_);
    if (api_ == nullptr) return disabled_.ok() ? "CUPTI (not loaded yet)" : "CUPTI (off)";
    return absl::StrCat("CUPTI ", api_->version, " (", api_->path, "), ", device_count_,
                        device_count_ == 1 ? " GPU" : " GPUs");
  }

  // CUPTI callbacks (static trampolines dispatch here through g_owner).
  void OnBufferRequested(uint8_t** buffer, size_t* size, size_t* max_records) {
    *max_records = 0;
    uint8_t* b = pool_ ? pool_->Acquire() : nullptr;
    if (b == nullptr) {
      if (api_->version >= kNullBufferVersion || !pool_) {
        cap_dropped_buffers_.fetch_add(1);
        *buffer = nullptr;
        *size = 0;
        return;
      }
      // An old CUPTI cannot take "no buffer": give it a one-off buffer, discarded on return.
      b = static_cast<uint8_t*>(std::aligned_alloc(8, pool_->buffer_bytes()));
      std::lock_guard<std::mutex> lock(queue_mu_);
      overflow_.push_back(b);
    }
    *buffer = b;
    *size = pool_->buffer_bytes();
  }

  void OnBufferCompleted(CUcontext context, uint32_t stream, uint8_t* buffer, size_t valid) {
    if (buffer == nullptr) return;
    size_t dropped = 0;
    if (api_->ActivityGetNumDroppedRecords(context, stream, &dropped) == CUPTI_SUCCESS) {
      dropped_.fetch_add(dropped);
    }
    std::lock_guard<std::mutex> lock(queue_mu_);
    auto overflow = std::find(overflow_.begin(), overflow_.end(), buffer);
    if (overflow != overflow_.end()) {
      overflow_.erase(overflow);
      std::free(buffer);
      cap_dropped_buffers_.fetch_add(1);
      return;
    }
    if (!collecting_.load() || valid == 0) {
      pool_->Release(buffer);
      return;
    }
    completed_.push_back({buffer, valid});
  }

  void OnCallback(CUpti_CallbackDomain domain, CUpti_CallbackId cbid, const void* data) {
    if (domain == CUPTI_CB_DOMAIN_RESOURCE && cbid == CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING) {
      // The context's records are lost unless flushed before it goes.
      if (collecting_.load()) api_->ActivityFlushAll(0);
      return;
    }
    if (domain == CUPTI_CB_DOMAIN_RESOURCE && IsGraphResourceCallback(cbid)) {
      // Nodes created during a session are matched to ops at Collect; clones are always kept.
      // The graph handles come as the resource data's descriptor.
      const bool in_session = collecting_.load(std::memory_order_relaxed);
      const auto* resource = static_cast<const CUpti_ResourceData*>(data);
      const auto* graph = resource != nullptr
                              ? static_cast<const CUpti_GraphData*>(resource->resourceDescriptor)
                              : nullptr;
      OnGraphResourceCallback(cbid, graph, graph_ids_, in_session, in_session ? OsThreadId() : 0,
                              in_session ? HostClockNs() : 0, &graphs_);
      return;
    }
    if (domain == CUPTI_CB_DOMAIN_STATE) {
      if (cbid == CUPTI_CBID_STATE_FATAL_ERROR) fatal_error_.store(true);
      return;
    }
    if ((domain == CUPTI_CB_DOMAIN_RUNTIME_API || domain == CUPTI_CB_DOMAIN_DRIVER_API) &&
        collecting_.load()) {
      const auto* info = static_cast<const CUpti_CallbackData*>(data);
      if (info->callbackSite != CUPTI_API_ENTER) return;
      std::lock_guard<std::mutex> lock(tid_mu_);
      launch_tids_[info->correlationId] = OsThreadId();
    }
  }

 private:
  struct Completed {
    uint8_t* buffer;
    size_t valid;
  };

  static void CUPTIAPI BufferRequested(uint8_t** buffer, size_t* size, size_t* max_records) {
    CuptiTracer* owner = g_owner.load();
    if (owner == nullptr) {
      *buffer = nullptr;
      *size = 0;
      *max_records = 0;
      return;
    }
    owner->OnBufferRequested(buffer, size, max_records);
  }
  static void CUPTIAPI BufferCompleted(CUcontext context, uint32_t stream, uint8_t* buffer,
                                       size_t /*size*/, size_t valid) {
    CuptiTracer* owner = g_owner.load();
    if (owner != nullptr) owner->OnBufferCompleted(context, stream, buffer, valid);
  }
  static void CUPTIAPI Callback(void* user, CUpti_CallbackDomain domain, CUpti_CallbackId cbid,
                                const void* data) {
    static_cast<CuptiTracer*>(user)->OnCallback(domain, cbid, data);
  }

  void Latch(const absl::Status& status) {
    disabled_ = absl::FailedPreconditionError(
        absl::StrCat("GPU tracing is off for this process: ", status.message()));
  }

  // Once per process: preflight, load, subscribe, register. Errors before the subscription are
  // retried by the next Start (cheap: the driver or library is simply missing); errors after it
  // latch GPU tracing off.
  absl::Status EnsureInitialized() {
    if (!disabled_.ok()) return disabled_;
    if (initialized_) return absl::OkStatus();
    if (!config_.skip_driver_preflight) {
      auto driver = LoadCudaDriver(config_.cuda_driver_path);
      if (!driver.ok()) return driver.status();
      driver_ = std::move(driver->api);
      device_count_ = driver->device_count;
    }
    if (api_ == nullptr) {
      std::vector<std::string> candidates = config_.cupti_candidates;
      if (candidates.empty()) {
        candidates = CuptiCandidatePaths(std::getenv("TBPROF_CUPTI_PATH"), std::getenv("CUDA_HOME"));
      }
      auto api = LoadCupti(candidates);
      if (!api.ok()) {
        return absl::UnavailableError(
            absl::StrCat("GPU tracing is off: ", api.status().message()));
      }
      api_ = std::move(*api);
    }
    if (driver_ != nullptr) {
      devices_.clear();
      for (int i = 0; i < device_count_; ++i) {
        auto info = QueryDeviceInfo(*driver_, i);
        if (info.ok()) {
          devices_.push_back(*info);
        } else {
          session_warnings_.push_back(std::string(info.status().message()));
        }
      }
    }

    CuptiTracer* expected = nullptr;
    if (!g_owner.compare_exchange_strong(expected, this)) {
      return absl::UnavailableError(
          "another tbprof CUPTI tracer owns this process's CUPTI subscription");
    }
    const CUptiResult sub = api_->Subscribe(&subscriber_, &CuptiTracer::Callback, this);
    if (sub != CUPTI_SUCCESS) {
      g_owner.store(nullptr);
      if (sub == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED) {
        return absl::UnavailableError(
            "another CUPTI client (Nsight Systems, a framework profiler, ...) is subscribed; "
            "GPU tracing is off while it is attached");
      }
      Latch(absl::UnknownError(absl::StrCat("cuptiSubscribe failed: ", api_->ResultString(sub))));
      return disabled_;
    }
    ErrorManager init([this](int r) { return api_->ResultString(static_cast<CUptiResult>(r)); });
    init.Run("", [] { return 0; }, [this] {
      api_->Unsubscribe(subscriber_);
      g_owner.store(nullptr);
    });
    threads_are_os_tids_ =
        api_->SetThreadIdType != nullptr &&
        api_->SetThreadIdType(CUPTI_ACTIVITY_THREAD_ID_TYPE_SYSTEM) == CUPTI_SUCCESS;
    timestamps_on_host_clock_ =
        api_->ActivityRegisterTimestampCallback != nullptr &&
        api_->ActivityRegisterTimestampCallback(&HostTimestamp) == CUPTI_SUCCESS;
    init.Run("cuptiActivityRegisterCallbacks", [this] {
      return static_cast<int>(
          api_->ActivityRegisterCallbacks(&CuptiTracer::BufferRequested, &CuptiTracer::BufferCompleted));
    });
    init.Run("cuptiEnableCallback(CONTEXT_DESTROY_STARTING)", [this] {
      return static_cast<int>(api_->EnableCallback(1, subscriber_, CUPTI_CB_DOMAIN_RESOURCE,
                                                   CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING));
    });
    EnableGraphCallbacks();
    if (api_->EnableDomain != nullptr) {
      // Optional: only used to notice that CUPTI stopped profiling.
      api_->EnableDomain(1, subscriber_, CUPTI_CB_DOMAIN_STATE);
    }
    if (init.failed()) {
      Latch(init.status());
      return disabled_;
    }
    init.Forget();
    if (!threads_are_os_tids_) {
      session_warnings_.push_back(
          "CUPTI cannot report OS thread ids; launch threads come from API callbacks");
    }
    if (!timestamps_on_host_clock_) {
      session_warnings_.push_back(
          "CUPTI timestamp callback unavailable; GPU times converted with paired clock samples");
    }
    initialized_ = true;
    return absl::OkStatus();
  }

  // Optional: without them graph-replayed work keeps the op of its cudaGraphLaunch only.
  void EnableGraphCallbacks() {
    if (api_->GetGraphNodeId == nullptr || api_->GetGraphId == nullptr) {
      session_warnings_.push_back(
          "this CUPTI cannot report CUDA graph node ids; graph kernels keep their launch's op");
      return;
    }
    graph_ids_.node_id = api_->GetGraphNodeId;
    graph_ids_.graph_id = api_->GetGraphId;
    for (CUpti_CallbackId cbid : kGraphResourceCallbacks) {
      const CUptiResult r = api_->EnableCallback(1, subscriber_, CUPTI_CB_DOMAIN_RESOURCE, cbid);
      if (r != CUPTI_SUCCESS) {
        session_warnings_.push_back(absl::StrCat("CUDA graph callbacks unavailable (",
                                                 api_->ResultString(r),
                                                 "); graph kernels keep their launch's op"));
        for (CUpti_CallbackId undo : kGraphResourceCallbacks) {
          api_->EnableCallback(0, subscriber_, CUPTI_CB_DOMAIN_RESOURCE, undo);
        }
        return;
      }
    }
    graph_callbacks_ = true;
  }

  void EnableKind(CUpti_ActivityKind kind, const char* name, bool required) {
    ErrorManager& e = *session_errors_;
    const CUptiResult r = api_->ActivityEnable(kind);
    if (r == CUPTI_SUCCESS) {
      const bool keep_enabled = kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL &&
                                api_->version < kSafeKernelDisableVersion;
      e.Run(name, [] { return 0; }, [this, kind, keep_enabled] {
        if (!keep_enabled) api_->ActivityDisable(kind);
      });
      return;
    }
    if (!required && (r == CUPTI_ERROR_NOT_SUPPORTED || r == CUPTI_ERROR_NOT_COMPATIBLE ||
                      r == CUPTI_ERROR_INVALID_KIND)) {
      session_warnings_.push_back(
          absl::StrCat(name, " not supported by this CUPTI: ", api_->ResultString(r)));
      return;
    }
    e.Run(absl::StrCat("cuptiActivityEnable(", name, ")"), [r] { return static_cast<int>(r); });
  }

  // Launch APIs only: per-API enables when CUPTI has them (12.5+), else the whole domains and
  // the decoder filters.
  void EnableApis() {
    ErrorManager& e = *session_errors_;
    if (api_->ActivityEnableRuntimeApi != nullptr && api_->ActivityEnableDriverApi != nullptr) {
      for (size_t i = 0; i < kRuntimeLaunchApiCount && !e.failed(); ++i) {
        const uint32_t cbid = kRuntimeLaunchApis[i].cbid;
        e.Run("cuptiActivityEnableRuntimeApi",
              [&] { return static_cast<int>(api_->ActivityEnableRuntimeApi(cbid, 1)); },
              [this, cbid] { api_->ActivityEnableRuntimeApi(cbid, 0); });
      }
      for (size_t i = 0; i < kDriverLaunchApiCount && !e.failed(); ++i) {
        const uint32_t cbid = kDriverLaunchApis[i].cbid;
        e.Run("cuptiActivityEnableDriverApi",
              [&] { return static_cast<int>(api_->ActivityEnableDriverApi(cbid, 1)); },
              [this, cbid] { api_->ActivityEnableDriverApi(cbid, 0); });
      }
    } else {
      EnableKind(CUPTI_ACTIVITY_KIND_RUNTIME, "RUNTIME", true);
      EnableKind(CUPTI_ACTIVITY_KIND_DRIVER, "DRIVER", true);
    }
    if (!threads_are_os_tids_) {
      for (size_t i = 0; i < kRuntimeLaunchApiCount && !e.failed(); ++i) {
        const uint32_t cbid = kRuntimeLaunchApis[i].cbid;
        e.Run("cuptiEnableCallback(runtime launch)",
              [&] { return static_cast<int>(api_->EnableCallback(1, subscriber_, CUPTI_CB_DOMAIN_RUNTIME_API, cbid)); },
              [this, cbid] { api_->EnableCallback(0, subscriber_, CUPTI_CB_DOMAIN_RUNTIME_API, cbid); });
      }
      for (size_t i = 0; i < kDriverLaunchApiCount && !e.failed(); ++i) {
        const uint32_t cbid = kDriverLaunchApis[i].cbid;
        e.Run("cuptiEnableCallback(driver launch)",
              [&] { return static_cast<int>(api_->EnableCallback(1, subscriber_, CUPTI_CB_DOMAIN_DRIVER_API, cbid)); },
              [this, cbid] { api_->EnableCallback(0, subscriber_, CUPTI_CB_DOMAIN_DRIVER_API, cbid); });
      }
    }
  }

  void EnableSession() {
    EnableKind(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, "CONCURRENT_KERNEL", true);
    EnableKind(CUPTI_ACTIVITY_KIND_MEMCPY, "MEMCPY", true);
    EnableKind(CUPTI_ACTIVITY_KIND_MEMSET, "MEMSET", true);
    EnableKind(CUPTI_ACTIVITY_KIND_MEMCPY2, "MEMCPY2", false);
    EnableKind(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION, "EXTERNAL_CORRELATION", false);
    EnableKind(CUPTI_ACTIVITY_KIND_OVERHEAD, "OVERHEAD", false);
    EnableKind(CUPTI_ACTIVITY_KIND_SYNCHRONIZATION, "SYNCHRONIZATION", false);
    // Device memory the driver allocates and releases (the Memory Profile's per-GPU allocator).
    EnableKind(CUPTI_ACTIVITY_KIND_MEMORY2, "MEMORY2", false);
    EnableApis();
  }

  ClockSample Sample() {
    return TakeClockSample(
        [](void* self) {
          uint64_t t = 0;
          static_cast<CuptiTracer*>(self)->api_->GetTimestamp(&t);
          return t;
        },
        this);
  }

  void FlushLoop() {
    std::unique_lock<std::mutex> lock(flush_mu_);
    while (!stop_flush_) {
      flush_cv_.wait_for(lock, kFlushPeriod, [this] { return stop_flush_; });
      if (stop_flush_) break;
      lock.unlock();
      // No tbprof lock is held here: FlushAll calls BufferCompleted on this thread.
      api_->ActivityFlushAll(0);
      Drain();
      lock.lock();
    }
  }

  void Drain() {
    std::vector<Completed> batch;
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      batch.swap(completed_);
    }
    if (batch.empty()) return;
    CuptiRecordWalker walker(api_.get());
    std::lock_guard<std::mutex> lock(decode_mu_);
    for (const Completed& c : batch) {
      DecodeActivityBuffer(c.buffer, c.valid, walker, decode_options_, &decoded_);
      pool_->Release(c.buffer);
    }
  }

  const TracerConfig config_;
  mutable std::mutex session_mu_;  // Start/Stop/Collect/Describe.
  bool initialized_ = false;
  absl::Status disabled_;  // Latched reason GPU tracing is off for the process.
  std::unique_ptr<CudaDriverApi> driver_;
  std::unique_ptr<CuptiApi> api_;
  int device_count_ = 0;
  std::vector<DeviceInfo> devices_;
  CUpti_SubscriberHandle subscriber_ = nullptr;
  bool threads_are_os_tids_ = false;
  bool timestamps_on_host_clock_ = false;

  bool active_ = false;
  bool collected_ = true;
  DeviceSourceOptions options_;
  std::unique_ptr<ErrorManager> session_errors_;
  std::vector<std::string> session_warnings_;
  std::vector<ClockSample> samples_;
  std::unique_ptr<BufferPool> pool_;
  std::atomic<bool> collecting_{false};
  std::atomic<bool> fatal_error_{false};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> cap_dropped_buffers_{0};

  std::mutex queue_mu_;  // completed_, overflow_. Never held while calling CUPTI.
  std::vector<Completed> completed_;
  std::vector<uint8_t*> overflow_;

  std::mutex decode_mu_;  // decoded_, decode_options_.
  DecodedActivities decoded_;
  DecodeOptions decode_options_;

  std::mutex tid_mu_;
  absl::flat_hash_map<uint32_t, int64_t> launch_tids_;

  // CUDA graph node -> op (process-wide: graphs outlive sessions).
  GraphIdFunctions graph_ids_;
  bool graph_callbacks_ = false;
  GraphNodeRegistry graphs_;

  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  bool stop_flush_ = false;
  std::thread flush_thread_;
};

CuptiTracer& ProcessTracer(const TracerConfig& config) {
  // Never destroyed: CUPTI may call back into it until the process is gone.
  static CuptiTracer* tracer = new CuptiTracer(config);
  return *tracer;
}

class CuptiDeviceSource final : public DeviceSource {
 public:
  explicit CuptiDeviceSource(CuptiTracer* tracer, std::unique_ptr<CuptiTracer> owned = nullptr)
      : tracer_(tracer), owned_(std::move(owned)) {}
  ~CuptiDeviceSource() override {
    if (started_) tracer_->Stop().IgnoreError();
    if (owned_ != nullptr && g_owner.load() == owned_.get()) {
      owned_.release();  // CUPTI holds callbacks into it: keep it alive.
    }
  }
  absl::Status Start(const DeviceSourceOptions& options) override {
    absl::Status s = tracer_->Start(options);
    started_ = s.ok();
    return s;
  }
  absl::Status Stop() override {
    started_ = false;
    return tracer_->Stop();
  }
  absl::Status Collect(Trace* trace) override { return tracer_->Collect(trace); }
  std::string Describe() const override { return tracer_->Describe(); }

 private:
  CuptiTracer* tracer_;
  std::unique_ptr<CuptiTracer> owned_;
  bool started_ = false;
};

}  // namespace

std::unique_ptr<DeviceSource> CreateCuptiDeviceSourceWithConfig(const TracerConfig& config) {
  return std::make_unique<CuptiDeviceSource>(&ProcessTracer(config));
}

std::unique_ptr<DeviceSource> CreateIsolatedCuptiDeviceSourceForTest(const TracerConfig& config) {
  auto tracer = std::make_unique<CuptiTracer>(config);
  CuptiTracer* raw = tracer.get();
  return std::make_unique<CuptiDeviceSource>(raw, std::move(tracer));
}

}  // namespace tbprof::internal::cupti

namespace tbprof::internal {

std::unique_ptr<DeviceSource> CreateCuptiDeviceSource() {
  return cupti::CreateCuptiDeviceSourceWithConfig(cupti::TracerConfig());
}

}  // namespace tbprof::internal
