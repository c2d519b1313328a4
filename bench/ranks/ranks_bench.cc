// Cost of a multi-rank session as the number of ranks grows: writing every rank's profile into
// one shared session directory (encode + atomic write, what each rank does at export, here done
// one rank after another), and summarising the session (`tbprof summary --ranks`: read, reduce,
// align the clocks, compare). Each rank holds the same synthetic capture (20 steps, 50 ops and
// one allreduce per step), so the per-rank cost is constant and the totals show how the work
// grows with ranks. Run: build/bench/ranks/ranks_bench
#include <benchmark/benchmark.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "src/export/xplane_writer.h"
#include "src/ranks/rank_env.h"
#include "src/ranks/shared_session.h"
#include "src/util/file_util.h"
#include "tests/unit/ranks/synthetic_ranks.h"
#include "tools/rank_summary.h"

namespace {

using tbprof::internal::testing::RankCapture;
using tbprof::internal::testing::RankScenario;

RankScenario Scenario(int ranks) {
  RankScenario sc;
  sc.world_size = ranks;
  sc.steps = 20;
  sc.ops_per_step = 50;
  sc.slow_rank = ranks / 3;
  for (int r = 0; r < ranks; ++r) sc.clock_offset_ns.push_back((r % 7) * 1'000'000);
  return sc;
}

std::string BenchDir(const std::string& name) {
  std::string dir = std::filesystem::temp_directory_path() / ("tbprof_ranks_bench_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Writes every rank's file into one session directory; returns the paths.
std::vector<std::string> WriteSession(const std::string& root, const RankScenario& sc) {
  std::vector<std::string> files;
  for (int r = 0; r < sc.world_size; ++r) {
    tbprof::internal::Trace t = RankCapture(sc, r);
    const std::string stem = tbprof::internal::RankFileStem(t.hostname, r, sc.world_size);
    absl::StatusOr<std::string> dir = tbprof::internal::JoinSharedSessionDir(root, "job", stem);
    if (!dir.ok()) std::abort();
    files.push_back(tbprof::internal::JoinPath(*dir, stem + ".xplane.pb"));
    if (!tbprof::internal::WriteFileAtomically(files.back(), tbprof::internal::EncodeXSpace(t),
                                               true)
             .ok()) {
      std::abort();
    }
  }
  return files;
}

void BM_WriteSession(benchmark::State& state) {
  const RankScenario sc = Scenario(static_cast<int>(state.range(0)));
  const std::string root = BenchDir("write");
  int64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root);
    state.ResumeTiming();
    std::vector<std::string> files = WriteSession(root, sc);
    benchmark::DoNotOptimize(files);
    bytes = 0;
    for (const std::string& f : files) bytes += std::filesystem::file_size(f);
  }
  state.counters["ranks"] = static_cast<double>(sc.world_size);
  state.counters["session_MiB"] = static_cast<double>(bytes) / (1 << 20);
  state.counters["us_per_rank"] = benchmark::Counter(
      static_cast<double>(sc.world_size),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  std::filesystem::remove_all(root);
}

void BM_SummarizeSession(benchmark::State& state) {
  const RankScenario sc = Scenario(static_cast<int>(state.range(0)));
  const std::string root = BenchDir("summary");
  const std::vector<std::string> files = WriteSession(root, sc);
  for (auto _ : state) {
    std::ostringstream err;
    std::vector<std::string> skipped;
    tbprof::cli::RankReport report =
        tbprof::cli::SummarizeRankFiles(files, "Allreduce", err, false, &skipped);
    if (report.ranks.size() != files.size() || report.straggler < 0) std::abort();
    benchmark::DoNotOptimize(report);
  }
  state.counters["ranks"] = static_cast<double>(sc.world_size);
  state.counters["us_per_rank"] = benchmark::Counter(
      static_cast<double>(sc.world_size),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  std::filesystem::remove_all(root);
}

BENCHMARK(BM_WriteSession)->Arg(16)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SummarizeSession)->Arg(16)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
