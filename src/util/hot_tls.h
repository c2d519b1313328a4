// TBPROF_HOT_TLS: the TLS model of the thread-local variables on the record paths (the
// recorder's per-thread buffer, the NVTX tool's state pointer).
//
// The library is compiled as PIC (the NVTX injection library is a shared object built from
// it), so thread-local variables default to the general-dynamic model: a __tls_get_addr call
// that makes each annotation entry point save registers and build a frame, even where the
// linker turns the call into a constant offset. The build chooses instead (TBPROF_TLS_MODEL,
// src/CMakeLists.txt):
//   - initial-exec (default): one %fs-relative load. The library's TLS then comes from the
//     static TLS block: nothing to do in a program, and in a library loaded with dlopen glibc
//     takes it from a reserve of 512 bytes (glibc.rtld.optional_static_tls), which tbprof's
//     TLS (under 300 bytes; the NVTX tool's 4.6 KiB per thread live on the heap) fits. When
//     other libraries have used that reserve, dlopen fails with "cannot allocate memory in
//     static TLS block": raise the tunable or build with TBPROF_TLS_MODEL=descriptors.
//   - descriptors: TLS descriptors (-mtls-dialect=gnu2 on these files): a descriptor call that
//     clobbers only its result register, no static TLS; about 2 ns more per recorded scope.
#ifndef TBPROF_SRC_UTIL_HOT_TLS_H_
#define TBPROF_SRC_UTIL_HOT_TLS_H_

#if defined(TBPROF_TLS_INITIAL_EXEC) && TBPROF_TLS_INITIAL_EXEC
#define TBPROF_HOT_TLS __attribute__((tls_model("initial-exec")))
#else
#define TBPROF_HOT_TLS
#endif

#endif  // TBPROF_SRC_UTIL_HOT_TLS_H_
