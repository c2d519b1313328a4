/* A library whose soname is libcuda.so.1, the CUDA driver's: loading it makes a process look
 * like one that uses CUDA, without a driver. Nothing else. */
int tbprof_fake_libcuda_marker(void) { return 1; }
