#include "src/merge/traced_graph.h"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/merge/op_stats.h"
#include "tbprof/annotate.h"

namespace tbprof::internal {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '/' || c == '>';
}

// Makes `raw` a node name TensorBoard accepts: [A-Za-z0-9.][A-Za-z0-9_.\-/>]*, no empty
// path component.
std::string SanitizeNodeName(const std::string& raw, const std::string& fallback) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    char mapped = IsNameChar(c) ? c : '_';
    if (mapped == '/' && (out.empty() || out.back() == '/')) continue;  // No empty component.
    out.push_back(mapped);
  }
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (out.empty()) return fallback;
  const char first = out.front();
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') ||
        (first >= '0' && first <= '9') || first == '.')) {
    out.insert(out.begin(), 'x');
  }
  return out;
}

class UniqueNames {
 public:
  std::string Claim(const std::string& wanted) {
    std::string name = wanted;
    for (int n = 1; used_.contains(name); ++n) name = absl::StrCat(wanted, "_", n);
    used_.insert(name);
    return name;
  }

 private:
  std::unordered_set<std::string> used_;
};

TensorSpec SpecOf(const TensorInfo& tensor) {
  TensorSpec spec;
  spec.dtype = static_cast<DType>(tensor.dtype);
  spec.shape = tensor.shape;
  return spec;
}

std::string InputRef(const std::string& node, int slot) {
  return slot == 0 ? node : absl::StrCat(node, ":", slot);
}

}  // namespace

std::string DeviceName(int32_t gpu) {
  return gpu < 0 ? std::string("/device:CPU:0") : absl::StrCat("/device:GPU:", gpu);
}

absl::StatusOr<TracedGraph> BuildTracedGraph(const Trace& trace) {
  const size_t num_ops = trace.ops.size();
  TracedGraph result;

  // Devices: the GPU with the most device time among each op's device events.
  result.op_gpu.assign(num_ops, -1);
  {
    std::vector<std::map<int32_t, int64_t>> time_per_gpu(num_ops);
    for (const DeviceEvent& event : trace.device_events) {
      if (event.op_index < 0 || static_cast<size_t>(event.op_index) >= num_ops) continue;
      if (!IsDeviceWork(event)) continue;
      time_per_gpu[event.op_index][event.device_id] +=
          std::max<int64_t>(1, event.end_ns - event.start_ns);
    }
    for (size_t i = 0; i < num_ops; ++i) {
      int64_t best = -1;
      for (const auto& [gpu, ns] : time_per_gpu[i]) {
        if (ns > best && gpu >= 0) {
          best = ns;
          result.op_gpu[i] = gpu;
        }
      }
    }
  }

  // Order of first execution; ops that never ran keep their recorded order, after the rest.
  std::vector<int32_t> order(num_ops);
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](int32_t i) {
    const int64_t start = trace.ops[i].first_start_ns;
    return std::make_pair(start < 0 ? std::numeric_limits<int64_t>::max() : start, i);
  };
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return key(a) < key(b); });
  std::vector<int32_t> rank(num_ops);
  for (size_t r = 0; r < order.size(); ++r) rank[order[r]] = static_cast<int32_t>(r);

  UniqueNames names;
  result.op_nodes.resize(num_ops);
  for (int32_t i : order) {
    result.op_nodes[i] = names.Claim(SanitizeNodeName(trace.ops[i].name, absl::StrCat("op_", i)));
  }

  // Producers of each tensor id, in rank order: (rank, op, output slot).
  struct Producer {
    int32_t rank;
    int32_t op;
    int32_t slot;
  };
  std::unordered_map<uint64_t, std::vector<Producer>> producers;
  for (int32_t i : order) {
    const std::vector<TensorInfo>& outputs = trace.ops[i].outputs;
    for (size_t slot = 0; slot < outputs.size(); ++slot) {
      if (outputs[slot].id == 0) continue;
      producers[outputs[slot].id].push_back({rank[i], i, static_cast<int32_t>(slot)});
    }
  }

  std::vector<Node> op_nodes(num_ops);
  std::vector<Node> input_nodes;
  std::unordered_map<uint64_t, size_t> input_of_id;
  int unnamed_inputs = 0;
  for (int32_t c : order) {
    const OpInfo& op = trace.ops[c];
    Node& node = op_nodes[c];
    node.name = result.op_nodes[c];
    node.op = op.type.empty() ? std::string("Op") : op.type;
    node.device = DeviceName(result.op_gpu[c]);
    for (const TensorInfo& output : op.outputs) node.outputs.push_back(SpecOf(output));
    for (const TensorInfo& input : op.inputs) {
      if (input.id != 0) {
        auto it = producers.find(input.id);
        if (it != producers.end()) {
          // The latest producer ranked before the consumer (the list is in rank order; the
          // consumer's own outputs rank equal, so an in-place op never feeds itself).
          const std::vector<Producer>& list = it->second;
          auto end = std::lower_bound(list.begin(), list.end(), rank[c],
                                      [](const Producer& p, int32_t r) { return p.rank < r; });
          const Producer* found = end == list.begin() ? nullptr : &*std::prev(end);
          if (found != nullptr) {
            node.inputs.push_back(InputRef(result.op_nodes[found->op], found->slot));
            continue;
          }
        }
        auto known = input_of_id.find(input.id);
        if (known != input_of_id.end()) {
          node.inputs.push_back(result.inputs[known->second].node);
          continue;
        }
      }
      TracedInput traced;
      const size_t slot = static_cast<size_t>(&input - op.inputs.data());
      const std::string wanted_name = SanitizeNodeName(input.name, "");
      const auto role = static_cast<TensorRole>(input.role);
      const bool data_input =
          role == TensorRole::kInput || (role == TensorRole::kAuto && !wanted_name.empty());
      std::string wanted;
      if (data_input) {
        traced.op = "Placeholder";
        wanted = wanted_name.empty() ? absl::StrCat("input_", unnamed_inputs++) : wanted_name;
      } else {
        traced.op = role == TensorRole::kVariable ? "VariableV2" : "Const";
        if (wanted_name.empty()) {
          wanted = absl::StrCat(node.name, "/input_", slot);
        } else {
          const size_t cut = node.name.rfind('/');
          wanted = cut == std::string::npos
                       ? wanted_name
                       : absl::StrCat(node.name.substr(0, cut), "/", wanted_name);
        }
      }
      traced.node = names.Claim(wanted);
      traced.tensor = input;
      traced.first_consumer = c;
      Node placeholder;
      placeholder.name = traced.node;
      placeholder.op = traced.op;
      placeholder.device = DeviceName(-1);
      placeholder.outputs.push_back(SpecOf(input));
      if (data_input) {
        placeholder.attrs["shape"] = AttrValue::OfShape(input.shape);
      }
      input_nodes.push_back(std::move(placeholder));
      if (input.id != 0) input_of_id[input.id] = result.inputs.size();
      result.inputs.push_back(std::move(traced));
      node.inputs.push_back(result.inputs.back().node);
    }
  }

  for (Node& node : input_nodes) {
    absl::Status status = result.graph.AddNode(std::move(node));
    if (!status.ok()) return absl::InternalError(absl::StrCat("traced graph: ", status.message()));
  }
  for (int32_t i : order) {
    absl::Status status = result.graph.AddNode(std::move(op_nodes[i]));
    if (!status.ok()) return absl::InternalError(absl::StrCat("traced graph: ", status.message()));
  }
  if (absl::Status status = result.graph.Validate(); !status.ok()) {
    return absl::InternalError(absl::StrCat("traced graph: ", status.message()));
  }
  return result;
}

}  // namespace tbprof::internal
