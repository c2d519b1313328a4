#include "src/host/flow.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/host/clock.h"
#include "src/host/recorder.h"
#include "tbprof/flow.h"

namespace tbprof::internal {
namespace {

struct FlowMarkRecord {
  int64_t tid;
  uint64_t ticks;
  uint64_t id;
  uint32_t generation;
  bool consumer;
};

// Marks kept per capture; beyond this many the rest are counted as dropped.
constexpr size_t kMaxMarks = size_t{1} << 20;

struct FlowStore {
  std::mutex mu;
  std::vector<FlowMarkRecord> marks;
  uint32_t dropped_generation = 0;
  int64_t dropped = 0;
};

FlowStore& Store() {
  static FlowStore* s = new FlowStore();  // Never destroyed: marks may come during exit.
  return *s;
}

constinit thread_local int64_t t_tid = 0;

}  // namespace

void FlowMark(uint64_t id, bool consumer) {
  const uint32_t st = g_trace_state.load(std::memory_order_relaxed);
  if ((st & kStateLevelMask) == 0 || id == 0) return;
  if (t_tid == 0) t_tid = static_cast<int64_t>(syscall(SYS_gettid));
  const uint64_t now = ReadTicks();
  const uint32_t gen = st >> kStateGenerationShift;
  FlowStore& s = Store();
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.marks.empty() && s.marks.front().generation != gen) s.marks.clear();
  if (s.marks.size() >= kMaxMarks) {
    if (s.dropped_generation != gen) {
      s.dropped_generation = gen;
      s.dropped = 0;
    }
    ++s.dropped;
    return;
  }
  s.marks.push_back({t_tid, now, id, gen, consumer});
}

namespace {

// The marks of the current generation, taken out of the store (`take`) or copied.
std::vector<FlowMarkRecord> CurrentMarks(bool take, int64_t* dropped) {
  const uint32_t gen = g_trace_state.load(std::memory_order_acquire) >> kStateGenerationShift;
  std::vector<FlowMarkRecord> marks;
  {
    FlowStore& s = Store();
    std::lock_guard<std::mutex> lock(s.mu);
    if (take) {
      marks.swap(s.marks);
    } else {
      marks = s.marks;
    }
    *dropped = s.dropped_generation == gen ? s.dropped : 0;
    if (take) s.dropped = 0;
  }
  marks.erase(std::remove_if(marks.begin(), marks.end(),
                             [&](const FlowMarkRecord& m) { return m.generation != gen; }),
              marks.end());
  return marks;
}

// `snapshot`: marks around events the ring has already recycled are left out silently.
void ApplyMarks(const std::vector<FlowMarkRecord>& marks, int64_t dropped, bool snapshot,
                Trace* trace);

}  // namespace

void CollectFlows(Trace* trace) {
  int64_t dropped = 0;
  std::vector<FlowMarkRecord> marks = CurrentMarks(/*take=*/true, &dropped);
  ApplyMarks(marks, dropped, /*snapshot=*/false, trace);
}

void SnapshotFlows(Trace* trace) {
  int64_t dropped = 0;
  std::vector<FlowMarkRecord> marks = CurrentMarks(/*take=*/false, &dropped);
  ApplyMarks(marks, dropped, /*snapshot=*/true, trace);
}

void TrimFlowMarks(int64_t keep_ns) {
  const TickMap map = FitTickMap(RecordingStartSample(), SampleClocks(), FirstClockSample(),
                                 g_clock_kind.load(std::memory_order_relaxed));
  const int64_t cutoff = map.ToRelativeNs(ReadTicks()) - std::max<int64_t>(keep_ns, 0);
  FlowStore& s = Store();
  std::lock_guard<std::mutex> lock(s.mu);
  // Marks are appended in time order (per thread; across threads within the lock's order).
  auto keep = std::find_if(s.marks.begin(), s.marks.end(), [&](const FlowMarkRecord& m) {
    return map.ToRelativeNs(m.ticks) >= cutoff;
  });
  s.marks.erase(s.marks.begin(), keep);
  if (s.marks.capacity() > 2 * s.marks.size() + 4096) s.marks.shrink_to_fit();
}

namespace {

void ApplyMarks(const std::vector<FlowMarkRecord>& marks, int64_t dropped, bool snapshot,
                Trace* trace) {
  if (marks.empty() && dropped == 0) return;
  // The recorder's map from ticks to the trace's nanoseconds, fitted the same way (start
  // sample, a sample now, the process's first sample).
  const TickMap map = FitTickMap(RecordingStartSample(), SampleClocks(), FirstClockSample(),
                                 g_clock_kind.load(std::memory_order_relaxed));
  std::unordered_map<int64_t, ThreadTrack*> tracks;
  for (ThreadTrack& t : trace->threads) tracks.emplace(t.tid, &t);
  int64_t outside = 0, extra = 0;
  for (const FlowMarkRecord& m : marks) {
    auto it = tracks.find(m.tid);
    if (it == tracks.end()) {
      if (!snapshot) ++outside;
      continue;
    }
    std::vector<HostEvent>& events = it->second->events;
    const int64_t t = map.ToRelativeNs(m.ticks);
    if (snapshot && (events.empty() || t < events.front().start_ns)) continue;  // Recycled.
    // Events are sorted by start and nested: the innermost one around t is the last one that
    // starts no later than t and ends no earlier.
    auto end = std::upper_bound(events.begin(), events.end(), t,
                                [](int64_t v, const HostEvent& e) { return v < e.start_ns; });
    HostEvent* found = nullptr;
    for (auto e = end; e != events.begin();) {
      --e;
      if (e->end_ns >= t) {
        found = &*e;
        break;
      }
    }
    if (found == nullptr) {
      ++outside;
      continue;
    }
    uint64_t& slot = m.consumer ? found->flow_consumed : found->flow_produced;
    if (slot == 0) {
      slot = m.id;
    } else if (slot != m.id) {
      ++extra;
    }
  }
  if (outside > 0) {
    trace->warnings.push_back(absl::StrCat(outside,
                                           " flow mark(s) (FlowProduce/FlowConsume) made outside "
                                           "any recorded scope were dropped"));
  }
  if (extra > 0) {
    trace->warnings.push_back(absl::StrCat(
        extra, " flow mark(s) were dropped: their scope already produced or consumed another id"));
  }
  if (dropped > 0) {
    trace->warnings.push_back(
        absl::StrCat(dropped, " flow mark(s) dropped: more than ", kMaxMarks, " in the capture"));
  }
}

}  // namespace

}  // namespace tbprof::internal
