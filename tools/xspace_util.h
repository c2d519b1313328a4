// Reading helpers over a decoded tensorflow.profiler.XSpace, shared by the `tbprof` commands:
// stats looked up by their metadata name (the identity TensorBoard's profile plugin matches
// on), framework-op name parsing and kernel_details parsing, with the same rules as the
// consumer (spec §3).
#ifndef TBPROF_TOOLS_XSPACE_UTIL_H_
#define TBPROF_TOOLS_XSPACE_UTIL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tensorflow/profiler/xplane.pb.h"

namespace tbprof::cli {

inline constexpr std::string_view kHostPlaneName = "/host:CPU";
inline constexpr std::string_view kGpuPlanePrefix = "/device:GPU:";
inline constexpr std::string_view kTaskEnvironmentPlaneName = "Task Environment";

// A framework op name "scope/name:Type" split in two.
struct FrameworkOp {
  std::string name;  // "dense_1/MatMul"
  std::string type;  // "MatMul"
};

// Parses a TensorFlow-style framework op name: the part before the first ':' matches
// [A-Za-z0-9.][A-Za-z0-9_./>-]* and the part after matches [A-Z_][A-Za-z0-9_]*.
// nullopt for anything else (plain scopes, kernels, "Iterator::...").
std::optional<FrameworkOp> ParseFrameworkOp(std::string_view full_name);

// The fields of a CUPTI-style kernel_details string
// "regs:R static_shared:S dynamic_shared:D grid:X,Y,Z block:X,Y,Z occ_pct:P".
struct KernelDetailsFields {
  int64_t registers = 0;
  int64_t static_shared = 0;
  int64_t dynamic_shared = 0;
  int64_t grid[3] = {0, 0, 0};
  int64_t block[3] = {0, 0, 0};
  double occupancy_pct = 0;
};

// Parses a kernel_details string. Returns a description of the first problem (unknown key,
// missing key, bad number) in `error` and nullopt when it does not follow the syntax.
std::optional<KernelDetailsFields> ParseKernelDetails(std::string_view text,
                                                      std::string* error = nullptr);

// True when `line_id` falls in the range of line ids the profile plugin reserves for the
// lines it derives itself (0xdeadbeef taken as a 32-bit int, and the slots above it); such
// lines are skipped by its op and kernel statistics.
bool IsDerivedLineId(int64_t line_id);

// Name lookups for one plane. Holds a reference to `plane`, which must outlive it.
class PlaneIndex {
 public:
  explicit PlaneIndex(const tensorflow::profiler::XPlane& plane);

  const tensorflow::profiler::XPlane& plane() const { return plane_; }

  // The event name ("" for an unknown metadata id).
  std::string_view EventName(int64_t metadata_id) const;
  // The stat name ("" for an unknown metadata id).
  std::string_view StatName(int64_t metadata_id) const;
  // The metadata id of the stat named `name`, or nullopt.
  std::optional<int64_t> StatId(std::string_view name) const;

  // The stat named `name` on `event`, else on its event metadata, else nullptr.
  const tensorflow::profiler::XStat* FindStat(const tensorflow::profiler::XEvent& event,
                                              std::string_view name) const;
  // A plane-level stat by name, or nullptr.
  const tensorflow::profiler::XStat* FindPlaneStat(std::string_view name) const;

  // The string of a str or ref stat ("" otherwise).
  std::string StatString(const tensorflow::profiler::XStat& stat) const;
  // The integer of an int64 or uint64 stat, or nullopt.
  static std::optional<int64_t> StatInt(const tensorflow::profiler::XStat& stat);

 private:
  const tensorflow::profiler::XPlane& plane_;
  std::map<std::string, int64_t, std::less<>> stat_ids_;
};

// a + b, clamped to the int64 range.
int64_t SaturatingAdd(int64_t a, int64_t b);

// An event's start in picoseconds, line.timestamp_ns * 1000 + offset_ps as the consumer
// computes it, clamped to the int64 range instead of overflowing.
int64_t EventStartPs(const tensorflow::profiler::XLine& line,
                     const tensorflow::profiler::XEvent& event);

// "/device:GPU:3" -> 3; nullopt for anything else.
std::optional<int64_t> GpuOrdinal(std::string_view plane_name);

// The <TYPE> of a step-stats device name that ends in "/device:<TYPE>:<N>" (TYPE without ':',
// N decimal digits), e.g. "/job:localhost/replica:0/task:0/device:GPU:0" -> "GPU"; nullopt
// when the name does not end that way. One backward scan: linear in the name, no recursion.
std::optional<std::string_view> StepStatsDeviceType(std::string_view device);

}  // namespace tbprof::cli

#endif  // TBPROF_TOOLS_XSPACE_UTIL_H_
