// Event files as `tbprof` commands see them: every record that decodes, and the first framing
// problem (truncation, checksum mismatch, a record that is not an Event) if any.
#ifndef TBPROF_TOOLS_EVENT_FILES_H_
#define TBPROF_TOOLS_EVENT_FILES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tensorflow/event.pb.h"
#include "tools/summary_report.h"

namespace tbprof::cli {

struct EventFileContents {
  std::string path;
  std::vector<tensorflow::Event> events;  // The records before the first problem.
  std::string error;                      // The first problem ("" when the file is sound).
};

// Reads the file to its end or its first bad record. Fails only when it cannot be opened
// (NotFound / PermissionDenied / FailedPrecondition naming the path).
absl::StatusOr<EventFileContents> ReadEventFileContents(const std::string& path);

// Counts records by kind and lists graph run-metadata tags.
EventFileSummary SummarizeEventFile(const EventFileContents& contents);

// The same summary read record by record: memory stays at one record whatever the file's size.
// Fails only when the file cannot be opened (as ReadEventFileContents).
absl::StatusOr<EventFileSummary> SummarizeEventFileAt(const std::string& path);

}  // namespace tbprof::cli

#endif  // TBPROF_TOOLS_EVENT_FILES_H_
