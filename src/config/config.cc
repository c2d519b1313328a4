#include "src/config/config.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "src/util/strings.h"

namespace tbprof::internal {
namespace {

std::string Bad(std::string_view var, std::string_view value, std::string_view accepted) {
  return absl::StrCat(AsAbsl(var), "='", AsAbsl(value), "' is not valid: ", AsAbsl(accepted));
}

bool ParseInt(std::string_view text, int64_t* out) {
  std::string s(absl::StripAsciiWhitespace(AsAbsl(text)));
  if (s.empty()) return false;
  return absl::SimpleAtoi(s, out);
}

std::string Lower(std::string_view v) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(AsAbsl(v)));
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

absl::Status ValidateRun(std::string_view what, std::string_view run) {
  constexpr std::string_view kAccepted =
      "expected a relative directory name such as 'train' or 'exp1/eval' (no leading '/', no "
      "'..', no empty component)";
  if (run.empty() || run.front() == '/' || run.back() == '/') {
    return absl::InvalidArgumentError(Bad(what, run, kAccepted));
  }
  for (absl::string_view part : absl::StrSplit(AsAbsl(run), '/')) {
    if (part.empty() || part == ".." || part == ".") {
      return absl::InvalidArgumentError(Bad(what, run, kAccepted));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHostLevel(std::string_view what, int64_t level) {
  if (level < 1 || level > 3) {
    return absl::InvalidArgumentError(
        Bad(what, std::to_string(level),
            "expected 1 (user annotations), 2 (also name scopes and tbprof's own spans) or 3 "
            "(verbose)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateMaxEvents(std::string_view what, int64_t max_events) {
  if (max_events < 1 || max_events > kMaxMaxEvents) {
    return absl::InvalidArgumentError(
        Bad(what, std::to_string(max_events),
            absl::StrCat("expected an integer from 1 to ", kMaxMaxEvents)));
  }
  return absl::OkStatus();
}

absl::Status ParseConfig(const EnvLookup& lookup, Config* config) {
  Config c;
  std::vector<std::string> errors;

  if (auto v = lookup("TBPROF")) {
    std::string s = Lower(*v);
    if (s == "1" || s == "true" || s == "on" || s == "yes") {
      c.enabled = true;
    } else if (s.empty() || s == "0" || s == "false" || s == "off" || s == "no") {
      c.enabled = false;
    } else {
      errors.push_back(Bad("TBPROF", *v, "expected 1 (trace) or 0 (do not trace)"));
    }
  }

  if (auto v = lookup("TBPROF_LOGDIR")) {
    if (absl::StripAsciiWhitespace(*v).empty()) {
      errors.push_back(Bad("TBPROF_LOGDIR", *v, "expected a directory path"));
    } else {
      c.logdir = *v;
    }
  }

  if (auto v = lookup("TBPROF_RUN")) {
    if (!v->empty()) {
      absl::Status s = ValidateRun("TBPROF_RUN", *v);
      if (s.ok()) {
        c.run = *v;
      } else {
        errors.push_back(std::string(s.message()));
      }
    }
  }

  if (auto v = lookup("TBPROF_STEPS")) {
    constexpr std::string_view kAccepted =
        "expected A:B with integers 0 <= A <= B (capture steps A to B), or A for one step";
    std::vector<std::string> parts = absl::StrSplit(*v, ':');
    int64_t a = 0, b = 0;
    bool ok = false;
    if (parts.size() == 1) {
      ok = ParseInt(parts[0], &a);
      b = a;
    } else if (parts.size() == 2) {
      ok = ParseInt(parts[0], &a) && ParseInt(parts[1], &b);
    }
    if (ok && a >= 0 && a <= b) {
      c.has_steps = true;
      c.steps_first = a;
      c.steps_last = b;
    } else {
      errors.push_back(Bad("TBPROF_STEPS", *v, kAccepted));
    }
  }

  if (auto v = lookup("TBPROF_HOST_LEVEL")) {
    int64_t level = 0;
    if (ParseInt(*v, &level) && level >= 1 && level <= 3) {
      c.host_level = static_cast<int>(level);
    } else {
      errors.push_back(Bad("TBPROF_HOST_LEVEL", *v,
                           "expected 1 (user annotations), 2 (also name scopes and tbprof's own "
                           "spans) or 3 (verbose)"));
    }
  }

  if (auto v = lookup("TBPROF_MAX_EVENTS")) {
    int64_t n = 0;
    if (ParseInt(*v, &n) && n >= 1 && n <= kMaxMaxEvents) {
      c.max_events = n;
    } else {
      errors.push_back(Bad("TBPROF_MAX_EVENTS", *v,
                           absl::StrCat("expected an integer from 1 to ", kMaxMaxEvents)));
    }
  }

  if (auto v = lookup("TBPROF_GPU")) {
    std::string s = Lower(*v);
    if (s == "auto") {
      c.gpu = GpuMode::kAuto;
    } else if (s == "off") {
      c.gpu = GpuMode::kOff;
    } else if (s == "on") {
      c.gpu = GpuMode::kOn;
    } else {
      errors.push_back(Bad("TBPROF_GPU", *v, "expected auto, off or on"));
    }
  }

  if (auto v = lookup("TBPROF_PORT")) {
    int64_t port = 0;
    std::string s = Lower(*v);
    if (s == "off" || s == "0") {
      c.port = 0;
    } else if (ParseInt(s, &port) && port >= 1 && port <= 65535) {
      c.port = static_cast<int>(port);
    } else {
      errors.push_back(Bad("TBPROF_PORT", *v, "expected a TCP port from 1 to 65535, or off"));
    }
  }

  c.ranks = ReadRankEnvironment(lookup, &errors);

  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  *config = c;
  return absl::OkStatus();
}

Config LoadConfig(const EnvLookup& lookup,
                  const std::function<void(std::string_view line)>& report) {
  Config config;
  absl::Status s = ParseConfig(lookup, &config);
  if (s.ok()) return config;
  for (absl::string_view line : absl::StrSplit(s.message(), '\n')) {
    if (report) {
      report(AsStd(line));
    } else {
      std::fprintf(stderr, "tbprof: %.*s; tracing stays off\n", static_cast<int>(line.size()),
                   line.data());
    }
  }
  return Config{};  // Tracing off.
}

namespace {
std::mutex g_config_mutex;
Config* g_config = nullptr;  // Never freed: read by annotations until the process ends.
}  // namespace

const Config& ProcessConfig() {
  std::lock_guard<std::mutex> lock(g_config_mutex);
  if (g_config == nullptr) g_config = new Config(LoadConfig(ProcessEnvironment()));
  return *g_config;
}

void SetProcessConfig(const Config& config) {
  std::lock_guard<std::mutex> lock(g_config_mutex);
  if (g_config == nullptr) {
    g_config = new Config(config);
  } else {
    *g_config = config;
  }
}

}  // namespace tbprof::internal
