// Summaries for TensorBoard's Scalars, Histograms, Images, Text and Graphs tabs, written as
// `tf.summary` writes them (the modern tensor-based forms with plugin metadata) to an event
// file `events.out.tfevents.<secs>.<host>.<pid>.tbprof` in a log directory.
//
//   auto writer = tbprof::SummaryWriter::Create("logs/train");
//   if (!writer.ok()) { ... }
//   (*writer)->Scalar("loss", 0.25, /*step=*/3);
//
// Thread-safety: every method may be called from several threads at once; records are never
// interleaved. Each call appends one complete record (TFRecord framing, masked CRC-32C) or
// none: a failed write is rolled back, so the file never holds a torn record followed by more.
// Records are buffered (256 KiB, or 5 s since the oldest one, checked when the next arrives)
// and written by the calling thread; Flush() and the destructor write the rest.
//
// Every tag must be non-empty, valid UTF-8 (InvalidArgument otherwise, naming the method and
// the tag). A rejected summary writes nothing. I/O errors name the file and the OS error.
#ifndef TBPROF_SUMMARY_H_
#define TBPROF_SUMMARY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tbprof/graph.h"

namespace tbprof {

namespace internal {
class EventFileWriter;
class RunEventFiles;
}  // namespace internal

class SummaryWriter {
 public:
  // Creates `logdir` (and parents) if missing and opens a new event file in it.
  // `filename_suffix` is appended to the file name (default ".tbprof").
  // Errors: InvalidArgument (empty path), PermissionDenied / NotFound / Internal naming the path.
  static absl::StatusOr<std::unique_ptr<SummaryWriter>> Create(
      std::string_view logdir, std::string_view filename_suffix = ".tbprof");

  ~SummaryWriter();
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;

  // A scalar (Scalars tab), stored as float32 like tf.summary.scalar. `wall_time_s` (seconds
  // since the epoch, the Scalars tab's "Relative"/"Wall" axes) when > 0, else now.
  // InvalidArgument for NaN, infinity or a magnitude beyond float32, naming the tag.
  absl::Status Scalar(std::string_view tag, double value, int64_t step, double wall_time_s = 0);

  // A histogram of `values` with TensorBoard's default bucket layout (Histograms and
  // Distributions tabs): 30 equal-width buckets from min to max, or, when all values are
  // equal, 30 buckets at that value with the count in the last. InvalidArgument for an empty
  // list, a non-finite value (naming its index) or a range beyond a double.
  absl::Status Histogram(std::string_view tag, absl::Span<const double> values, int64_t step);

  // Markdown text (Text tab); tables render. InvalidArgument when not valid UTF-8.
  absl::Status Text(std::string_view tag, std::string_view markdown, int64_t step);

  // An image from raw pixels, rows top to bottom, `channels` 1 (gray), 3 (RGB) or 4 (RGBA),
  // encoded as PNG. InvalidArgument when pixels.size() != height*width*channels or a size is 0.
  absl::Status Image(std::string_view tag, absl::Span<const uint8_t> pixels, int height, int width,
                     int channels, int64_t step);

  // An already-encoded PNG; width and height come from its header. InvalidArgument when the
  // bytes are not a PNG (signature, IHDR chunk).
  absl::Status ImagePng(std::string_view tag, std::string_view png_bytes, int64_t step);

  // The run graph (Graphs tab, "Default" tag). InvalidArgument for an invalid graph.
  absl::Status Graph(const tbprof::Graph& graph, int64_t step = 0);

  // A `graph_run_metadata` summary: `run_metadata` is a serialized tensorflow.RunMetadata with
  // one function graph and step stats (the Graphs tab's "Profile" view for tag `tag`).
  // `plugin_name` may instead be "graph_run_metadata_graph" for a graph without stats.
  // InvalidArgument for another plugin name or bytes that do not parse as a RunMetadata.
  absl::Status RunMetadata(std::string_view tag, std::string_view run_metadata, int64_t step,
                           std::string_view plugin_name = "graph_run_metadata");

  // Pushes buffered records to the operating system. On an I/O error the file ends at its
  // last complete record and the unwritten records are retried at the next write.
  absl::Status Flush();

  // Path of the event file.
  const std::string& path() const;

 private:
  friend class internal::RunEventFiles;  // Writes an export's records as one group.
  explicit SummaryWriter(std::unique_ptr<internal::EventFileWriter> file);
  std::unique_ptr<internal::EventFileWriter> file_;
};

// Encodes raw pixels as PNG bytes (see SummaryWriter::Image for the layout and errors).
absl::StatusOr<std::string> EncodePng(absl::Span<const uint8_t> pixels, int height, int width,
                                      int channels);

}  // namespace tbprof

#endif  // TBPROF_SUMMARY_H_
