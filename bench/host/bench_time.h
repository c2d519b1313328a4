// Clocks of the host benchmarks: wall time and the calling thread's own CPU time (user +
// system, so page faults count, time spent preempted does not), in nanoseconds.
#ifndef TBPROF_BENCH_HOST_BENCH_TIME_H_
#define TBPROF_BENCH_HOST_BENCH_TIME_H_

#include <time.h>

#include <chrono>
#include <cstdint>

namespace tbprof_bench {

inline int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline int64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace tbprof_bench

#endif  // TBPROF_BENCH_HOST_BENCH_TIME_H_
