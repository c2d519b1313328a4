// The NVTX tool: tbprof answers NVIDIA's NVTX v3 calls (ranges, marks, domains, registered
// strings, categories, thread names) by recording them in the host recorder, so that what a
// program's libraries already mark shows up in its traces.
//
// Two ways in, both through NVTX's own loader (nvtxDetail/nvtxInit.h in the CUDA toolkit):
//  - injection: `libtbprof_nvtx_inject.so` exports `InitializeInjectionNvtx2`; NVTX loads it
//    from NVTX_INJECTION64_PATH (set by `tbprof run`) at the program's first NVTX call. With
//    TBPROF=1 it captures the whole run and exports it at exit; nothing needs rebuilding.
//  - in process: a program linked with tbprof defines `InitializeInjectionNvtx2_fnptr`, the
//    symbol NVTX's loader checks when no variable names a library. With TBPROF=1 the NVTX calls
//    compiled into the program are recorded in the program's own captures (TraceOn, steps).
// Without TBPROF=1 the tool declines to attach: NVTX turns every call into its own no-op.
//
// What a call becomes:
//  - push/pop and start/end ranges: host events named by their message (" [category]" added
//    when the category has a name). Push/pop ranges nest on their thread's line; start/end
//    ranges (which may end on another thread and overlap) get lines of their own, named
//    "NVTX <domain> ranges".
//  - ranges of an op domain (TBPROF_NVTX_OP_DOMAINS): framework ops "name:Type" (message
//    "name:Type", or type = the category's name, else the domain's name), counted in Framework
//    Op Stats and the traced graph; GPU work launched inside a push/pop op range is attributed
//    to it as to an OpScope.
//  - marks: zero-length host events. Thread names: the trace viewer's line names.
// Dropped: payloads, colors, resource naming (CUDA/OpenCL objects), the sync module and the
// payload/counters extensions. Wide-character messages are converted to UTF-8.
#ifndef TBPROF_SRC_NVTX_NVTX_TOOL_H_
#define TBPROF_SRC_NVTX_NVTX_TOOL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/trace/trace_data.h"

namespace tbprof::internal::nvtx {

// NVTX's callback to fetch its export tables (NvtxGetExportTableFunc_t).
using GetExportTableFunc = const void* (*)(uint32_t export_table_id);

// Installs tbprof's handlers in NVTX's callback tables. Returns 1 when attached, 0 when declined
// (TBPROF not 1, or the tables are missing): NVTX then makes every call a no-op.
// `capture_whole_run`: the injection route, which also starts a capture now and exports it at
// exit (the program does not know tbprof) unless TBPROF_STEPS is set.
int InstallTool(GetExportTableFunc get_export_table, bool capture_whole_run);

// Adds what the NVTX tool kept outside the per-thread records of the capture being collected
// (start/end ranges, thread names, counts of misuse) to `trace`. Called after
// CollectHostTrace; records of other captures are dropped.
void CollectNvtx(Trace* trace);

// The op domains: parsed from TBPROF_NVTX_OP_DOMAINS (comma-separated names; "default" is the
// unnamed domain, "*" every domain, "" none). Exposed for tests.
struct OpDomains {
  std::vector<std::string> names;
  bool all = false;
  bool unnamed = false;
};
inline constexpr const char* kDefaultOpDomains = "tbprof.ops,TensorRT,NCCL";
// Parses a TBPROF_NVTX_OP_DOMAINS value; on an invalid value returns the defaults and sets
// `*error` to one line naming the problem.
OpDomains ParseOpDomains(std::string_view value, std::string* error);

// Splits an op range's message into (name, type): "name:Type" when the message ends in a
// ":Type" that is a TensorFlow op type ([A-Z_][A-Za-z0-9_]*, after a single colon), else
// (message, OpTypeFrom(fallback_type)).
// An op type xprof accepts ([A-Z_][A-Za-z0-9_]*) made from a domain or category name:
// "tbprof.ops" -> "Tbprof_ops", "" -> "NVTX".
std::string OpTypeFrom(std::string_view text);
void SplitOpMessage(std::string_view message, std::string_view fallback_type, std::string* name,
                    std::string* type);

}  // namespace tbprof::internal::nvtx

#endif  // TBPROF_SRC_NVTX_NVTX_TOOL_H_
