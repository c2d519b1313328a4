#include "tools/event_files.h"

#include "absl/status/status.h"
#include "src/export/event_file_reader.h"

namespace tbprof::cli {

absl::StatusOr<EventFileContents> ReadEventFileContents(const std::string& path) {
  absl::StatusOr<std::unique_ptr<internal::EventFileReader>> reader =
      internal::EventFileReader::Open(path);
  if (!reader.ok()) return reader.status();
  EventFileContents contents;
  contents.path = path;
  while (true) {
    tensorflow::Event event;
    absl::Status status = (*reader)->ReadEvent(&event);
    if (absl::IsOutOfRange(status)) break;
    if (!status.ok()) {
      contents.error = std::string(status.message());
      break;
    }
    contents.events.push_back(std::move(event));
  }
  return contents;
}

namespace {

void CountEvent(const tensorflow::Event& event, EventFileSummary* summary_out) {
  EventFileSummary& summary = *summary_out;
  switch (event.what_case()) {
    case tensorflow::Event::kGraphDef:
      ++summary.graphs;
      break;
    case tensorflow::Event::kTaggedRunMetadata:
      ++summary.run_metadata;
      summary.tags.push_back(event.tagged_run_metadata().tag());
      break;
    case tensorflow::Event::kSummary:
      for (const auto& value : event.summary().value()) {
        const std::string& plugin = value.metadata().plugin_data().plugin_name();
        if (plugin == "graph_run_metadata" || plugin == "graph_run_metadata_graph") {
          ++summary.run_metadata;
          summary.tags.push_back(value.tag());
        } else {
          ++summary.summaries;
        }
      }
      break;
    default:
      break;
  }
}

}  // namespace

EventFileSummary SummarizeEventFile(const EventFileContents& contents) {
  EventFileSummary summary;
  summary.path = contents.path;
  summary.error = contents.error;
  summary.records = static_cast<int64_t>(contents.events.size());
  for (const tensorflow::Event& event : contents.events) CountEvent(event, &summary);
  return summary;
}

absl::StatusOr<EventFileSummary> SummarizeEventFileAt(const std::string& path) {
  absl::StatusOr<std::unique_ptr<internal::EventFileReader>> reader =
      internal::EventFileReader::Open(path);
  if (!reader.ok()) return reader.status();
  EventFileSummary summary;
  summary.path = path;
  tensorflow::Event event;
  while (true) {
    absl::Status status = (*reader)->ReadEvent(&event);
    if (absl::IsOutOfRange(status)) break;
    if (!status.ok()) {
      summary.error = std::string(status.message());
      break;
    }
    ++summary.records;
    CountEvent(event, &summary);
  }
  return summary;
}

}  // namespace tbprof::cli
