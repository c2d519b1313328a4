// Post-hoc clock alignment of the ranks of one session. On one host every rank reads the same
// CLOCK_REALTIME, so the profiles' own start times already share a time base. Across hosts the
// clocks differ (NTP keeps them within about a millisecond, often worse), so tbprof estimates
// each rank's offset to a reference rank from events that must happen at the same instant on
// every rank: the ends of a collective operation (an allreduce returns on all ranks together,
// when the last one arrives) or, without collectives, the ends of the steps that follow one.
#ifndef TBPROF_SRC_RANKS_CLOCK_OFFSETS_H_
#define TBPROF_SRC_RANKS_CLOCK_OFFSETS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tbprof::internal {

// One event that happens at the same instant on every rank. (step, index) names it across
// ranks: the index-th collective end of that step on every rank, say.
struct ClockAnchor {
  int64_t step = 0;
  int64_t index = 0;
  int64_t time_ns = 0;  // On the rank's own clock.
};

struct ClockOffset {
  // This rank's clock minus the reference's: time on the reference clock = time_ns - offset_ns.
  int64_t offset_ns = 0;
  // Half the interquartile range of the per-anchor differences (0 for the reference); -1 when
  // fewer than two anchors matched (unknown).
  int64_t uncertainty_ns = -1;
  int64_t matches = 0;  // Anchors found on both this rank and the reference.
};

// The median of the differences between each rank's anchors and the reference rank's anchors
// with the same (step, index); robust to a few mismatched or delayed anchors. Ranks with no
// matching anchor get offset 0, matches 0, uncertainty -1. `anchors[r]` need not be sorted.
// Cost: O(total anchors * log). Returns one entry per rank; empty when `reference` is out of
// range.
std::vector<ClockOffset> EstimateClockOffsets(const std::vector<std::vector<ClockAnchor>>& anchors,
                                              size_t reference = 0);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_RANKS_CLOCK_OFFSETS_H_
