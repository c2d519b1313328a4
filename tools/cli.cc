#include "tools/cli.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/export/chrome_trace.h"
#include "src/util/file_util.h"
#include "src/util/strings.h"
#include "tbprof/graph.h"
#include "tbprof/version.h"
#include "tools/event_files.h"
#include "tools/graph_source.h"
#include "tools/logdir.h"
#include "tools/profile_summary.h"
#include "tools/rank_align.h"
#include "tools/rank_summary.h"
#include "tools/run_command.h"
#include "tools/summary_report.h"
#include "tools/validate.h"
#include "tools/xspace_io.h"
#include "tools/xspace_to_trace.h"

namespace tbprof::cli {
namespace {

constexpr std::string_view kMainHelp =
    R"(tbprof - inspect, check and convert tbprof profiles and TensorBoard log directories

Usage: tbprof <command> [options]

Commands:
  summary LOGDIR    top ops, top GPU kernels, steps and warnings of the newest profile
  dot LOGDIR        draw the recorded graph (with measured times) as SVG, PNG, PDF or DOT
  chrome LOGDIR     convert the newest profile to Chrome trace JSON (Perfetto, chrome://tracing)
  validate LOGDIR   check everything under LOGDIR against the rules TensorBoard relies on
  run -- CMD ARGS   run a program with capture on (TBPROF=1), then summarize what it wrote
  align LOGDIR      copy a multi-rank session with every rank on rank 0's clock

Run 'tbprof <command> --help' for a command's options.
Exit status: 0 success, 1 failure or violations found, 2 usage error ('run': the program's).
)";

constexpr std::string_view kSummaryHelp =
    R"(Usage: tbprof summary LOGDIR [--json] [--top N] [--run R] [--session S]
                      [--ranks] [--collective TYPE]

Summarizes the newest profile session found under LOGDIR (any run:
<run>/plugins/profile/<session>/<host>.xplane.pb) and lists the event files.
LOGDIR may also be a session directory or one .xplane.pb file.

  --json        print JSON (format "tbprof.summary.v1", documented in docs/cli.md)
  --top N       show the N ops and N kernels with the most time (default 20)
  --run R       only sessions of run R ("." is the log directory itself)
  --session S   the session named S instead of the newest
  --ranks       only the cross-rank view (printed after the summary anyway when the session
                holds several profiles, one per rank): per-rank step, busy and waiting
                times, the slowest rank of each step and its lag, clock offsets
  --collective TYPE  the op type (or annotation name) ranks wait in; default $TBPROF_COLLECTIVE,
                else Allreduce
)";

constexpr std::string_view kAlignHelp =
    R"(Usage: tbprof align LOGDIR [-o OUT] [--collective TYPE] [--run R] [--session S]

Estimates each rank's clock offset to rank 0 in the newest profile session under LOGDIR (or
the session directory LOGDIR) from the ends of the collective ops (else of the steps), and
writes a copy of the session with the offsets applied and recorded in each profile (Task
Environment stats tbprof_clock_offset_ns, tbprof_clock_offset_uncertainty_ns). The session
itself is not changed.

  -o OUT        the new session directory (default: <session>_aligned beside it; must not exist)
  --collective TYPE  op type whose ends coincide on all ranks (default $TBPROF_COLLECTIVE, else
                Allreduce)
  --run R       only sessions of run R
  --session S   the session named S instead of the newest
)";

constexpr std::string_view kDotHelp =
    R"(Usage: tbprof dot LOGDIR -o OUT [--tag T] [--function N] [--run R] [--left-right]

Draws the graph recorded in the event files under LOGDIR with Graphviz. With --tag,
the graph_run_metadata of tag T; without, the newest graph_run_metadata that holds a
graph, else the run graph. A run metadata with several function graphs is drawn whole,
one cluster per function (listed on stderr). Nodes with step stats show their host/GPU
time and are filled by their share; without step stats, the newest profile's ops time
the nodes of the same name.

  -o OUT        output file; the format follows the extension: .svg .png .pdf .dot
  --tag T       the tag to draw (as in TensorBoard's Graphs tab "Tag" list)
  --function N  only function graph N of the tag's run metadata
  --run R       only event files of run R ("." is the log directory itself)
  --left-right  lay the graph out left to right instead of top down
)";

constexpr std::string_view kChromeHelp =
    R"(Usage: tbprof chrome LOGDIR -o OUT.json[.gz] [--run R] [--session S]

Converts the newest profile under LOGDIR (or LOGDIR itself when it is an .xplane.pb
file) to Chrome trace JSON, gzip-compressed when OUT ends in .gz. Opens in
https://ui.perfetto.dev and chrome://tracing.

  -o OUT        output file (.json or .json.gz)
  --run R       only sessions of run R
  --session S   the session named S instead of the newest
)";

constexpr std::string_view kValidateHelp =
    R"(Usage: tbprof validate LOGDIR [--strict]

Checks every event file and profile file under LOGDIR (LOGDIR may also be one file)
against the rules TensorBoard and its profile plugin rely on: file names and layout,
record checksums, the first record, summaries, graph run metadata and step stats, plane
and line names and ids, stat types, times and nesting. Prints a numbered list of
violations (file, place, [rule] message). Exit status 0 when clean, 1 otherwise.

tbprof's own writing conventions (stat types, nesting, one function graph with step
stats...) apply to the files tbprof wrote; files of other producers (TensorFlow, JAX) that
do not follow them get notes instead, and still pass when TensorBoard reads them.
  --strict      apply tbprof's conventions to every file
)";

constexpr std::string_view kRunHelp =
    R"(Usage: tbprof run [--steps A:B] [--logdir D] [--run R] -- CMD [ARGS...]

Runs CMD (no shell) with TBPROF=1 and the given TBPROF_* variables, waits for it, then
prints to stderr the summary of the profile it wrote. Exits with CMD's exit status
(128+N when signal N ended it; 127 when CMD cannot be found). NVTX_INJECTION64_PATH is set to
tbprof's NVTX library (unless already set), so the NVTX ranges of any program are captured:
a program that does not use tbprof itself is captured from its first NVTX call to its exit.

  --steps A:B   capture steps A to B (TBPROF_STEPS)
  --logdir D    where the program writes (TBPROF_LOGDIR; default ./tbprof_logs)
  --run R       run subdirectory (TBPROF_RUN)
  --top N       rows in the summary (default 10)
)";

// Parsed command line of one command.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // --flag value
  std::set<std::string> switches;             // --flag
  std::vector<std::string> rest;              // after "--"
  bool help = false;
};

// The value of -o, else of --output, else "".
std::string OutputFlag(const Args& args) {
  auto it = args.values.find("-o");
  if (it == args.values.end()) it = args.values.find("--output");
  return it != args.values.end() ? it->second : std::string();
}

// Parses `args` (after the command name). `value_flags` take a value ("--top 5", "--top=5").
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& args, size_t begin,
                               const std::set<std::string>& value_flags,
                               const std::set<std::string>& switch_flags) {
  Args parsed;
  for (size_t i = begin; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      parsed.rest.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (arg == "-h" || arg == "--help") {
      parsed.help = true;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      std::string name = arg, value;
      bool has_value = false;
      if (size_t eq = arg.find('='); eq != std::string::npos && arg.compare(0, 2, "--") == 0) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        has_value = true;
      }
      if (value_flags.count(name)) {
        if (!has_value) {
          if (i + 1 >= args.size()) {
            return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
          }
          value = args[++i];
        }
        parsed.values[name] = value;
      } else if (switch_flags.count(name) && !has_value) {
        parsed.switches.insert(name);
      } else {
        return absl::InvalidArgumentError(absl::StrCat("unknown option ", arg));
      }
      continue;
    }
    parsed.positional.push_back(arg);
  }
  return parsed;
}

class Cli {
 public:
  explicit Cli(const CliIo& io) : io_(io) {}

  int Main(const std::vector<std::string>& args) {
    if (args.empty()) {
      io_.err << kMainHelp;
      return kExitUsage;
    }
    const std::string& command = args[0];
    if (command == "-h" || command == "--help" || command == "help") {
      if (args.size() > 1) return Main({args[1], "--help"});
      io_.out << kMainHelp;
      return kExitOk;
    }
    if (command == "--version" || command == "version") {
      io_.out << "tbprof " << Version() << "\n";
      return kExitOk;
    }
    if (command == "summary") return Summary(args);
    if (command == "dot") return Dot(args);
    if (command == "chrome") return Chrome(args);
    if (command == "validate") return Validate(args);
    if (command == "run") return Run(args);
    if (command == "align") return Align(args);
    io_.err << "tbprof: unknown command \"" << command << "\"\n\n" << kMainHelp;
    return kExitUsage;
  }

 private:
  int Usage(std::string_view help, std::string_view message) {
    io_.err << "tbprof: " << message << "\n\n" << help;
    return kExitUsage;
  }

  int Fail(const absl::Status& status) {
    io_.err << "tbprof: " << status.message() << "\n";
    return kExitFailure;
  }

  // Parses; on error prints usage. Returns nullopt with `*exit` set when the command must stop.
  std::optional<Args> Parse(const std::vector<std::string>& args, std::string_view help,
                            const std::set<std::string>& value_flags,
                            const std::set<std::string>& switch_flags, size_t positional,
                            int* exit) {
    absl::StatusOr<Args> parsed = ParseArgs(args, 1, value_flags, switch_flags);
    if (!parsed.ok()) {
      *exit = Usage(help, internal::AsStd(parsed.status().message()));
      return std::nullopt;
    }
    if (parsed->help) {
      io_.out << help;
      *exit = kExitOk;
      return std::nullopt;
    }
    if (parsed->positional.size() != positional) {
      *exit = Usage(help, parsed->positional.empty() ? "missing LOGDIR" : "too many arguments");
      return std::nullopt;
    }
    return std::move(*parsed);
  }

  static bool IsRegularFile(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }

  // The session to read: newest, optionally filtered by run and name.
  absl::StatusOr<ProfileSession> PickSession(const LogdirContents& contents, const Args& args) {
    auto run = args.values.find("--run");
    auto name = args.values.find("--session");
    for (const ProfileSession& s : contents.sessions) {
      if (run != args.values.end() && s.run != run->second) continue;
      if (name != args.values.end() && s.name != name->second) continue;
      return s;
    }
    std::string filter;
    if (run != args.values.end()) absl::StrAppend(&filter, " of run \"", run->second, "\"");
    if (name != args.values.end()) absl::StrAppend(&filter, " named \"", name->second, "\"");
    return absl::NotFoundError(absl::StrCat(
        "no profile session", filter, " under ", contents.root, " (", contents.sessions.size(),
        " session(s) found; profiles live in <run>/plugins/profile/<session>/<host>.xplane.pb)"));
  }

  int Summary(const std::vector<std::string>& args) {
    int exit = 0;
    std::optional<Args> parsed =
        Parse(args, kSummaryHelp, {"--top", "--run", "--session", "--collective"},
              {"--json", "--ranks"}, 1, &exit);
    if (!parsed) return exit;
    int top = 20;
    if (auto it = parsed->values.find("--top"); it != parsed->values.end()) {
      if (!absl::SimpleAtoi(it->second, &top) || top < 1) {
        return Usage(kSummaryHelp, absl::StrCat("--top ", it->second, ": expected a number >= 1"));
      }
    }
    absl::StatusOr<SummaryReport> report = BuildReport(parsed->positional[0], *parsed);
    if (!report.ok()) return Fail(report.status());
    const bool json = parsed->switches.count("--json") > 0;
    const bool ranks_only = parsed->switches.count("--ranks") > 0;
    if (!ranks_only) {
      io_.out << (json ? FormatSummaryJson(*report, top) : FormatSummaryText(*report, top));
    }
    if (ranks_only || (!json && report->profiles.size() > 1)) PrintRanks(*report, *parsed, json);
    for (const ProfileSummary& p : report->profiles) {
      if (p.host_events + p.device_events == 0) return kExitFailure;
    }
    return kExitOk;
  }

  static std::string CollectiveFlag(const Args& args) {
    std::string collective(kDefaultCollective);
    if (const char* env = std::getenv("TBPROF_COLLECTIVE"); env != nullptr && *env != '\0') {
      collective = env;
    }
    if (auto it = args.values.find("--collective"); it != args.values.end()) {
      collective = it->second;
    }
    return collective;
  }

  int Align(const std::vector<std::string>& args) {
    int exit = 0;
    std::optional<Args> parsed = Parse(
        args, kAlignHelp, {"-o", "--output", "--collective", "--run", "--session"}, {}, 1, &exit);
    if (!parsed) return exit;
    absl::StatusOr<SummaryReport> report = BuildReport(parsed->positional[0], *parsed);
    if (!report.ok()) return Fail(report.status());
    std::vector<std::string> files;
    for (const ProfileSummary& p : report->profiles) files.push_back(p.file);
    std::string out = OutputFlag(*parsed);
    if (out.empty()) {
      std::string dir = report->session_dir;
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
      out = dir + "_aligned";
    }
    RankReport ranks;
    absl::Status s =
        WriteAlignedSession(files, CollectiveFlag(*parsed), out, io_.err, io_.err_is_tty, &ranks);
    if (!s.ok()) return Fail(s);
    io_.out << "aligned " << ranks.ranks.size() << " profiles on " << ranks.anchors << " into "
            << out << "\n";
    io_.out << FormatRankReportText(ranks);
    return kExitOk;
  }

  // The cross-rank view of the report's profiles (tools/rank_summary.h).
  void PrintRanks(const SummaryReport& report, const Args& args, bool json) {
    const std::string collective = CollectiveFlag(args);
    std::vector<std::string> files;
    for (const ProfileSummary& p : report.profiles) files.push_back(p.file);
    std::vector<std::string> skipped;
    RankReport ranks = SummarizeRankFiles(files, collective, io_.err, io_.err_is_tty, &skipped);
    for (const std::string& s : skipped)
      io_.err << "tbprof: left out of the rank view: " << s << "\n";
    io_.out << (json ? FormatRankReportJson(ranks) : FormatRankReportText(ranks));
  }

  absl::StatusOr<SummaryReport> BuildReport(const std::string& logdir, const Args& args) {
    SummaryReport report;
    report.logdir = logdir;
    std::vector<std::string> xplanes;
    if (IsRegularFile(logdir)) {
      xplanes.push_back(logdir);
      report.session_dir = logdir.substr(0, logdir.find_last_of('/') + 1);
    } else {
      absl::StatusOr<LogdirContents> contents = ScanLogdir(logdir);
      if (!contents.ok()) return contents.status();
      if (contents->sessions.empty() && !contents->misplaced_xplane_files.empty() &&
          contents->event_files.empty()) {
        return absl::NotFoundError(absl::StrCat(
            "no profile session under ", logdir, ": ", contents->misplaced_xplane_files[0],
            " is not in a <run>/plugins/profile/<session>/ directory (give the file itself "
            "to read it)"));
      }
      if (contents->sessions.empty() && contents->event_files.empty()) {
        return absl::NotFoundError(absl::StrCat(
            "no profile and no event file under ", logdir,
            " (profiles live in <run>/plugins/profile/<session>/<host>.xplane.pb, event files "
            "are named events.out.tfevents.*)"));
      }
      if (!contents->sessions.empty()) {
        absl::StatusOr<ProfileSession> session = PickSession(*contents, args);
        if (!session.ok()) return session.status();
        report.run = session->run;
        report.session = session->name;
        report.session_dir = session->dir;
        xplanes = session->xplane_files;
      }
      for (const std::string& file : contents->event_files) {
        absl::StatusOr<EventFileSummary> events = SummarizeEventFileAt(file);
        if (!events.ok()) {
          EventFileSummary failed;
          failed.path = file;
          failed.error = std::string(events.status().message());
          report.event_files.push_back(std::move(failed));
          continue;
        }
        report.event_files.push_back(std::move(*events));
      }
    }
    for (const std::string& file : xplanes) {
      absl::StatusOr<tensorflow::profiler::XSpace> space =
          ReadXSpaceFile(file, io_.err, io_.err_is_tty);
      if (!space.ok()) return space.status();
      report.profiles.push_back(SummarizeXSpace(*space, file));
    }
    return report;
  }

  int Chrome(const std::vector<std::string>& args) {
    int exit = 0;
    std::optional<Args> parsed =
        Parse(args, kChromeHelp, {"-o", "--output", "--run", "--session"}, {}, 1, &exit);
    if (!parsed) return exit;
    const std::string output = OutputFlag(*parsed);
    if (output.empty()) return Usage(kChromeHelp, "missing -o OUT");
    const std::string& input = parsed->positional[0];
    std::string xplane = input;
    if (!IsRegularFile(input)) {
      absl::StatusOr<LogdirContents> contents = ScanLogdir(input);
      if (!contents.ok()) return Fail(contents.status());
      absl::StatusOr<ProfileSession> session = PickSession(*contents, *parsed);
      if (!session.ok()) return Fail(session.status());
      if (session->xplane_files.size() > 1) {
        io_.err << "tbprof: session " << session->name << " has " << session->xplane_files.size()
                << " hosts; converting " << session->xplane_files[0] << "\n";
      }
      xplane = session->xplane_files[0];
    }
    absl::StatusOr<tensorflow::profiler::XSpace> space =
        ReadXSpaceFile(xplane, io_.err, io_.err_is_tty);
    if (!space.ok()) return Fail(space.status());
    std::string json = internal::EncodeChromeTraceJson(XSpaceToTrace(*space));
    const bool gz = output.size() > 3 && output.compare(output.size() - 3, 3, ".gz") == 0;
    if (gz) {
      absl::StatusOr<std::string> compressed = internal::Gzip(json);
      if (!compressed.ok()) return Fail(compressed.status());
      json = std::move(*compressed);
    }
    if (absl::Status s = internal::WriteFileAtomically(output, json); !s.ok()) return Fail(s);
    io_.err << "tbprof: wrote " << output << " (" << json.size() << " bytes) from " << xplane
            << "\n";
    return kExitOk;
  }

  int Dot(const std::vector<std::string>& args) {
    int exit = 0;
    std::optional<Args> parsed =
        Parse(args, kDotHelp, {"-o", "--output", "--tag", "--run", "--function"}, {"--left-right"},
              1, &exit);
    if (!parsed) return exit;
    const std::string output = OutputFlag(*parsed);
    if (output.empty()) return Usage(kDotHelp, "missing -o OUT");
    const std::string& logdir = parsed->positional[0];
    std::vector<std::string> files;
    std::optional<LogdirContents> contents;
    if (IsRegularFile(logdir)) {
      files.push_back(logdir);
    } else {
      absl::StatusOr<LogdirContents> scanned = ScanLogdir(logdir);
      if (!scanned.ok()) return Fail(scanned.status());
      contents = std::move(*scanned);
      auto run = parsed->values.find("--run");
      for (const std::string& f : contents->event_files) {
        if (run != parsed->values.end()) {
          std::string dir = f.substr(0, f.find_last_of('/'));
          std::string rel = dir == logdir || dir + "/" == logdir
                                ? "."
                                : dir.substr(std::min(
                                      dir.size(), logdir.size() + (logdir.back() == '/' ? 0 : 1)));
          if (rel != run->second) continue;
        }
        files.push_back(f);
      }
      if (files.empty()) {
        return Fail(absl::NotFoundError(absl::StrCat("no event file under ", logdir)));
      }
    }
    std::vector<EventFileContents> events;
    for (const std::string& f : files) {
      absl::StatusOr<EventFileContents> read = ReadEventFileContents(f);
      if (!read.ok()) return Fail(read.status());
      if (!read->error.empty()) io_.err << "tbprof: warning: " << read->error << "\n";
      events.push_back(std::move(*read));
    }
    std::optional<std::string> tag;
    if (auto it = parsed->values.find("--tag"); it != parsed->values.end()) tag = it->second;
    int function = -1;
    if (auto it = parsed->values.find("--function"); it != parsed->values.end()) {
      if (!absl::SimpleAtoi(it->second, &function) || function < 0) {
        return Usage(kDotHelp, absl::StrCat("--function: not a graph index: ", it->second));
      }
    }
    absl::StatusOr<GraphSource> source = FindGraph(events, tag, function);
    if (!source.ok()) return Fail(source.status());
    if (!source->skipped_empty_tags.empty()) {
      io_.err << "tbprof: passed over tag(s) " << absl::StrJoin(source->skipped_empty_tags, ", ")
              << ": their run metadata hold no graph\n";
    }
    if (!source->keras_model_tags.empty()) {
      io_.err << "tbprof: tag(s) " << absl::StrJoin(source->keras_model_tags, ", ")
              << " hold the Keras model config (TensorBoard's conceptual graph), not drawn here\n";
    }
    if (source->function_sizes.size() > 1) {
      std::vector<std::string> list;
      for (size_t i = 0; i < source->function_sizes.size(); ++i) {
        list.push_back(absl::StrCat(i, " (", source->function_sizes[i], " nodes)"));
      }
      io_.err << "tbprof: tag \"" << source->tag << "\" holds " << source->function_sizes.size()
              << " function graphs: " << absl::StrJoin(list, ", ") << "; "
              << (source->function < 0
                      ? std::string("drawing all, each as a function_<i> cluster (--function N "
                                    "draws one)")
                      : absl::StrCat("drawing ", source->function))
              << "\n";
    }
    absl::StatusOr<Graph> graph = GraphFromGraphDef(source->graph);
    if (!graph.ok()) {
      return Fail(
          absl::InvalidArgumentError(absl::StrCat(source->file, ": ", graph.status().message())));
    }
    DotOptions options;
    options.title = source->tag.empty() ? "run graph" : source->tag;
    if (parsed->switches.count("--left-right")) {
      options.direction = DotOptions::Direction::kLeftRight;
    }
    std::string times_from = "";
    if (source->run_metadata) {
      std::map<std::string, int64_t> executions = ExecutionsFromProfile(contents);
      options.timings =
          TimingsFromStepStats(source->run_metadata->step_stats(), *graph, executions);
      times_from = ", times from step stats";
    } else {
      // No step stats (TensorFlow's trace_export writes none): the profile beside the graph
      // times the same ops by name.
      options.timings = TimingsFromProfileOps(*graph, OpsFromProfile(contents), source->scoped);
      if (!options.timings.empty()) times_from = ", times from the newest profile";
    }
    if (absl::Status s = RenderDot(ToDot(*graph, options), output); !s.ok()) return Fail(s);
    io_.err << "tbprof: wrote " << output << " (" << graph->size() << " nodes, "
            << options.timings.size() << " with times) from " << source->file
            << (source->tag.empty() ? std::string(", run graph")
                                    : absl::StrCat(", tag \"", source->tag, "\""))
            << times_from << "\n";
    return kExitOk;
  }

  // Executions and host milliseconds per op from the newest profile.
  std::map<std::string, std::pair<int64_t, double>> OpsFromProfile(
      const std::optional<LogdirContents>& c) {
    std::map<std::string, std::pair<int64_t, double>> ops;
    if (!c || c->sessions.empty()) return ops;
    for (const std::string& file : c->sessions[0].xplane_files) {
      absl::StatusOr<tensorflow::profiler::XSpace> space =
          ReadXSpaceFile(file, io_.err, io_.err_is_tty);
      if (!space.ok()) continue;
      for (const OpSummary& op : SummarizeXSpace(*space, file).ops) {
        auto& [count, ms] = ops[op.name];
        count += op.count;
        ms += static_cast<double>(op.host_total_ps + op.device_ps) / 1e9;
      }
    }
    return ops;
  }

  // Executions per op from the newest profile (host op counts), for the "runs" row.
  std::map<std::string, int64_t> ExecutionsFromProfile(const std::optional<LogdirContents>& c) {
    std::map<std::string, int64_t> executions;
    if (!c || c->sessions.empty()) return executions;
    for (const std::string& file : c->sessions[0].xplane_files) {
      absl::StatusOr<tensorflow::profiler::XSpace> space =
          ReadXSpaceFile(file, io_.err, io_.err_is_tty);
      if (!space.ok()) continue;
      for (const OpSummary& op : SummarizeXSpace(*space, file).ops) {
        executions[op.name] += op.count;
      }
    }
    return executions;
  }

  int Validate(const std::vector<std::string>& args) {
    int exit = 0;
    std::optional<Args> parsed = Parse(args, kValidateHelp, {}, {"--strict"}, 1, &exit);
    if (!parsed) return exit;
    const std::string& input = parsed->positional[0];
    LogdirContents contents;
    if (IsRegularFile(input)) {
      contents.root = input;
      const std::string name = input.substr(input.find_last_of('/') + 1);
      if (name.find("tfevents") != std::string::npos) {
        contents.event_files.push_back(input);
      } else {
        // A single profile file: its place in a log directory is not checked.
        ProfileSession session;
        session.xplane_files.push_back(input);
        contents.sessions.push_back(session);
      }
    } else {
      absl::StatusOr<LogdirContents> scanned = ScanLogdir(input);
      if (!scanned.ok()) return Fail(scanned.status());
      contents = std::move(*scanned);
    }
    size_t xplanes = contents.misplaced_xplane_files.size();
    for (const ProfileSession& s : contents.sessions) xplanes += s.xplane_files.size();
    if (xplanes + contents.event_files.size() == 0) {
      return Fail(
          absl::NotFoundError(absl::StrCat("nothing to validate under ", input,
                                           ": no *.xplane.pb and no events.out.tfevents.* file")));
    }
    Violations violations;
    ValidateOptions options;
    options.strict = parsed->switches.count("--strict") > 0;
    ValidateLogdir(contents, io_.err, io_.err_is_tty, &violations, options);
    violations.Finish();
    const std::string checked = absl::StrCat(xplanes, " profile file(s) and ",
                                             contents.event_files.size(), " event file(s)");
    io_.out << FormatViolations(violations);
    if (violations.errors() == 0) {
      if (violations.notes() == 0) {
        io_.out << "OK: " << checked << " under " << input << " follow every rule\n";
      } else {
        io_.out << "OK: " << checked << " under " << input
                << " follow every rule TensorBoard and xprof rely on; " << violations.notes()
                << " note(s) on tbprof's own conventions that files of other producers need "
                   "not follow (--strict makes them violations)\n";
      }
      return kExitOk;
    }
    io_.out << violations.errors() << " violation(s) in " << checked << " under " << input << "\n";
    return kExitFailure;
  }

  int Run(const std::vector<std::string>& args) {
    int exit = 0;
    absl::StatusOr<Args> parsed = ParseArgs(args, 1, {"--steps", "--logdir", "--run", "--top"}, {});
    if (!parsed.ok()) return Usage(kRunHelp, internal::AsStd(parsed.status().message()));
    if (parsed->help && parsed->rest.empty()) {
      io_.out << kRunHelp;
      return kExitOk;
    }
    if (!parsed->positional.empty()) {
      return Usage(kRunHelp, absl::StrCat("put the program after --: tbprof run [options] -- ",
                                          parsed->positional[0], " ..."));
    }
    if (parsed->rest.empty()) return Usage(kRunHelp, "missing the program to run after --");
    RunOptions options;
    options.argv = parsed->rest;
    options.nvtx_library = FindNvtxInjectionLibrary();
    if (auto it = parsed->values.find("--steps"); it != parsed->values.end()) {
      if (absl::Status s = ValidateStepsRange(it->second); !s.ok()) {
        return Usage(kRunHelp, internal::AsStd(s.message()));
      }
      options.steps = it->second;
    }
    if (auto it = parsed->values.find("--logdir"); it != parsed->values.end()) {
      options.logdir = it->second;
    }
    if (auto it = parsed->values.find("--run"); it != parsed->values.end()) {
      options.run = it->second;
    }
    int top = 10;
    if (auto it = parsed->values.find("--top"); it != parsed->values.end()) {
      if (!absl::SimpleAtoi(it->second, &top) || top < 1) {
        return Usage(kRunHelp, absl::StrCat("--top ", it->second, ": expected a number >= 1"));
      }
    }
    std::string logdir = options.logdir.value_or("");
    if (logdir.empty()) {
      const char* env = std::getenv("TBPROF_LOGDIR");
      logdir = env != nullptr && *env != '\0' ? env : "tbprof_logs";
    }
    if (options.run) logdir = internal::JoinPath(logdir, *options.run);
    std::set<std::string> before;
    if (absl::StatusOr<LogdirContents> c = ScanLogdir(logdir); c.ok()) {
      for (const ProfileSession& s : c->sessions) before.insert(s.dir);
    }
    absl::StatusOr<int> code = RunProgram(options);
    if (!code.ok()) {
      io_.err << "tbprof: " << code.status().message() << "\n";
      return absl::IsNotFound(code.status())           ? 127
             : absl::IsPermissionDenied(code.status()) ? 126
                                                       : 1;
    }
    io_.err << "tbprof: " << options.argv[0] << " exited with status " << *code << "\n";
    absl::StatusOr<LogdirContents> after = ScanLogdir(logdir);
    std::optional<ProfileSession> fresh;
    if (after.ok()) {
      for (const ProfileSession& s : after->sessions) {
        if (before.count(s.dir) == 0) {
          fresh = s;
          break;
        }
      }
    }
    if (!fresh) {
      io_.err << "tbprof: no new profile under " << logdir
              << " (did the program reach the captured steps and call tbprof?)\n";
      return *code;
    }
    Args summary_args;
    summary_args.values["--session"] = fresh->name;
    summary_args.values["--run"] = fresh->run;
    absl::StatusOr<SummaryReport> report = BuildReport(logdir, summary_args);
    if (!report.ok()) {
      io_.err << "tbprof: " << report.status().message() << "\n";
      return *code;
    }
    io_.err << FormatSummaryText(*report, top);
    (void)exit;
    return *code;
  }

  const CliIo& io_;
};

}  // namespace

int RunCli(const std::vector<std::string>& args, const CliIo& io) { return Cli(io).Main(args); }

}  // namespace tbprof::cli
