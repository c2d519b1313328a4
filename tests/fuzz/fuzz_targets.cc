#include "tests/fuzz/fuzz_targets.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "src/export/chrome_trace.h"
#include "src/export/event_file_reader.h"
#include "tbprof/graph.h"
#include "tensorflow/config.pb.h"
#include "tensorflow/graph.pb.h"
#include "tools/cli.h"
#include "tools/event_files.h"
#include "tools/graph_source.h"
#include "tools/profile_summary.h"
#include "tools/summary_report.h"
#include "tools/validate.h"
#include "tools/xspace_io.h"
#include "tools/xspace_to_trace.h"

namespace tbprof::fuzz {
namespace {

namespace fs = std::filesystem;

// A directory of this process for the files the readers open.
const std::string& ScratchDir() {
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    auto* d = new std::string(std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                              "/tbprof_fuzz." + std::to_string(getpid()));
    fs::create_directories(*d);
    return d;
  }();
  return *dir;
}

void WriteFile(const std::string& path, std::string_view data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(data.data(), static_cast<std::streamsize>(data.size()));
}

constexpr char kEventFileName[] = "events.out.tfevents.1700000000.fuzzhost";

void GraphAndDot(const tensorflow::GraphDef& graph_def,
                 const tensorflow::RunMetadata* run_metadata) {
  absl::StatusOr<Graph> graph = cli::GraphFromGraphDef(graph_def);
  if (!graph.ok()) return;
  DotOptions options;
  options.title = "fuzz";
  if (run_metadata != nullptr) {
    options.timings = cli::TimingsFromStepStats(run_metadata->step_stats(), *graph, {});
  }
  (void)ToDot(*graph, options);
  options.cluster_scopes = false;
  options.direction = DotOptions::Direction::kLeftRight;
  (void)ToDot(*graph, options);
}

}  // namespace

void FuzzEventFile(std::string_view data) {
  (void)internal::ParseRecords(data);
  const std::string path = ScratchDir() + "/" + kEventFileName;
  WriteFile(path, data);
  absl::StatusOr<cli::EventFileContents> contents = cli::ReadEventFileContents(path);
  if (!contents.ok()) return;
  (void)cli::SummarizeEventFile(*contents);
  cli::Violations violations;
  cli::ValidateEventFileName(path, &violations);
  cli::ValidateEvents(contents->events, path, &violations);
  violations.Finish();
  (void)cli::FormatViolations(violations);
  std::vector<cli::EventFileContents> files = {std::move(*contents)};
  std::optional<std::string> tag;
  for (int pass = 0; pass < 2; ++pass) {
    absl::StatusOr<cli::GraphSource> source = cli::FindGraph(files, tag);
    if (source.ok()) {
      GraphAndDot(source->graph, source->run_metadata ? &*source->run_metadata : nullptr);
      if (source->tag.empty()) break;
      tag = source->tag;
    } else {
      tag = "train";
    }
  }
}

void FuzzXSpace(std::string_view data) {
  absl::StatusOr<tensorflow::profiler::XSpace> space =
      cli::ParseXSpace("fuzz.xplane.pb", std::string(data));
  if (!space.ok()) return;
  cli::Violations violations;
  cli::ValidateXSpace(*space, "fuzz.xplane.pb", &violations);
  violations.Finish();
  (void)cli::FormatViolations(violations);
  cli::SummaryReport report;
  report.logdir = "fuzz";
  report.profiles.push_back(cli::SummarizeXSpace(*space, "fuzz.xplane.pb"));
  (void)cli::ComputeStepStats(report.profiles[0].steps);
  (void)cli::FormatSummaryText(report, 5);
  (void)cli::FormatSummaryJson(report, 5);
  (void)internal::EncodeChromeTraceJson(cli::XSpaceToTrace(*space));
}

void FuzzGraphDef(std::string_view data) {
  tensorflow::GraphDef graph_def;
  tensorflow::RunMetadata run_metadata;
  const bool is_graph = graph_def.ParseFromArray(data.data(), static_cast<int>(data.size()));
  const bool is_rm = run_metadata.ParseFromArray(data.data(), static_cast<int>(data.size()));
  if (is_graph) GraphAndDot(graph_def, is_rm ? &run_metadata : nullptr);
  if (is_rm && run_metadata.function_graphs_size() > 0) {
    GraphAndDot(run_metadata.function_graphs(0).pre_optimization_graph(), &run_metadata);
  }
}

void FuzzCli(std::string_view data) {
  if (data.empty()) return;
  const unsigned char selector = static_cast<unsigned char>(data[0]);
  data.remove_prefix(1);
  const std::string logdir = ScratchDir() + "/logdir";
  fs::remove_all(logdir);
  if (selector & 1) {
    WriteFile(logdir + "/plugins/profile/2026_01_01_00_00_00/fuzzhost.xplane.pb", data);
  } else {
    WriteFile(logdir + "/" + kEventFileName, data);
  }
  std::vector<std::string> args;
  switch ((selector >> 1) % 5) {
    case 0:
      args = {"summary", logdir};
      break;
    case 1:
      args = {"summary", logdir, "--json", "--top", "3"};
      break;
    case 2:
      args = {"validate", logdir};
      break;
    case 3:
      args = {"chrome", logdir, "-o", ScratchDir() + "/trace.json"};
      break;
    default:
      args = {"dot", logdir, "-o", ScratchDir() + "/graph.dot"};
      break;
  }
  std::ostringstream out, err;
  cli::CliIo io{out, err, false};
  const int code = cli::RunCli(args, io);
  if (code != 0 && code != 1) __builtin_trap();  // Only usage errors exit 2: none here.
}

const std::vector<FuzzTarget>& FuzzTargets() {
  static const auto* targets = new std::vector<FuzzTarget>{{"event_file", FuzzEventFile},
                                                           {"xspace", FuzzXSpace},
                                                           {"graphdef", FuzzGraphDef},
                                                           {"cli", FuzzCli}};
  return *targets;
}

}  // namespace tbprof::fuzz
