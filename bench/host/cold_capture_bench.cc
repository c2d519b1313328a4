// Cost of a scope in a process's first capture (cold) beside a second capture of the same
// size (warm) and the floor (two raw TSC reads), as a user pays it: each measurement runs in a
// fresh process (fork + exec of this program with --child), through the public API only
// (tbprof/tbprof.h: TraceOn with force, TBPROF_SCOPE, TraceOff), tens of millions of scopes.
//
//   build/bench/host/cold_capture_bench --benchmark_repetitions=3 \
//       --benchmark_report_aggregates_only
//   build/bench/host/cold_capture_bench --scopes=40000000    # a longer capture
//
// Counters (ns per scope, one scope = begin + end; each a mean over the child's rounds):
//   ns_floor            two raw TSC reads around the same loop body
//   ns_cold             tbprof, first capture of the process
//   ns_warm             tbprof, second capture of the same size in the same process
//   ns_cold_worst_round the slowest round of the cold capture
//   cold_over_floor     ns_cold - ns_floor (goal <= 3)
//   ratio_cold_vs_warm  ns_cold / ns_warm (goal ~1)
//   faults_per_mib_cold minor page faults taken by the recording thread itself during the
//                       cold capture, per MiB of records (16 pages per 64 KiB block = 256
//                       when it touches fresh memory; the goal is ~0)
//   cpu_*               the same, timed by the recording thread's own CPU time
//                       (CLOCK_THREAD_CPUTIME_ID: user + system, so page faults count, but
//                       time the thread spends preempted does not). On a shared or loaded
//                       machine the wall-clock columns measure the neighbours; these do not.
// The child alternates floor rounds with capture rounds so that both see the same machine.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/host/bench_time.h"
#include "tbprof/tbprof.h"

namespace {

int64_t g_scopes = 20000000;  // Scopes per capture.
int g_rounds = 20;            // Timed rounds per capture.
const char* g_self = nullptr;

inline void Barrier() { asm volatile("" ::: "memory"); }

using tbprof_bench::ThreadCpuNs;
using tbprof_bench::WallNs;

__attribute__((noinline)) void ScopeLoop(int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    TBPROF_SCOPE("cold_scope");
    Barrier();
  }
}

__attribute__((noinline)) void FloorLoop(int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint64_t a = __rdtsc();
    benchmark::DoNotOptimize(a);
    Barrier();
    uint64_t b = __rdtsc();
    benchmark::DoNotOptimize(b);
  }
}

int64_t MinorFaults() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);  // The recording thread's own faults.
  return u.ru_minflt;
}

struct CaptureResult {
  double mean_ns = 0;
  double worst_ns = 0;
  double floor_ns = 0;
  double cpu_mean_ns = 0;
  double cpu_floor_ns = 0;
  int64_t faults = 0;
};

// One capture of g_scopes scopes in g_rounds rounds, each followed by a floor round of the
// same length (floor rounds are not part of the capture's time).
bool Capture(CaptureResult* out) {
  tbprof::TraceOptions o;
  o.force = true;
  o.graph = false;
  o.gpu = tbprof::GpuMode::kOff;
  o.max_events = g_scopes + 1000;
  o.logdir = "/tmp/tbprof_cold_capture_bench_unused";
  const int64_t per_round = g_scopes / g_rounds;
  const int64_t faults0 = MinorFaults();
  if (absl::Status s = tbprof::TraceOn(o); !s.ok()) {
    std::fprintf(stderr, "TraceOn: %s\n", s.ToString().c_str());
    return false;
  }
  double total = 0, floor_total = 0, cpu_total = 0, cpu_floor_total = 0;
  const double n = static_cast<double>(per_round);
  for (int r = 0; r < g_rounds; ++r) {
    int64_t c0 = ThreadCpuNs();
    int64_t t0 = WallNs();
    ScopeLoop(per_round);
    int64_t t1 = WallNs();
    int64_t c1 = ThreadCpuNs();
    const double ns = static_cast<double>(t1 - t0) / n;
    total += ns;
    cpu_total += static_cast<double>(c1 - c0) / n;
    out->worst_ns = std::max(out->worst_ns, ns);
    c0 = ThreadCpuNs();
    t0 = WallNs();
    FloorLoop(per_round);
    t1 = WallNs();
    c1 = ThreadCpuNs();
    floor_total += static_cast<double>(t1 - t0) / n;
    cpu_floor_total += static_cast<double>(c1 - c0) / n;
  }
  out->faults = MinorFaults() - faults0;
  (void)tbprof::TraceOff();
  out->mean_ns = total / g_rounds;
  out->floor_ns = floor_total / g_rounds;
  out->cpu_mean_ns = cpu_total / g_rounds;
  out->cpu_floor_ns = cpu_floor_total / g_rounds;
  return true;
}

int Child() {
  CaptureResult cold, warm;
  if (!Capture(&cold) || !Capture(&warm)) return 1;
  std::printf("%.4f %.4f %.4f %.4f %lld %.4f %.4f %.4f\n", (cold.floor_ns + warm.floor_ns) / 2,
              cold.mean_ns, warm.mean_ns, cold.worst_ns, static_cast<long long>(cold.faults),
              (cold.cpu_floor_ns + warm.cpu_floor_ns) / 2, cold.cpu_mean_ns, warm.cpu_mean_ns);
  return 0;
}

// Runs one fresh child and parses its line.
constexpr int kValues = 8;

bool RunChild(double v[kValues]) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  const std::string scopes = std::to_string(g_scopes);
  const std::string rounds = std::to_string(g_rounds);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    unsetenv("TBPROF");
    execl(g_self, g_self, "--child", scopes.c_str(), rounds.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string text;
  char buf[256];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return false;
  long long faults = 0;
  if (std::sscanf(text.c_str(), "%lf %lf %lf %lf %lld %lf %lf %lf", &v[0], &v[1], &v[2], &v[3],
                  &faults, &v[5], &v[6], &v[7]) != kValues) {
    return false;
  }
  v[4] = static_cast<double>(faults);
  return true;
}

void BM_ColdCapture(benchmark::State& state) {
  double sum[kValues] = {};
  int runs = 0;
  for (auto _ : state) {
    double v[kValues];
    if (!RunChild(v)) {
      state.SkipWithError("the child process failed");
      return;
    }
    for (int i = 0; i < kValues; ++i) sum[i] += v[i];
    ++runs;
  }
  const double floor = sum[0] / runs, cold = sum[1] / runs, warm = sum[2] / runs;
  state.counters["ns_floor"] = floor;
  state.counters["ns_cold"] = cold;
  state.counters["ns_warm"] = warm;
  state.counters["ns_cold_worst_round"] = sum[3] / runs;
  state.counters["cold_over_floor"] = cold - floor;
  state.counters["warm_over_floor"] = warm - floor;
  state.counters["ratio_cold_vs_warm"] = cold / warm;
  state.counters["faults_per_mib_cold"] =
      (sum[4] / runs) / (static_cast<double>(g_scopes) * 16 / (1 << 20));
  const double cpu_floor = sum[5] / runs, cpu_cold = sum[6] / runs, cpu_warm = sum[7] / runs;
  state.counters["cpu_ns_floor"] = cpu_floor;
  state.counters["cpu_ns_cold"] = cpu_cold;
  state.counters["cpu_ns_warm"] = cpu_warm;
  state.counters["cpu_cold_over_floor"] = cpu_cold - cpu_floor;
  state.counters["cpu_warm_over_floor"] = cpu_warm - cpu_floor;
  state.counters["cpu_ratio_cold_vs_warm"] = cpu_cold / cpu_warm;
  state.counters["scopes"] = static_cast<double>(g_scopes);
}
BENCHMARK(BM_ColdCapture)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--child") == 0) {
    g_scopes = std::atoll(argv[2]);
    g_rounds = std::atoi(argv[3]);
    return Child();
  }
  g_self = "/proc/self/exe";
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--scopes=", 9) == 0) {
      g_scopes = std::atoll(argv[i] + 9);
    } else if (std::strncmp(argv[i], "--rounds=", 9) == 0) {
      g_rounds = std::atoi(argv[i] + 9);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (g_scopes < 1000 || g_rounds < 1) {
    std::fprintf(stderr, "cold_capture_bench: --scopes >= 1000 and --rounds >= 1 expected\n");
    return 2;
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
