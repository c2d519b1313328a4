// A libFuzzer program for one entry point of fuzz_targets.h, chosen at build time by
// TBPROF_FUZZ_TARGET (a function name such as FuzzEventFile).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tbprof::fuzz::TBPROF_FUZZ_TARGET(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
