// Directories for the session tests: a fresh one per test and process, and a sorted listing.
#ifndef TBPROF_TESTS_UNIT_SESSION_TEST_DIRS_H_
#define TBPROF_TESTS_UNIT_SESSION_TEST_DIRS_H_

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "src/util/file_util.h"

namespace tbprof::internal::test_dirs {

// An empty directory <TBPROF_TEST_TMPDIR or fallback_root>/<leaf>_<pid>, emptied if it existed.
inline std::string FreshTestDir(const std::string& fallback_root, const std::string& leaf) {
  const char* base = std::getenv("TBPROF_TEST_TMPDIR");
  std::string root = base != nullptr ? base : fallback_root;
  std::string dir = JoinPath(root, leaf + "_" + std::to_string(getpid()));
  std::string cmd = "rm -rf '" + dir + "'";
  (void)std::system(cmd.c_str());
  EXPECT_TRUE(MakeDirs(dir).ok());
  return dir;
}

// The entries of `dir` but "." and "..", sorted; empty when it cannot be read.
inline std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tbprof::internal::test_dirs

#endif  // TBPROF_TESTS_UNIT_SESSION_TEST_DIRS_H_
