#include "src/summary/summary_event.h"

#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/export/text_util.h"
#include "src/util/strings.h"
#include "tensorflow/event.pb.h"

namespace tbprof::internal {

absl::Status CheckTag(std::string_view what, std::string_view tag) {
  if (tag.empty()) return absl::InvalidArgumentError(absl::StrCat(AsAbsl(what), ": empty tag"));
  if (!IsValidUtf8(tag)) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(what), ": tag is not valid UTF-8"));
  }
  return absl::OkStatus();
}

void SetPluginMetadata(std::string_view plugin_name, std::string_view content,
                       tensorflow::DataClass data_class, tensorflow::Summary::Value* value) {
  tensorflow::SummaryMetadata* metadata = value->mutable_metadata();
  metadata->mutable_plugin_data()->set_plugin_name(std::string(plugin_name));
  metadata->mutable_plugin_data()->set_content(std::string(content));
  metadata->set_data_class(data_class);
}

absl::Status AppendSummaryValue(EventFileWriter& file, int64_t step,
                                tensorflow::Summary::Value value, double wall_time_s) {
  tensorflow::Event event;
  event.set_wall_time(wall_time_s > 0 ? wall_time_s
                                      : std::chrono::duration<double>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  event.set_step(step);
  *event.mutable_summary()->add_value() = std::move(value);
  std::string bytes;
  if (!event.SerializeToString(&bytes)) {
    return absl::InternalError("summary: could not serialize the event");
  }
  return file.Append(bytes);
}

}  // namespace tbprof::internal
