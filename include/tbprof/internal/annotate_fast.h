// Inline fast path of the annotations in tbprof/annotate.h. Not part of the public API: names
// here may change between versions. Everything that runs while tracing is off lives in this
// file: one relaxed load of a process-wide word, a test and a branch predicted not taken. The
// work done while tracing is on is out of line (src/host/recorder.cc) to keep call sites small.
#ifndef TBPROF_INTERNAL_ANNOTATE_FAST_H_
#define TBPROF_INTERNAL_ANNOTATE_FAST_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#if defined(__GNUC__) || defined(__clang__)
#define TBPROF_INTERNAL_UNLIKELY(x) (__builtin_expect(!!(x), 0))
#define TBPROF_INTERNAL_LIKELY(x) (__builtin_expect(!!(x), 1))
#else
#define TBPROF_INTERNAL_UNLIKELY(x) (x)
#define TBPROF_INTERNAL_LIKELY(x) (x)
#endif

#define TBPROF_INTERNAL_CONCAT2(a, b) a##b
#define TBPROF_INTERNAL_CONCAT(a, b) TBPROF_INTERNAL_CONCAT2(a, b)

namespace tbprof {

struct TensorRef;

namespace internal {

// The process-wide tracing state, one 32-bit word so that the off check is a single load:
//   bits 0-1  host level being recorded (0 = not recording, 1..3 = TBPROF_HOST_LEVEL)
//   bit  2    TBPROF_STEPS capture armed: StepScope must look at its step number
//   bit  3    configuration not read yet: the first annotation reads the environment
//   bit  4    the session's clock is not the TSC (read by the recorder's record path only)
//   bits 8-31 session generation (changes at every session start)
// Written only by the recorder (src/host/recorder.cc); read relaxed by every annotation.
extern std::atomic<uint32_t> g_trace_state;

inline constexpr uint32_t kStateLevelMask = 0x3u;
inline constexpr uint32_t kStateStepsArmed = 0x4u;
inline constexpr uint32_t kStateUninitialized = 0x8u;
inline constexpr uint32_t kStateOtherClock = 0x10u;
inline constexpr int kStateGenerationShift = 8;

// Masks tested inline by each annotation kind: any bit set sends it to the out-of-line path.
inline constexpr uint32_t kScopeMask = kStateLevelMask | kStateUninitialized;
inline constexpr uint32_t kStepMask = kStateLevelMask | kStateStepsArmed | kStateUninitialized;

// Reads the configuration (first annotation of the process), then answers MayRecord(mask).
bool InitializeAndCheck(uint32_t mask);

// True when the annotation must take its out-of-line path (tracing on, a step capture armed).
// The first annotation of the process also reads the configuration, out of line, before any
// argument is evaluated. Relaxed: a scope racing with TraceOn may miss the session, which is
// the documented behaviour.
inline bool MayRecord(uint32_t mask) {
  const uint32_t state = g_trace_state.load(std::memory_order_relaxed);
  if (TBPROF_INTERNAL_LIKELY((state & mask) == 0)) return false;
  return (state & kStateUninitialized) == 0 || InitializeAndCheck(mask);
}

// One TBPROF_SCOPE call site: the static name and its id, assigned on first use. Constant-
// initialized (no guard variable), never destroyed (trivial destructor).
struct StaticSite {
  constexpr explicit StaticSite(const char* site_name) : name(site_name), id(0) {}
  const char* name;
  std::atomic<uint32_t> id;
};

// Out-of-line recorder entry points (src/host/recorder.cc). Each returns a token that is 0 when
// nothing was recorded; the matching end is called only with a non-zero token.
uint32_t ScopeBegin(StaticSite* site);
void ScopeEnd(uint32_t token);
uint32_t OpBegin(std::string_view name, std::string_view type, const TensorRef* inputs,
                 size_t num_inputs, const TensorRef* outputs, size_t num_outputs);
uint32_t NameScopeBegin(std::string_view name);
void NameScopeEnd(uint32_t token);
uint32_t StepBegin(int64_t step, std::string_view name);
void StepEnd(uint32_t token, int64_t step);

// The RAII object behind TBPROF_SCOPE.
class StaticScope {
 public:
  explicit StaticScope(StaticSite* site) noexcept {
    if (MayRecord(kScopeMask)) token_ = ScopeBegin(site);
  }
  ~StaticScope() {
    if (TBPROF_INTERNAL_UNLIKELY(token_ != 0)) ScopeEnd(token_);
  }
  StaticScope(const StaticScope&) = delete;
  StaticScope& operator=(const StaticScope&) = delete;

 private:
  uint32_t token_ = 0;
};

}  // namespace internal
}  // namespace tbprof

#endif  // TBPROF_INTERNAL_ANNOTATE_FAST_H_
