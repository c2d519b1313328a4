#include "src/merge/trace_summaries.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "src/merge/model_summary.h"
#include "src/merge/run_metadata.h"
#include "src/merge/traced_graph.h"
#include "src/util/strings.h"

namespace tbprof::internal {

std::string ModelSummaryTag(std::string_view name) {
  return absl::StrCat(AsAbsl(name), "/model_summary");
}
std::string StepTimeTag(std::string_view name) {
  return absl::StrCat(AsAbsl(name), "/step_time_ms");
}
std::string GpuBusyTag(std::string_view name) {
  return absl::StrCat(AsAbsl(name), "/gpu_busy_share");
}

absl::Status WriteTraceSummaries(const Trace& trace, std::string_view name, int64_t step,
                                 SummaryWriter* writer, bool include_graph) {
  if (name.empty()) return absl::InvalidArgumentError("trace export: empty name");
  absl::Status first_error;
  auto note = [&first_error](absl::Status status) {
    if (first_error.ok() && !status.ok()) first_error = std::move(status);
  };

  absl::StatusOr<TracedGraph> traced = BuildTracedGraph(trace);
  if (!traced.ok()) {
    note(traced.status());
  } else {
    if (include_graph && !trace.ops.empty()) {
      absl::StatusOr<std::string> run_metadata = BuildRunMetadata(trace, *traced);
      if (run_metadata.ok()) {
        note(writer->RunMetadata(name, *run_metadata, step));
      } else {
        note(run_metadata.status());
      }
    }
    note(writer->Text(ModelSummaryTag(name), ModelSummaryMarkdown(trace, *traced, name), step));
  }

  const bool device_work = HasDeviceWork(trace);
  for (const StepScalar& scalar : StepScalars(trace)) {
    note(writer->Scalar(StepTimeTag(name), scalar.step_time_ms, scalar.step, scalar.wall_time_s));
    if (device_work) {
      note(
          writer->Scalar(GpuBusyTag(name), scalar.gpu_busy_share, scalar.step, scalar.wall_time_s));
    }
  }
  note(writer->Flush());
  return first_error;
}

}  // namespace tbprof::internal
