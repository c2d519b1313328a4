// Trace -> Chrome trace JSON (the `<host>.trace.json.gz` beside the xplane): complete events
// ("ph":"X") with thread-name metadata, flow arrows, and a "bytes in use" counter ("ph":"C") per
// allocator of recorded allocations, readable by Perfetto UI, chrome://tracing and old
// TensorBoard profile plugins. Pure.
#ifndef TBPROF_SRC_EXPORT_CHROME_TRACE_H_
#define TBPROF_SRC_EXPORT_CHROME_TRACE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "src/trace/trace_data.h"
#include "src/util/file_util.h"

namespace tbprof::internal {

// The JSON text (uncompressed): {"displayTimeUnit":"ns","traceEvents":[...]}. Process 1 is the
// host (a thread per ThreadTrack), process 2 + n is GPU n (a thread per stream); "ts"/"dur"
// are microseconds with up to three decimals, relative to the trace start. Lines and events
// are laid out as EncodeXSpace lays them out (same sorting, nesting repair and line ids).
// Thread-safe.
std::string EncodeChromeTraceJson(const Trace& trace);

// gzip-compresses `data` (zlib, gzip header). Internal on a zlib failure.
absl::StatusOr<std::string> Gzip(std::string_view data);

// Appends Gzip(EncodeChromeTraceJson(trace)) to `file` (open, not committed) as it is encoded,
// holding about 1 MiB of JSON and 256 KiB of compressed bytes at a time instead of the whole
// text and its compressed copy. Errors: the file's (write) or Internal (zlib).
absl::Status WriteChromeTraceJsonGz(const Trace& trace, AtomicFile* file);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_EXPORT_CHROME_TRACE_H_
