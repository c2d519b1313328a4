// Built when the NVTX3 headers (CUDA toolkit, include/nvtx3) are not found: no NVTX tool.
#include "src/nvtx/nvtx_tool.h"

namespace tbprof::internal::nvtx {

int InstallTool(GetExportTableFunc, bool) { return 0; }
void CollectNvtx(Trace*) {}

}  // namespace tbprof::internal::nvtx
