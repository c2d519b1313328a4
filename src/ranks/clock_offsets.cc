#include "src/ranks/clock_offsets.h"

#include <algorithm>
#include <map>
#include <utility>

namespace tbprof::internal {
namespace {

// The q-quantile (0..1) of a sorted vector, by nearest rank.
int64_t Quantile(const std::vector<int64_t>& sorted, double q) {
  const size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

std::vector<ClockOffset> EstimateClockOffsets(const std::vector<std::vector<ClockAnchor>>& anchors,
                                              size_t reference) {
  if (reference >= anchors.size()) return {};
  std::map<std::pair<int64_t, int64_t>, int64_t> ref;
  for (const ClockAnchor& a : anchors[reference])
    ref.emplace(std::make_pair(a.step, a.index), a.time_ns);

  std::vector<ClockOffset> out(anchors.size());
  std::vector<int64_t> diffs;
  for (size_t r = 0; r < anchors.size(); ++r) {
    if (r == reference) {
      out[r].uncertainty_ns = 0;
      out[r].matches = static_cast<int64_t>(ref.size());
      continue;
    }
    diffs.clear();
    for (const ClockAnchor& a : anchors[r]) {
      auto it = ref.find({a.step, a.index});
      if (it != ref.end()) diffs.push_back(a.time_ns - it->second);
    }
    out[r].matches = static_cast<int64_t>(diffs.size());
    if (diffs.empty()) continue;
    std::sort(diffs.begin(), diffs.end());
    const size_t n = diffs.size();
    out[r].offset_ns =
        n % 2 == 1 ? diffs[n / 2] : diffs[n / 2 - 1] + (diffs[n / 2] - diffs[n / 2 - 1]) / 2;
    if (n >= 2) out[r].uncertainty_ns = (Quantile(diffs, 0.75) - Quantile(diffs, 0.25)) / 2;
  }
  return out;
}

}  // namespace tbprof::internal
