#include "src/export/chrome_trace.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/export/text_util.h"
#include "src/export/timeline.h"

namespace tbprof::internal {
namespace {

// Chrome trace process ids: the host first, then one process per GPU.
constexpr int64_t kHostPid = 1;
int64_t GpuPid(int32_t ordinal) { return 2 + int64_t{ordinal}; }
// The largest thread id Chrome trace viewers keep as it is.
constexpr int64_t kMaxChromeTid = 0x7fffffff;

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void Raw(std::string_view s) { out_->append(s); }
  void Int(int64_t v) {
    char buf[24];
    out_->append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
  }
  void Uint(uint64_t v) {
    char buf[24];
    out_->append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
  }
  // Nanoseconds as microseconds with up to three decimals ("12.5", "3", "-0.25").
  void Micros(int64_t ns) {
    uint64_t mag = ns < 0 ? uint64_t{0} - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
    if (ns < 0) out_->push_back('-');
    Uint(mag / 1000);
    uint32_t frac = static_cast<uint32_t>(mag % 1000);
    if (frac == 0) return;
    char digits[4] = {'.', static_cast<char>('0' + frac / 100),
                      static_cast<char>('0' + frac / 10 % 10), static_cast<char>('0' + frac % 10)};
    size_t n = 4;
    while (digits[n - 1] == '0') --n;
    out_->append(digits, n);
  }
  void String(std::string_view s) {
    out_->push_back('"');
    AppendJsonEscaped(out_, s);
    out_->push_back('"');
  }

 private:
  std::string* out_;
};

class ChromeTraceEncoder {
 public:
  // With a `sink`, the text is handed to it in pieces of about kSinkChunk as it is encoded
  // and Encode returns only the last piece; a sink's error stops the handing (see status()).
  using Sink = std::function<absl::Status(std::string_view)>;
  static constexpr size_t kSinkChunk = size_t{1} << 20;

  explicit ChromeTraceEncoder(const Trace& trace, Sink sink = nullptr)
      : trace_(trace),
        timeline_(BuildTimeline(trace)),
        escaped_(trace.names.size()),
        escaped_done_(trace.names.size(), false),
        sink_(std::move(sink)),
        w_(&out_) {}

  absl::Status status() const { return sink_status_; }

  std::string Encode() {
    size_t events = timeline_.host.events.size();
    for (const TimelinePlane& p : timeline_.devices) events += p.events.size();
    out_.reserve(sink_ ? kSinkChunk + (size_t{64} << 10) : 128 + events * 112);
    w_.Raw("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
    std::string host_name = "/host:CPU";
    if (!trace_.hostname.empty()) host_name += " " + trace_.hostname;
    ProcessMetadata(kHostPid, host_name, 0);
    // Chrome trace viewers keep 32-bit thread ids only (Perfetto drops larger ones and puts
    // every such thread on one track). Profiles of TensorFlow and JAX use 64-bit line ids:
    // those threads get small ids in line order, their real id stays as an argument.
    // The thread id as the trace has it (before the timeline moved it out of reserved ranges).
    auto real_id = [this](const TimelineLine& line) {
      return line.source >= 0 && static_cast<size_t>(line.source) < trace_.threads.size()
                 ? trace_.threads[line.source].tid
                 : line.id;
    };
    bool remap = false;
    for (const TimelineLine& line : timeline_.host.lines) {
      const int64_t real = real_id(line);
      remap = remap || line.id < 0 || line.id > kMaxChromeTid || real < 0 || real > kMaxChromeTid;
    }
    host_tids_.reserve(timeline_.host.lines.size());
    for (size_t i = 0; i < timeline_.host.lines.size(); ++i) {
      const TimelineLine& line = timeline_.host.lines[i];
      host_tids_.push_back(remap ? static_cast<int64_t>(i) + 1 : line.id);
      const int64_t real = real_id(line);
      // Threads that run steps (the main loop) sort above the others (input pipelines...).
      const std::vector<HostEvent>& src = trace_.threads[line.source].events;
      const bool runs_steps = std::any_of(src.begin(), src.end(), [](const HostEvent& e) {
        return e.kind == HostEventKind::kStep;
      });
      ThreadMetadata(kHostPid, host_tids_.back(), line.name, remap ? &real : nullptr,
                     (runs_steps ? 0 : 1'000'000) + static_cast<int64_t>(i));
    }
    for (const TimelinePlane& plane : timeline_.devices) {
      std::string name = absl::StrCat("/device:GPU:", plane.device_ordinal);
      if (plane.device != nullptr && !plane.device->name.empty()) {
        absl::StrAppend(&name, " (", plane.device->name, ")");
      }
      ProcessMetadata(GpuPid(plane.device_ordinal), name, 1 + int64_t{plane.device_ordinal});
      for (const TimelineLine& line : plane.lines) {
        ThreadMetadata(GpuPid(plane.device_ordinal), line.id, line.name);
      }
    }
    FlowEnds flows;
    for (size_t l = 0; l < timeline_.host.lines.size(); ++l) {
      const TimelineLine& line = timeline_.host.lines[l];
      const ThreadTrack& thread = trace_.threads[line.source];
      const std::vector<HostEvent>& src = thread.events;
      const bool has_args = thread.args.size() == src.size();
      for (uint32_t i = line.begin; i < line.end; ++i) {
        const TimelineEvent& te = timeline_.host.events[i];
        const HostEvent& e = src[te.index];
        HostEventJson(host_tids_[l], te, e,
                      has_args ? std::string_view(thread.args[te.index]) : std::string_view());
        const FlowEnd end{kHostPid, host_tids_[l], te.start_ns};
        if (e.flow_produced != 0) flows.producers.emplace(e.flow_produced, end);
        if (e.flow_consumed != 0) flows.consumers.push_back({e.flow_consumed, end});
        if (e.kind == HostEventKind::kLaunch && e.correlation_id != 0) {
          flows.launches.emplace(e.correlation_id, end);
        }
      }
    }
    for (const TimelinePlane& plane : timeline_.devices) {
      for (const TimelineLine& line : plane.lines) {
        for (uint32_t i = line.begin; i < line.end; ++i) {
          const TimelineEvent& te = plane.events[i];
          const DeviceEvent& e = trace_.device_events[te.index];
          DeviceEventJson(GpuPid(plane.device_ordinal), line.id, te, e,
                          trace_.device_event_args.size() == trace_.device_events.size()
                              ? std::string_view(trace_.device_event_args[te.index])
                              : std::string_view());
          if (e.correlation_id != 0 && e.kind != DeviceEventKind::kOverhead) {
            flows.executions.push_back(
                {e.correlation_id, {GpuPid(plane.device_ordinal), line.id, te.start_ns}});
          }
        }
      }
    }
    WriteFlows(flows);
    WriteMemoryCounters();
    w_.Raw("]}\n");
    return std::move(out_);
  }

 private:
  // One end of an arrow: the slice that starts at `ts_ns` on (pid, tid).
  struct FlowEnd {
    int64_t pid;
    int64_t tid;
    int64_t ts_ns;
  };
  struct FlowEnds {
    std::unordered_map<uint64_t, FlowEnd> producers;  // First producer of each id.
    std::vector<std::pair<uint64_t, FlowEnd>> consumers;
    std::unordered_map<uint64_t, FlowEnd> launches;  // By correlation id.
    std::vector<std::pair<uint64_t, FlowEnd>> executions;
  };

  // Chrome flow events ("s" bound to the enclosing slice, "f" with bp "e" bound to the slice
  // it lands in): producer -> each consumer, CPU launch -> each device activity. Only arrows
  // with both ends in the capture are written, so every start has its finish.
  // One counter track per allocator on the host process, "bytes in use (<allocator>)", a point
  // ("ph":"C") after each recorded allocation or free (tbprof/memory.h); records left out of
  // the totals (bad input, see the trace's warnings) are skipped.
  void WriteMemoryCounters() {
    std::vector<std::string> names;
    for (const AllocatorInfo& a : trace_.allocators)
      names.push_back("bytes in use (" + a.name + ")");
    for (const MemoryEvent& e : trace_.memory_events) {
      if (!e.valid || e.allocator >= names.size()) continue;
      Separator();
      w_.Raw("{\"ph\":\"C\",\"pid\":");
      w_.Int(kHostPid);
      w_.Raw(",\"name\":");
      w_.String(names[e.allocator]);
      w_.Raw(",\"ts\":");
      w_.Micros(e.time_ns);
      w_.Raw(",\"args\":{\"bytes\":");
      w_.Int(e.bytes_in_use);
      w_.Raw("}}");
    }
  }

  void WriteFlows(const FlowEnds& flows) {
    uint64_t next_id = 1;
    auto arrow = [&](std::string_view cat, uint64_t key, const FlowEnd& from, const FlowEnd& to) {
      const uint64_t id = next_id++;
      for (int side = 0; side < 2; ++side) {
        const FlowEnd& at = side == 0 ? from : to;
        Separator();
        w_.Raw(side == 0 ? "{\"ph\":\"s\",\"id\":" : "{\"ph\":\"f\",\"bp\":\"e\",\"id\":");
        w_.Uint(id);
        w_.Raw(",\"pid\":");
        w_.Int(at.pid);
        w_.Raw(",\"tid\":");
        w_.Int(at.tid);
        w_.Raw(",\"ts\":");
        w_.Micros(at.ts_ns);
        w_.Raw(",\"cat\":");
        w_.String(cat);
        w_.Raw(",\"name\":");
        w_.String(cat);
        w_.Raw(",\"args\":{\"id\":");
        w_.Uint(key);
        w_.Raw("}}");
      }
    };
    for (const auto& [key, to] : flows.consumers) {
      auto it = flows.producers.find(key);
      if (it != flows.producers.end()) arrow("producer_consumer", key, it->second, to);
    }
    for (const auto& [key, to] : flows.executions) {
      auto it = flows.launches.find(key);
      if (it != flows.launches.end()) arrow("launch", key, it->second, to);
    }
  }

  void Separator() {
    if (sink_ && out_.size() >= kSinkChunk && sink_status_.ok()) {
      sink_status_ = sink_(out_);
      out_.clear();
    }
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('\n');
  }

  void ProcessMetadata(int64_t pid, std::string_view name, int64_t sort_index) {
    Separator();
    w_.Raw("{\"ph\":\"M\",\"pid\":");
    w_.Int(pid);
    w_.Raw(",\"name\":\"process_name\",\"args\":{\"name\":");
    w_.String(name);
    w_.Raw("}}");
    Separator();
    w_.Raw("{\"ph\":\"M\",\"pid\":");
    w_.Int(pid);
    w_.Raw(",\"name\":\"process_sort_index\",\"args\":{\"sort_index\":");
    w_.Int(sort_index);
    w_.Raw("}}");
  }

  // `real_id`: the profile's own id of a thread exported under another `tid`; `sort_index`:
  // the thread's place among its process's threads (none when negative).
  void ThreadMetadata(int64_t pid, int64_t tid, std::string_view name,
                      const int64_t* real_id = nullptr, int64_t sort_index = -1) {
    Separator();
    w_.Raw("{\"ph\":\"M\",\"pid\":");
    w_.Int(pid);
    w_.Raw(",\"tid\":");
    w_.Int(tid);
    w_.Raw(",\"name\":\"thread_name\",\"args\":{\"name\":");
    w_.String(name);
    if (real_id != nullptr) {
      // A string: JSON numbers above 2^53 lose digits in JavaScript viewers.
      w_.Raw(",\"thread_id\":\"");
      w_.Int(*real_id);
      w_.Raw("\"");
    }
    w_.Raw("}}");
    if (sort_index < 0) return;
    Separator();
    w_.Raw("{\"ph\":\"M\",\"pid\":");
    w_.Int(pid);
    w_.Raw(",\"tid\":");
    w_.Int(tid);
    w_.Raw(",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":");
    w_.Int(sort_index);
    w_.Raw("}}");
  }

  // Appends the quoted, escaped name; escaping is done once per interned name.
  void Name(NameId id) {
    if (id >= escaped_.size()) {
      w_.String(NameOf(trace_, id));
      return;
    }
    if (!escaped_done_[id]) {
      std::string& e = escaped_[id];
      e.push_back('"');
      AppendJsonEscaped(&e, trace_.names[id]);
      e.push_back('"');
      escaped_done_[id] = true;
    }
    out_.append(escaped_[id]);
  }

  void Complete(int64_t pid, int64_t tid, const TimelineEvent& te) {
    Separator();
    w_.Raw("{\"ph\":\"X\",\"pid\":");
    w_.Int(pid);
    w_.Raw(",\"tid\":");
    w_.Int(tid);
    w_.Raw(",\"ts\":");
    w_.Micros(te.start_ns);
    w_.Raw(",\"dur\":");
    w_.Micros(te.end_ns - te.start_ns);
    w_.Raw(",\"name\":");
  }

  // `extra`: more args, JSON object members without braces ("" for none).
  void HostEventJson(int64_t tid, const TimelineEvent& te, const HostEvent& e,
                     std::string_view extra) {
    Complete(kHostPid, tid, te);
    if (e.kind == HostEventKind::kStep && e.step >= 0) {
      // "step 12", as xprof's trace viewer names steps.
      const std::string_view name = NameOf(trace_, e.name);
      w_.String(absl::StrCat(absl::string_view(name.data(), name.size()), " ", e.step));
    } else {
      Name(e.name);
    }
    bool open = false;
    auto begin_arg = [&]() {
      w_.Raw(open ? "," : ",\"args\":{");
      open = true;
    };
    switch (e.kind) {
      case HostEventKind::kStep:
        if (e.step >= 0) {  // A step root without a number gets none.
          begin_arg();
          w_.Raw("\"step_num\":");
          w_.Int(e.step);
        }
        break;
      case HostEventKind::kLaunch:
        begin_arg();
        w_.Raw("\"correlation_id\":");
        w_.Uint(e.correlation_id);
        if (e.device_id >= 0) {
          w_.Raw(",\"device_id\":");
          w_.Int(e.device_id);
        }
        break;
      default:
        break;
    }
    if (!extra.empty()) {
      begin_arg();
      w_.Raw(extra);
    }
    if (open) w_.Raw("}");
    w_.Raw("}");
  }

  void DeviceEventJson(int64_t pid, int64_t tid, const TimelineEvent& te, const DeviceEvent& e,
                       std::string_view extra) {
    Complete(pid, tid, te);
    const std::string_view name = DeviceEventName(trace_, e);
    if (e.name < trace_.names.size() && name.data() == trace_.names[e.name].data()) {
      Name(e.name);
    } else {
      w_.String(name);
    }
    w_.Raw(",\"args\":{\"correlation_id\":");
    w_.Uint(e.correlation_id);
    w_.Raw(",\"stream\":");
    w_.Int(e.stream_id);
    if (e.graph_id != 0) {
      w_.Raw(",\"cuda_graph_id\":");
      w_.Uint(e.graph_id);
    }
    if (e.graph_orig_id != 0) {
      w_.Raw(",\"cuda_graph_orig_id\":");
      w_.Uint(e.graph_orig_id);
    }
    if (e.graph_node_id != 0) {
      w_.Raw(",\"cuda_graph_node_id\":");
      w_.Uint(e.graph_node_id);
    }
    if (e.op_index >= 0 && static_cast<size_t>(e.op_index) < trace_.ops.size()) {
      const OpInfo& op = trace_.ops[e.op_index];
      w_.Raw(",\"tf_op\":\"");
      AppendJsonEscaped(&out_, op.name);
      out_.push_back(':');
      AppendJsonEscaped(&out_, op.type);
      out_.push_back('"');
    }
    switch (e.kind) {
      case DeviceEventKind::kKernel: {
        const KernelDetails& k = e.kernel;
        w_.Raw(",\"kernel_details\":\"regs:");
        w_.Uint(k.registers_per_thread);
        w_.Raw(" static_shared:");
        w_.Uint(k.static_shared_bytes);
        w_.Raw(" dynamic_shared:");
        w_.Uint(k.dynamic_shared_bytes);
        w_.Raw(" grid:");
        w_.Uint(k.grid[0]);
        w_.Raw(",");
        w_.Uint(k.grid[1]);
        w_.Raw(",");
        w_.Uint(k.grid[2]);
        w_.Raw(" block:");
        w_.Uint(k.block[0]);
        w_.Raw(",");
        w_.Uint(k.block[1]);
        w_.Raw(",");
        w_.Uint(k.block[2]);
        w_.Raw(" occ_pct:");
        char buf[64];
        auto r =
            std::to_chars(buf, buf + sizeof(buf), k.occupancy_pct, std::chars_format::fixed, 1);
        out_.append(buf, r.ec == std::errc() ? r.ptr : buf);
        w_.Raw("\"");
        break;
      }
      case DeviceEventKind::kMemcpy:
      case DeviceEventKind::kMemset:
        w_.Raw(",\"bytes\":");
        w_.Uint(e.bytes);
        w_.Raw(",\"async\":");
        w_.Raw(e.async ? "true" : "false");
        break;
      default:
        break;
    }
    if (!extra.empty()) {
      w_.Raw(",");
      w_.Raw(extra);
    }
    w_.Raw("}}");
  }

  const Trace& trace_;
  Timeline timeline_;
  std::vector<std::string> escaped_;
  std::vector<bool> escaped_done_;
  Sink sink_;
  absl::Status sink_status_;
  std::string out_;
  JsonWriter w_;
  bool first_ = true;
  std::vector<int64_t> host_tids_;  // Exported tid of each host timeline line.
};

}  // namespace

std::string EncodeChromeTraceJson(const Trace& trace) { return ChromeTraceEncoder(trace).Encode(); }

namespace {

// gzip (zlib, gzip header and trailer) fed piece by piece; the compressed bytes go to `sink`
// in pieces of at most kOutChunk.
class GzipStream {
 public:
  using Sink = std::function<absl::Status(std::string_view)>;
  static constexpr size_t kOutChunk = size_t{256} << 10;

  explicit GzipStream(Sink sink) : sink_(std::move(sink)) {
    // windowBits 15 + 16: gzip header and trailer instead of zlib's.
    const int rc =
        deflateInit2(&zs_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
      status_ = absl::InternalError(absl::StrCat("gzip: deflateInit2 failed: ", rc));
    } else {
      initialized_ = true;
    }
  }
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;
  ~GzipStream() {
    if (initialized_) deflateEnd(&zs_);
  }

  absl::Status Write(std::string_view data) { return Deflate(data, Z_NO_FLUSH); }
  absl::Status Finish(std::string_view data) { return Deflate(data, Z_FINISH); }

 private:
  absl::Status Deflate(std::string_view data, int flush) {
    if (!status_.ok()) return status_;
    constexpr size_t kInChunk = size_t{1} << 30;  // avail_in is 32-bit.
    out_.resize(kOutChunk);
    size_t in_pos = 0;
    do {
      const size_t in_now = std::min(kInChunk, data.size() - in_pos);
      zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_pos));
      zs_.avail_in = static_cast<uInt>(in_now);
      in_pos += in_now;
      const int mode = in_pos == data.size() ? flush : Z_NO_FLUSH;
      int rc = Z_OK;
      do {
        zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
        zs_.avail_out = static_cast<uInt>(out_.size());
        rc = deflate(&zs_, mode);
        if (rc == Z_STREAM_ERROR) return status_ = absl::InternalError("gzip: deflate failed");
        const size_t produced = out_.size() - zs_.avail_out;
        if (produced > 0) {
          if (absl::Status s = sink_(std::string_view(out_.data(), produced)); !s.ok()) {
            return status_ = s;
          }
        }
      } while (zs_.avail_out == 0 || (mode == Z_FINISH && rc != Z_STREAM_END));
    } while (in_pos < data.size());
    return absl::OkStatus();
  }

  Sink sink_;
  z_stream zs_ = {};
  bool initialized_ = false;
  std::string out_;
  absl::Status status_;
};

}  // namespace

absl::StatusOr<std::string> Gzip(std::string_view data) {
  std::string out;
  GzipStream gz([&out](std::string_view piece) {
    out.append(piece);
    return absl::OkStatus();
  });
  if (absl::Status s = gz.Finish(data); !s.ok()) return s;
  return out;
}

absl::Status WriteChromeTraceJsonGz(const Trace& trace, AtomicFile* file) {
  GzipStream gz([file](std::string_view piece) { return file->Append(piece); });
  ChromeTraceEncoder encoder(trace, [&gz](std::string_view piece) { return gz.Write(piece); });
  std::string rest = encoder.Encode();
  if (absl::Status s = encoder.status(); !s.ok()) return s;
  return gz.Finish(rest);
}

}  // namespace tbprof::internal
