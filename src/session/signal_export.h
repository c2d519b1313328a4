// Writing a capture when SIGINT or SIGTERM ends the program (as Nsight Systems does): where the
// program left a signal's default action (termination) in place, tbprof's handler wakes a
// writer thread, waits for it (at most kSignalWriteTimeoutMs), then restores the default
// action and raises the signal again, so the program still ends as the signal says (exit
// status, core dump rules). Signals the program handles or ignores are left alone. The
// handler only stores to atomics, writes one byte to a pipe, sleeps and calls
// sigaction/raise: all async-signal-safe. TBPROF_SIGNALS=0 turns it off.
#ifndef TBPROF_SRC_SESSION_SIGNAL_EXPORT_H_
#define TBPROF_SRC_SESSION_SIGNAL_EXPORT_H_

namespace tbprof::internal {

// Longest time the handler waits for the capture to be written before the program ends.
inline constexpr int kSignalWriteTimeoutMs = 10000;

// Installs the handlers (SIGINT and SIGTERM whose disposition is the default) and starts the
// writer thread, once per process (again in a forked child). `write_capture(sig)` runs on the
// writer thread when a handled signal arrives while a capture is marked active; it must write
// or drop the capture and say which in one line. Thread-safe.
void InstallCaptureSignalHandlers(void (*write_capture)(int sig));

// Marks whether a capture is running (the handler does nothing otherwise but end the program).
void SetCaptureActiveForSignals(bool active);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_SESSION_SIGNAL_EXPORT_H_
