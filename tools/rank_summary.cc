#include "tools/rank_summary.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/json_writer.h"
#include "tools/logdir.h"
#include "tools/xspace_io.h"
#include "tools/xspace_util.h"

namespace tbprof::cli {
namespace {

using tensorflow::profiler::XEvent;
using tensorflow::profiler::XLine;
using tensorflow::profiler::XPlane;
using tensorflow::profiler::XSpace;
using tensorflow::profiler::XStat;

absl::string_view Absl(std::string_view s) { return {s.data(), s.size()}; }

bool IsCollective(std::string_view name, std::string_view collective) {
  if (absl::EqualsIgnoreCase(Absl(name), Absl(collective))) return true;
  // `op` owns the parsed name: it stays alive while `name` may point into it.
  const std::optional<FrameworkOp> op = ParseFrameworkOp(name);
  if (op) {
    if (absl::EqualsIgnoreCase(op->type, Absl(collective))) return true;
    name = op->name;
  }
  const size_t slash = name.find_last_of('/');
  return slash != std::string_view::npos &&
         absl::EqualsIgnoreCase(Absl(name.substr(slash + 1)), Absl(collective));
}

// "_rank<N>" at the end of a file's host part.
int64_t RankFromFileName(const std::string& file) {
  const size_t slash = file.find_last_of('/');
  const std::string host =
      HostFromXplaneFileName(slash == std::string::npos ? file : file.substr(slash + 1));
  const size_t at = host.rfind("_rank");
  int64_t rank = -1;
  if (at == std::string::npos || !absl::SimpleAtoi(host.substr(at + 5), &rank) || rank < 0) {
    return -1;
  }
  return rank;
}

double Median(std::vector<int64_t> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? static_cast<double>(v[n / 2])
                    : (static_cast<double>(v[n / 2 - 1]) + static_cast<double>(v[n / 2])) / 2;
}

std::string Ms(double ns) { return absl::StrFormat("%.3f", ns / 1e6); }
std::string Us(double ns) { return absl::StrFormat("%.1f", ns / 1e3); }

}  // namespace

RankProfile ReduceRankProfile(const XSpace& space, const std::string& file,
                              std::string_view collective) {
  RankProfile out;
  out.file = file;
  const size_t slash = file.find_last_of('/');
  out.host =
      space.hostnames_size() > 0
          ? space.hostnames(0)
          : HostFromXplaneFileName(slash == std::string::npos ? file : file.substr(slash + 1));
  int64_t base_ns = 0;       // CLOCK_REALTIME of line timestamp 0.
  int64_t line_base_ns = 0;  // tbprof_line_time_base_ns, when the file has one.
  struct Span {
    int64_t start, end;
  };
  std::vector<Span> collectives;
  for (const XPlane& plane : space.planes()) {
    if (plane.name() != kTaskEnvironmentPlaneName) continue;
    PlaneIndex index(plane);
    if (const XStat* s = index.FindPlaneStat("profile_start_time")) {
      base_ns = PlaneIndex::StatInt(*s).value_or(0);
    }
    // Rank files count their line timestamps from a shared base (src/export/xplane_writer.cc).
    if (const XStat* s = index.FindPlaneStat("tbprof_line_time_base_ns")) {
      line_base_ns = PlaneIndex::StatInt(*s).value_or(0);
    }
    if (const XStat* s = index.FindPlaneStat("tbprof_rank")) {
      out.rank = PlaneIndex::StatInt(*s).value_or(-1);
    }
  }
  if (line_base_ns != 0) base_ns = line_base_ns;
  if (out.rank < 0) out.rank = RankFromFileName(file);
  out.machine = out.host;
  if (out.rank >= 0) {
    const std::string suffix = absl::StrCat(" rank ", out.rank);
    if (absl::EndsWith(out.machine, suffix)) out.machine.resize(out.machine.size() - suffix.size());
  }
  for (const XPlane& plane : space.planes()) {
    if (plane.name() != kHostPlaneName) continue;
    PlaneIndex index(plane);
    for (const XLine& line : plane.lines()) {
      if (IsDerivedLineId(line.id())) continue;
      int64_t last_collective_end = INT64_MIN;
      for (const XEvent& event : line.events()) {
        const int64_t start = SaturatingAdd(base_ns, EventStartPs(line, event) / 1000);
        const int64_t end = SaturatingAdd(start, event.duration_ps() / 1000);
        if (index.FindStat(event, "_r") != nullptr) {
          RankProfile::Step step;
          const XStat* num = index.FindStat(event, "step_num");
          step.step = num != nullptr ? PlaneIndex::StatInt(*num).value_or(-1)
                                     : static_cast<int64_t>(out.steps.size());
          step.start_ns = start;
          step.end_ns = end;
          out.steps.push_back(step);
          continue;
        }
        if (!IsCollective(index.EventName(event.metadata_id()), collective)) continue;
        // Events of a line are in start order and nested: one inside a match is part of it.
        if (start < last_collective_end) continue;
        last_collective_end = end;
        collectives.push_back({start, end});
      }
    }
  }
  std::sort(out.steps.begin(), out.steps.end(),
            [](const RankProfile::Step& a, const RankProfile::Step& b) {
              return a.start_ns < b.start_ns;
            });
  std::sort(collectives.begin(), collectives.end(),
            [](const Span& a, const Span& b) { return a.start < b.start; });
  out.collectives = static_cast<int64_t>(collectives.size());
  // Each collective belongs to the step it starts in (the latest step starting before it).
  size_t s = 0;
  for (const Span& c : collectives) {
    while (s + 1 < out.steps.size() && out.steps[s + 1].start_ns <= c.start) ++s;
    if (s >= out.steps.size()) break;
    RankProfile::Step& step = out.steps[s];
    if (c.start < step.start_ns || c.start >= step.end_ns) continue;
    step.wait_ns += std::min(c.end, step.end_ns) - c.start;
    step.collective_ends.push_back(c.end);
  }
  return out;
}

RankReport BuildRankReport(std::vector<RankProfile> ranks, std::string_view collective) {
  RankReport report;
  report.collective = std::string(collective);
  std::stable_sort(ranks.begin(), ranks.end(), [](const RankProfile& a, const RankProfile& b) {
    if ((a.rank < 0) != (b.rank < 0)) return b.rank < 0;
    return a.rank < b.rank;
  });
  report.ranks = std::move(ranks);
  const size_t n = report.ranks.size();

  // Clock anchors: the collective ends of each step when every rank has some, else step ends.
  bool all_collectives = n > 0;
  for (const RankProfile& r : report.ranks) all_collectives = all_collectives && r.collectives > 0;
  report.anchors = all_collectives ? absl::StrCat(report.collective, " ends") : "step ends";
  std::vector<std::vector<internal::ClockAnchor>> anchors(n);
  for (size_t i = 0; i < n; ++i) {
    for (const RankProfile::Step& step : report.ranks[i].steps) {
      if (all_collectives) {
        for (size_t k = 0; k < step.collective_ends.size(); ++k) {
          anchors[i].push_back({step.step, static_cast<int64_t>(k), step.collective_ends[k]});
        }
      } else {
        anchors[i].push_back({step.step, -1, step.end_ns});
      }
    }
  }
  report.offsets = internal::EstimateClockOffsets(anchors, 0);
  // One machine, one clock: CLOCK_REALTIME is shared by its processes, so only offsets between
  // machines are estimated, once per machine.
  report.same_clock.assign(n, false);
  std::map<std::string, std::vector<size_t>> machines;
  for (size_t i = 0; i < n; ++i) machines[report.ranks[i].machine].push_back(i);
  for (const auto& [machine, members] : machines) {
    const bool reference = machine == report.ranks[0].machine;
    std::vector<int64_t> estimates;
    int64_t uncertainty = 0;
    for (size_t i : members) {
      const internal::ClockOffset& o = report.offsets[i];
      if (o.matches == 0) continue;
      estimates.push_back(o.offset_ns);
      if (uncertainty >= 0)
        uncertainty = o.uncertainty_ns < 0 ? -1 : std::max(uncertainty, o.uncertainty_ns);
    }
    for (size_t i : members) {
      report.same_clock[i] = reference;
      if (reference) {
        report.offsets[i].offset_ns = 0;
        report.offsets[i].uncertainty_ns = 0;
      } else if (!estimates.empty()) {
        report.offsets[i].offset_ns = static_cast<int64_t>(std::llround(Median(estimates)));
        report.offsets[i].uncertainty_ns = uncertainty;
      }
    }
  }

  // Per step: every rank's numbers.
  struct Cell {
    size_t rank;
    const RankProfile::Step* step;
  };
  std::map<int64_t, std::vector<Cell>> by_step;
  for (size_t i = 0; i < n; ++i) {
    for (const RankProfile::Step& step : report.ranks[i].steps)
      by_step[step.step].push_back({i, &step});
  }
  report.rows.resize(n);
  for (size_t i = 0; i < n; ++i) {
    RankReport::RankRow& row = report.rows[i];
    for (const RankProfile::Step& step : report.ranks[i].steps) {
      ++row.steps;
      row.mean_step_ns += static_cast<double>(step.end_ns - step.start_ns);
      row.mean_wait_ns += static_cast<double>(step.wait_ns);
    }
    if (row.steps > 0) {
      row.mean_step_ns /= static_cast<double>(row.steps);
      row.mean_wait_ns /= static_cast<double>(row.steps);
    }
    row.mean_busy_ns = row.mean_step_ns - row.mean_wait_ns;
  }
  std::vector<double> lag_sum(n, 0);
  for (const auto& [number, cells] : by_step) {
    if (cells.size() < 2) continue;
    RankReport::StepRow row;
    row.step = number;
    row.ranks = static_cast<int64_t>(cells.size());
    row.min_step_ns = INT64_MAX;
    row.max_step_ns = INT64_MIN;
    int64_t first_end = INT64_MAX, last_end = INT64_MIN;
    int64_t best_busy = INT64_MIN;
    for (const Cell& c : cells) {
      const int64_t duration = c.step->end_ns - c.step->start_ns;
      const int64_t busy = duration - c.step->wait_ns;
      row.min_step_ns = std::min(row.min_step_ns, duration);
      row.max_step_ns = std::max(row.max_step_ns, duration);
      row.max_wait_ns = std::max(row.max_wait_ns, c.step->wait_ns);
      const int64_t end = c.step->end_ns - report.offsets[c.rank].offset_ns;
      first_end = std::min(first_end, end);
      last_end = std::max(last_end, end);
      if (busy > best_busy) {
        best_busy = busy;
        row.slowest = c.rank;
      }
    }
    std::vector<int64_t> others;
    for (const Cell& c : cells) {
      if (c.rank != row.slowest)
        others.push_back(c.step->end_ns - c.step->start_ns - c.step->wait_ns);
    }
    row.lag_ns = best_busy - static_cast<int64_t>(std::llround(Median(others)));
    row.end_spread_ns = last_end - first_end;
    ++report.rows[row.slowest].slowest_in;
    lag_sum[row.slowest] += static_cast<double>(row.lag_ns);
    report.steps.push_back(row);
  }
  for (size_t i = 0; i < n; ++i) {
    if (report.rows[i].slowest_in == 0) continue;
    const RankReport::RankRow* best =
        report.straggler < 0 ? nullptr : &report.rows[report.straggler];
    // Most often the slowest; on a tie, the one with more busy time per step.
    if (best == nullptr || report.rows[i].slowest_in > best->slowest_in ||
        (report.rows[i].slowest_in == best->slowest_in &&
         report.rows[i].mean_busy_ns > best->mean_busy_ns)) {
      report.straggler = static_cast<int64_t>(i);
    }
  }
  if (report.straggler >= 0) {
    report.straggler_mean_lag_ns =
        lag_sum[report.straggler] / static_cast<double>(report.rows[report.straggler].slowest_in);
  }
  return report;
}

RankReport SummarizeRankFiles(const std::vector<std::string>& files, std::string_view collective,
                              std::ostream& err, bool err_is_tty,
                              std::vector<std::string>* skipped) {
  std::vector<RankProfile> ranks;
  ranks.reserve(files.size());
  for (const std::string& file : files) {
    absl::StatusOr<XSpace> space = ReadXSpaceFile(file, err, err_is_tty);
    if (!space.ok()) {
      skipped->push_back(absl::StrCat(file, ": ", space.status().message()));
      continue;
    }
    ranks.push_back(ReduceRankProfile(*space, file, collective));
  }
  return BuildRankReport(std::move(ranks), collective);
}

namespace {

std::string RankName(const RankProfile& r) {
  return r.rank >= 0 ? std::to_string(r.rank) : std::string("?");
}

std::string OffsetText(const RankReport& report, size_t i) {
  const internal::ClockOffset& o = report.offsets[i];
  if (i == 0) return "reference";
  if (report.same_clock[i]) return "0 (same machine, same clock)";
  if (o.matches == 0) return "unknown (no common anchor)";
  std::string text = absl::StrFormat("%+.3f ms", static_cast<double>(o.offset_ns) / 1e6);
  if (o.uncertainty_ns >= 0) {
    absl::StrAppend(&text,
                    absl::StrFormat(" +- %.1f us", static_cast<double>(o.uncertainty_ns) / 1e3));
  }
  absl::StrAppend(&text, " (", o.matches, " anchors)");
  return text;
}

}  // namespace

std::string FormatRankReportText(const RankReport& report) {
  std::string out;
  absl::StrAppend(&out, "\nRanks: ", report.ranks.size(), " profiles; collective op type \"",
                  report.collective, "\"; clocks aligned to rank ",
                  report.ranks.empty() ? "-" : RankName(report.ranks[0]), " on ", report.anchors,
                  "\n");
  absl::StrAppend(&out, absl::StrFormat("  %5s  %-24s %5s %12s %10s %11s %8s  %s\n", "rank", "host",
                                        "steps", "step ms", "busy ms", "waiting ms", "slowest",
                                        "clock offset to the reference"));
  for (size_t i = 0; i < report.ranks.size(); ++i) {
    const RankReport::RankRow& row = report.rows[i];
    absl::StrAppend(
        &out, absl::StrFormat("  %5s  %-24s %5d %12s %10s %11s %8s  %s\n",
                              RankName(report.ranks[i]), report.ranks[i].host, row.steps,
                              Ms(row.mean_step_ns), Ms(row.mean_busy_ns), Ms(row.mean_wait_ns),
                              absl::StrCat(row.slowest_in, "/", report.steps.size()),
                              OffsetText(report, i)));
  }
  if (!report.steps.empty()) {
    absl::StrAppend(&out, absl::StrFormat("  %6s %5s %20s %13s %9s %15s %14s\n", "step", "ranks",
                                          "step ms min..max", "slowest rank", "lag ms",
                                          "max waiting ms", "end spread us"));
    for (const RankReport::StepRow& s : report.steps) {
      absl::StrAppend(
          &out, absl::StrFormat("  %6d %5d %20s %13s %9s %15s %14s\n", s.step, s.ranks,
                                absl::StrCat(Ms(s.min_step_ns), "..", Ms(s.max_step_ns)),
                                RankName(report.ranks[s.slowest]), Ms(s.lag_ns), Ms(s.max_wait_ns),
                                Us(s.end_spread_ns)));
    }
  }
  if (report.straggler >= 0) {
    const RankProfile& r = report.ranks[report.straggler];
    absl::StrAppend(&out, "Slowest rank: ", RankName(r), " (", r.host, "), slowest in ",
                    report.rows[report.straggler].slowest_in, " of ", report.steps.size(),
                    " steps, ", Ms(report.straggler_mean_lag_ns),
                    " ms behind the median of the other ranks on average\n");
  } else {
    absl::StrAppend(&out, "No step was captured on two ranks: nothing to compare\n");
  }
  return out;
}

std::string FormatRankReportJson(const RankReport& report) {
  JsonWriter j;
  j.BeginObject();
  j.Key("format");
  j.String("tbprof.ranks.v1");
  j.Key("collective");
  j.String(report.collective);
  j.Key("clock_anchors");
  j.String(report.anchors);
  j.Key("ranks");
  j.BeginArray();
  for (size_t i = 0; i < report.ranks.size(); ++i) {
    const RankProfile& r = report.ranks[i];
    const RankReport::RankRow& row = report.rows[i];
    const internal::ClockOffset& o = report.offsets[i];
    j.BeginObject();
    j.Key("rank");
    j.Int(r.rank);
    j.Key("host");
    j.String(r.host);
    j.Key("file");
    j.String(r.file);
    j.Key("steps");
    j.Int(row.steps);
    j.Key("mean_step_ms");
    j.Double(row.mean_step_ns / 1e6);
    j.Key("mean_busy_ms");
    j.Double(row.mean_busy_ns / 1e6);
    j.Key("mean_waiting_ms");
    j.Double(row.mean_wait_ns / 1e6);
    j.Key("slowest_in_steps");
    j.Int(row.slowest_in);
    j.Key("same_clock_as_reference");
    j.Bool(report.same_clock[i]);
    j.Key("clock_offset_ns");
    j.Int(o.offset_ns);
    j.Key("clock_offset_uncertainty_ns");
    j.Int(o.uncertainty_ns);
    j.Key("clock_anchors_matched");
    j.Int(o.matches);
    j.EndObject();
  }
  j.EndArray();
  j.Key("steps");
  j.BeginArray();
  for (const RankReport::StepRow& s : report.steps) {
    j.BeginObject();
    j.Key("step");
    j.Int(s.step);
    j.Key("ranks");
    j.Int(s.ranks);
    j.Key("min_step_ms");
    j.Double(static_cast<double>(s.min_step_ns) / 1e6);
    j.Key("max_step_ms");
    j.Double(static_cast<double>(s.max_step_ns) / 1e6);
    j.Key("slowest_rank");
    j.Int(report.ranks[s.slowest].rank);
    j.Key("lag_ms");
    j.Double(static_cast<double>(s.lag_ns) / 1e6);
    j.Key("max_waiting_ms");
    j.Double(static_cast<double>(s.max_wait_ns) / 1e6);
    j.Key("end_spread_us");
    j.Double(static_cast<double>(s.end_spread_ns) / 1e3);
    j.EndObject();
  }
  j.EndArray();
  j.Key("slowest_rank");
  if (report.straggler >= 0) {
    j.Int(report.ranks[report.straggler].rank);
  } else {
    j.Null();
  }
  j.Key("slowest_rank_mean_lag_ms");
  j.Double(report.straggler_mean_lag_ns / 1e6);
  j.EndObject();
  return j.Finish();
}

}  // namespace tbprof::cli
