#include "cupti/event_builder.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cupti/api_names.h"
#include "cupti/occupancy.h"

namespace tbprof::internal::cupti {
namespace {

std::string Demangle(const std::string& name) {
  int status = 0;
  char* out = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) {
    std::free(out);
    return name;
  }
  std::string result(out);
  std::free(out);
  return result;
}

const char* MemcpyName(MemcpyKind kind) {
  switch (kind) {
    case MemcpyKind::kHtoD:
      return "MemcpyHtoD";
    case MemcpyKind::kDtoH:
      return "MemcpyDtoH";
    case MemcpyKind::kDtoD:
      return "MemcpyDtoD";
    case MemcpyKind::kHtoH:
      return "MemcpyHtoH";
    case MemcpyKind::kPtoP:
      return "MemcpyPtoP";
    default:
      return "Memcpy";
  }
}

// Interns into Trace::names, reusing what is already there.
class NameTable {
 public:
  explicit NameTable(std::vector<std::string>* names) : names_(names) {
    for (size_t i = 0; i < names->size(); ++i) index_.try_emplace((*names)[i], i);
  }
  NameId Intern(const std::string& name) {
    auto [it, inserted] = index_.try_emplace(name, static_cast<NameId>(names_->size()));
    if (inserted) names_->push_back(name);
    return it->second;
  }

 private:
  std::vector<std::string>* names_;
  absl::flat_hash_map<std::string, NameId> index_;
};

bool EventBefore(const HostEvent& a, const HostEvent& b) {
  if (a.start_ns != b.start_ns) return a.start_ns < b.start_ns;
  return a.end_ns > b.end_ns;
}

}  // namespace

std::string DeviceEventName(const GpuRecord& record, const DecodedActivities& decoded) {
  switch (record.kind) {
    case DeviceEventKind::kMemcpy:
      return MemcpyName(record.memcpy_kind);
    case DeviceEventKind::kMemset:
      return "Memset";
    default:
      if (record.name < decoded.names.size()) {
        return record.kind == DeviceEventKind::kKernel ? Demangle(decoded.names[record.name])
                                                       : decoded.names[record.name];
      }
      return "(unnamed)";
  }
}

absl::flat_hash_map<uint32_t, uint64_t> ExternalIdsByCorrelation(const DecodedActivities& decoded,
                                                                 uint32_t kind) {
  absl::flat_hash_map<uint32_t, uint64_t> ids;
  for (const ExternalCorrelationRecord& r : decoded.external) {
    if (r.external_kind == kind) ids[r.correlation_id] = r.external_id;
  }
  return ids;
}

namespace {

// The Trace::allocators index of the allocator a MEMORY2 record belongs to, added if new:
// "GPU_<n>_cuda" (device memory, cudaMalloc or a memory pool), "GPU_<n>_managed", "cuda_pinned"
// (page-locked host memory), "GPU_<n>_cuda_kind<k>" for the other kinds.
uint32_t CuptiAllocator(const MemoryRecord& m, Trace* trace) {
  std::string name;
  switch (m.kind) {
    case MemoryRecord::Kind::kDevice:
      name = absl::StrCat("GPU_", m.device_id, "_cuda");
      break;
    case MemoryRecord::Kind::kManaged:
      name = absl::StrCat("GPU_", m.device_id, "_managed");
      break;
    case MemoryRecord::Kind::kPinnedHost:
      name = "cuda_pinned";
      break;
    case MemoryRecord::Kind::kOther:
      name = absl::StrCat("GPU_", m.device_id, "_cuda_kind", m.memory_kind);
      break;
  }
  for (size_t i = 0; i < trace->allocators.size(); ++i) {
    if (trace->allocators[i].name == name) return static_cast<uint32_t>(i);
  }
  trace->allocators.push_back({std::move(name)});
  return static_cast<uint32_t>(trace->allocators.size() - 1);
}

}  // namespace

absl::Status BuildTrace(const DecodedActivities& decoded, const BuildOptions& options,
                        Trace* trace) {
  if (trace == nullptr) return absl::InvalidArgumentError("BuildTrace: null trace");
  NameTable names(&trace->names);

  // Pass 1: correlation id -> device, context -> device.
  absl::flat_hash_map<uint32_t, int32_t> device_by_correlation;
  absl::flat_hash_map<uint32_t, int32_t> device_by_context;
  absl::flat_hash_set<int32_t> devices_seen;
  for (const GpuRecord& g : decoded.gpu) {
    if (!g.has_device) continue;
    const auto device = static_cast<int32_t>(g.device_id);
    devices_seen.insert(device);
    device_by_context.try_emplace(g.context_id, device);
    if (g.correlation_id != 0 && g.kind != DeviceEventKind::kOverhead) {
      device_by_correlation.try_emplace(g.correlation_id, device);
    }
  }
  absl::flat_hash_map<int32_t, const DeviceInfo*> info_by_ordinal;
  for (const DeviceInfo& d : options.devices) info_by_ordinal[d.ordinal] = &d;
  const int32_t fallback_device =
      devices_seen.empty() ? 0 : *std::min_element(devices_seen.begin(), devices_seen.end());

  // Pass 2a: device events.
  uint64_t before_session = 0;
  absl::flat_hash_map<uint32_t, NameId> kernel_names;  // Demangling is the costly part.
  trace->device_events.reserve(trace->device_events.size() + decoded.gpu.size());
  for (const GpuRecord& g : decoded.gpu) {
    const int64_t start = options.clock.ToHost(g.start) - options.session_start_ns;
    const int64_t end = options.clock.ToHost(g.end) - options.session_start_ns;
    if (start < 0) {
      ++before_session;
      continue;
    }
    DeviceEvent e;
    e.start_ns = start;
    e.end_ns = std::max(start, end);
    e.kind = g.kind;
    if (g.has_device) {
      e.device_id = static_cast<int32_t>(g.device_id);
    } else {
      auto it = device_by_context.find(g.context_id);
      e.device_id = it != device_by_context.end() ? it->second : fallback_device;
    }
    devices_seen.insert(e.device_id);
    e.stream_id = g.stream_id;
    e.correlation_id = g.correlation_id;
    if (g.kind == DeviceEventKind::kKernel) {
      auto it = kernel_names.find(g.name);
      if (it == kernel_names.end()) {
        it = kernel_names.emplace(g.name, names.Intern(DeviceEventName(g, decoded))).first;
      }
      e.name = it->second;
      e.kernel = g.kernel;
      auto info = info_by_ordinal.find(e.device_id);
      if (info != info_by_ordinal.end()) {
        const uint64_t threads = uint64_t{g.kernel.block[0]} * g.kernel.block[1] * g.kernel.block[2];
        e.kernel.occupancy_pct = TheoreticalOccupancyPct(
            LimitsFor(*info->second), static_cast<uint32_t>(std::min<uint64_t>(threads, UINT32_MAX)),
            g.kernel.registers_per_thread,
            g.kernel.static_shared_bytes + g.kernel.dynamic_shared_bytes);
      }
    } else {
      e.name = names.Intern(DeviceEventName(g, decoded));
    }
    e.memcpy_kind = g.memcpy_kind;
    e.bytes = g.bytes;
    e.dst_device_id = g.dst_device_id;
    e.async = g.async;
    e.graph_id = g.graph_id;
    e.graph_node_id = g.graph_node_id;
    trace->device_events.push_back(e);
  }

  // Pass 2b: launch events, one per correlation id (the runtime call when both the runtime and
  // the driver call it made were recorded: the runtime call encloses it).
  absl::flat_hash_map<uint32_t, size_t> launch_by_correlation;
  for (size_t i = 0; i < decoded.api.size(); ++i) {
    const ApiRecord& a = decoded.api[i];
    auto [it, inserted] = launch_by_correlation.try_emplace(a.correlation_id, i);
    if (!inserted && a.domain == ApiDomain::kRuntime &&
        decoded.api[it->second].domain == ApiDomain::kDriver) {
      it->second = i;
    }
  }
  absl::flat_hash_map<int64_t, size_t> track_by_tid;
  for (size_t i = 0; i < trace->threads.size(); ++i) track_by_tid[trace->threads[i].tid] = i;
  absl::flat_hash_set<size_t> touched;
  std::vector<size_t> order;
  order.reserve(launch_by_correlation.size());
  for (const auto& [corr, index] : launch_by_correlation) order.push_back(index);
  std::sort(order.begin(), order.end());  // Deterministic output whatever the hash order.
  for (size_t index : order) {
    const ApiRecord& a = decoded.api[index];
    const int64_t start = options.clock.ToHost(a.start) - options.session_start_ns;
    const int64_t end = options.clock.ToHost(a.end) - options.session_start_ns;
    if (start < 0) {
      ++before_session;
      continue;
    }
    int64_t tid = a.thread_id;
    if (!options.launch_tids.empty()) {
      auto it = options.launch_tids.find(a.correlation_id);
      if (it != options.launch_tids.end()) tid = it->second;
    }
    auto [track_it, created] = track_by_tid.try_emplace(tid, trace->threads.size());
    if (created) {
      ThreadTrack track;
      track.tid = tid;
      track.name = absl::StrCat("thread ", tid);
      trace->threads.push_back(std::move(track));
    }
    HostEvent h;
    h.start_ns = start;
    h.end_ns = std::max(start, end);
    h.kind = HostEventKind::kLaunch;
    h.name = names.Intern(LaunchApiName(a.domain, a.cbid));
    h.correlation_id = a.correlation_id;
    auto device = device_by_correlation.find(a.correlation_id);
    h.device_id = device != device_by_correlation.end() ? device->second : -1;
    trace->threads[track_it->second].events.push_back(h);
    touched.insert(track_it->second);
  }
  for (size_t t : touched) {
    auto& events = trace->threads[t].events;
    std::stable_sort(events.begin(), events.end(), EventBefore);
  }

  // Devices.
  std::vector<int32_t> ordinals(devices_seen.begin(), devices_seen.end());
  std::sort(ordinals.begin(), ordinals.end());
  for (int32_t ordinal : ordinals) {
    const bool present = std::any_of(trace->devices.begin(), trace->devices.end(),
                                     [&](const DeviceInfo& d) { return d.ordinal == ordinal; });
    if (present) continue;
    auto info = info_by_ordinal.find(ordinal);
    if (info != info_by_ordinal.end()) {
      trace->devices.push_back(*info->second);
    } else {
      DeviceInfo d;
      d.ordinal = ordinal;
      trace->devices.push_back(d);
    }
  }
  std::sort(trace->devices.begin(), trace->devices.end(),
            [](const DeviceInfo& a, const DeviceInfo& b) { return a.ordinal < b.ordinal; });

  // What was lost.
  const DecodeCounters& c = decoded.counters;
  if (c.cupti_dropped > 0) {
    trace->warnings.push_back(absl::StrCat(
        "CUPTI dropped ", c.cupti_dropped,
        " GPU activity records (its buffers were full); the GPU timeline is incomplete"));
  }
  if (c.cap_dropped_records > 0 || c.cap_dropped_buffers > 0) {
    trace->warnings.push_back(absl::StrCat(
        "GPU activity beyond the buffer cap was discarded: ", c.cap_dropped_records, " records, ",
        c.cap_dropped_buffers, " buffers; raise the cap (max_buffer_bytes) for longer captures"));
  }
  if (c.invalid_timestamps > 0) {
    trace->warnings.push_back(absl::StrCat(
        c.invalid_timestamps,
        " GPU activity records had zero or reversed timestamps and were dropped (CUPTI device "
        "buffers exhausted?)"));
  }
  if (c.truncated_records > 0 || c.malformed_buffers > 0) {
    trace->warnings.push_back(absl::StrCat("malformed CUPTI activity buffers: ",
                                           c.malformed_buffers, " buffers stopped early, ",
                                           c.truncated_records, " truncated records"));
  }
  // Device memory the driver allocated and released: allocations of a per-GPU allocator
  // ("GPU_0_cuda"), completed by the memory analysis like the program's own records.
  for (const MemoryRecord& m : decoded.memory) {
    const int64_t at = options.clock.ToHost(m.timestamp) - options.session_start_ns;
    if (at < 0) {
      ++before_session;
      continue;
    }
    MemoryEvent e;
    e.time_ns = at;
    e.allocator = CuptiAllocator(m, trace);
    e.kind = m.is_free ? MemoryEventKind::kFree : MemoryEventKind::kAlloc;
    e.address = m.address;
    e.requested_bytes = static_cast<int64_t>(m.bytes);
    e.allocation_bytes = static_cast<int64_t>(m.bytes);
    if (m.pool_bytes > 0) e.reported_reserved = static_cast<int64_t>(m.pool_bytes);
    trace->memory_events.push_back(std::move(e));
  }
  if (before_session > 0) {
    trace->warnings.push_back(absl::StrCat(before_session,
                                           " GPU records started before the session and were "
                                           "dropped"));
  }
  trace->dropped_device_events += c.cupti_dropped + c.cap_dropped_records +
                                  c.invalid_timestamps + before_session;
  return absl::OkStatus();
}

}  // namespace tbprof::internal::cupti
