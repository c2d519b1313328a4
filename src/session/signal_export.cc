#include "src/session/signal_export.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>

namespace tbprof::internal {
namespace {

std::atomic<bool> g_active{false};
std::atomic<bool> g_writer_alive{false};
std::atomic<bool> g_handling{false};
std::atomic<bool> g_done{false};
std::atomic<int> g_signal{0};
int g_pipe[2] = {-1, -1};
std::atomic<void (*)(int)> g_write_capture{nullptr};
std::mutex g_install_mu;
bool g_handlers_installed = false;

void RaiseWithDefaultAction(int sig) {
  struct sigaction sa = {};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, nullptr);
  raise(sig);  // Pending until this handler returns (the signal is blocked meanwhile).
}

void Handler(int sig) {
  const int saved_errno = errno;
  if (g_active.load() && g_writer_alive.load() && !g_handling.exchange(true)) {
    g_signal.store(sig);
    const char byte = 1;
    if (write(g_pipe[1], &byte, 1) == 1) {
      for (int waited = 0; waited < kSignalWriteTimeoutMs && !g_done.load(); waited += 10) {
        timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, nullptr);
      }
    }
  }
  errno = saved_errno;
  RaiseWithDefaultAction(sig);
}

void WriterLoop() {
  for (;;) {
    char byte;
    ssize_t n = read(g_pipe[0], &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    if (void (*write_capture)(int) = g_write_capture.load()) write_capture(g_signal.load());
    g_done.store(true);
  }
}

void StartWriterLocked() {
  if (g_writer_alive.load()) return;
  if (g_pipe[0] < 0 && pipe2(g_pipe, O_CLOEXEC) != 0) return;
  std::thread(&WriterLoop).detach();
  g_writer_alive.store(true);
}

// In a forked child the writer thread does not exist: the next install starts one.
void ForkChild() {
  g_writer_alive.store(false);
  g_active.store(false);
  g_handling.store(false);
  g_done.store(false);
}

}  // namespace

void InstallCaptureSignalHandlers(void (*write_capture)(int sig)) {
  std::lock_guard<std::mutex> lock(g_install_mu);
  g_write_capture.store(write_capture);
  if (!g_handlers_installed) {
    g_handlers_installed = true;
    pthread_atfork(nullptr, nullptr, &ForkChild);
    for (int sig : {SIGINT, SIGTERM}) {
      struct sigaction old = {};
      if (sigaction(sig, nullptr, &old) != 0) continue;
      if ((old.sa_flags & SA_SIGINFO) != 0 || old.sa_handler != SIG_DFL) continue;
      struct sigaction sa = {};
      sa.sa_handler = &Handler;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_RESTART;
      sigaction(sig, &sa, nullptr);
    }
  }
  StartWriterLocked();
}

void SetCaptureActiveForSignals(bool active) { g_active.store(active); }

}  // namespace tbprof::internal
