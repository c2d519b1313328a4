// The cross-rank view of a multi-process profile session (one `<host>_rank<N>.xplane.pb` per
// rank, src/ranks): per-rank step times, the slowest rank of each step and by how much, the
// time each rank waits in a collective op type, and the clock offsets that put every rank on
// rank 0's time base (src/ranks/clock_offsets.h).
//
// Why "busy" and not the step time: in data-parallel training every rank's step ends after the
// same allreduce, so step times are nearly equal on all ranks; the slow rank is the one that
// waits least in the collective (the others wait for it). busy = step time - collective time,
// and a step's lag is the slowest rank's busy time minus the median of the other ranks'.
#ifndef TBPROF_TOOLS_RANK_SUMMARY_H_
#define TBPROF_TOOLS_RANK_SUMMARY_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "src/ranks/clock_offsets.h"
#include "tensorflow/profiler/xplane.pb.h"

namespace tbprof::cli {

// The collective op type `tbprof summary` looks for unless --collective or TBPROF_COLLECTIVE.
inline constexpr std::string_view kDefaultCollective = "Allreduce";

// One rank's profile reduced to what the cross-rank view needs. Times are ns on the rank's own
// CLOCK_REALTIME: the Task Environment's tbprof_line_time_base_ns (else profile_start_time) +
// the event's time in the profile.
struct RankProfile {
  struct Step {
    int64_t step = 0;
    int64_t start_ns = 0;
    int64_t end_ns = 0;
    int64_t wait_ns = 0;                   // Sum of the collective events that start inside.
    std::vector<int64_t> collective_ends;  // Their ends, in order.
  };
  std::string file;
  std::string host;         // XSpace.hostnames[0] ("node3 rank 5"), else the file name's host part.
  std::string machine;      // `host` without its " rank <N>": the ranks of one machine share it.
  int64_t rank = -1;        // tbprof_rank stat, else "_rank<N>" in the file name, else -1.
  int64_t collectives = 0;  // Collective events found (inside steps or not).
  std::vector<Step> steps;  // By start.
};

// A collective event: a host event whose name, framework op type ("name:Type") or last name
// component equals `collective` (ASCII case-insensitive). Nested matches count once.
RankProfile ReduceRankProfile(const tensorflow::profiler::XSpace& space, const std::string& file,
                              std::string_view collective);

struct RankReport {
  std::string collective;
  std::string anchors;  // What the clocks were aligned on: "<collective> ends" or "step ends".
  std::vector<RankProfile> ranks;  // By rank (files without a rank last).
  // Per rank, to ranks[0]. Ranks on ranks[0]'s machine read the same clock: offset 0,
  // uncertainty 0. The ranks of another machine share one offset: the median of their
  // estimates, with the largest of their uncertainties.
  std::vector<internal::ClockOffset> offsets;
  std::vector<bool> same_clock;  // Per rank: on ranks[0]'s machine.
  struct RankRow {
    int64_t steps = 0;
    double mean_step_ns = 0;
    double mean_wait_ns = 0;
    double mean_busy_ns = 0;
    int64_t slowest_in = 0;  // Steps where this rank was the slowest.
  };
  std::vector<RankRow> rows;  // Per rank, same order.
  struct StepRow {
    int64_t step = 0;
    int64_t ranks = 0;  // Ranks that captured this step.
    int64_t min_step_ns = 0;
    int64_t max_step_ns = 0;
    size_t slowest = 0;         // Index into `ranks`.
    int64_t lag_ns = 0;         // Slowest busy time minus the median of the others'.
    int64_t end_spread_ns = 0;  // Latest minus earliest step end, clocks aligned.
    int64_t max_wait_ns = 0;    // Longest collective wait of the step.
  };
  std::vector<StepRow> steps;  // Steps seen on at least two ranks, by number.
  int64_t straggler = -1;      // Index into `ranks`: slowest most often (tie: more busy), or -1.
  double straggler_mean_lag_ns = 0;
};

// Aligns the clocks and compares the ranks. Pure.
RankReport BuildRankReport(std::vector<RankProfile> ranks, std::string_view collective);

// Reads each file (ReadXSpaceFile) and builds the report; a file that cannot be read is left
// out and named in `skipped` ("<file>: <error>").
RankReport SummarizeRankFiles(const std::vector<std::string>& files, std::string_view collective,
                              std::ostream& err, bool err_is_tty,
                              std::vector<std::string>* skipped);

std::string FormatRankReportText(const RankReport& report);
// JSON object "tbprof.ranks.v1" (docs/cli.md).
std::string FormatRankReportJson(const RankReport& report);

}  // namespace tbprof::cli

#endif  // TBPROF_TOOLS_RANK_SUMMARY_H_
