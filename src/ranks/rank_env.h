// Which process of a multi-process job this is: rank, world size and job id, read from the
// variables the usual launchers set (Open MPI, MPICH / PMI, Slurm, torchrun), with
// TBPROF_RANK / TBPROF_WORLD_SIZE to override and TBPROF_SESSION to name the shared profile
// session. Pure functions of an environment lookup; src/config calls them once per process.
#ifndef TBPROF_SRC_RANKS_RANK_ENV_H_
#define TBPROF_SRC_RANKS_RANK_ENV_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tbprof::internal {

// This process's place in a job. rank < 0: not part of a multi-process job (or unknown).
struct RankJob {
  int64_t rank = -1;
  int64_t world_size = 0;  // 0 = unknown.
  int64_t local_rank = -1;
  std::string launcher;  // Where rank came from: "TBPROF_RANK", "Open MPI", "MPICH/PMI", ...
  std::string job_id;    // The launcher's job id, raw ("" = none found).
  std::string session;   // TBPROF_SESSION ("" = unset).

  bool in_job() const { return rank >= 0; }
  // True when every rank of the job writes into one shared session directory.
  bool shared_session() const { return !session.empty() || (in_job() && !job_id.empty()); }
};

// Reads the rank variables. The launchers are tried in this order, the first whose variables
// are all present and consistent wins (0 <= rank < size):
//   Open MPI  OMPI_COMM_WORLD_RANK / OMPI_COMM_WORLD_SIZE / OMPI_COMM_WORLD_LOCAL_RANK
//   MPICH/PMI PMI_RANK / PMI_SIZE / MPI_LOCALRANKID
//   torchrun  RANK / WORLD_SIZE / LOCAL_RANK (before Slurm: under srun + torchrun the global
//             rank is torchrun's)
//   Slurm     SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID
// Malformed launcher variables are ignored (RANK is a common name other programs use).
// TBPROF_RANK and TBPROF_WORLD_SIZE override them and are validated: each bad one adds one line
// to `errors` ("TBPROF_RANK='x' is not valid: ..."). The job id is the first of
// PMIX_NAMESPACE, OMPI_MCA_ess_base_jobid, OMPI_MCA_orte_ess_jobid, SLURM_JOB_ID (with
// ".<SLURM_STEP_ID>"), TORCHELASTIC_RUN_ID, PMI_KVSNAME. TBPROF_SESSION must be one directory
// name of [A-Za-z0-9._-] (not "." or "..", at most 128 characters).
RankJob ReadRankEnvironment(
    const std::function<std::optional<std::string>(std::string_view)>& lookup,
    std::vector<std::string>* errors);

// "node3 rank 5": the host name TensorBoard's host picker and the overview show for a rank.
// `hostname` alone when rank < 0.
std::string RankHostLabel(std::string_view hostname, int64_t rank);

// "node3_rank05": the file-name stem of a rank's files. The rank is zero-padded to the digits of
// world_size - 1 so that the host picker, which sorts names as text, lists ranks in order.
// ':', '/', '\\' and ' ' in the host name become '_'. The host name alone when rank < 0.
std::string RankFileStem(std::string_view hostname, int64_t rank, int64_t world_size);

// The shared session directory's name for one export, "" when the process does not share
// (job.shared_session() is false): TBPROF_SESSION as given, else
// "<job id>_<export name>[_<step>]" with every character outside [A-Za-z0-9._-] replaced by
// '_' (the step is left out when the name already ends with it, as TBPROF_STEPS's
// "steps_A_B" does). Every rank of one capture computes the same name without talking to the
// others.
std::string SharedSessionName(const RankJob& job, std::string_view export_name, int64_t step);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_RANKS_RANK_ENV_H_
