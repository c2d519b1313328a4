// `tbprof align`: puts the ranks of a multi-rank session on one time base for good. Each rank's
// profile is copied into a new session directory with its Task Environment start and stop
// times (and, in files written by a rank, whose lines count from a shared base, its events)
// moved onto the reference rank's clock (tools/rank_summary.h estimates the offsets) and
// the correction recorded in the profile itself: Task Environment stats
// `tbprof_clock_offset_ns` (the offset subtracted), `tbprof_clock_offset_uncertainty_ns`
// (-1: unknown), `tbprof_clock_anchors` (what the offset was measured on), and one XSpace
// warning saying the same in words. The original session is left as it is.
#ifndef TBPROF_TOOLS_RANK_ALIGN_H_
#define TBPROF_TOOLS_RANK_ALIGN_H_

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "tensorflow/profiler/xplane.pb.h"
#include "tools/rank_summary.h"

namespace tbprof::cli {

// Applies `offset` to `space` as described above (pure; used by WriteAlignedSession).
void ApplyClockOffset(const internal::ClockOffset& offset, std::string_view anchors,
                      int64_t reference_rank, tensorflow::profiler::XSpace* space);

// Reads `files` (one per rank), estimates the offsets on `collective` ends (else step ends),
// and writes each aligned profile as <out_dir>/<file name>. `out_dir` must not exist
// (AlreadyExists otherwise: nothing is ever replaced); it is created. Fills `report`.
// Errors: the first unreadable file (naming it), FailedPrecondition for fewer than two
// profiles, those of MakeDirs / WriteFileAtomically naming the path.
absl::Status WriteAlignedSession(const std::vector<std::string>& files, std::string_view collective,
                                 const std::string& out_dir, std::ostream& err, bool err_is_tty,
                                 RankReport* report);

}  // namespace tbprof::cli

#endif  // TBPROF_TOOLS_RANK_ALIGN_H_
