// Synthetic captures of a data-parallel job, one Trace per rank, for the rank tests and the
// rank benchmark: every step each rank computes, then enters "grad/Allreduce:Allreduce", which
// returns on all ranks at the same true instant (when the slowest rank arrives); the step ends
// shortly after. Each rank starts its capture at its own moment and reads a clock that is off by
// a chosen offset, as on different hosts (give the ranks of one host the same offset).
#ifndef TBPROF_TESTS_UNIT_RANKS_SYNTHETIC_RANKS_H_
#define TBPROF_TESTS_UNIT_RANKS_SYNTHETIC_RANKS_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "src/trace/trace_data.h"
#include "tests/unit/export/synthetic_trace.h"

namespace tbprof::internal::testing {

struct RankScenario {
  int world_size = 4;
  int steps = 5;
  int64_t first_step = 10;
  int64_t compute_ns = 2'000'000;  // Every rank's compute per step.
  int slow_rank = 2;               // This rank computes `slow_extra_ns` longer (-1: none).
  int64_t slow_extra_ns = 3'000'000;
  int64_t allreduce_ns = 200'000;        // From the last arrival to the common return.
  int64_t exit_jitter_ns = 5'000;        // Each rank returns within +-this of the common instant.
  int64_t tail_ns = 20'000;              // Step end after the allreduce returns.
  std::vector<int64_t> clock_offset_ns;  // Per rank (missing: 0): its clock minus true time.
  int ops_per_step = 0;                  // Extra small framework ops per step (benchmark size).
  int ranks_per_host = 1;                // Rank r runs on host "node<r / ranks_per_host>".
};

// Deterministic pseudo-random jitter in [-range, range].
inline int64_t Jitter(uint64_t seed, int64_t range) {
  seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  seed ^= seed >> 33;
  if (range <= 0) return 0;
  return static_cast<int64_t>(seed % static_cast<uint64_t>(2 * range + 1)) - range;
}

inline Trace RankCapture(const RankScenario& sc, int rank) {
  constexpr int64_t kTrueOrigin = 1'700'000'000'000'000'000;
  Trace t;
  t.hostname = "node" + std::to_string(rank / std::max(sc.ranks_per_host, 1));
  t.rank = rank;
  t.world_size = sc.world_size;
  const int64_t capture_start = 50'000 + 37'000 * rank;  // True ns after the origin.
  const int64_t offset =
      rank < static_cast<int>(sc.clock_offset_ns.size()) ? sc.clock_offset_ns[rank] : 0;
  t.start_ns = 1'000'000'000;
  t.start_walltime_ns = kTrueOrigin + capture_start + offset;
  ThreadTrack main{1000 + rank, "main", {}};
  OpInfo allreduce;
  allreduce.name = "grad/Allreduce";
  allreduce.type = "Allreduce";
  t.ops.push_back(allreduce);
  const NameId step_name = Intern(&t, "train");
  const NameId allreduce_name = Intern(&t, "grad/Allreduce:Allreduce");
  const NameId matmul_name = Intern(&t, "dense/MatMul:MatMul");
  if (sc.ops_per_step > 0) {
    OpInfo matmul;
    matmul.name = "dense/MatMul";
    matmul.type = "MatMul";
    t.ops.push_back(matmul);
  }
  int64_t now = 400'000;  // True time of the first step's start, the same on every rank.
  for (int s = 0; s < sc.steps; ++s) {
    const int64_t step_start = now;
    int64_t slowest = 0;
    for (int r = 0; r < sc.world_size; ++r) {
      slowest = std::max(slowest, sc.compute_ns + (r == sc.slow_rank ? sc.slow_extra_ns : 0));
    }
    const int64_t mine = sc.compute_ns + (rank == sc.slow_rank ? sc.slow_extra_ns : 0);
    const int64_t common_return = step_start + slowest + sc.allreduce_ns;
    const int64_t ret = common_return + Jitter(uint64_t(s) * 1000 + rank, sc.exit_jitter_ns);
    const int64_t step_end = common_return + sc.tail_ns;
    HostEvent step = Scope(step_name, step_start - capture_start, step_end - capture_start);
    step.kind = HostEventKind::kStep;
    step.step = sc.first_step + s;
    main.events.push_back(step);
    for (int k = 0; k < sc.ops_per_step; ++k) {
      const int64_t slot = mine / (sc.ops_per_step + 1);
      const int64_t a = step_start + k * slot - capture_start;
      main.events.push_back(Op(matmul_name, a, a + slot / 2, 1));
    }
    main.events.push_back(
        Op(allreduce_name, step_start + mine - capture_start, ret - capture_start, 0));
    now = step_end;
  }
  t.duration_ns = now + 10'000 - capture_start;
  t.stop_walltime_ns = t.start_walltime_ns + t.duration_ns;
  t.threads.push_back(std::move(main));
  return t;
}

}  // namespace tbprof::internal::testing

#endif  // TBPROF_TESTS_UNIT_RANKS_SYNTHETIC_RANKS_H_
