// libtbprof_nvtx_inject.so: the NVTX injection library. NVTX loads it from
// NVTX_INJECTION64_PATH at a program's first NVTX call (`tbprof run` sets the variable) and
// calls InitializeInjectionNvtx2; with TBPROF=1 tbprof records the program's NVTX ranges and
// writes them at exit. The library carries its own copy of tbprof and exports nothing else.
#include <cstdint>

#include "src/nvtx/nvtx_tool.h"

extern "C" __attribute__((visibility("default"))) int InitializeInjectionNvtx2(
    const void* (*get_export_table)(uint32_t)) {
  return tbprof::internal::nvtx::InstallTool(get_export_table, /*capture_whole_run=*/true);
}
