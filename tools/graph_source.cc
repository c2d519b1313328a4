#include "tools/graph_source.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/xspace_util.h"

namespace tbprof::cli {
namespace {

bool IsGraphPlugin(const std::string& plugin) {
  return plugin == "graph_run_metadata" || plugin == "graph_run_metadata_graph";
}

AttrValue ConvertAttr(const tensorflow::AttrValue& v, bool* ok) {
  *ok = true;
  switch (v.value_case()) {
    case tensorflow::AttrValue::kS:
      return AttrValue::String(v.s());
    case tensorflow::AttrValue::kI:
      return AttrValue::Int(v.i());
    case tensorflow::AttrValue::kF:
      return AttrValue::Float(v.f());
    case tensorflow::AttrValue::kB:
      return AttrValue::Bool(v.b());
    case tensorflow::AttrValue::kType:
      return AttrValue::Type(static_cast<DType>(v.type()));
    case tensorflow::AttrValue::kShape: {
      Shape shape;
      for (const auto& dim : v.shape().dim()) shape.push_back(dim.size());
      return AttrValue::OfShape(std::move(shape));
    }
    case tensorflow::AttrValue::kList:
      if (v.list().i_size() > 0) {
        return AttrValue::IntList(std::vector<int64_t>(v.list().i().begin(), v.list().i().end()));
      }
      break;
    default:
      break;
  }
  *ok = false;
  return {};
}

// True when the summary value holds a RunMetadata with at least one non-empty function graph
// (or when it cannot be decoded: the caller reports that).
bool HoldsGraph(const tensorflow::Summary::Value& value) {
  if (value.tensor().string_val_size() != 1) return true;
  tensorflow::RunMetadata rm;
  if (!rm.ParseFromString(value.tensor().string_val(0))) return true;
  for (const auto& f : rm.function_graphs()) {
    if (f.pre_optimization_graph().node_size() > 0) return true;
  }
  return false;
}

// Prefixes every node name and input of `graph` with `scope`.
void AddScope(const tensorflow::GraphDef& graph, const std::string& scope,
              tensorflow::GraphDef* out) {
  for (const tensorflow::NodeDef& node : graph.node()) {
    tensorflow::NodeDef* copy = out->add_node();
    *copy = node;
    copy->set_name(scope + node.name());
    for (int i = 0; i < copy->input_size(); ++i) {
      const std::string& in = node.input(i);
      const bool control = !in.empty() && in[0] == '^';
      copy->set_input(i, (control ? "^" : "") + scope + in.substr(control ? 1 : 0));
    }
  }
}

}  // namespace

std::string FunctionScope(int index) { return absl::StrCat("function_", index, "/"); }

absl::StatusOr<GraphSource> FindGraph(const std::vector<EventFileContents>& files,
                                      const std::optional<std::string>& tag, int function) {
  std::vector<std::string> skipped_empty, keras_models;
  struct Found {
    const EventFileContents* file;
    size_t record;
    int value;  // Summary value index, -1 for tagged run metadata, -2 for a run graph.
  };
  std::optional<Found> newest_tagged, newest_run_graph;
  std::vector<std::string> tags;
  for (const EventFileContents& file : files) {
    for (size_t r = 0; r < file.events.size(); ++r) {
      const tensorflow::Event& event = file.events[r];
      if (event.what_case() == tensorflow::Event::kGraphDef) {
        newest_run_graph = Found{&file, r, -2};
      } else if (event.what_case() == tensorflow::Event::kTaggedRunMetadata) {
        tags.push_back(event.tagged_run_metadata().tag());
        if (tag && *tag == event.tagged_run_metadata().tag()) newest_tagged = Found{&file, r, -1};
      } else if (event.what_case() == tensorflow::Event::kSummary) {
        for (int v = 0; v < event.summary().value_size(); ++v) {
          const auto& value = event.summary().value(v);
          if (value.metadata().plugin_data().plugin_name() == "graph_keras_model") {
            keras_models.push_back(value.tag());
          }
          if (!IsGraphPlugin(value.metadata().plugin_data().plugin_name())) continue;
          tags.push_back(value.tag());
          if (!tag && !HoldsGraph(value)) {
            skipped_empty.push_back(value.tag());
            continue;
          }
          if (!tag || *tag == value.tag()) newest_tagged = Found{&file, r, v};
        }
      }
    }
  }
  std::optional<Found> found = newest_tagged;
  if (!found && !tag) found = newest_run_graph;
  if (!found) {
    std::sort(tags.begin(), tags.end());
    tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
    if (tag) {
      return absl::NotFoundError(absl::StrCat(
          "no graph with tag \"", *tag, "\" in ", files.size(),
          " event file(s); tags present: ", tags.empty() ? "none" : absl::StrJoin(tags, ", ")));
    }
    std::string why;
    if (!skipped_empty.empty()) {
      absl::StrAppend(&why, "; graph_run_metadata of tag(s) ", absl::StrJoin(skipped_empty, ", "),
                      " hold no graph");
    }
    if (!keras_models.empty()) {
      absl::StrAppend(&why, "; tag(s) ", absl::StrJoin(keras_models, ", "),
                      " hold a Keras model config (TensorBoard's conceptual graph), not a "
                      "GraphDef tbprof draws");
    }
    return absl::NotFoundError(absl::StrCat("no graph in ", files.size(),
                                            " event file(s) (neither a run graph nor "
                                            "graph_run_metadata summaries)",
                                            why));
  }
  GraphSource source;
  source.skipped_empty_tags = skipped_empty;
  source.keras_model_tags = keras_models;
  source.file = found->file->path;
  const tensorflow::Event& event = found->file->events[found->record];
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(source.file, ": record ", found->record, ": ", std::string(what)));
  };
  if (found->value == -2) {
    if (!source.graph.ParseFromString(event.graph_def())) {
      return bad("graph_def does not decode as a GraphDef");
    }
    return source;
  }
  tensorflow::RunMetadata rm;
  if (found->value == -1) {
    source.tag = event.tagged_run_metadata().tag();
    if (!rm.ParseFromString(event.tagged_run_metadata().run_metadata())) {
      return bad("tagged_run_metadata does not decode as RunMetadata");
    }
    if (!newest_run_graph) return bad("tagged run metadata without a run graph in the run");
    const tensorflow::Event& g = newest_run_graph->file->events[newest_run_graph->record];
    if (!source.graph.ParseFromString(g.graph_def())) {
      return bad("the run graph does not decode as a GraphDef");
    }
    source.run_metadata = std::move(rm);
    return source;
  }
  const auto& value = event.summary().value(found->value);
  source.tag = value.tag();
  if (value.tensor().string_val_size() != 1) {
    return bad(absl::StrCat("tag \"", source.tag,
                            "\": the tensor must hold exactly one serialized RunMetadata"));
  }
  if (!rm.ParseFromString(value.tensor().string_val(0))) {
    return bad(absl::StrCat("tag \"", source.tag, "\": RunMetadata does not decode"));
  }
  if (rm.function_graphs_size() == 0) {
    return bad(absl::StrCat("tag \"", source.tag, "\": RunMetadata holds no function graph"));
  }
  for (const auto& f : rm.function_graphs()) {
    source.function_sizes.push_back(f.pre_optimization_graph().node_size());
  }
  if (function >= rm.function_graphs_size()) {
    std::vector<std::string> list;
    for (size_t i = 0; i < source.function_sizes.size(); ++i) {
      list.push_back(absl::StrCat(i, " (", source.function_sizes[i], " nodes)"));
    }
    return absl::OutOfRangeError(absl::StrCat("tag \"", source.tag, "\" has no function graph ",
                                              function, "; it has ", absl::StrJoin(list, ", ")));
  }
  if (function < 0 && rm.function_graphs_size() == 1) function = 0;
  if (function >= 0) {
    source.function = function;
    const tensorflow::GraphDef& g = rm.function_graphs(function).pre_optimization_graph();
    // Function graphs may hold runtime nodes ("_EagerConst", "_Retval") whose names a graph
    // cannot start with; under a scope they can.
    bool runtime_names = false;
    for (const auto& node : g.node()) {
      runtime_names = runtime_names || (!node.name().empty() && node.name()[0] == '_');
    }
    if (runtime_names) {
      AddScope(g, FunctionScope(function), &source.graph);
      source.scoped = true;
    } else {
      source.graph = g;
    }
  } else {
    for (int i = 0; i < rm.function_graphs_size(); ++i) {
      AddScope(rm.function_graphs(i).pre_optimization_graph(), FunctionScope(i), &source.graph);
    }
    source.scoped = true;
  }
  if (rm.has_step_stats() && rm.step_stats().dev_stats_size() > 0) {
    source.run_metadata = std::move(rm);
  }
  return source;
}

absl::StatusOr<Graph> GraphFromGraphDef(const tensorflow::GraphDef& graph_def) {
  Graph graph;
  for (const tensorflow::NodeDef& def : graph_def.node()) {
    Node node;
    node.name = def.name();
    node.op = def.op();
    node.device = def.device();
    for (const std::string& input : def.input()) {
      if (!input.empty() && input[0] == '^') {
        node.control_inputs.push_back(input.substr(1));
      } else {
        node.inputs.push_back(input);
      }
    }
    DType dtype = DType::kFloat32;
    for (const char* key : {"T", "dtype"}) {
      auto it = def.attr().find(key);
      if (it != def.attr().end() && it->second.value_case() == tensorflow::AttrValue::kType) {
        dtype = static_cast<DType>(it->second.type());
        break;
      }
    }
    for (const auto& [key, value] : def.attr()) {
      if (key == "_output_shapes") {
        for (const auto& shape : value.list().shape()) {
          TensorSpec spec;
          spec.dtype = dtype;
          for (const auto& dim : shape.dim()) spec.shape.push_back(dim.size());
          node.outputs.push_back(std::move(spec));
        }
        continue;
      }
      bool ok = false;
      AttrValue converted = ConvertAttr(value, &ok);
      if (ok) node.attrs.emplace(key, std::move(converted));
    }
    if (absl::Status s = graph.AddNode(std::move(node)); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("graph: ", s.message()));
    }
  }
  if (absl::Status s = graph.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("graph: ", s.message()));
  }
  return graph;
}

std::map<std::string, NodeTiming> TimingsFromProfileOps(
    const Graph& graph, const std::map<std::string, std::pair<int64_t, double>>& ops_count_ms,
    bool scoped) {
  std::map<std::string, NodeTiming> timings;
  double total = 0;
  for (const Node& node : graph.nodes()) {
    std::string_view name = node.name;
    // "function_<i>/name" when several function graphs are drawn together.
    if (scoped && name.rfind("function_", 0) == 0 && name.find('/') != std::string_view::npos) {
      name.remove_prefix(name.find('/') + 1);
    }
    auto it = ops_count_ms.find(std::string(name));
    if (it == ops_count_ms.end()) continue;
    NodeTiming& t = timings[node.name];
    t.executions = it->second.first;
    t.host_ms = it->second.second;
    total += t.host_ms;
  }
  for (auto& [name, t] : timings) t.share = total > 0 ? t.host_ms / total : 0;
  return timings;
}

std::map<std::string, NodeTiming> TimingsFromStepStats(
    const tensorflow::StepStats& step_stats, const Graph& graph,
    const std::map<std::string, int64_t>& executions_by_node) {
  std::map<std::string, NodeTiming> timings;
  std::map<std::string, int64_t> entries;
  for (const auto& dev : step_stats.dev_stats()) {
    const std::optional<std::string_view> type = StepStatsDeviceType(dev.device());
    if (!type) continue;
    const bool gpu = *type == "GPU";
    for (const auto& ns : dev.node_stats()) {
      if (graph.Find(ns.node_name()) == nullptr) continue;
      const double ms = ns.all_end_rel_nanos() > 0
                            ? static_cast<double>(ns.all_end_rel_nanos()) / 1e6
                            : static_cast<double>(ns.all_end_rel_micros()) / 1e3;
      NodeTiming& t = timings[ns.node_name()];
      (gpu ? t.gpu_ms : t.host_ms) += ms;
      if (!gpu) ++entries[ns.node_name()];
    }
  }
  double host_total = 0, gpu_total = 0;
  for (auto& [name, t] : timings) {
    auto it = executions_by_node.find(name);
    t.executions =
        it != executions_by_node.end() ? it->second : std::max<int64_t>(1, entries[name]);
    host_total += t.host_ms;
    gpu_total += t.gpu_ms;
  }
  for (auto& [name, t] : timings) {
    t.share = gpu_total > 0 ? t.gpu_ms / gpu_total : host_total > 0 ? t.host_ms / host_total : 0;
  }
  return timings;
}

}  // namespace tbprof::cli
