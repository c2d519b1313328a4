// Options of an in-process Session for the tests that drive one (host only, no GPU, the logdir
// in gtest's temporary directory).
#ifndef TBPROF_TESTS_UNIT_SESSION_TEST_SESSION_OPTIONS_H_
#define TBPROF_TESTS_UNIT_SESSION_TEST_SESSION_OPTIONS_H_

#include <cstdint>

#include "gtest/gtest.h"
#include "src/session/session.h"

namespace tbprof::internal {

inline SessionOptions HostOnlySessionOptions(int host_level, int64_t max_events) {
  SessionOptions o;
  o.logdir = ::testing::TempDir();
  o.gpu = GpuMode::kOff;
  o.host_level = host_level;
  o.max_events = max_events;
  return o;
}

}  // namespace tbprof::internal

#endif  // TBPROF_TESTS_UNIT_SESSION_TEST_SESSION_OPTIONS_H_
