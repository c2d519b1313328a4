// The TBPROF_* environment, parsed once into a typed, validated Config (DESIGN.md,
// "Environment"). A bad value never stops the program: it yields one stderr line naming the
// variable, the value and what is accepted, and tracing stays off.
#ifndef TBPROF_SRC_CONFIG_CONFIG_H_
#define TBPROF_SRC_CONFIG_CONFIG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "src/ranks/rank_env.h"
#include "tbprof/trace.h"

namespace tbprof::internal {

// Default TBPROF_MAX_EVENTS: 16 bytes per recorded scope, about 256 MiB.
inline constexpr int64_t kDefaultMaxEvents = int64_t{1} << 24;
// Largest TBPROF_MAX_EVENTS accepted (16 TiB of records would not fit any machine anyway).
inline constexpr int64_t kMaxMaxEvents = int64_t{1} << 40;

struct Config {
  bool enabled = false;                    // TBPROF=1
  std::string logdir = "tbprof_logs";      // TBPROF_LOGDIR
  std::string run;                         // TBPROF_RUN ("" = none)
  bool has_steps = false;                  // TBPROF_STEPS given
  int64_t steps_first = 0;                 // TBPROF_STEPS=A:B -> A
  int64_t steps_last = 0;                  //                  -> B
  int host_level = 2;                      // TBPROF_HOST_LEVEL
  int64_t max_events = kDefaultMaxEvents;  // TBPROF_MAX_EVENTS
  GpuMode gpu = GpuMode::kAuto;            // TBPROF_GPU
  int port = 0;                            // TBPROF_PORT (0 = off); parsed and validated only
  RankJob ranks;  // Launcher variables, TBPROF_RANK, TBPROF_WORLD_SIZE, TBPROF_SESSION
};

// Looks up one environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
EnvLookup ProcessEnvironment();

// Parses every TBPROF_* variable. Returns the config, or InvalidArgument whose message is one
// line per bad variable: "TBPROF_STEPS='7' is not valid: expected A:B ...". Pure.
absl::Status ParseConfig(const EnvLookup& lookup, Config* config);

// ParseConfig, and on error: each message line goes to `report` (default: stderr, prefixed
// "tbprof: " and suffixed "; tracing stays off") and the returned config is the default one
// with tracing off.
Config LoadConfig(const EnvLookup& lookup,
                  const std::function<void(std::string_view line)>& report = nullptr);

// Validators shared with TraceOptions (same rules as the variables); each returns
// InvalidArgument naming `what`.
absl::Status ValidateRun(std::string_view what, std::string_view run);
absl::Status ValidateHostLevel(std::string_view what, int64_t level);
absl::Status ValidateMaxEvents(std::string_view what, int64_t max_events);

// The process-wide config, read from the environment on first use (thread-safe) unless
// SetProcessConfig ran first.
const Config& ProcessConfig();

// Replaces the process-wide config (tools that take their settings from flags, tests). Must not
// race with a capture being started. The recorder applies it through
// tbprof::internal::ApplyProcessConfig() (src/host/recorder.h).
void SetProcessConfig(const Config& config);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_CONFIG_CONFIG_H_
