#include "tools/validate.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "tensorflow/config.pb.h"
#include "tensorflow/graph.pb.h"
#include "tensorflow/summary.pb.h"
#include "src/export/training_marker.h"
#include "src/export/xplane_writer.h"
#include "tools/event_files.h"
#include "tools/xspace_io.h"
#include "tools/xspace_util.h"

namespace tbprof::cli {
namespace {

using tensorflow::profiler::XEvent;
using tensorflow::profiler::XLine;
using tensorflow::profiler::XPlane;
using tensorflow::profiler::XSpace;
using tensorflow::profiler::XStat;

// Line timestamps at or above this many nanoseconds (about 3 years) can only be epoch times.
constexpr int64_t kMaxRelativeNs = 100'000'000'000'000'000;  // 1e17

std::string Q(std::string_view s) { return absl::StrCat("\"", std::string(s), "\""); }

// --- Stat value types (spec §3.4) -----------------------------------------------------------

enum TypeBits : unsigned {
  kInt64 = 1,
  kUint64 = 2,
  kDouble = 4,
  kStr = 8,
  kRef = 16,
  kBytes = 32,
};
constexpr unsigned kAnyInt = kInt64 | kUint64;
constexpr unsigned kString = kStr | kRef;

const std::map<std::string, unsigned, std::less<>>& ExpectedStatTypes() {
  static const auto* types = new std::map<std::string, unsigned, std::less<>>{
      {"_r", kInt64},
      {"step_num", kInt64},
      {"iter_num", kInt64},
      {"id", kInt64},
      {"_pt", kInt64},
      {"_ct", kInt64},
      {"_p", kAnyInt},
      {"_c", kAnyInt},
      {"_a", kInt64},
      {"_pid", kInt64},
      {"process_id", kInt64},
      {"correlation_id", kUint64},
      {"device_id", kAnyInt},
      {"context_id", kString | kAnyInt},
      {"kernel_details", kString},
      {"memcpy_details", kString},
      {"memalloc_details", kString},
      {"MemFree_details", kString},
      {"Memset_details", kString},
      {"MemoryResidency_details", kString},
      {"stream", kInt64},
      {"tf_op", kString},
      {"graph_type", kString},
      {"step_name", kString},
      {"flow", kUint64},
      {"is_eager", kInt64},
      {"shape", kString},
      {"data_type", kInt64},
      {"layout", kString},
      {"allocator_name", kString},
      {"bytes_reserved", kInt64},
      {"bytes_allocated", kInt64},
      {"bytes_available", kInt64},
      {"fragmentation", kDouble},
      {"peak_bytes_in_use", kInt64},
      {"requested_bytes", kInt64},
      {"allocation_bytes", kInt64},
      {"addr", kInt64},
      {"region_type", kString},
      {"index_on_host", kInt64},
      {"device_ordinal", kInt64},
      {"flops", kAnyInt},
      {"bytes_accessed", kAnyInt},
      {"model_flops", kAnyInt},
      {"program_id", kUint64},
      {"hlo_op", kString},
      {"hlo_module", kString},
      {"device_vendor", kString},
      {"gpu_device_name", kString},
      {"clock_rate", kAnyInt},
      {"core_count", kAnyInt},
      {"memory_bandwidth", kUint64},
      {"memory_size", kUint64},
      {"compute_cap_major", kAnyInt},
      {"compute_cap_minor", kAnyInt},
      {"peak_teraflops_per_second", kDouble},
      {"peak_sram_rd_bw_gigabytes_per_second", kDouble},
      {"peak_sram_wr_bw_gigabytes_per_second", kDouble},
      {"theoretical_occupancy_pct", kDouble},
      {"occupancy_min_grid_size", kAnyInt},
      {"occupancy_suggested_block_size", kAnyInt},
      {"profile_start_time", kUint64},
      {"profile_stop_time", kUint64},
  };
  return *types;
}

unsigned TypeBit(const XStat& stat) {
  switch (stat.value_case()) {
    case XStat::kInt64Value:
      return kInt64;
    case XStat::kUint64Value:
      return kUint64;
    case XStat::kDoubleValue:
      return kDouble;
    case XStat::kStrValue:
      return kStr;
    case XStat::kRefValue:
      return kRef;
    case XStat::kBytesValue:
      return kBytes;
    default:
      return 0;
  }
}

std::string TypeNames(unsigned bits) {
  std::vector<std::string> names;
  if (bits & kInt64) names.push_back("int64");
  if (bits & kUint64) names.push_back("uint64");
  if (bits & kDouble) names.push_back("double");
  if (bits & kStr) names.push_back("str");
  if (bits & kRef) names.push_back("ref");
  if (bits & kBytes) names.push_back("bytes");
  if (names.empty()) return "no value";
  std::string out = names[0];
  for (size_t i = 1; i < names.size(); ++i) absl::StrAppend(&out, " or ", names[i]);
  return out;
}

bool IsLoopEventName(std::string_view name) {
  return name == "WhileOp-EvalCond" || name == "WhileOp-StartBody" || name == "ForOp" ||
         name == "ParallelForOp" || name == "ForeverOp";
}

// --- XSpace ---------------------------------------------------------------------------------

class XSpaceValidator {
 public:
  XSpaceValidator(const XSpace& space, const std::string& file, Violations* out)
      : space_(space), file_(file), out_(out) {}

  void Run() {
    if (space_.hostnames_size() != 1 || space_.hostnames(0).empty()) {
      Add("", "xspace.hostname",
          absl::StrCat("XSpace.hostnames must hold exactly one non-empty host name, has ",
                       space_.hostnames_size()));
    }
    int host_planes = 0, task_planes = 0;
    int64_t last_gpu = -1;
    std::set<std::string> names;
    for (const XPlane& plane : space_.planes()) {
      const std::string where = absl::StrCat("plane ", Q(plane.name()), " (id ", plane.id(), ")");
      if (!names.insert(plane.name()).second) {
        Add(where, "xplane.plane-name", "two planes have this name");
      }
      std::optional<int64_t> ordinal = GpuOrdinal(plane.name());
      if (plane.name() == kHostPlaneName) {
        ++host_planes;
      } else if (ordinal) {
        if (plane.id() != *ordinal) {
          Add(where, "xplane.gpu-plane-id",
              absl::StrCat("a GPU plane's id must equal its ordinal ", *ordinal));
        }
        if (*ordinal < last_gpu) {
          Add(where, "xplane.gpu-plane-id", "GPU planes must appear in ordinal order");
        }
        last_gpu = *ordinal;
      } else if (plane.name() == kTaskEnvironmentPlaneName) {
        ++task_planes;
        TaskEnvironment(plane, where);
      } else if (plane.name() == internal::kMetadataPlaneName) {
        // A training job's HLO module (src/export/training_marker.h): no lines to check.
      } else {
        Add(where, "xplane.plane-name",
            std::string("not a plane name tbprof writes (\"/host:CPU\", \"/device:GPU:<n>\" "
                        "with n a plain ordinal, \"Task Environment\", \"/host:metadata\")"));
      }
      Plane(plane, where);
    }
    if (host_planes != 1) {
      Add("", "xplane.plane-name",
          absl::StrCat("exactly one plane named \"/host:CPU\" is required, found ", host_planes));
    }
    if (task_planes != 1) {
      Add("", "xplane.task-environment",
          absl::StrCat("exactly one \"Task Environment\" plane is required, found ", task_planes));
    }
  }

 private:
  void Add(std::string where, std::string rule, std::string message) {
    out_->Add(file_, std::move(where), std::move(rule), std::move(message));
  }

  void TaskEnvironment(const XPlane& plane, const std::string& where) {
    PlaneIndex index(plane);
    const XStat* start = index.FindPlaneStat("profile_start_time");
    const XStat* stop = index.FindPlaneStat("profile_stop_time");
    if (start == nullptr || stop == nullptr) {
      Add(where, "xplane.task-environment",
          "plane stats profile_start_time and profile_stop_time (uint64 epoch ns) are required");
      return;
    }
    if (start->value_case() != XStat::kUint64Value || stop->value_case() != XStat::kUint64Value) {
      return;  // Reported by xplane.stat-type.
    }
    if (start->uint64_value() > stop->uint64_value()) {
      Add(where, "xplane.task-environment",
          absl::StrCat("profile_start_time ", start->uint64_value(), " is after profile_stop_time ",
                       stop->uint64_value()));
    }
    // Epoch nanoseconds of any date after 2001 exceed 1e18.
    if (start->uint64_value() < 1'000'000'000'000'000'000ull) {
      Add(where, "xplane.task-environment",
          absl::StrCat("profile_start_time ", start->uint64_value(),
                       " is not nanoseconds since the Unix epoch"));
    }
  }

  void Plane(const XPlane& plane, const std::string& where) {
    // Map keys equal ids; unique stat names; forbidden names.
    std::set<std::string> stat_names;
    for (const auto& [key, metadata] : plane.stat_metadata()) {
      if (key != metadata.id()) {
        Add(where, "xplane.metadata-key",
            absl::StrCat("stat_metadata key ", key, " holds metadata with id ", metadata.id()));
      }
      if (!stat_names.insert(metadata.name()).second) {
        Add(where, "xplane.stat-name-unique",
            absl::StrCat("two stat metadata are named ", Q(metadata.name())));
      }
      if (metadata.name() == "group_id") {
        Add(where, "xplane.no-group-id",
            "stat metadata \"group_id\" must not be written (the profile plugin assigns it; "
            "present, it disables step grouping)");
      }
    }
    for (const auto& [key, metadata] : plane.event_metadata()) {
      if (key != metadata.id()) {
        Add(where, "xplane.metadata-key",
            absl::StrCat("event_metadata key ", key, " holds metadata with id ", metadata.id()));
      }
      if (IsLoopEventName(metadata.name())) {
        Add(where, "xplane.no-loop-names",
            absl::StrCat("event name ", Q(metadata.name()),
                         " is a TensorFlow loop marker; it disables step grouping"));
      }
      for (const XStat& stat : metadata.stats()) {
        Stat(plane, stat, absl::StrCat(where, " event metadata ", key, " ", Q(metadata.name())));
      }
    }
    for (const XStat& stat : plane.stats()) Stat(plane, stat, absl::StrCat(where, " plane stats"));

    PlaneIndex index(plane);
    for (const XLine& line : plane.lines()) Line(plane, index, line, where);
  }

  void Stat(const XPlane& plane, const XStat& stat, const std::string& where) {
    auto it = plane.stat_metadata().find(stat.metadata_id());
    if (it == plane.stat_metadata().end()) {
      Add(where, "xplane.metadata-ref",
          absl::StrCat("stat metadata_id ", stat.metadata_id(), " is not in stat_metadata"));
      return;
    }
    const std::string& name = it->second.name();
    if (stat.value_case() == XStat::kRefValue &&
        plane.stat_metadata().find(static_cast<int64_t>(stat.ref_value())) ==
            plane.stat_metadata().end()) {
      Add(where, "xplane.metadata-ref",
          absl::StrCat("stat ", Q(name), " ref_value ", stat.ref_value(),
                       " is not in stat_metadata"));
    }
    if (stat.value_case() == XStat::VALUE_NOT_SET) {
      Add(where, "xplane.stat-type", absl::StrCat("stat ", Q(name), " has no value"));
      return;
    }
    auto expected = ExpectedStatTypes().find(name);
    if (expected != ExpectedStatTypes().end() && (TypeBit(stat) & expected->second) == 0) {
      Add(where, "xplane.stat-type",
          absl::StrCat("stat ", Q(name), " is ", TypeNames(TypeBit(stat)), ", must be ",
                       TypeNames(expected->second)));
      return;
    }
    if (name == "kernel_details") {
      std::string text =
          stat.value_case() == XStat::kStrValue
              ? stat.str_value()
              : std::string(PlaneIndex(plane).StatName(static_cast<int64_t>(stat.ref_value())));
      std::string error;
      if (!ParseKernelDetails(text, &error)) {
        Add(where, "xplane.kernel-details",
            absl::StrCat("kernel_details ", Q(text), ": ", error,
                         " (expected \"regs:R static_shared:S dynamic_shared:D grid:X,Y,Z "
                         "block:X,Y,Z occ_pct:P\")"));
      }
    } else if (name == "tf_op") {
      std::string text =
          stat.value_case() == XStat::kStrValue
              ? stat.str_value()
              : std::string(PlaneIndex(plane).StatName(static_cast<int64_t>(stat.ref_value())));
      if (!ParseFrameworkOp(text)) {
        Add(where, "xplane.tf-op",
            absl::StrCat("tf_op ", Q(text), " does not parse as \"scope/name:Type\""));
      }
    } else if (name == "_r" && stat.int64_value() < 1) {
      Add(where, "xplane.step-marker", absl::StrCat("_r must be >= 1, is ", stat.int64_value()));
    }
  }

  void Line(const XPlane& plane, const PlaneIndex& index, const XLine& line,
            const std::string& plane_where) {
    const std::string where = absl::StrCat(plane_where, " line ", line.id(), " ", Q(line.name()));
    if (IsDerivedLineId(line.id()) ||
        (line.display_id() != 0 && IsDerivedLineId(line.display_id()))) {
      Add(where, "xplane.derived-line-id",
          absl::StrCat("line id ", line.id(),
                       " falls in the range the profile plugin reserves for derived lines "
                       "(0xdeadbeef as a 32-bit int and above); its events would be ignored"));
    }
    if (line.timestamp_ns() < 0 || line.timestamp_ns() >= kMaxRelativeNs) {
      Add(where, "xplane.relative-time",
          absl::StrCat("timestamp_ns ", line.timestamp_ns(),
                       " is not nanoseconds after the profile start (epoch times overflow "
                       "picoseconds)"));
    }
    struct Span {
      int index;
      int64_t start;
      int64_t end;
    };
    std::vector<Span> spans;
    const bool host = plane.name() == kHostPlaneName;
    for (int i = 0; i < line.events_size(); ++i) {
      const XEvent& event = line.events(i);
      const std::string name(index.EventName(event.metadata_id()));
      const std::string ewhere = absl::StrCat(where, " event ", i, " ", Q(name));
      if (plane.event_metadata().find(event.metadata_id()) == plane.event_metadata().end()) {
        Add(ewhere, "xplane.metadata-ref",
            absl::StrCat("event metadata_id ", event.metadata_id(), " is not in event_metadata"));
      }
      if (event.data_case() != XEvent::kOffsetPs || event.offset_ps() < 0 ||
          event.duration_ps() < 0) {
        Add(ewhere, "xplane.event-time",
            absl::StrCat(
                "events need offset_ps >= 0 and duration_ps >= 0 (offset ", event.offset_ps(),
                ", duration ", event.duration_ps(),
                event.data_case() == XEvent::kNumOccurrences ? ", num_occurrences set" : "", ")"));
      }
      int64_t start_ps;
      if (__builtin_mul_overflow(line.timestamp_ns(), int64_t{1000}, &start_ps) ||
          __builtin_add_overflow(start_ps, event.offset_ps(), &start_ps) ||
          __builtin_add_overflow(start_ps, std::max<int64_t>(0, event.duration_ps()), &start_ps)) {
        Add(ewhere, "xplane.relative-time",
            "timestamp_ns * 1000 + offset_ps + duration_ps overflows 64-bit picoseconds");
        continue;
      }
      for (const XStat& stat : event.stats()) Stat(plane, stat, ewhere);
      if (host && index.FindStat(event, "_r") != nullptr &&
          index.FindStat(event, "step_num") == nullptr &&
          index.FindStat(event, "iter_num") == nullptr) {
        Add(ewhere, "xplane.step-marker", "a step root (_r) needs an int64 step_num stat");
      }
      if (index.FindStat(event, "_a") != nullptr) continue;  // Async: outside nesting.
      const int64_t start = EventStartPs(line, event);
      spans.push_back({i, start, start + std::max<int64_t>(0, event.duration_ps())});
    }
    // Sorted by start, longer first on ties (what the consumer's nesting expects).
    for (size_t k = 1; k < spans.size(); ++k) {
      const Span& a = spans[k - 1];
      const Span& b = spans[k];
      if (b.start < a.start || (b.start == a.start && b.end > a.end)) {
        Add(absl::StrCat(where, " event ", b.index, " ",
                         Q(index.EventName(line.events(b.index).metadata_id()))),
            "xplane.event-order",
            absl::StrCat("events must be sorted by start time (longer first on ties); starts at ",
                         b.start, " ps after event ", a.index, " at ", a.start, " ps"));
        break;
      }
    }
    std::vector<Span> sorted = spans;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Span& a, const Span& b) {
      return a.start != b.start ? a.start < b.start : a.end > b.end;
    });
    std::vector<Span> stack;
    for (const Span& s : sorted) {
      while (!stack.empty() && stack.back().end <= s.start) stack.pop_back();
      if (!stack.empty() && s.end > stack.back().end) {
        const Span& p = stack.back();
        Add(absl::StrCat(where, " event ", s.index, " ",
                         Q(index.EventName(line.events(s.index).metadata_id()))),
            "xplane.nesting",
            absl::StrCat("partially overlaps event ", p.index, " ",
                         Q(index.EventName(line.events(p.index).metadata_id())), " ([", s.start,
                         ", ", s.end, ") ps vs [", p.start, ", ", p.end,
                         ") ps): events on a line must nest"));
        continue;
      }
      stack.push_back(s);
    }
  }

  const XSpace& space_;
  const std::string& file_;
  Violations* out_;
};

// --- Event files ----------------------------------------------------------------------------

class EventsValidator {
 public:
  EventsValidator(const std::string& file, Violations* out) : file_(file), out_(out) {}

  void Run(const std::vector<tensorflow::Event>& events) {
    if (events.empty()) {
      Add("", "event.file-version", "the file holds no record (the first must be file_version)");
      return;
    }
    if (events[0].file_version() != "brain.Event:2") {
      Add("record 0", "event.file-version",
          absl::StrCat("the first record must be Event{file_version: \"brain.Event:2\"}, has ",
                       events[0].what_case() == tensorflow::Event::kFileVersion
                           ? Q(events[0].file_version())
                           : std::string("no file_version")));
    }
    for (size_t i = 0; i < events.size(); ++i) Record(events[i], i);
  }

 private:
  void Add(std::string where, std::string rule, std::string message) {
    out_->Add(file_, std::move(where), std::move(rule), std::move(message));
  }

  void Record(const tensorflow::Event& event, size_t i) {
    const std::string where = absl::StrCat("record ", i);
    if (!std::isfinite(event.wall_time()) || event.wall_time() <= 0) {
      Add(where, "event.wall-time",
          absl::StrCat("wall_time ", event.wall_time(), " is not seconds since the epoch"));
    }
    if (i > 0 && event.what_case() == tensorflow::Event::kFileVersion) {
      Add(where, "event.file-version", "file_version may only appear in the first record");
    }
    if (event.what_case() == tensorflow::Event::kGraphDef) {
      tensorflow::GraphDef graph;
      if (!graph.ParseFromString(event.graph_def())) {
        Add(where, "event.graph-def", "graph_def does not decode as a GraphDef");
      } else {
        Graph(graph, where);
      }
    }
    if (event.what_case() == tensorflow::Event::kTaggedRunMetadata) {
      tensorflow::RunMetadata rm;
      if (!rm.ParseFromString(event.tagged_run_metadata().run_metadata())) {
        Add(where, "event.run-metadata", "tagged_run_metadata does not decode as RunMetadata");
      } else {
        StepStats(rm, nullptr, where);
      }
    }
    if (event.what_case() == tensorflow::Event::kSummary) {
      for (int v = 0; v < event.summary().value_size(); ++v) {
        SummaryValue(event.summary().value(v), absl::StrCat(where, " value ", v));
      }
    }
  }

  // Unique non-empty names, inputs that resolve.
  void Graph(const tensorflow::GraphDef& graph, const std::string& where) {
    std::set<std::string> names;
    for (const auto& node : graph.node()) {
      if (node.name().empty() || !names.insert(node.name()).second) {
        Add(absl::StrCat(where, " node ", Q(node.name())), "event.graph-def",
            node.name().empty() ? "a node has an empty name" : "two nodes have this name");
      }
    }
    for (const auto& node : graph.node()) {
      for (const std::string& input : node.input()) {
        std::string source = input.substr(input.empty() || input[0] != '^' ? 0 : 1);
        size_t colon = source.rfind(':');
        if (colon != std::string::npos) source = source.substr(0, colon);
        if (names.count(source) == 0) {
          Add(absl::StrCat(where, " node ", Q(node.name())), "event.graph-def",
              absl::StrCat("input ", Q(input), " names no node of the graph"));
        }
      }
    }
  }

  void SummaryValue(const tensorflow::Summary::Value& value, const std::string& where) {
    const std::string w = absl::StrCat(where, " tag ", Q(value.tag()));
    if (value.tag().empty()) Add(w, "event.summary", "a summary value needs a tag");
    const std::string& plugin = value.metadata().plugin_data().plugin_name();
    const bool has_tensor = value.value_case() == tensorflow::Summary::Value::kTensor;
    const auto& tensor = value.tensor();
    if (plugin == "graph_run_metadata" || plugin == "graph_run_metadata_graph") {
      if (value.metadata().plugin_data().content() != "1") {
        Add(w, "event.run-metadata",
            absl::StrCat(plugin, " content must be \"1\", is ",
                         Q(value.metadata().plugin_data().content())));
      }
      if (!has_tensor || tensor.dtype() != tensorflow::DT_STRING ||
          tensor.tensor_shape().dim_size() != 0 || tensor.string_val_size() != 1) {
        Add(w, "event.run-metadata",
            "the tensor must be a rank-0 DT_STRING with exactly one string_val");
        return;
      }
      tensorflow::RunMetadata rm;
      if (!rm.ParseFromString(tensor.string_val(0))) {
        Add(w, "event.run-metadata", "string_val does not decode as RunMetadata");
        return;
      }
      if (!tags_.insert(value.tag()).second) {
        Add(w, "event.run-metadata",
            "two graph run metadata share this tag (the Graphs tab keeps one)");
      }
      if (rm.function_graphs_size() != 1 || !rm.function_graphs(0).has_pre_optimization_graph()) {
        Add(w, "event.function-graphs",
            absl::StrCat("RunMetadata needs exactly one function_graphs entry with a "
                         "pre_optimization_graph, has ",
                         rm.function_graphs_size(), " entries"));
        StepStats(rm, nullptr, w);
        return;
      }
      const tensorflow::GraphDef& graph = rm.function_graphs(0).pre_optimization_graph();
      Graph(graph, w);
      if (plugin == "graph_run_metadata" && !rm.has_step_stats()) {
        Add(w, "event.step-stats",
            "graph_run_metadata without step_stats (use "
            "graph_run_metadata_graph for a graph alone)");
      }
      StepStats(rm, &graph, w);
      return;
    }
    if (plugin == "scalars") {
      if (!has_tensor || tensor.tensor_shape().dim_size() != 0 ||
          (tensor.float_val_size() + tensor.double_val_size() != 1 &&
           tensor.tensor_content().size() != 4 && tensor.tensor_content().size() != 8)) {
        Add(w, "event.summary", "a scalars summary needs a rank-0 float or double tensor");
      }
    } else if (plugin == "text") {
      if (!has_tensor || tensor.dtype() != tensorflow::DT_STRING) {
        Add(w, "event.summary", "a text summary needs a DT_STRING tensor");
      }
    } else if (plugin == "images") {
      if (!has_tensor || tensor.dtype() != tensorflow::DT_STRING || tensor.string_val_size() < 3) {
        Add(w, "event.summary",
            "an images summary needs a DT_STRING tensor [width, height, png...]");
      } else {
        const std::string& png = tensor.string_val(2);
        if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
          Add(w, "event.summary", "image data is not a PNG");
        }
      }
    }
  }

  // Join rules between step stats and the graph (spec §4.5).
  void StepStats(const tensorflow::RunMetadata& rm, const tensorflow::GraphDef* graph,
                 const std::string& where) {
    std::set<std::string> names;
    std::set<std::string> sources;  // Outside tensors: memory, no compute time.
    if (graph != nullptr) {
      for (const auto& node : graph->node()) {
        names.insert(node.name());
        if (node.op() == "Placeholder" || node.op() == "Const" || node.op() == "VariableV2") {
          sources.insert(node.name());
        }
      }
    }
    for (const auto& dev : rm.step_stats().dev_stats()) {
      const std::string w = absl::StrCat(where, " device ", Q(dev.device()));
      if (!StepStatsDeviceType(dev.device())) {
        Add(w, "event.step-stats-device",
            "device must end in \"/device:<TYPE>:<N>\" or its stats are dropped");
      }
      for (const auto& ns : dev.node_stats()) {
        const std::string nw = absl::StrCat(w, " node ", Q(ns.node_name()));
        if (graph != nullptr && names.count(ns.node_name()) == 0) {
          size_t slash = ns.node_name().rfind('/');
          std::string strict = absl::StrCat(
              ns.node_name(), "/(",
              slash == std::string::npos ? ns.node_name() : ns.node_name().substr(slash + 1), ")");
          if (names.count(strict) == 0) {
            Add(nw, "event.step-stats-node", "node_name names no node of the graph");
          }
        }
        if (ns.all_end_rel_micros() < 0 ||
            (ns.all_end_rel_micros() == 0 && sources.count(ns.node_name()) == 0)) {
          Add(nw, "event.step-stats-time",
              absl::StrCat("all_end_rel_micros must be > 0 for a compute time (0 only for a "
                           "Placeholder, Const or VariableV2), is ",
                           ns.all_end_rel_micros()));
        }
        for (const auto& output : ns.output()) {
          if (!output.has_tensor_description() || !output.tensor_description().has_shape()) {
            Add(nw, "event.step-stats-output",
                absl::StrCat("output slot ", output.slot(), " has no tensor_description.shape"));
          }
        }
      }
    }
  }

  const std::string& file_;
  Violations* out_;
  std::set<std::string> tags_;
};

}  // namespace

void Violations::Add(const std::string& file, std::string where, std::string rule,
                     std::string message) {
  const std::string key = absl::StrCat(file, "\n", rule);
  auto it = std::find_if(counts_.begin(), counts_.end(),
                         [&key](const auto& c) { return c.first == key; });
  if (it == counts_.end()) {
    counts_.emplace_back(key, 0);
    it = counts_.end() - 1;
  }
  if (++it->second > kMaxPerRule) return;
  list_.push_back({file, std::move(where), std::move(rule), std::move(message)});
}

void Violations::Finish() {
  for (const auto& [key, count] : counts_) {
    if (count <= kMaxPerRule) continue;
    size_t nl = key.find('\n');
    const std::string file = key.substr(0, nl);
    const std::string rule = key.substr(nl + 1);
    const bool note = foreign_files_.count(file) > 0 && IsConventionRule(rule);
    list_.push_back({file, "", rule,
                     absl::StrCat("... and ", count - kMaxPerRule, " more of this rule"), note});
  }
}

void ValidateXSpace(const XSpace& space, const std::string& file, Violations* out) {
  XSpaceValidator(space, file, out).Run();
}

bool IsConventionRule(std::string_view rule) {
  static const std::set<std::string_view>* const kConventions = new std::set<std::string_view>{
      "xspace.hostname",
      "xplane.plane-name",
      "xplane.gpu-plane-id",
      "xplane.task-environment",
      "xplane.stat-type",
      "xplane.no-group-id",
      "xplane.no-loop-names",
      "xplane.derived-line-id",
      "xplane.relative-time",
      "xplane.event-order",
      "xplane.nesting",
      "xplane.kernel-details",
      "xplane.tf-op",
      "xplane.step-marker",
      "event.file-name",
      "event.file-version",
      "event.wall-time",
      "event.function-graphs",
      "event.step-stats",
      "event.step-stats-device",
      "event.step-stats-node",
      "event.step-stats-time",
      "event.step-stats-output",
  };
  return kConventions->count(rule) > 0;
}

bool IsTbprofXSpace(const XSpace& space) {
  // The stats tbprof writes, from its writer's own table; TensorFlow and JAX write others too.
  static const std::set<std::string_view>* const kStats = [] {
    size_t n = 0;
    const std::string_view* names = internal::XSpaceStatNames(&n);
    return new std::set<std::string_view>(names, names + n);
  }();
  for (const XPlane& plane : space.planes()) {
    if (plane.name() != kHostPlaneName && plane.name() != kTaskEnvironmentPlaneName &&
        plane.name() != internal::kMetadataPlaneName && !GpuOrdinal(plane.name())) {
      return false;
    }
    for (const auto& [id, metadata] : plane.stat_metadata()) {
      if (kStats->count(metadata.name()) == 0) return false;
    }
  }
  return true;
}

bool IsTbprofEventFile(const std::string& path) {
  constexpr std::string_view kSuffix = ".tbprof";
  return path.size() >= kSuffix.size() &&
         path.compare(path.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

int64_t Violations::errors() const {
  int64_t n = 0;
  for (const Violation& v : list_) n += v.note ? 0 : 1;
  return n;
}

void Violations::MarkConventionsAsNotes(const std::string& file) {
  for (Violation& v : list_) {
    if (v.file == file && IsConventionRule(v.rule)) v.note = true;
  }
  foreign_files_.insert(file);
}

void ValidateXplaneFile(const std::string& path, bool in_session_dir, std::ostream& err,
                        bool err_is_tty, Violations* out) {
  ValidateXplaneFile(path, in_session_dir, err, err_is_tty, ValidateOptions{.strict = true}, out);
}

void ValidateXplaneFile(const std::string& path, bool in_session_dir, std::ostream& err,
                        bool err_is_tty, const ValidateOptions& options, Violations* out) {
  if (!in_session_dir) {
    out->Add(path, "", "profile.layout",
             "profile files belong in <logdir>[/<run>]/plugins/profile/<session>/<host>.xplane.pb");
  }
  size_t slash = path.find_last_of('/');
  const std::string host =
      HostFromXplaneFileName(slash == std::string::npos ? path : path.substr(slash + 1));
  if (host.empty() || host.find(':') != std::string::npos || host[0] == '.') {
    out->Add(path, "", "profile.host-file-name",
             absl::StrCat("the file name must be <host>.xplane.pb with a non-empty host without "
                          "':' (found host ",
                          Q(host), ")"));
  }
  absl::StatusOr<XSpace> space = ReadXSpaceFile(path, err, err_is_tty);
  if (!space.ok()) {
    out->Add(path, "", "profile.decode", std::string(space.status().message()));
    return;
  }
  ValidateXSpace(*space, path, out);
  if (!options.strict && !IsTbprofXSpace(*space)) out->MarkConventionsAsNotes(path);
}

void ValidateEvents(const std::vector<tensorflow::Event>& events, const std::string& file,
                    Violations* out) {
  EventsValidator(file, out).Run(events);
}

namespace {

// events.out.tfevents.<10 digits>.<a character other than '.'><anything but a line break>.
bool IsEventFileName(std::string_view name) {
  constexpr std::string_view kPrefix = "events.out.tfevents.";
  if (name.substr(0, kPrefix.size()) != kPrefix) return false;
  name.remove_prefix(kPrefix.size());
  if (name.size() < 12) return false;
  for (size_t i = 0; i < 10; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  return name[10] == '.' && name[11] != '.' &&
         name.substr(12).find_first_of("\r\n") == std::string_view::npos;
}

}  // namespace

void ValidateEventFileName(const std::string& path, Violations* out) {
  size_t slash = path.find_last_of('/');
  const std::string_view name =
      std::string_view(path).substr(slash == std::string::npos ? 0 : slash + 1);
  if (!IsEventFileName(name)) {
    out->Add(path, "", "event.file-name",
             "event files are named events.out.tfevents.<10-digit seconds>.<host>[suffix]");
  }
}

void ValidateLogdir(const LogdirContents& contents, std::ostream& err, bool err_is_tty,
                    Violations* out, const ValidateOptions& options) {
  for (const ProfileSession& session : contents.sessions) {
    for (const std::string& file : session.xplane_files) {
      ValidateXplaneFile(file, /*in_session_dir=*/true, err, err_is_tty, options, out);
    }
  }
  for (const std::string& file : contents.misplaced_xplane_files) {
    ValidateXplaneFile(file, /*in_session_dir=*/false, err, err_is_tty, options, out);
  }
  for (const std::string& file : contents.event_files) {
    ValidateEventFileName(file, out);
    absl::StatusOr<EventFileContents> events = ReadEventFileContents(file);
    if (!events.ok()) {
      out->Add(file, "", "event.record", std::string(events.status().message()));
      continue;
    }
    if (!events->error.empty()) {
      out->Add(file, absl::StrCat("record ", events->events.size()), "event.record", events->error);
    }
    ValidateEvents(events->events, file, out);
    if (!options.strict && !IsTbprofEventFile(file)) out->MarkConventionsAsNotes(file);
  }
}

std::string FormatViolations(const Violations& violations) {
  std::string out;
  int n = 0;
  for (const Violation& v : violations.list()) {
    if (v.note) continue;
    absl::StrAppend(&out, ++n, ". ", v.file, ": ", v.where.empty() ? "" : v.where + ": ", "[",
                    v.rule, "] ", v.message, "\n");
  }
  for (const Violation& v : violations.list()) {
    if (!v.note) continue;
    absl::StrAppend(&out, "note: ", v.file, ": ", v.where.empty() ? "" : v.where + ": ", "[",
                    v.rule, "] ", v.message, "\n");
  }
  return out;
}

}  // namespace tbprof::cli
