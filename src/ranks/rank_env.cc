#include "src/ranks/rank_env.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/util/strings.h"

namespace tbprof::internal {
namespace {

using Lookup = std::function<std::optional<std::string>(std::string_view)>;

std::optional<int64_t> Int(const Lookup& lookup, std::string_view name) {
  std::optional<std::string> v = lookup(name);
  if (!v) return std::nullopt;
  int64_t n = 0;
  std::string s(absl::StripAsciiWhitespace(*v));
  if (s.empty() || !absl::SimpleAtoi(s, &n)) return std::nullopt;
  return n;
}

struct Launcher {
  const char* name;
  const char* rank;
  const char* size;
  const char* local_rank;
};

constexpr Launcher kLaunchers[] = {
    {"Open MPI", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
    {"MPICH/PMI", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"},
    {"torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK"},
    {"Slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"},
};

constexpr int64_t kMaxWorldSize = int64_t{1} << 24;
constexpr size_t kMaxSessionName = 128;

bool SafeNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

std::string Sanitize(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (!SafeNameChar(c)) c = '_';
  }
  return out;
}

std::string Bad(std::string_view var, std::string_view value, std::string_view accepted) {
  return absl::StrCat(AsAbsl(var), "='", AsAbsl(value), "' is not valid: ", AsAbsl(accepted));
}

}  // namespace

RankJob ReadRankEnvironment(const Lookup& lookup, std::vector<std::string>* errors) {
  RankJob job;
  for (const Launcher& l : kLaunchers) {
    std::optional<int64_t> rank = Int(lookup, l.rank);
    std::optional<int64_t> size = Int(lookup, l.size);
    if (!rank || !size || *rank < 0 || *size < 1 || *rank >= *size || *size > kMaxWorldSize) {
      continue;
    }
    job.rank = *rank;
    job.world_size = *size;
    if (std::optional<int64_t> local = Int(lookup, l.local_rank); local && *local >= 0) {
      job.local_rank = *local;
    }
    job.launcher = l.name;
    break;
  }

  // Overrides, validated like every TBPROF_* variable.
  std::optional<int64_t> rank_override;
  if (std::optional<std::string> v = lookup("TBPROF_RANK")) {
    std::optional<int64_t> n = Int(lookup, "TBPROF_RANK");
    if (n && *n >= 0 && *n < kMaxWorldSize) {
      rank_override = *n;
    } else {
      errors->push_back(Bad(
          "TBPROF_RANK", *v,
          absl::StrCat("expected this process's rank, an integer from 0 to ", kMaxWorldSize - 1)));
    }
  }
  std::optional<int64_t> size_override;
  if (std::optional<std::string> v = lookup("TBPROF_WORLD_SIZE")) {
    std::optional<int64_t> n = Int(lookup, "TBPROF_WORLD_SIZE");
    if (n && *n >= 1 && *n <= kMaxWorldSize) {
      size_override = *n;
    } else {
      errors->push_back(Bad(
          "TBPROF_WORLD_SIZE", *v,
          absl::StrCat("expected the number of processes, an integer from 1 to ", kMaxWorldSize)));
    }
  }
  if (rank_override) {
    job.rank = *rank_override;
    job.launcher = "TBPROF_RANK";
  }
  if (size_override) job.world_size = *size_override;
  if (job.world_size > 0 && job.rank >= job.world_size && (rank_override || size_override)) {
    errors->push_back(absl::StrCat("TBPROF_RANK=", job.rank, " is not below the world size ",
                                   job.world_size,
                                   size_override ? " (TBPROF_WORLD_SIZE)" : " (from the launcher)",
                                   ": expected 0 <= rank < world size"));
  }

  if (std::optional<std::string> v = lookup("TBPROF_SESSION"); v && !v->empty()) {
    bool ok = v->size() <= kMaxSessionName && *v != "." && *v != "..";
    for (char c : *v) ok = ok && SafeNameChar(c);
    if (ok) {
      job.session = *v;
    } else {
      errors->push_back(Bad("TBPROF_SESSION", *v,
                            "expected one directory name of letters, digits, '.', '_' and '-' "
                            "(at most 128 characters), e.g. 'run7_steps_10_12'"));
    }
  }

  for (const char* name : {"PMIX_NAMESPACE", "OMPI_MCA_ess_base_jobid", "OMPI_MCA_orte_ess_jobid",
                           "SLURM_JOB_ID", "TORCHELASTIC_RUN_ID", "PMI_KVSNAME"}) {
    std::optional<std::string> v = lookup(name);
    if (!v || absl::StripAsciiWhitespace(*v).empty()) continue;
    job.job_id = std::string(absl::StripAsciiWhitespace(*v));
    if (std::string_view(name) == "SLURM_JOB_ID") {
      // One allocation runs several job steps (srun calls): each is its own capture.
      if (std::optional<std::string> s = lookup("SLURM_STEP_ID"); s && !s->empty()) {
        absl::StrAppend(&job.job_id, ".", *s);
      }
    }
    break;
  }
  return job;
}

std::string RankHostLabel(std::string_view hostname, int64_t rank) {
  std::string label(hostname.empty() ? std::string_view("localhost") : hostname);
  if (rank >= 0) absl::StrAppend(&label, " rank ", rank);
  return label;
}

std::string RankFileStem(std::string_view hostname, int64_t rank, int64_t world_size) {
  std::string stem(hostname.empty() ? std::string_view("localhost") : hostname);
  for (char& c : stem) {
    if (c == ':' || c == '/' || c == '\\' || c == ' ') c = '_';
  }
  if (rank < 0) return stem;
  std::string digits = std::to_string(rank);
  const size_t width = std::to_string(std::max<int64_t>(world_size - 1, 0)).size();
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  absl::StrAppend(&stem, "_rank", digits);
  return stem;
}

std::string SharedSessionName(const RankJob& job, std::string_view export_name, int64_t step) {
  if (!job.shared_session()) return "";
  if (!job.session.empty()) return job.session;
  std::string name = absl::StrCat(Sanitize(job.job_id), "_", Sanitize(export_name));
  const std::string suffix = absl::StrCat("_", step);
  if (!absl::EndsWith(name, suffix)) absl::StrAppend(&name, suffix);
  if (name.size() > 200) name.resize(200);
  return name;
}

}  // namespace tbprof::internal
