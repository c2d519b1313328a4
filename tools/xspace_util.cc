#include "tools/xspace_util.h"

#include <cctype>
#include <cstdlib>
#include <limits>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/util/strings.h"

namespace tbprof::cli {
namespace {

using internal::AsAbsl;
using tensorflow::profiler::XEvent;
using tensorflow::profiler::XPlane;
using tensorflow::profiler::XStat;

bool IsOpNameChar(char c, bool first) {
  if (std::isalnum(static_cast<unsigned char>(c)) || c == '.') return true;
  if (first) return false;
  return c == '_' || c == '/' || c == '>' || c == '-';
}

bool IsOpTypeChar(char c, bool first) {
  if (first) return std::isupper(static_cast<unsigned char>(c)) || c == '_';
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

std::vector<std::string_view> SplitOn(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t pos = s.find(sep);
    parts.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) break;
    s.remove_prefix(pos + 1);
  }
  return parts;
}

bool ParseInt(std::string_view s, int64_t* out) {
  return !s.empty() && absl::SimpleAtoi(AsAbsl(s), out) && *out >= 0;
}

bool ParseTriple(std::string_view s, int64_t out[3]) {
  std::vector<std::string_view> parts = SplitOn(s, ',');
  if (parts.size() != 3) return false;
  for (int i = 0; i < 3; ++i) {
    if (!ParseInt(parts[i], &out[i])) return false;
  }
  return true;
}

}  // namespace

std::optional<FrameworkOp> ParseFrameworkOp(std::string_view full_name) {
  size_t colon = full_name.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= full_name.size()) {
    return std::nullopt;
  }
  std::string_view name = full_name.substr(0, colon);
  std::string_view type = full_name.substr(colon + 1);
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsOpNameChar(name[i], i == 0)) return std::nullopt;
  }
  for (size_t i = 0; i < type.size(); ++i) {
    if (!IsOpTypeChar(type[i], i == 0)) return std::nullopt;
  }
  return FrameworkOp{std::string(name), std::string(type)};
}

std::optional<KernelDetailsFields> ParseKernelDetails(std::string_view text, std::string* error) {
  auto fail = [error](std::string message) -> std::optional<KernelDetailsFields> {
    if (error != nullptr) *error = std::move(message);
    return std::nullopt;
  };
  static constexpr std::string_view kKeys[] = {"regs", "static_shared", "dynamic_shared",
                                               "grid", "block",         "occ_pct"};
  KernelDetailsFields fields;
  bool seen[6] = {false, false, false, false, false, false};
  for (std::string_view item : SplitOn(text, ' ')) {
    if (item.empty()) return fail("empty item (doubled or trailing space)");
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return fail(absl::StrCat("item \"", AsAbsl(item), "\" is not key:value"));
    }
    std::string_view key = item.substr(0, colon);
    std::string_view value = item.substr(colon + 1);
    int index = -1;
    for (int i = 0; i < 6; ++i) {
      if (kKeys[i] == key) index = i;
    }
    if (index < 0) return fail(absl::StrCat("unknown key \"", AsAbsl(key), "\""));
    if (seen[index]) return fail(absl::StrCat("key \"", AsAbsl(key), "\" appears twice"));
    seen[index] = true;
    bool ok = true;
    switch (index) {
      case 0:
        ok = ParseInt(value, &fields.registers);
        break;
      case 1:
        ok = ParseInt(value, &fields.static_shared);
        break;
      case 2:
        ok = ParseInt(value, &fields.dynamic_shared);
        break;
      case 3:
        ok = ParseTriple(value, fields.grid);
        break;
      case 4:
        ok = ParseTriple(value, fields.block);
        break;
      case 5:
        ok = !value.empty() && absl::SimpleAtod(AsAbsl(value), &fields.occupancy_pct) &&
             fields.occupancy_pct >= 0 && fields.occupancy_pct <= 100;
        break;
    }
    if (!ok) {
      return fail(absl::StrCat("bad value \"", AsAbsl(value), "\" for key \"", AsAbsl(key), "\""));
    }
  }
  for (int i = 0; i < 6; ++i) {
    if (!seen[i]) return fail(absl::StrCat("missing key \"", AsAbsl(kKeys[i]), "\""));
  }
  return fields;
}

bool IsDerivedLineId(int64_t line_id) {
  // The plugin stores ids in an `int`: 0xdeadbeef is -559038737, and it truncates int64 ids.
  constexpr int64_t kDerivedMin = static_cast<int32_t>(0xdeadbeefu);
  // Fixed derived lines, host regions and per-stream device groups stay well under 1024 slots.
  constexpr int64_t kDerivedMax = kDerivedMin + 1024;
  const int64_t truncated = static_cast<int32_t>(static_cast<uint64_t>(line_id) & 0xffffffffu);
  return truncated >= kDerivedMin && truncated <= kDerivedMax;
}

PlaneIndex::PlaneIndex(const XPlane& plane) : plane_(plane) {
  for (const auto& [id, metadata] : plane.stat_metadata()) {
    stat_ids_.emplace(metadata.name(), id);  // First wins, like the consumer.
  }
}

std::string_view PlaneIndex::EventName(int64_t metadata_id) const {
  auto it = plane_.event_metadata().find(metadata_id);
  return it == plane_.event_metadata().end() ? std::string_view() : it->second.name();
}

std::string_view PlaneIndex::StatName(int64_t metadata_id) const {
  auto it = plane_.stat_metadata().find(metadata_id);
  return it == plane_.stat_metadata().end() ? std::string_view() : it->second.name();
}

std::optional<int64_t> PlaneIndex::StatId(std::string_view name) const {
  auto it = stat_ids_.find(name);
  if (it == stat_ids_.end()) return std::nullopt;
  return it->second;
}

const XStat* PlaneIndex::FindStat(const XEvent& event, std::string_view name) const {
  std::optional<int64_t> id = StatId(name);
  if (!id) return nullptr;
  for (const XStat& stat : event.stats()) {
    if (stat.metadata_id() == *id) return &stat;
  }
  auto it = plane_.event_metadata().find(event.metadata_id());
  if (it != plane_.event_metadata().end()) {
    for (const XStat& stat : it->second.stats()) {
      if (stat.metadata_id() == *id) return &stat;
    }
  }
  return nullptr;
}

const XStat* PlaneIndex::FindPlaneStat(std::string_view name) const {
  std::optional<int64_t> id = StatId(name);
  if (!id) return nullptr;
  for (const XStat& stat : plane_.stats()) {
    if (stat.metadata_id() == *id) return &stat;
  }
  return nullptr;
}

std::string PlaneIndex::StatString(const XStat& stat) const {
  if (stat.value_case() == XStat::kStrValue) return stat.str_value();
  if (stat.value_case() == XStat::kRefValue) {
    return std::string(StatName(static_cast<int64_t>(stat.ref_value())));
  }
  return "";
}

std::optional<int64_t> PlaneIndex::StatInt(const XStat& stat) {
  if (stat.value_case() == XStat::kInt64Value) return stat.int64_value();
  if (stat.value_case() == XStat::kUint64Value) return static_cast<int64_t>(stat.uint64_value());
  return std::nullopt;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

int64_t EventStartPs(const tensorflow::profiler::XLine& line,
                     const tensorflow::profiler::XEvent& event) {
  int64_t ps;
  if (__builtin_mul_overflow(line.timestamp_ns(), int64_t{1000}, &ps)) {
    ps = line.timestamp_ns() > 0 ? std::numeric_limits<int64_t>::max()
                                 : std::numeric_limits<int64_t>::min();
  }
  return SaturatingAdd(ps, event.offset_ps());
}

std::optional<int64_t> GpuOrdinal(std::string_view plane_name) {
  if (plane_name.substr(0, kGpuPlanePrefix.size()) != kGpuPlanePrefix) return std::nullopt;
  std::string_view digits = plane_name.substr(kGpuPlanePrefix.size());
  if (digits.empty() || digits.size() > 6) return std::nullopt;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  return std::atoll(std::string(digits).c_str());
}

std::optional<std::string_view> StepStatsDeviceType(std::string_view device) {
  constexpr std::string_view kPrefix = "/device:";
  size_t digits = device.size();
  while (digits > 0 && device[digits - 1] >= '0' && device[digits - 1] <= '9') --digits;
  if (digits == device.size() || digits == 0 || device[digits - 1] != ':') return std::nullopt;
  const size_t type_end = digits - 1;
  const size_t colon = device.rfind(':', type_end == 0 ? 0 : type_end - 1);
  if (colon == std::string_view::npos || colon + 1 >= type_end) return std::nullopt;
  if (colon + 1 < kPrefix.size() ||
      device.substr(colon + 1 - kPrefix.size(), kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  return device.substr(colon + 1, type_end - colon - 1);
}

}  // namespace tbprof::cli
