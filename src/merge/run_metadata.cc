#include "src/merge/run_metadata.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/graph/graphdef.h"
#include "src/merge/op_stats.h"
#include "tensorflow/config.pb.h"
#include "tensorflow/step_stats.pb.h"

namespace tbprof::internal {
namespace {

constexpr char kDevicePrefix[] = "/job:localhost/replica:0/task:0";

// Sets the times of one execution [abs_start_ns, abs_end_ns) (absolute wall-clock ns). The
// micros are both truncated, so that consecutive executions keep their order and a scope's
// first start to last end matches the trace to the microsecond; at least 1 us.
void SetTimes(int64_t abs_start_ns, int64_t abs_end_ns, tensorflow::NodeExecStats* stats) {
  const int64_t start_us = abs_start_ns / 1000;
  const int64_t rel_micros = std::max<int64_t>(1, abs_end_ns / 1000 - start_us);
  stats->set_all_start_micros(start_us);
  stats->set_all_start_nanos(abs_start_ns);
  stats->set_op_start_rel_micros(0);
  stats->set_op_end_rel_micros(rel_micros);
  stats->set_all_end_rel_micros(rel_micros);
  const int64_t rel_nanos = std::max<int64_t>(abs_end_ns - abs_start_ns, 1);
  stats->set_op_start_rel_nanos(0);
  stats->set_op_end_rel_nanos(rel_nanos);
  stats->set_all_end_rel_nanos(rel_nanos);
}

// A node with memory and no compute time (constants, variables): the Graphs tab adds time only
// for all_end_rel_micros != 0.
void SetNoTime(int64_t abs_start_ns, tensorflow::NodeExecStats* stats) {
  stats->set_all_start_micros(abs_start_ns / 1000);
  stats->set_all_start_nanos(abs_start_ns);
}

void AddOutput(int slot, const TensorInfo& tensor, tensorflow::NodeExecStats* stats) {
  tensorflow::NodeOutput* output = stats->add_output();
  output->set_slot(slot);
  tensorflow::TensorDescription* description = output->mutable_tensor_description();
  description->set_dtype(static_cast<tensorflow::DataType>(tensor.dtype));
  tensorflow::TensorShapeProto* shape = description->mutable_shape();
  for (int64_t dim : tensor.shape) shape->add_dim()->set_size(dim);
  const uint64_t bytes = TensorBytes(tensor);
  if (bytes > 0) {
    tensorflow::AllocationDescription* allocation = description->mutable_allocation_description();
    allocation->set_requested_bytes(static_cast<int64_t>(bytes));
    allocation->set_allocated_bytes(static_cast<int64_t>(bytes));
    allocation->set_allocator_name("cpu");
  }
}

void AddMemory(uint64_t bytes, tensorflow::NodeExecStats* stats) {
  if (bytes == 0) return;
  tensorflow::AllocatorMemoryUsed* memory = stats->add_memory();
  memory->set_allocator_name("cpu");
  memory->set_total_bytes(static_cast<int64_t>(bytes));
  memory->set_peak_bytes(static_cast<int64_t>(bytes));
}

void SortByStart(tensorflow::DeviceStepStats* dev) {
  std::stable_sort(dev->mutable_node_stats()->begin(), dev->mutable_node_stats()->end(),
                   [](const tensorflow::NodeExecStats& a, const tensorflow::NodeExecStats& b) {
                     return a.all_start_nanos() < b.all_start_nanos();
                   });
}

}  // namespace

RepresentativeStep ChooseRepresentativeStep(const Trace& trace) {
  RepresentativeStep chosen;
  chosen.end_ns = std::max<int64_t>(0, trace.duration_ns);
  chosen.device_end_ns = std::numeric_limits<int64_t>::max();
  if (trace.steps.empty()) return chosen;
  std::vector<const StepInfo*> steps;
  for (const StepInfo& step : trace.steps) steps.push_back(&step);
  std::sort(steps.begin(), steps.end(), [](const StepInfo* a, const StepInfo* b) {
    const int64_t da = a->end_ns - a->start_ns;
    const int64_t db = b->end_ns - b->start_ns;
    if (da != db) return da < db;
    if (a->step != b->step) return a->step < b->step;
    return a->start_ns < b->start_ns;
  });
  const StepInfo& median = *steps[(steps.size() - 1) / 2];
  chosen.marked = true;
  chosen.step = median.step;
  chosen.start_ns = median.start_ns;
  chosen.end_ns = median.end_ns;
  chosen.steps = steps.size();
  for (const StepInfo& step : trace.steps) {
    if (step.start_ns >= median.end_ns && step.start_ns < chosen.device_end_ns) {
      chosen.device_end_ns = step.start_ns;
    }
  }
  return chosen;
}

std::string StepStatsDeviceName(int32_t gpu) {
  return gpu < 0 ? absl::StrCat(kDevicePrefix, "/device:CPU:0")
                 : absl::StrCat(kDevicePrefix, "/device:GPU:", gpu);
}

namespace {

// Bytes each op execution allocated, from the recorded allocations (tbprof/memory.h), per
// allocator: an allocation goes to the op's latest execution that started no later than it (the
// first one for an output allocated just before its op opened). Keyed by execution start.
struct ExecutionMemory {
  bool recorded = false;  // Some allocation of the trace names an op: use these, not tensor sizes.
  // op -> execution start -> allocator -> bytes.
  std::map<size_t, std::map<int64_t, std::map<uint32_t, int64_t>>> bytes;
};

ExecutionMemory AllocatedPerExecution(const Trace& trace, const RepresentativeStep& window) {
  ExecutionMemory out;
  std::map<size_t, std::vector<int64_t>> starts;  // Executions in the window, per op.
  for (const ThreadTrack& thread : trace.threads) {
    for (const HostEvent& event : thread.events) {
      if (event.kind != HostEventKind::kOp || event.op_index < 0 ||
          event.start_ns < window.start_ns || event.start_ns >= window.end_ns) {
        continue;
      }
      starts[static_cast<size_t>(event.op_index)].push_back(event.start_ns);
    }
  }
  for (auto& [op, s] : starts) std::sort(s.begin(), s.end());
  for (const MemoryEvent& e : trace.memory_events) {
    if (!e.valid || e.kind != MemoryEventKind::kAlloc || e.op_index < 0) continue;
    out.recorded = true;
    if (e.time_ns < window.start_ns || e.time_ns >= window.end_ns) continue;  // Another step.
    auto it = starts.find(static_cast<size_t>(e.op_index));
    if (it == starts.end()) continue;
    const std::vector<int64_t>& s = it->second;
    auto after = std::upper_bound(s.begin(), s.end(), e.time_ns);
    // Before the op's first execution of the step: its output, allocated just before it opened.
    if (after != s.begin()) --after;
    int64_t& bytes = out.bytes[it->first][*after][e.allocator];
    if (__builtin_add_overflow(bytes, e.allocation_bytes, &bytes)) bytes = INT64_MAX;
  }
  return out;
}

void AddRecordedMemory(const Trace& trace, const std::map<uint32_t, int64_t>& per_allocator,
                       tensorflow::NodeExecStats* stats) {
  for (const auto& [allocator, bytes] : per_allocator) {
    tensorflow::AllocatorMemoryUsed* memory = stats->add_memory();
    memory->set_allocator_name(
        allocator < trace.allocators.size() ? trace.allocators[allocator].name : std::string("?"));
    memory->set_total_bytes(bytes);
    memory->set_peak_bytes(bytes);
  }
}

}  // namespace

absl::StatusOr<std::string> BuildRunMetadata(const Trace& trace, const TracedGraph& traced) {
  const size_t num_ops = trace.ops.size();
  if (traced.op_nodes.size() != num_ops) {
    return absl::InvalidArgumentError(absl::StrCat(
        "run metadata: traced graph has ", traced.op_nodes.size(), " ops, trace has ", num_ops));
  }
  tensorflow::RunMetadata run_metadata;
  if (absl::Status status = BuildValidGraphDef(
          traced.graph, run_metadata.add_function_graphs()->mutable_pre_optimization_graph());
      !status.ok()) {
    return status;
  }
  const int64_t epoch_ns = trace.start_walltime_ns;
  const RepresentativeStep window = ChooseRepresentativeStep(trace);
  auto in_window = [&](int64_t start_ns) {
    return start_ns >= window.start_ns && start_ns < window.end_ns;
  };

  const ExecutionMemory allocated = AllocatedPerExecution(trace, window);
  tensorflow::DeviceStepStats* cpu = run_metadata.mutable_step_stats()->add_dev_stats();
  cpu->set_device(StepStatsDeviceName(-1));
  // Each execution of the step, on its own thread; the first start of each op in the step.
  std::vector<int64_t> first_in_step(num_ops, -1);
  for (const ThreadTrack& thread : trace.threads) {
    for (const HostEvent& event : thread.events) {
      if (event.kind != HostEventKind::kOp || event.op_index < 0 ||
          static_cast<size_t>(event.op_index) >= num_ops || !in_window(event.start_ns)) {
        continue;
      }
      const size_t i = static_cast<size_t>(event.op_index);
      const OpInfo& op = trace.ops[i];
      if (first_in_step[i] < 0 || event.start_ns < first_in_step[i]) {
        first_in_step[i] = event.start_ns;
      }
      tensorflow::NodeExecStats* stats = cpu->add_node_stats();
      stats->set_node_name(traced.op_nodes[i]);
      SetTimes(epoch_ns + event.start_ns, epoch_ns + std::max(event.start_ns, event.end_ns), stats);
      if (allocated.recorded) {
        // The bytes the execution allocated (0 for an op that allocated nothing), not the sizes
        // of the tensors it wrote.
        auto per_op = allocated.bytes.find(i);
        if (per_op != allocated.bytes.end()) {
          auto per_execution = per_op->second.find(event.start_ns);
          if (per_execution != per_op->second.end()) {
            AddRecordedMemory(trace, per_execution->second, stats);
          }
        }
      } else {
        AddMemory(op.output_bytes, stats);
      }
      for (size_t slot = 0; slot < op.outputs.size(); ++slot) {
        AddOutput(static_cast<int>(slot), op.outputs[slot], stats);
      }
      std::vector<std::string> input_names;
      if (const Node* node = traced.graph.Find(traced.op_nodes[i]); node != nullptr) {
        input_names = node->inputs;
      }
      stats->set_timeline_label(absl::StrCat(traced.op_nodes[i], " = ", op.type, "(",
                                             absl::StrJoin(input_names, ", "), ")"));
      stats->set_thread_id(static_cast<uint32_t>(thread.tid));
      (*cpu->mutable_thread_names())[static_cast<uint32_t>(thread.tid)] = thread.name;
    }
  }
  for (const TracedInput& input : traced.inputs) {
    int64_t start_ns = window.start_ns;
    if (input.first_consumer >= 0 && static_cast<size_t>(input.first_consumer) < num_ops) {
      const int64_t consumer = first_in_step[input.first_consumer];
      if (consumer >= 0) start_ns = consumer;
    }
    tensorflow::NodeExecStats* stats = cpu->add_node_stats();
    stats->set_node_name(input.node);
    SetNoTime(epoch_ns + std::max<int64_t>(0, start_ns), stats);
    AddMemory(TensorBytes(input.tensor), stats);
    AddOutput(0, input.tensor, stats);
    stats->set_timeline_label(absl::StrCat(input.node, " = ", input.op, "()"));
  }
  SortByStart(cpu);

  // The step's device work, each kernel, copy or set with its own times, per GPU.
  std::map<int32_t, std::vector<const DeviceEvent*>> per_gpu;
  std::map<int32_t, std::map<int64_t, bool>> streams;
  for (const DeviceEvent& event : trace.device_events) {
    if (!IsDeviceWork(event) || event.device_id < 0) continue;
    streams[event.device_id][event.stream_id] = true;
    if (event.op_index < 0 || static_cast<size_t>(event.op_index) >= num_ops) continue;
    if (event.start_ns < window.start_ns || event.start_ns >= window.device_end_ns) continue;
    per_gpu[event.device_id].push_back(&event);
  }
  for (const auto& [gpu, events] : per_gpu) {
    tensorflow::DeviceStepStats* dev = run_metadata.mutable_step_stats()->add_dev_stats();
    dev->set_device(StepStatsDeviceName(gpu));
    for (const auto& [stream, unused] : streams[gpu]) {
      (*dev->mutable_thread_names())[static_cast<uint32_t>(stream)] =
          absl::StrCat("Stream #", stream);
    }
    for (const DeviceEvent* event : events) {
      tensorflow::NodeExecStats* stats = dev->add_node_stats();
      stats->set_node_name(traced.op_nodes[event->op_index]);
      SetTimes(epoch_ns + event->start_ns, epoch_ns + std::max(event->start_ns, event->end_ns),
               stats);
      stats->set_thread_id(static_cast<uint32_t>(event->stream_id));
      const std::string label =
          event->name < trace.names.size() ? trace.names[event->name] : std::string("device work");
      stats->set_timeline_label(absl::StrCat(traced.op_nodes[event->op_index], " = ", label));
    }
    SortByStart(dev);
  }

  // Deterministic: thread_names is a map, whose order protobuf otherwise leaves open.
  return SerializeDeterministic(run_metadata);
}

}  // namespace tbprof::internal
