// A program that captures until a signal ends it: used by session_test to check what SIGINT
// and SIGTERM do to a running capture. Usage: signal_child LOGDIR (prints "ready" once it
// records).
#include <unistd.h>

#include <cstdio>

#include "tbprof/annotate.h"
#include "tbprof/trace.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  tbprof::TraceOptions options;
  options.force = true;
  options.logdir = argv[1];
  options.gpu = tbprof::GpuMode::kOff;
  if (absl::Status s = tbprof::TraceOn(options); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 3;
  }
  for (int i = 0;; ++i) {
    {
      tbprof::StepScope step(i);
      TBPROF_SCOPE("work");
    }
    if (i == 100) {
      std::fputs("ready\n", stdout);
      std::fflush(stdout);
    }
    usleep(100);
  }
}
