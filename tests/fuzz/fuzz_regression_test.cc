// Replays the fuzzing corpus through the fuzz entry points in the ordinary (and the sanitizer)
// test build: the seeds (real tbprof outputs, tests/fuzz/corpus/<target>/) and every input the
// fuzzers ever found crashing (tests/fuzz/regressions/<target>/). Each must run to its end.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/fuzz/fuzz_targets.h"

namespace tbprof::fuzz {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs every file of <TBPROF_FUZZ_DIR>/<kind>/<target>/ through the target; returns how many.
int Replay(const std::string& kind) {
  int inputs = 0;
  for (const FuzzTarget& target : FuzzTargets()) {
    const fs::path dir = fs::path(TBPROF_FUZZ_DIR) / kind / target.name;
    if (!fs::is_directory(dir)) continue;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
      if (!entry.is_regular_file() || entry.path().filename().string()[0] == '.') continue;
      SCOPED_TRACE(entry.path().string());
      target.run(Read(entry.path()));
      ++inputs;
    }
  }
  return inputs;
}

TEST(FuzzRegressionTest, SeedCorpusRuns) { EXPECT_GT(Replay("corpus"), 0); }

TEST(FuzzRegressionTest, EveryInputThatEverCrashedRuns) { EXPECT_GT(Replay("regressions"), 0); }

}  // namespace
}  // namespace tbprof::fuzz
