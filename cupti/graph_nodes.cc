#include "cupti/graph_nodes.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace tbprof::internal::cupti {
namespace {

// Clone chains longer than this are treated as broken (a cycle from reused ids).
constexpr int kMaxCloneDepth = 64;

std::string OpKey(const OpInfo& op) {
  std::string key = op.name;
  key.push_back('\0');
  key.append(op.type);
  return key;
}

bool IsOpEvent(const HostEvent& e, size_t num_ops) {
  return e.kind == HostEventKind::kOp && e.op_index >= 0 &&
         static_cast<size_t>(e.op_index) < num_ops;
}

}  // namespace

void GraphNodeRegistry::NodeCreated(uint64_t node_id, uint32_t /*graph_id*/, int64_t tid,
                                    int64_t host_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_.size() >= max_nodes_) {
    ++dropped_;
    return;
  }
  pending_.push_back({node_id, tid, host_ns});
}

void GraphNodeRegistry::NodeCloned(uint64_t node_id, uint64_t original_id) {
  if (node_id == original_id) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (original_node_.size() >= max_nodes_ && !original_node_.contains(node_id)) {
    ++dropped_;
    return;
  }
  original_node_[node_id] = original_id;
}

void GraphNodeRegistry::GraphCloned(uint32_t graph_id, uint32_t original_id) {
  if (graph_id == original_id) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (original_graph_.size() >= max_nodes_ && !original_graph_.contains(graph_id)) {
    ++dropped_;
    return;
  }
  original_graph_[graph_id] = original_id;
}

void GraphNodeRegistry::DiscardPending() {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.clear();
}

uint64_t GraphNodeRegistry::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

int32_t GraphNodeRegistry::KnownOpOf(uint64_t node_id) const {
  for (int depth = 0; depth < kMaxCloneDepth; ++depth) {
    if (auto op = op_of_node_.find(node_id); op != op_of_node_.end()) return op->second;
    auto original = original_node_.find(node_id);
    if (original == original_node_.end()) return -1;
    node_id = original->second;
  }
  return -1;
}

uint32_t GraphNodeRegistry::OriginalGraph(uint32_t graph_id) const {
  for (int depth = 0; depth < kMaxCloneDepth; ++depth) {
    auto original = original_graph_.find(graph_id);
    if (original == original_graph_.end()) break;
    graph_id = original->second;
  }
  return graph_id;
}

GraphResolveResult GraphNodeRegistry::Resolve(int64_t session_start_ns, Trace* trace) {
  GraphResolveResult result;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Creation> pending;
  pending.swap(pending_);

  // This session's creations -> the innermost op scope containing them on their thread.
  if (!pending.empty()) {
    absl::flat_hash_map<int64_t, std::vector<Creation>> by_thread;
    for (const Creation& c : pending) by_thread[c.tid].push_back(c);
    absl::flat_hash_map<int64_t, const ThreadTrack*> tracks;
    for (const ThreadTrack& t : trace->threads) tracks.try_emplace(t.tid, &t);
    const size_t num_ops = trace->ops.size();
    for (auto& [tid, creations] : by_thread) {
      std::sort(creations.begin(), creations.end(),
                [](const Creation& a, const Creation& b) { return a.host_ns < b.host_ns; });
      auto track = tracks.find(tid);
      const std::vector<HostEvent>* events =
          track != tracks.end() ? &track->second->events : nullptr;
      // Sweep the thread's events (sorted by start, nested) with a stack of open op scopes.
      std::vector<size_t> open;
      size_t next = 0;
      for (const Creation& c : creations) {
        const int64_t t = c.host_ns - session_start_ns;
        while (events != nullptr && next < events->size() && (*events)[next].start_ns <= t) {
          const HostEvent& e = (*events)[next];
          if (IsOpEvent(e, num_ops)) {
            while (!open.empty() && (*events)[open.back()].end_ns < e.start_ns) open.pop_back();
            open.push_back(next);
          }
          ++next;
        }
        while (!open.empty() && (*events)[open.back()].end_ns < t) open.pop_back();
        if (open.empty()) {
          ++result.nodes_outside_ops;
          continue;
        }
        const OpInfo& op = trace->ops[(*events)[open.back()].op_index];
        std::string key = OpKey(op);
        auto [known, added] =
            known_op_by_key_.try_emplace(std::move(key), static_cast<int32_t>(known_ops_.size()));
        if (added) {
          OpInfo copy;
          copy.name = op.name;
          copy.type = op.type;
          copy.inputs = op.inputs;
          copy.outputs = op.outputs;
          known_ops_.push_back(std::move(copy));
        }
        if (op_of_node_.size() >= max_nodes_ && !op_of_node_.contains(c.node_id)) {
          ++dropped_;
          continue;
        }
        op_of_node_[c.node_id] = known->second;
        ++result.nodes_resolved;
      }
    }
  }

  // Graph-launched device events -> the op of their node (or of the node it was cloned from).
  absl::flat_hash_map<std::string, int32_t> trace_op_by_key;
  bool indexed = false;
  absl::flat_hash_map<int32_t, int32_t> trace_op_of_known;
  // Replays repeat the same nodes and graphs: one lookup per event once they are seen.
  absl::flat_hash_map<uint64_t, int32_t> trace_op_of_node;
  absl::flat_hash_map<uint32_t, uint32_t> original_of_graph;
  for (DeviceEvent& e : trace->device_events) {
    if (e.graph_id == 0 && e.graph_node_id == 0) continue;
    if (e.graph_id != 0) {
      auto [g, added] = original_of_graph.try_emplace(e.graph_id, 0);
      if (added) g->second = OriginalGraph(e.graph_id);
      if (g->second != e.graph_id) e.graph_orig_id = g->second;
    }
    auto [node_op, first] = trace_op_of_node.try_emplace(e.graph_node_id, -1);
    if (!first) {
      e.graph_op_index = node_op->second;
      ++(node_op->second >= 0 ? result.events_attributed : result.events_unattributed);
      continue;
    }
    const int32_t known = e.graph_node_id != 0 ? KnownOpOf(e.graph_node_id) : -1;
    if (known < 0) {
      ++result.events_unattributed;
      continue;
    }
    auto mapped = trace_op_of_known.find(known);
    if (mapped == trace_op_of_known.end()) {
      if (!indexed) {
        for (size_t i = 0; i < trace->ops.size(); ++i) {
          trace_op_by_key.try_emplace(OpKey(trace->ops[i]), static_cast<int32_t>(i));
        }
        indexed = true;
      }
      const OpInfo& op = known_ops_[known];
      auto [it, added] =
          trace_op_by_key.try_emplace(OpKey(op), static_cast<int32_t>(trace->ops.size()));
      // An op that did not run in this session (its graph was captured in an earlier one).
      if (added) trace->ops.push_back(op);
      mapped = trace_op_of_known.emplace(known, it->second).first;
    }
    e.graph_op_index = mapped->second;
    node_op->second = mapped->second;
    ++result.events_attributed;
  }
  return result;
}

bool IsGraphResourceCallback(CUpti_CallbackId cbid) {
  return std::find(std::begin(kGraphResourceCallbacks), std::end(kGraphResourceCallbacks), cbid) !=
         std::end(kGraphResourceCallbacks);
}

bool OnGraphResourceCallback(CUpti_CallbackId cbid, const CUpti_GraphData* data,
                             const GraphIdFunctions& ids, bool in_session, int64_t tid,
                             int64_t host_ns, GraphNodeRegistry* registry) {
  if (data == nullptr || registry == nullptr) return false;
  switch (cbid) {
    case CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED: {
      if (!in_session) return true;
      if (ids.node_id == nullptr) return false;
      uint64_t node = 0;
      if (ids.node_id(data->node, &node) != CUPTI_SUCCESS || node == 0) return true;
      uint32_t graph = 0;
      if (ids.graph_id != nullptr && data->graph != nullptr) ids.graph_id(data->graph, &graph);
      registry->NodeCreated(node, graph, tid, host_ns);
      return true;
    }
    case CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED: {
      if (ids.node_id == nullptr) return false;
      uint64_t node = 0;
      uint64_t original = 0;
      if (ids.node_id(data->node, &node) != CUPTI_SUCCESS ||
          ids.node_id(data->originalNode, &original) != CUPTI_SUCCESS || node == 0 ||
          original == 0) {
        return true;
      }
      registry->NodeCloned(node, original);
      return true;
    }
    case CUPTI_CBID_RESOURCE_GRAPH_CLONED: {
      if (ids.graph_id == nullptr) return false;
      uint32_t graph = 0;
      uint32_t original = 0;
      if (ids.graph_id(data->graph, &graph) != CUPTI_SUCCESS ||
          ids.graph_id(data->originalGraph, &original) != CUPTI_SUCCESS || graph == 0 ||
          original == 0) {
        return true;
      }
      registry->GraphCloned(graph, original);
      return true;
    }
    default:
      return true;
  }
}

}  // namespace tbprof::internal::cupti
