// Shared by the SummaryWriter methods (summary_writer.cc, graph_summary.cc): checks common to
// every summary, and the Event{wall_time, step, summary{value}} each one appends.
#ifndef TBPROF_SRC_SUMMARY_SUMMARY_EVENT_H_
#define TBPROF_SRC_SUMMARY_SUMMARY_EVENT_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "src/export/event_file_writer.h"
#include "src/export/text_util.h"  // IsValidUtf8
#include "tensorflow/summary.pb.h"

namespace tbprof::internal {

// InvalidArgument "<what>: empty tag" / "<what>: tag is not valid UTF-8"; OK otherwise.
absl::Status CheckTag(std::string_view what, std::string_view tag);

// Sets `value.metadata.plugin_data` to {plugin_name, content} and `data_class`.
void SetPluginMetadata(std::string_view plugin_name, std::string_view content,
                       tensorflow::DataClass data_class, tensorflow::Summary::Value* value);

// Appends Event{wall_time, step, summary{value}} to `file` (see EventFileWriter::Append);
// wall_time is `wall_time_s` (seconds since the epoch) when > 0, else now.
absl::Status AppendSummaryValue(EventFileWriter& file, int64_t step,
                                tensorflow::Summary::Value value, double wall_time_s = 0);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_SUMMARY_SUMMARY_EVENT_H_
