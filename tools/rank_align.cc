#include "tools/rank_align.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/util/file_util.h"
#include "tools/xspace_io.h"
#include "tools/xspace_util.h"

namespace tbprof::cli {
namespace {

using tensorflow::profiler::XPlane;
using tensorflow::profiler::XSpace;
using tensorflow::profiler::XStat;

// The plane stat named `name`, added (with new metadata) when missing.
XStat* PlaneStat(XPlane* plane, const std::string& name) {
  int64_t id = -1, max_id = 0;
  for (const auto& [key, meta] : plane->stat_metadata()) {
    max_id = std::max(max_id, key);
    if (meta.name() == name) id = key;
  }
  if (id < 0) {
    id = max_id + 1;
    auto& meta = (*plane->mutable_stat_metadata())[id];
    meta.set_id(id);
    meta.set_name(name);
  }
  for (XStat& stat : *plane->mutable_stats()) {
    if (stat.metadata_id() == id) return &stat;
  }
  XStat* stat = plane->add_stats();
  stat->set_metadata_id(id);
  return stat;
}

void Shift(XStat* stat, int64_t by_ns) {
  if (stat->value_case() == XStat::kUint64Value) {
    stat->set_uint64_value(
        static_cast<uint64_t>(static_cast<int64_t>(stat->uint64_value()) - by_ns));
  } else if (stat->value_case() == XStat::kInt64Value) {
    stat->set_int64_value(stat->int64_value() - by_ns);
  }
}

}  // namespace

void ApplyClockOffset(const internal::ClockOffset& offset, std::string_view anchors,
                      int64_t reference_rank, XSpace* space) {
  XPlane* env = nullptr;
  for (XPlane& plane : *space->mutable_planes()) {
    if (plane.name() == kTaskEnvironmentPlaneName) env = &plane;
  }
  if (env == nullptr) {
    env = space->add_planes();
    env->set_name(std::string(kTaskEnvironmentPlaneName));
  }
  // Adjust the times by what a previous alignment already applied, so aligning twice is safe.
  int64_t previous = 0;
  for (const auto& [key, meta] : env->stat_metadata()) {
    if (meta.name() != "tbprof_clock_offset_ns") continue;
    for (const XStat& s : env->stats()) {
      if (s.metadata_id() == key) previous = s.int64_value();
    }
  }
  for (const char* name : {"profile_start_time", "profile_stop_time"}) {
    PlaneIndex index(*env);
    if (index.FindPlaneStat(name) != nullptr) Shift(PlaneStat(env, name), offset.offset_ns);
  }
  // Files whose lines count from a shared base (tbprof_line_time_base_ns) get their events moved
  // too, so that xprof, which lines up hosts by time, sees them aligned.
  if (PlaneIndex(*env).FindPlaneStat("tbprof_line_time_base_ns") != nullptr) {
    bool fits = true;
    for (const XPlane& plane : space->planes()) {
      for (const auto& line : plane.lines()) fits = fits && line.timestamp_ns() >= offset.offset_ns;
    }
    if (fits) {
      for (XPlane& plane : *space->mutable_planes()) {
        for (auto& line : *plane.mutable_lines()) {
          line.set_timestamp_ns(line.timestamp_ns() - offset.offset_ns);
        }
      }
    }
  }
  PlaneStat(env, "tbprof_clock_offset_ns")->set_int64_value(previous + offset.offset_ns);
  PlaneStat(env, "tbprof_clock_offset_uncertainty_ns")->set_int64_value(offset.uncertainty_ns);
  PlaneStat(env, "tbprof_clock_anchors")
      ->set_str_value(absl::StrCat(std::string(anchors), " of rank ", reference_rank, ", ",
                                   offset.matches, " matched"));
  space->add_warnings(absl::StrFormat(
      "tbprof: clock aligned to rank %d: %+.3f ms subtracted (uncertainty %s) from %d %s",
      reference_rank, static_cast<double>(offset.offset_ns) / 1e6,
      offset.uncertainty_ns < 0
          ? std::string("unknown")
          : absl::StrFormat("%.1f us", static_cast<double>(offset.uncertainty_ns) / 1e3),
      offset.matches, std::string(anchors)));
}

absl::Status WriteAlignedSession(const std::vector<std::string>& files, std::string_view collective,
                                 const std::string& out_dir, std::ostream& err, bool err_is_tty,
                                 RankReport* report) {
  std::vector<std::string> skipped;
  *report = SummarizeRankFiles(files, collective, err, err_is_tty, &skipped);
  if (!skipped.empty()) return absl::InvalidArgumentError(skipped[0]);
  if (report->ranks.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "aligning needs the profiles of at least two ranks; found ", report->ranks.size()));
  }
  const size_t slash = out_dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    if (absl::Status s = internal::MakeDirs(out_dir.substr(0, slash)); !s.ok()) return s;
  }
  if (mkdir(out_dir.c_str(), 0755) != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat(out_dir, " exists: choose another output directory (-o)"));
    }
    return internal::ErrnoStatus(errno, "mkdir", out_dir);
  }
  const int64_t reference = report->ranks[0].rank;
  for (size_t i = 0; i < report->ranks.size(); ++i) {
    const std::string& file = report->ranks[i].file;
    absl::StatusOr<XSpace> space = ReadXSpaceFile(file, err, err_is_tty);
    if (!space.ok()) return space.status();
    ApplyClockOffset(report->offsets[i], report->anchors, reference, &*space);
    const size_t s = file.find_last_of('/');
    const std::string out =
        internal::JoinPath(out_dir, s == std::string::npos ? file : file.substr(s + 1));
    if (absl::Status w = internal::WriteFileAtomically(out, space->SerializeAsString(), true);
        !w.ok()) {
      return w;
    }
  }
  return absl::OkStatus();
}

}  // namespace tbprof::cli
