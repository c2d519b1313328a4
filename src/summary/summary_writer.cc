// SummaryWriter: tf.summary's modern, tensor-based summaries, as tensorboard 2.21 writes them
// (plugins/*/summary_v2.py and metadata.py):
//   scalars     plugin "scalars",    DT_FLOAT scalar tensor,                     DATA_CLASS_SCALAR
//   histograms  plugin "histograms", DT_DOUBLE [k, 3] (left, right, count),     DATA_CLASS_TENSOR
//   text        plugin "text",       DT_STRING scalar (markdown),               DATA_CLASS_TENSOR
//   images      plugin "images",     DT_STRING [2 + n]: width, height, PNGs,
//   DATA_CLASS_BLOB_SEQUENCE
// Each plugin's content is its PluginData message at version 0, which serializes to no bytes.
// Graph run metadata is written as tf.summary.trace_export does (spec §4.4).
// SummaryWriter::Graph lives in graph_summary.cc.
#include <cfloat>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/export/event_file_writer.h"
#include "src/summary/histogram.h"
#include "src/summary/png.h"
#include "src/summary/summary_event.h"
#include "src/util/strings.h"
#include "tbprof/summary.h"
#include "tensorflow/config.pb.h"
#include "tensorflow/summary.pb.h"
#include "tensorflow/tensor.pb.h"
#include "tensorflow/types.pb.h"

namespace tbprof {
namespace {

using internal::AsAbsl;

constexpr char kScalarsPlugin[] = "scalars";
constexpr char kHistogramsPlugin[] = "histograms";
constexpr char kTextPlugin[] = "text";
constexpr char kImagesPlugin[] = "images";
constexpr char kRunMetadataPlugin[] = "graph_run_metadata";
constexpr char kRunMetadataGraphPlugin[] = "graph_run_metadata_graph";

// "Scalar \"loss\"" for messages.
std::string Where(std::string_view method, std::string_view tag) {
  return absl::StrCat(AsAbsl(method), " \"", AsAbsl(tag), "\"");
}

tensorflow::Summary::Value NewValue(std::string_view tag) {
  tensorflow::Summary::Value value;
  value.set_tag(std::string(tag));
  return value;
}

absl::Status WriteImage(internal::EventFileWriter& file, std::string_view tag, int width,
                        int height, std::string png, int64_t step) {
  tensorflow::Summary::Value value = NewValue(tag);
  internal::SetPluginMetadata(kImagesPlugin, "", tensorflow::DATA_CLASS_BLOB_SEQUENCE, &value);
  tensorflow::TensorProto* tensor = value.mutable_tensor();
  tensor->set_dtype(tensorflow::DT_STRING);
  tensor->mutable_tensor_shape()->add_dim()->set_size(3);
  tensor->add_string_val(absl::StrCat(width));
  tensor->add_string_val(absl::StrCat(height));
  tensor->add_string_val(std::move(png));
  return internal::AppendSummaryValue(file, step, std::move(value));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SummaryWriter>> SummaryWriter::Create(
    std::string_view logdir, std::string_view filename_suffix) {
  if (logdir.empty()) return absl::InvalidArgumentError("SummaryWriter: empty log directory");
  auto file = internal::EventFileWriter::Create(logdir, filename_suffix);
  if (!file.ok()) return file.status();
  return std::unique_ptr<SummaryWriter>(new SummaryWriter(*std::move(file)));
}

SummaryWriter::SummaryWriter(std::unique_ptr<internal::EventFileWriter> file)
    : file_(std::move(file)) {}

SummaryWriter::~SummaryWriter() = default;

absl::Status SummaryWriter::Scalar(std::string_view tag, double value, int64_t step,
                                   double wall_time_s) {
  if (absl::Status s = internal::CheckTag("Scalar", tag); !s.ok()) return s;
  if (std::isnan(value) || std::isinf(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where("Scalar", tag), ": value is ", std::isnan(value) ? "NaN" : "infinite"));
  }
  if (std::fabs(value) > FLT_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where("Scalar", tag), ": value ", value,
                     " is out of the float32 range TensorBoard stores"));
  }
  tensorflow::Summary::Value v = NewValue(tag);
  internal::SetPluginMetadata(kScalarsPlugin, "", tensorflow::DATA_CLASS_SCALAR, &v);
  tensorflow::TensorProto* tensor = v.mutable_tensor();
  tensor->set_dtype(tensorflow::DT_FLOAT);
  tensor->mutable_tensor_shape();  // rank 0
  tensor->add_float_val(static_cast<float>(value));
  return internal::AppendSummaryValue(*file_, step, std::move(v), wall_time_s);
}

absl::Status SummaryWriter::Histogram(std::string_view tag, absl::Span<const double> values,
                                      int64_t step) {
  if (absl::Status s = internal::CheckTag("Histogram", tag); !s.ok()) return s;
  auto buckets = internal::ComputeHistogramBuckets(values);
  if (!buckets.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where("Histogram", tag), ": ", buckets.status().message()));
  }
  tensorflow::Summary::Value v = NewValue(tag);
  internal::SetPluginMetadata(kHistogramsPlugin, "", tensorflow::DATA_CLASS_TENSOR, &v);
  tensorflow::TensorProto* tensor = v.mutable_tensor();
  tensor->set_dtype(tensorflow::DT_DOUBLE);
  tensor->mutable_tensor_shape()->add_dim()->set_size(static_cast<int64_t>(buckets->size()));
  tensor->mutable_tensor_shape()->add_dim()->set_size(3);
  tensor->mutable_double_val()->Reserve(static_cast<int>(buckets->size() * 3));
  for (const internal::HistogramBucket& b : *buckets) {
    tensor->add_double_val(b.left);
    tensor->add_double_val(b.right);
    tensor->add_double_val(b.count);
  }
  return internal::AppendSummaryValue(*file_, step, std::move(v));
}

absl::Status SummaryWriter::Text(std::string_view tag, std::string_view markdown, int64_t step) {
  if (absl::Status s = internal::CheckTag("Text", tag); !s.ok()) return s;
  if (!internal::IsValidUtf8(markdown)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where("Text", tag), ": text is not valid UTF-8"));
  }
  tensorflow::Summary::Value v = NewValue(tag);
  internal::SetPluginMetadata(kTextPlugin, "", tensorflow::DATA_CLASS_TENSOR, &v);
  tensorflow::TensorProto* tensor = v.mutable_tensor();
  tensor->set_dtype(tensorflow::DT_STRING);
  tensor->mutable_tensor_shape();  // rank 0
  tensor->add_string_val(std::string(markdown));
  return internal::AppendSummaryValue(*file_, step, std::move(v));
}

absl::Status SummaryWriter::Image(std::string_view tag, absl::Span<const uint8_t> pixels,
                                  int height, int width, int channels, int64_t step) {
  if (absl::Status s = internal::CheckTag("Image", tag); !s.ok()) return s;
  auto png = internal::EncodePngPixels(pixels, height, width, channels);
  if (!png.ok()) {
    return absl::Status(png.status().code(),
                        absl::StrCat(Where("Image", tag), ": ", png.status().message()));
  }
  return WriteImage(*file_, tag, width, height, *std::move(png), step);
}

absl::Status SummaryWriter::ImagePng(std::string_view tag, std::string_view png_bytes,
                                     int64_t step) {
  if (absl::Status s = internal::CheckTag("ImagePng", tag); !s.ok()) return s;
  auto header = internal::ReadPngHeader(png_bytes);
  if (!header.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where("ImagePng", tag), ": ", header.status().message()));
  }
  return WriteImage(*file_, tag, header->width, header->height, std::string(png_bytes), step);
}

absl::Status SummaryWriter::RunMetadata(std::string_view tag, std::string_view run_metadata,
                                        int64_t step, std::string_view plugin_name) {
  if (absl::Status s = internal::CheckTag("RunMetadata", tag); !s.ok()) return s;
  if (plugin_name != kRunMetadataPlugin && plugin_name != kRunMetadataGraphPlugin) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where("RunMetadata", tag), ": plugin_name must be \"", kRunMetadataPlugin,
                     "\" or \"", kRunMetadataGraphPlugin, "\", got \"", AsAbsl(plugin_name), "\""));
  }
  tensorflow::RunMetadata parsed;
  if (!parsed.ParseFromArray(run_metadata.data(), static_cast<int>(run_metadata.size())) ||
      run_metadata.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where("RunMetadata", tag), ": the bytes are not a serialized tensorflow.RunMetadata"));
  }
  tensorflow::Summary::Value v = NewValue(tag);
  // As tf.summary.trace_export: content "1", no data class, a rank-0 string tensor. TensorBoard
  // assigns the data class (blob sequence) itself when it loads the event.
  internal::SetPluginMetadata(plugin_name, "1", tensorflow::DATA_CLASS_UNKNOWN, &v);
  tensorflow::TensorProto* tensor = v.mutable_tensor();
  tensor->set_dtype(tensorflow::DT_STRING);
  tensor->mutable_tensor_shape();
  tensor->add_string_val(std::string(run_metadata));
  return internal::AppendSummaryValue(*file_, step, std::move(v));
}

absl::Status SummaryWriter::Flush() { return file_->Flush(); }

const std::string& SummaryWriter::path() const { return file_->path(); }

absl::StatusOr<std::string> EncodePng(absl::Span<const uint8_t> pixels, int height, int width,
                                      int channels) {
  return internal::EncodePngPixels(pixels, height, width, channels);
}

}  // namespace tbprof
