// Memory soak: runs one pattern of a long-running program under a capture and samples the
// process's resident memory (RSS), to show that a capture's memory stays within its budget
// (TBPROF_MAX_EVENTS) whatever the program does, and is given back after the export.
//
//   soak PATTERN [SECONDS] [MAX_EVENTS]
//
// PATTERN:
//   long_threads        8 threads recording scopes, name scopes and ops for the whole run
//   thread_per_request  a new thread per request (4 at a time), each records a few scopes
//   unique_names        4 threads, every op and name scope has a new name ("req_<n>")
//   capture_cycles      the two above together, with a capture of 1 s started and exported
//                       every 2 s
// The capture starts at 0 s and is exported at the end (capture_cycles: every cycle); a
// sample line is printed every SECONDS/10 and a summary line at the end:
//   soak PATTERN: rss start X MB, at 25% Y MB, max Z MB, end of capture W MB, after export V MB
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tbprof/annotate.h"
#include "tbprof/trace.h"

namespace {

using Clock = std::chrono::steady_clock;

double RssMb() {
  std::ifstream in("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  in >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) /
         (1024.0 * 1024.0);
}

std::atomic<bool> g_stop{false};
std::atomic<int64_t> g_requests{0};

void Request(int64_t id, bool unique) {
  tbprof::NameScope scope(unique ? "req_" + std::to_string(id) : std::string("request"));
  for (int k = 0; k < 4; ++k) {
    TBPROF_SCOPE("work");
  }
  if (unique) {
    tbprof::OpScope op("handler_" + std::to_string(id), "Handler");
  } else {
    tbprof::OpScope op("handler", "Handler");
  }
  g_requests.fetch_add(1, std::memory_order_relaxed);
}

void LongThread(bool unique) {
  for (int64_t i = 0; !g_stop.load(std::memory_order_relaxed); ++i) Request(i, unique);
}

void ThreadPerRequest(bool unique) {
  for (int64_t i = 0; !g_stop.load(std::memory_order_relaxed); i += 4) {
    std::thread batch[4];
    for (int k = 0; k < 4; ++k) batch[k] = std::thread([i, k, unique] { Request(i + k, unique); });
    for (std::thread& t : batch) t.join();
  }
}

absl::Status On(int64_t max_events, const std::string& logdir) {
  tbprof::TraceOptions options;
  options.force = true;
  options.logdir = logdir;
  options.gpu = tbprof::GpuMode::kOff;
  options.max_events = max_events;
  return tbprof::TraceOn(options);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: soak PATTERN [SECONDS] [MAX_EVENTS]\n");
    return 2;
  }
  const std::string pattern = argv[1];
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 60;
  const int64_t max_events = argc > 3 ? std::atoll(argv[3]) : 200000;
  if (seconds < 1 || max_events < 1) return 2;
  const std::string logdir = "/tmp/tbprof_soak_" + std::to_string(getpid());
  const bool cycles = pattern == "capture_cycles";

  const double rss_start = RssMb();
  if (absl::Status s = On(max_events, logdir); !s.ok()) {
    std::fprintf(stderr, "soak: %s\n", s.ToString().c_str());
    return 1;
  }
  std::vector<std::thread> workers;
  if (pattern == "long_threads") {
    for (int i = 0; i < 8; ++i) workers.emplace_back(LongThread, false);
  } else if (pattern == "thread_per_request") {
    workers.emplace_back(ThreadPerRequest, false);
  } else if (pattern == "unique_names") {
    for (int i = 0; i < 4; ++i) workers.emplace_back(LongThread, true);
  } else if (cycles) {
    workers.emplace_back(ThreadPerRequest, true);
    workers.emplace_back(LongThread, true);
  } else {
    std::fprintf(stderr, "soak: unknown pattern %s\n", pattern.c_str());
    return 2;
  }

  const auto t0 = Clock::now();
  const auto sample = std::chrono::milliseconds(seconds * 100);
  double rss_quarter = 0, rss_max = 0;
  int exports = 0;
  bool on = true;
  for (int n = 1; n <= 10; ++n) {
    const auto until = t0 + n * sample;
    while (Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (cycles) {
        const int64_t ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
        const bool want_on = (ms / 1000) % 2 == 0;
        if (want_on && !on) on = On(max_events, logdir).ok();
        if (!want_on && on) {
          exports += tbprof::TraceExport("cycle", exports).ok() ? 1 : 0;
          on = false;
        }
      }
      rss_max = std::max(rss_max, RssMb());
    }
    const double rss = RssMb();
    if (n == 3) rss_quarter = rss;  // about 25% of the run (sampled at 30%)
    std::printf("t=%5.1fs rss=%8.1f MB requests=%lld\n",
                std::chrono::duration<double>(Clock::now() - t0).count(), rss,
                static_cast<long long>(g_requests.load()));
    std::fflush(stdout);
  }
  g_stop = true;
  for (std::thread& t : workers) t.join();
  const double rss_end = RssMb();
  if (on) exports += tbprof::TraceExport(pattern, 0).ok() ? 1 : 0;
  const double rss_after = RssMb();
  std::optional<tbprof::ExportInfo> info = tbprof::LastExportInfo();
  std::printf(
      "soak %s: %d s, max_events %lld, %lld requests, %d export(s), last: %lld events kept, "
      "%lld dropped\n",
      pattern.c_str(), seconds, static_cast<long long>(max_events),
      static_cast<long long>(g_requests.load()), exports,
      info ? static_cast<long long>(info->host_events) : -1LL,
      info ? static_cast<long long>(info->dropped_events) : -1LL);
  std::printf(
      "soak %s: rss start %.1f MB, at 30%% %.1f MB, max %.1f MB, end of capture %.1f MB, after "
      "export %.1f MB\n",
      pattern.c_str(), rss_start, rss_quarter, rss_max, rss_end, rss_after);
  std::string cmd = "rm -rf '" + logdir + "'";
  return std::system(cmd.c_str()) == 0 ? 0 : 1;
}
