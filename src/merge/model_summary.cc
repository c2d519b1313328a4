#include "src/merge/model_summary.h"

#include <algorithm>
#include <cstddef>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "src/memory/memory_analysis.h"
#include "src/merge/op_stats.h"
#include "src/merge/run_metadata.h"
#include "src/util/strings.h"

namespace tbprof::internal {
namespace {

double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

// Escapes the characters markdown would read as markup in a table cell.
std::string EscapeMarkdown(std::string_view text) {
  // Characters Python-Markdown (TensorBoard's Text tab) accepts as backslash escapes, and the
  // table's cell separator.
  constexpr std::string_view kEscaped = "\\`*_{}[]()#+-!|";
  std::string out;
  for (char c : text) {
    if (kEscaped.find(c) != std::string_view::npos) {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '<') {  // Not a markdown escape: an entity, or it would open an HTML tag.
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '&') {
      out += "&amp;";
    } else if (c == '\n' || c == '\r') {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A node name as a code span: no emphasis inside, pipes escaped for the table.
std::string CodeSpan(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '`') {
      out.push_back('\'');
    } else {
      out.push_back(c);
    }
  }
  out.push_back('`');
  return out;
}

std::string ShapeText(const std::vector<TensorInfo>& outputs) {
  if (outputs.empty()) return "-";
  std::vector<std::string> shapes;
  for (const TensorInfo& output : outputs) {
    std::vector<std::string> dims;
    for (int64_t dim : output.shape) dims.push_back(dim < 0 ? "?" : absl::StrCat(dim));
    shapes.push_back(absl::StrCat("\\[", absl::StrJoin(dims, ", "), "\\]"));
  }
  return absl::StrJoin(shapes, ", ");
}

// Ops that ran, by decreasing OpTimeNs then name.
std::vector<size_t> RankedOps(const Trace& trace, const TracedGraph& traced) {
  std::vector<size_t> ops;
  for (size_t i = 0; i < trace.ops.size(); ++i) {
    if (trace.ops[i].executions > 0) ops.push_back(i);
  }
  std::sort(ops.begin(), ops.end(), [&](size_t a, size_t b) {
    const int64_t ta = OpTimeNs(trace.ops[a]);
    const int64_t tb = OpTimeNs(trace.ops[b]);
    if (ta != tb) return ta > tb;
    return traced.op_nodes[a] < traced.op_nodes[b];
  });
  return ops;
}

}  // namespace

int64_t OpTimeNs(const OpInfo& op) { return std::max(op.host_self_ns, op.gpu_ns); }

int64_t TotalStepTimeNs(const Trace& trace) {
  int64_t total = 0;
  for (const StepInfo& step : trace.steps) {
    total += std::max<int64_t>(0, step.end_ns - step.start_ns);
  }
  if (trace.steps.empty()) total = trace.duration_ns;
  return std::max<int64_t>(1, total);
}

bool HasDeviceWork(const Trace& trace) {
  return std::any_of(trace.device_events.begin(), trace.device_events.end(), IsDeviceWork);
}

std::string ModelSummaryMarkdown(const Trace& trace, const TracedGraph& traced,
                                 std::string_view title) {
  const int64_t total_ns = TotalStepTimeNs(trace);
  std::string out = absl::StrCat("**", EscapeMarkdown(title), "**: ");
  if (trace.steps.empty()) {
    absl::StrAppendFormat(&out, "no steps marked, %.3f ms captured", Ms(total_ns));
  } else {
    absl::StrAppendFormat(&out, "%d step%s, %.3f ms total step time",
                          static_cast<int64_t>(trace.steps.size()),
                          trace.steps.size() == 1 ? "" : "s", Ms(total_ns));
  }
  if (HasDeviceWork(trace)) {
    int64_t busy_ns = 0;
    if (trace.steps.empty()) {
      busy_ns = GpuBusyNs(trace, 0, trace.duration_ns);
    } else {
      for (const StepInfo& step : trace.steps) busy_ns += step.gpu_busy_ns;
    }
    absl::StrAppendFormat(&out, ", GPU busy %.1f %%",
                          100.0 * static_cast<double>(busy_ns) / static_cast<double>(total_ns));
  }
  const std::vector<size_t> ops = RankedOps(trace, traced);
  absl::StrAppend(&out, ", ", ops.size(), " op", ops.size() == 1 ? "" : "s", " ran.\n\n");
  const RepresentativeStep shown = ChooseRepresentativeStep(trace);
  if (shown.marked) {
    absl::StrAppendFormat(&out,
                          "Graphs tab (Profile): the executions of step %d, the median of %d "
                          "by duration (%.3f ms). The table below counts the whole capture.\n\n",
                          shown.step, static_cast<int64_t>(shown.steps),
                          Ms(shown.end_ns - shown.start_ns));
  } else {
    out += "Graphs tab (Profile): the executions of the whole capture (no steps marked).\n\n";
  }
  if (ops.empty()) return out;
  out +=
      "| Op | Type | Output shape | Executions in capture | Host ms, capture total | "
      "Host ms, mean per execution | GPU ms, capture total | Share of step time % |\n"
      "|:---|:---|:---|---:|---:|---:|---:|---:|\n";
  for (size_t i : ops) {
    const OpInfo& op = trace.ops[i];
    absl::StrAppendFormat(
        &out, "| %s | %s | %s | %d | %.3f | %.3f | %.3f | %.1f |\n", CodeSpan(traced.op_nodes[i]),
        EscapeMarkdown(op.type), ShapeText(op.outputs), op.executions, Ms(op.host_total_ns),
        Ms(op.host_total_ns) / static_cast<double>(std::max<int64_t>(1, op.executions)),
        Ms(op.gpu_ns), 100.0 * static_cast<double>(OpTimeNs(op)) / static_cast<double>(total_ns));
  }
  out += MemoryMarkdown(trace);  // Empty without recorded allocations.
  return out;
}

std::vector<StepScalar> StepScalars(const Trace& trace) {
  std::vector<StepScalar> out;
  std::vector<StepInfo> steps = trace.steps;
  std::stable_sort(steps.begin(), steps.end(),
                   [](const StepInfo& a, const StepInfo& b) { return a.step < b.step; });
  for (const StepInfo& step : steps) {
    const int64_t duration = std::max<int64_t>(0, step.end_ns - step.start_ns);
    StepScalar scalar;
    scalar.step = step.step;
    scalar.step_time_ms = Ms(duration);
    if (trace.start_walltime_ns > 0) {
      scalar.wall_time_s = static_cast<double>(trace.start_walltime_ns + step.end_ns) / 1e9;
    }
    scalar.gpu_busy_share =
        duration > 0 ? static_cast<double>(step.gpu_busy_ns) / static_cast<double>(duration) : 0;
    out.push_back(scalar);
  }
  return out;
}

std::map<std::string, tbprof::NodeTiming> NodeTimings(const Trace& trace,
                                                      const TracedGraph& traced) {
  std::map<std::string, tbprof::NodeTiming> out;
  const double total = static_cast<double>(TotalStepTimeNs(trace));
  for (size_t i = 0; i < trace.ops.size() && i < traced.op_nodes.size(); ++i) {
    const OpInfo& op = trace.ops[i];
    if (op.executions <= 0) continue;
    tbprof::NodeTiming timing;
    timing.executions = op.executions;
    timing.host_ms = Ms(op.host_total_ns);
    timing.gpu_ms = Ms(op.gpu_ns);
    timing.share = std::clamp(static_cast<double>(OpTimeNs(op)) / total, 0.0, 1.0);
    out[traced.op_nodes[i]] = timing;
  }
  return out;
}

}  // namespace tbprof::internal
