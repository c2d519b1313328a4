#include "tools/xprof_steps.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tools/xspace_util.h"

namespace tbprof::cli {
namespace {

using tensorflow::profiler::XEvent;
using tensorflow::profiler::XEventMetadata;
using tensorflow::profiler::XLine;
using tensorflow::profiler::XPlane;
using tensorflow::profiler::XSpace;
using tensorflow::profiler::XStat;

constexpr int32_t kNotRoot = std::numeric_limits<int32_t>::min();

// Event kinds the grouping looks at, told apart by their exact names.
enum class Kind : uint8_t {
  kOther,
  kTraceContext,
  kFunctionRun,
  kSessionRun,
  kRunGraph,
  kExecutorProcess,
  kIteratorGetNext,  // IteratorGetNextOp::DoCompute, IteratorGetNextAsOptionalOp::DoCompute.
  kTfDataFunction,   // InstantiatedCapturedFunction::Run*.
  kProcessBatch,
  kBatchingSessionRun,
};

Kind KindOf(std::string_view name) {
  static const std::unordered_map<std::string_view, Kind>* const kKinds =
      new std::unordered_map<std::string_view, Kind>{
          {"TraceContext", Kind::kTraceContext},
          {"FunctionRun", Kind::kFunctionRun},
          {"SessionRun", Kind::kSessionRun},
          {"RunGraph", Kind::kRunGraph},
          {"ExecutorState::Process", Kind::kExecutorProcess},
          {"IteratorGetNextOp::DoCompute", Kind::kIteratorGetNext},
          {"IteratorGetNextAsOptionalOp::DoCompute", Kind::kIteratorGetNext},
          {"InstantiatedCapturedFunction::Run", Kind::kTfDataFunction},
          {"InstantiatedCapturedFunction::RunAsync", Kind::kTfDataFunction},
          {"InstantiatedCapturedFunction::RunInstantiated", Kind::kTfDataFunction},
          {"InstantiatedCapturedFunction::RunWithBorrowedArgs", Kind::kTfDataFunction},
          {"ProcessBatch", Kind::kProcessBatch},
          {"BatchingSessionRun", Kind::kBatchingSessionRun},
      };
  auto it = kKinds->find(name);
  return it == kKinds->end() ? Kind::kOther : it->second;
}

bool IsImplicitRoot(Kind kind) {
  return kind == Kind::kFunctionRun || kind == Kind::kSessionRun || kind == Kind::kRunGraph ||
         kind == Kind::kExecutorProcess;
}

bool IsLoopOpName(std::string_view name) {
  return name == "WhileOp-EvalCond" || name == "WhileOp-StartBody" || name == "ForOp" ||
         name == "ParallelForOp" || name == "ForeverOp";
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

bool IsExplicitHostStepMarker(std::string_view name) {
  return (StartsWith(name, "train") || StartsWith(name, "test") ||
          StartsWith(name, "TraceContext")) &&
         name.find('/') == std::string_view::npos;
}

bool IsRealCpuCompute(std::string_view name) {
  return !(StartsWith(name, "EagerExecute") || StartsWith(name, "EagerLocalExecute") ||
           StartsWith(name, "EagerKernelExecute") || StartsWith(name, "FunctionRun") ||
           IsExplicitHostStepMarker(name));
}

// xprof's step event types, in priority order (a higher value hides a lower one).
enum SpanType : int {
  kUnknownTime = 0,
  kHostCompute = 10,
  kHostToHost = 70,
  kHostToDevice = 80,
  kHostPrepare = 90,
  kDeviceCollectives = 100,
  kHostWaitInput = 110,
  kDeviceToDevice = 120,
  kDeviceToHost = 130,
  kDeviceCompute = 140,
  kLastType = 170,
};

// The type part of a TensorFlow op name "name:Type", or "".
std::string_view OpType(std::string_view name) {
  size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? std::string_view() : name.substr(colon + 1);
}

int ClassifyCpu(std::string_view name, bool has_device, bool has_correlation) {
  const std::string_view type = OpType(name);
  if (type == "InfeedEnqueue" || type == "InfeedEnqueueTuple" ||
      StartsWithIgnoreCase(name, "MEMCPYHToD")) {
    return kHostToDevice;
  }
  if (StartsWithIgnoreCase(name, "MEMCPYHToH")) return kHostToHost;
  if (has_device && (has_correlation || StartsWithIgnoreCase(name, "ExecutorState::Process"))) {
    return kHostPrepare;
  }
  if (StartsWithIgnoreCase(name, "IteratorGetNext")) return kHostWaitInput;
  return kHostCompute;
}

int ClassifyGpu(std::string_view name) {
  if (StartsWithIgnoreCase(name, "MEMCPYHToD")) return kHostToDevice;
  if (StartsWithIgnoreCase(name, "MEMCPYDToH")) return kDeviceToHost;
  if (StartsWithIgnoreCase(name, "MEMCPYDToD")) return kDeviceToDevice;
  if (StartsWithIgnoreCase(name, "nccl")) return kDeviceCollectives;
  return kDeviceCompute;
}

struct Span {
  int64_t begin = 0;
  int64_t end = 0;
  int type = kUnknownTime;
};

// True when some piece of the union of `spans`, cut at every boundary, has `type` as the
// highest type in force there (xprof's non-overlapped step events).
bool ShowsType(const std::vector<Span>& spans, int type) {
  struct Boundary {
    int64_t time;
    int type;
    bool start;
  };
  std::vector<Boundary> b;
  b.reserve(spans.size() * 2);
  for (const Span& s : spans) {
    b.push_back({s.begin, s.type, true});
    b.push_back({s.end, s.type, false});
  }
  std::sort(b.begin(), b.end(), [](const Boundary& x, const Boundary& y) {
    if (x.time != y.time) return x.time < y.time;
    if (x.start != y.start) return !x.start;
    return x.type > y.type;
  });
  std::vector<int64_t> count(kLastType + 1, 0);
  int current = kUnknownTime;
  for (size_t i = 0; i + 1 < b.size(); ++i) {
    if (b[i].start) {
      ++count[b[i].type];
      current = std::max(current, b[i].type);
    } else {
      --count[b[i].type];
      if (b[i].type == current && count[current] == 0) {
        int next = kUnknownTime;
        for (int t = current - 1; t >= 0; --t) {
          if (count[t] > 0) {
            next = t;
            break;
          }
        }
        current = next;
      }
    }
    if (current == type) return true;
  }
  return false;
}

// Stat metadata ids of one plane for the stats the grouping reads (-1: absent).
struct StatIds {
  int64_t root = -1, async = -1, producer_type = -1, producer_id = -1, consumer_type = -1,
          consumer_id = -1, step_id = -1, iter_num = -1, step_num = -1, graph_type = -1,
          step_name = -1, correlation_id = -1;
};

// The stats of one event the grouping needs; values from the event, else its metadata.
struct EventStats {
  std::optional<int64_t> root, producer_type, producer_id, consumer_type, consumer_id, step_id,
      iter_num, correlation_id;
  bool async = false;
  bool has_step_name = false;
};

class Grouper {
 public:
  explicit Grouper(const XSpace& space) : space_(space) {}

  XprofSteps Run() {
    for (const XPlane& plane : space_.planes()) {
      for (const auto& [id, md] : plane.event_metadata()) {
        if (IsLoopOpName(md.name())) {
          result_.loop_ops = true;
          return std::move(result_);
        }
      }
    }
    if (!MayHaveRoots()) return std::move(result_);
    for (int p = 0; p < space_.planes_size(); ++p) {
      const XPlane& plane = space_.planes(p);
      if (plane.name() == kHostPlaneName) {
        host_plane_ = p;
      } else if (GpuOrdinal(plane.name())) {
        gpu_planes_.push_back(p);
      } else {
        continue;
      }
      AddPlane(p);
    }
    ConnectInterThread();
    ProcessTfDataSteps();
    ProcessTensorFlowLoop();
    BuildAdjacency();
    CreateEventGroups();
    if (gpu_planes_.empty()) {
      HostSteps();
    } else {
      DeviceSteps();
    }
    return std::move(result_);
  }

 private:
  struct Node {
    const XEvent* event;
    int32_t plane;
    int32_t parent = -1;  // Enclosing event on the same line.
    int32_t root_level = kNotRoot;
    Kind kind = Kind::kOther;
    bool step_name = false;  // Has (or was given) a step_name stat.
    uint8_t cls = 0;         // kMarkerName | kRealCompute, from the name.
    uint8_t cpu_type = 0;    // ClassifyCpu / 10 (host) or ClassifyGpu / 10 (device).
    int64_t start_ps;
    int64_t end_ps;
    int64_t group = -1;
  };

  struct MetaInfo {
    Kind kind = Kind::kOther;
    uint8_t cls = 0;
    uint8_t type = 0;
    EventStats stats;
  };

  struct PlaneInfo {
    const XPlane* plane;
    StatIds ids;
    // Per event metadata id: what its name says and the stats its metadata carries.
    std::unordered_map<int64_t, MetaInfo> metadata;
  };

  static constexpr uint8_t kMarkerName = 1;
  static constexpr uint8_t kRealCompute = 2;

  // A quick look for anything that can start a group, so that profiles without steps cost
  // one pass over the metadata only.
  bool MayHaveRoots() const {
    for (const XPlane& plane : space_.planes()) {
      if (plane.name() != kHostPlaneName && !GpuOrdinal(plane.name())) continue;
      for (const auto& [id, md] : plane.stat_metadata()) {
        if (md.name() == "_r") return true;
      }
      for (const auto& [id, md] : plane.event_metadata()) {
        const Kind kind = KindOf(md.name());
        if (kind == Kind::kTraceContext || kind == Kind::kProcessBatch ||
            kind == Kind::kBatchingSessionRun || kind == Kind::kExecutorProcess) {
          return true;
        }
      }
    }
    return false;
  }

  static void ReadStat(const StatIds& ids, const XStat& stat, EventStats* out) {
    const int64_t id = stat.metadata_id();
    auto int_value = [&stat]() -> int64_t {
      return stat.value_case() == XStat::kUint64Value ? static_cast<int64_t>(stat.uint64_value())
                                                      : stat.int64_value();
    };
    if (id == ids.root) {
      out->root = stat.int64_value();  // As xprof reads it: an int64 value.
    } else if (id == ids.async) {
      out->async = stat.value_case() == XStat::kInt64Value    ? stat.int64_value() != 0
                   : stat.value_case() == XStat::kUint64Value ? stat.uint64_value() != 0
                                                              : false;
    } else if (id == ids.producer_type) {
      out->producer_type = int_value();
    } else if (id == ids.producer_id) {
      out->producer_id = int_value();
    } else if (id == ids.consumer_type) {
      out->consumer_type = int_value();
    } else if (id == ids.consumer_id) {
      out->consumer_id = int_value();
    } else if (id == ids.step_id) {
      out->step_id = int_value();
    } else if (id == ids.iter_num) {
      out->iter_num = int_value();
    } else if (id == ids.correlation_id) {
      out->correlation_id = int_value();
    } else if (id == ids.step_name) {
      out->has_step_name =
          stat.value_case() == XStat::kStrValue ? !stat.str_value().empty() : stat.ref_value() != 0;
    }
  }

  void AddPlane(int32_t p) {
    const XPlane& plane = space_.planes(p);
    PlaneInfo& info = planes_[p];
    info.plane = &plane;
    for (const auto& [id, md] : plane.stat_metadata()) {
      const std::string& n = md.name();
      int64_t* slot = n == "_r"               ? &info.ids.root
                      : n == "_a"             ? &info.ids.async
                      : n == "_pt"            ? &info.ids.producer_type
                      : n == "_p"             ? &info.ids.producer_id
                      : n == "_ct"            ? &info.ids.consumer_type
                      : n == "_c"             ? &info.ids.consumer_id
                      : n == "step_id"        ? &info.ids.step_id
                      : n == "iter_num"       ? &info.ids.iter_num
                      : n == "step_num"       ? &info.ids.step_num
                      : n == "graph_type"     ? &info.ids.graph_type
                      : n == "step_name"      ? &info.ids.step_name
                      : n == "correlation_id" ? &info.ids.correlation_id
                                              : nullptr;
      if (slot != nullptr) *slot = id;
    }
    const bool host = p == host_plane_;
    for (const auto& [id, md] : plane.event_metadata()) {
      MetaInfo m;
      for (const XStat& s : md.stats()) ReadStat(info.ids, s, &m.stats);
      m.kind = KindOf(md.name());
      if (IsExplicitHostStepMarker(md.name())) m.cls |= kMarkerName;
      if (IsRealCpuCompute(md.name())) m.cls |= kRealCompute;
      m.type = static_cast<uint8_t>(
          (host ? ClassifyCpu(md.name(), false, false) : ClassifyGpu(md.name())) / 10);
      info.metadata.emplace(id, m);
    }
    size_t events = nodes_.size();
    for (const XLine& line : plane.lines()) events += line.events_size();
    nodes_.reserve(events);
    std::vector<int32_t> stack;
    for (const XLine& line : plane.lines()) {
      stack.clear();
      for (const XEvent& event : line.events()) {
        Node node;
        node.event = &event;
        node.plane = p;
        node.start_ps = EventStartPs(line, event);
        node.end_ps = SaturatingAdd(node.start_ps, std::max<int64_t>(0, event.duration_ps()));
        EventStats stats;
        auto md = info.metadata.find(event.metadata_id());
        if (md != info.metadata.end()) {
          node.kind = md->second.kind;
          node.cls = md->second.cls;
          node.cpu_type = md->second.type;
          stats = md->second.stats;
        }
        for (const XStat& s : event.stats()) ReadStat(info.ids, s, &stats);
        const int32_t index = static_cast<int32_t>(nodes_.size());
        if (stats.root) {
          node.root_level = static_cast<int32_t>(*stats.root);
        } else if (node.kind == Kind::kTraceContext || node.kind == Kind::kBatchingSessionRun) {
          node.root_level = 1;
        } else if (node.kind == Kind::kProcessBatch) {
          node.root_level = 2;
        }
        node.step_name = stats.has_step_name;
        if (stats.producer_type && stats.producer_id) {
          contexts_[{*stats.producer_type, *stats.producer_id}].first.push_back(index);
        }
        if (stats.consumer_type && stats.consumer_id) {
          contexts_[{*stats.consumer_type, *stats.consumer_id}].second.push_back(index);
        }
        if (node.kind == Kind::kExecutorProcess && stats.step_id && stats.iter_num) {
          executors_[{*stats.step_id, *stats.iter_num}] = index;
          executor_nodes_.push_back({index, {*stats.step_id, *stats.iter_num}});
        } else if (node.kind == Kind::kIteratorGetNext && stats.step_id && stats.iter_num) {
          get_next_.push_back({index, {*stats.step_id, *stats.iter_num}});
        } else if (node.kind == Kind::kTfDataFunction && stats.step_id) {
          tf_data_step_ids_.push_back(*stats.step_id);
        }
        if (stats.step_id) step_ids_.emplace(index, *stats.step_id);
        if (stats.correlation_id && node.kind == Kind::kOther) {
          if (host) {
            launches_[*stats.correlation_id] = index;
          } else {
            kernels_.push_back({index, *stats.correlation_id});
          }
        }
        if (!stats.async) {
          while (!stack.empty()) {
            const Node& parent = nodes_[stack.back()];
            if (parent.start_ps <= node.start_ps && node.end_ps <= parent.end_ps) {
              node.parent = stack.back();
              break;
            }
            stack.pop_back();
          }
          stack.push_back(index);
        }
        nodes_.push_back(node);
      }
    }
  }

  void ConnectInterThread() {
    for (const auto& [index, key] : get_next_) {
      auto it = executors_.find(key);
      if (it != executors_.end()) edges_.push_back({it->second, index});
    }
    for (const auto& [index, corr] : kernels_) {
      auto it = launches_.find(corr);
      if (it != launches_.end()) edges_.push_back({it->second, index});
    }
    for (const auto& [key, group] : contexts_) {
      const auto& [producers, consumers] = group;
      if (producers.size() >= 64 && consumers.size() >= 64) continue;
      for (int32_t p : producers) {
        for (int32_t c : consumers) edges_.push_back({p, c});
      }
    }
  }

  void ProcessTfDataSteps() { std::sort(tf_data_step_ids_.begin(), tf_data_step_ids_.end()); }

  bool IsTfDataStep(int64_t step_id) const {
    return std::binary_search(tf_data_step_ids_.begin(), tf_data_step_ids_.end(), step_id);
  }

  void ProcessTensorFlowLoop() {
    struct Iteration {
      int32_t first = -1;
      std::vector<int32_t> events;
    };
    std::map<int64_t, std::map<int64_t, Iteration>> loops;
    for (const auto& [index, key] : executor_nodes_) {
      if (IsTfDataStep(key.first)) continue;
      Iteration& it = loops[key.first][key.second];
      if (it.first < 0 || nodes_[index].start_ps < nodes_[it.first].start_ps) it.first = index;
      it.events.push_back(index);
    }
    std::vector<const Iteration*> iterations;
    for (const auto& [step_id, loop] : loops) {
      if (loop.size() == 1 && loop.count(0) == 1) continue;
      for (const auto& [iter, it] : loop) iterations.push_back(&it);
    }
    std::stable_sort(iterations.begin(), iterations.end(),
                     [this](const Iteration* a, const Iteration* b) {
                       return nodes_[a->first].start_ps < nodes_[b->first].start_ps;
                     });
    for (const Iteration* it : iterations) {
      loop_roots_.push_back(it->first);
      for (int32_t e : it->events) {
        if (e != it->first) edges_.push_back({it->first, e});
      }
    }
  }

  void BuildAdjacency() {
    const size_t n = nodes_.size();
    child_begin_.assign(n + 1, 0);
    parent_begin_.assign(n + 1, 0);
    for (size_t i = 0; i < n; ++i) {
      if (nodes_[i].parent >= 0) {
        ++child_begin_[nodes_[i].parent + 1];
        ++parent_begin_[i + 1];
      }
    }
    for (const auto& [p, c] : edges_) {
      ++child_begin_[p + 1];
      ++parent_begin_[c + 1];
    }
    for (size_t i = 0; i < n; ++i) {
      child_begin_[i + 1] += child_begin_[i];
      parent_begin_[i + 1] += parent_begin_[i];
    }
    children_.resize(child_begin_[n]);
    parents_.resize(parent_begin_[n]);
    std::vector<int64_t> cpos(child_begin_.begin(), child_begin_.end() - 1);
    std::vector<int64_t> ppos(parent_begin_.begin(), parent_begin_.end() - 1);
    // Intra-line children first (xprof adds them first), then the cross-thread ones.
    for (size_t i = 0; i < n; ++i) {
      if (nodes_[i].parent >= 0) {
        children_[cpos[nodes_[i].parent]++] = static_cast<int32_t>(i);
        parents_[ppos[i]++] = nodes_[i].parent;
      }
    }
    for (const auto& [p, c] : edges_) {
      children_[cpos[p]++] = c;
      parents_[ppos[c]++] = p;
    }
    seen_.assign(n, 0);
  }

  // Breadth-first search over the ancestors of `node` (itself first when include_self) for
  // the first one `pred` accepts; -1 when none.
  template <typename Pred>
  int32_t FindAncestor(int32_t node, bool include_self, Pred pred) {
    ++generation_;
    std::vector<int32_t>& queue = queue_;
    queue.clear();
    seen_[node] = generation_;
    if (include_self) {
      queue.push_back(node);
    } else {
      for (int64_t k = parent_begin_[node]; k < parent_begin_[node + 1]; ++k) {
        const int32_t p = parents_[k];
        if (seen_[p] == generation_) continue;
        seen_[p] = generation_;
        queue.push_back(p);
      }
    }
    for (size_t head = 0; head < queue.size(); ++head) {
      const int32_t cur = queue[head];
      if (pred(cur)) return cur;
      for (int64_t k = parent_begin_[cur]; k < parent_begin_[cur + 1]; ++k) {
        const int32_t p = parents_[k];
        if (seen_[p] == generation_) continue;
        seen_[p] = generation_;
        queue.push_back(p);
      }
    }
    return -1;
  }

  bool RootNeedsGrouping(int32_t root) {
    if (nodes_[root].group >= 0) return false;
    const int32_t level = nodes_[root].root_level;
    return FindAncestor(root, false, [this, level](int32_t n) {
             return nodes_[n].root_level != kNotRoot && nodes_[n].root_level == level;
           }) < 0;
  }

  void Propagate(int32_t root, int64_t group) {
    ++generation_;
    std::vector<int32_t>& queue = queue_;
    queue.clear();
    queue.push_back(root);
    seen_[root] = generation_;
    for (size_t head = 0; head < queue.size(); ++head) {
      Node& node = nodes_[queue[head]];
      if (node.group >= 0) continue;
      node.group = group;
      const int32_t cur = queue[head];
      for (int64_t k = child_begin_[cur]; k < child_begin_[cur + 1]; ++k) {
        const int32_t c = children_[k];
        if (seen_[c] == generation_) continue;
        seen_[c] = generation_;
        queue.push_back(c);
      }
    }
  }

  // The value of stat `name` on the event or its metadata, as xprof's GetStat reads it.
  const XStat* StatOf(int32_t n, std::string_view name) const {
    const Node& node = nodes_[n];
    const PlaneInfo& info = planes_.at(node.plane);
    const int64_t id = name == "graph_type" ? info.ids.graph_type
                       : name == "iter_num" ? info.ids.iter_num
                                            : info.ids.step_num;
    if (id < 0) return nullptr;
    for (const XStat& s : node.event->stats()) {
      if (s.metadata_id() == id) return &s;
    }
    auto md = info.plane->event_metadata().find(node.event->metadata_id());
    if (md != info.plane->event_metadata().end()) {
      for (const XStat& s : md->second.stats()) {
        if (s.metadata_id() == id) return &s;
      }
    }
    return nullptr;
  }

  const XStat* ContextStat(int32_t root, std::string_view name, int32_t* owner) {
    const XStat* found = nullptr;
    const int32_t at = FindAncestor(root, true, [&](int32_t n) {
      found = StatOf(n, name);
      return found != nullptr;
    });
    *owner = at;
    return at >= 0 ? found : nullptr;
  }

  std::string_view EventName(int32_t n) const {
    const Node& node = nodes_[n];
    const XPlane& plane = *planes_.at(node.plane).plane;
    auto md = plane.event_metadata().find(node.event->metadata_id());
    return md == plane.event_metadata().end() ? std::string_view() : md->second.name();
  }

  void ProcessRootEvent(int32_t root, int64_t group) {
    Propagate(root, group);
    XprofStep step;
    step.group_id = group;
    step.root = std::string(EventName(root));
    int32_t owner = -1;
    if (const XStat* s = ContextStat(root, "graph_type", &owner)) {
      const XPlane& plane = *planes_.at(nodes_[owner].plane).plane;
      if (s->value_case() == XStat::kRefValue) {
        auto it = plane.stat_metadata().find(static_cast<int64_t>(s->ref_value()));
        if (it != plane.stat_metadata().end()) step.name = it->second.name();
      } else {
        step.name = s->str_value();
      }
      step.name += " ";
    } else if (!IsImplicitRoot(nodes_[root].kind)) {
      step.name = step.root + " ";
    }
    step.step = group;
    if (const XStat* s = ContextStat(root, "iter_num", &owner)) {
      step.step = s->int64_value();
    } else if (const XStat* s2 = ContextStat(root, "step_num", &owner)) {
      step.step = s2->int64_value();
    }
    absl::StrAppend(&step.name, step.step);
    if (!IsImplicitRoot(nodes_[root].kind)) nodes_[root].step_name = true;
    groups_.push_back(std::move(step));
  }

  void CreateEventGroups() {
    int64_t group = 0;
    if (!loop_roots_.empty()) {
      for (int32_t root : loop_roots_) ProcessRootEvent(root, group++);
    } else {
      std::vector<int32_t> roots;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i].root_level == kNotRoot) continue;
        auto sid = step_ids_.find(static_cast<int32_t>(i));
        if (sid != step_ids_.end() && IsTfDataStep(sid->second)) continue;
        roots.push_back(static_cast<int32_t>(i));
      }
      result_.roots = static_cast<int64_t>(roots.size());
      std::stable_sort(roots.begin(), roots.end(), [this](int32_t a, int32_t b) {
        const Node& x = nodes_[a];
        const Node& y = nodes_[b];
        if (x.root_level != y.root_level) return x.root_level > y.root_level;
        return x.start_ps < y.start_ps;
      });
      for (int32_t root : roots) {
        if (RootNeedsGrouping(root)) ProcessRootEvent(root, group++);
      }
    }
    result_.groups = group;
  }

  struct GroupSteps {
    Span marker;  // Longest marker (begin == end == 0: none).
    bool has_marker = false;
    std::vector<Span> events;
  };

  static void AddMarker(GroupSteps& g, Span span) {
    if (!g.has_marker || span.end - span.begin > g.marker.end - g.marker.begin) g.marker = span;
    g.has_marker = true;
  }

  void HostSteps() {
    std::vector<GroupSteps> steps(groups_.size());
    // Per group: events of host compute, and of other types (then the spans are swept).
    std::vector<int64_t> compute(groups_.size(), 0), other(groups_.size(), 0);
    bool any_marker = false;
    for (const Node& node : nodes_) {
      if (node.plane != host_plane_ || node.group < 0) continue;
      GroupSteps& g = steps[node.group];
      if ((node.cls & kMarkerName) != 0 || node.step_name) {
        AddMarker(g, Span{node.start_ps, node.end_ps, kUnknownTime});
        any_marker = true;
      } else if ((node.cls & kRealCompute) != 0) {
        ++(node.cpu_type * 10 == kHostCompute ? compute : other)[node.group];
      }
    }
    if (!any_marker) return;
    for (const Node& node : nodes_) {
      if (node.plane != host_plane_ || node.group < 0 || other[node.group] == 0 ||
          compute[node.group] == 0 || (node.cls & kMarkerName) != 0 || node.step_name ||
          (node.cls & kRealCompute) == 0) {
        continue;
      }
      steps[node.group].events.push_back({node.start_ps, node.end_ps, node.cpu_type * 10});
    }
    for (size_t id = 0; id < steps.size(); ++id) {
      GroupSteps& g = steps[id];
      if (!g.has_marker) continue;
      const int64_t duration = g.marker.end - g.marker.begin;
      const bool host_compute =
          compute[id] > 0 && (other[id] == 0 || ShowsType(g.events, kHostCompute));
      if (duration == 0 || !host_compute) {
        ++result_.dropped;
        continue;
      }
      Keep(id, g.marker.begin, duration);
    }
  }

  void DeviceSteps() {
    std::vector<GroupSteps> steps(groups_.size());
    std::vector<bool> has_events(groups_.size(), false);
    for (int32_t p : gpu_planes_) {
      // Derived step markers: runs of consecutive events (by start) of one group.
      std::vector<int32_t> events;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i].plane == p && nodes_[i].group >= 0) events.push_back(static_cast<int32_t>(i));
      }
      std::stable_sort(events.begin(), events.end(), [this](int32_t a, int32_t b) {
        return nodes_[a].start_ps < nodes_[b].start_ps;
      });
      std::vector<GroupSteps> plane_steps(groups_.size());
      std::vector<bool> plane_events(groups_.size(), false);
      int64_t run_group = -1;
      Span run;
      auto flush = [&]() {
        if (run_group >= 0) AddMarker(plane_steps[run_group], run);
      };
      for (int32_t e : events) {
        const Node& node = nodes_[e];
        if (node.group == run_group) {
          run.begin = std::min(run.begin, node.start_ps);
          run.end = std::max(run.end, node.end_ps);
        } else {
          flush();
          run_group = node.group;
          run = {node.start_ps, node.end_ps, kUnknownTime};
        }
        plane_steps[node.group].events.push_back({node.start_ps, node.end_ps, node.cpu_type * 10});
        plane_events[node.group] = true;
      }
      flush();
      for (size_t g = 0; g < groups_.size(); ++g) {
        if (!plane_events[g] || !plane_steps[g].has_marker) continue;
        AddMarker(steps[g], plane_steps[g].marker);
        auto& dst = steps[g].events;
        dst.insert(dst.end(), plane_steps[g].events.begin(), plane_steps[g].events.end());
        has_events[g] = true;
      }
    }
    for (size_t id = 0; id < steps.size(); ++id) {
      GroupSteps& g = steps[id];
      if (!has_events[id]) continue;
      const int64_t duration = g.marker.end - g.marker.begin;
      bool compute = false;
      for (const Span& s : g.events) compute = compute || s.type == kDeviceCompute;
      if (duration == 0 || !compute) {
        ++result_.dropped;
        continue;
      }
      Keep(id, g.marker.begin, duration);
    }
  }

  void Keep(size_t group, int64_t begin, int64_t duration) {
    XprofStep step = groups_[group];
    step.start_ps = begin;
    step.duration_ps = duration;
    result_.steps.push_back(std::move(step));
  }

  const XSpace& space_;
  XprofSteps result_;
  int32_t host_plane_ = -1;
  std::vector<int32_t> gpu_planes_;
  std::map<int32_t, PlaneInfo> planes_;
  std::vector<Node> nodes_;
  std::map<std::pair<int64_t, int64_t>, std::pair<std::vector<int32_t>, std::vector<int32_t>>>
      contexts_;
  std::map<std::pair<int64_t, int64_t>, int32_t> executors_;
  std::vector<std::pair<int32_t, std::pair<int64_t, int64_t>>> executor_nodes_;
  std::vector<std::pair<int32_t, std::pair<int64_t, int64_t>>> get_next_;
  std::vector<int64_t> tf_data_step_ids_;
  std::unordered_map<int32_t, int64_t> step_ids_;
  std::unordered_map<int64_t, int32_t> launches_;
  std::vector<std::pair<int32_t, int64_t>> kernels_;
  std::vector<std::pair<int32_t, int32_t>> edges_;
  std::vector<int32_t> loop_roots_;
  std::vector<int64_t> child_begin_, parent_begin_;
  std::vector<int32_t> children_, parents_;
  std::vector<uint32_t> seen_;
  uint32_t generation_ = 0;
  std::vector<int32_t> queue_;
  std::vector<XprofStep> groups_;
};

}  // namespace

XprofSteps FindXprofSteps(const XSpace& space) { return Grouper(space).Run(); }

}  // namespace tbprof::cli
