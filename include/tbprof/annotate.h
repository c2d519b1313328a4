// Annotations: what a program puts around its work so that tbprof can time it.
//
//   void Dense::Forward(const Tensor& x, Tensor* y) {
//     tbprof::NameScope layer("dense_1");                     // groups ops as dense_1/...
//     TBPROF_OP("MatMul", "MatMul", {x.ref(), w_.ref()}, {y->ref()});  // "dense_1/MatMul:MatMul"
//     Gemm(x, w_, y);
//   }
//   for (int64_t step = 0; step < n; ++step) {
//     tbprof::StepScope s(step);                             // a step of the overview page
//     TBPROF_SCOPE("load_batch");                            // any span with a static name
//     ...
//   }
//
// Cost. While tracing is off (the default, TBPROF unset) every annotation is one relaxed
// atomic load and a branch predicted not taken: the macros do not evaluate their name, input
// or output arguments, nothing is allocated, no thread-local storage is touched. While tracing
// is on a scope costs two timestamp reads and two 8-byte records appended to the calling
// thread's buffer: no lock, no allocation in steady state, no string copy. Dynamic names
// (NameScope, op names) are looked up in a per-thread table by hash and copied once, the
// first time a thread sees them in a session. Built with -DTBPROF_COMPILE_OUT=1 every
// annotation compiles to nothing.
//
// Thread-safety: every annotation may be used from any thread at any time, including while
// another thread starts or exports a trace; a scope that straddles the start or the end of a
// capture is either recorded whole or not at all (a scope still open when its capture is
// exported is closed at the export time and reported in the trace's warnings).
#ifndef TBPROF_ANNOTATE_H_
#define TBPROF_ANNOTATE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "tbprof/graph.h"
#include "tbprof/internal/annotate_fast.h"

namespace tbprof {

// What a tensor that no traced op produced (an outside tensor) is in the traced graph.
//   kAuto      named: the graph's data input, a top-level "Placeholder" called `name`
//              ("features"); unnamed: a "Const" in the scope of the op that first reads it,
//              "<op>/input_<k>" (k = its input slot), e.g. "mlp/dense_2/MatMul/input_1".
//   kInput     the graph's data input: a top-level "Placeholder" called `name` (or input_<k>).
//   kVariable  a weight: a "VariableV2" node "<name scope of its first reader>/<name>",
//              e.g. "mlp/dense_1/kernel" for TensorRef::Variable(w, ..., "kernel") read by
//              "mlp/dense_1/MatMul", as Keras names its variables.
//   kConstant  a constant: a "Const" node "<name scope of its first reader>/<name>".
// Outside tensors carry their memory in the Graphs tab's Profile view and no compute time.
// The role is ignored for tensors some traced op produced (those are edges).
enum class TensorRole : uint8_t { kAuto = 0, kInput = 1, kVariable = 2, kConstant = 3 };

// The identity and description of a tensor an op reads or writes. tbprof finds the edges of
// the traced graph by identity: an op whose input has the id of another op's output is
// connected to it. The id is usually the address of the tensor's buffer; use WithId() for
// tensors that have no stable address (a user-chosen number, unique while it is alive).
// A TensorRef copies the shape (up to kMaxRank dimensions) and keeps `name` as a pointer, which
// must stay valid until the op's constructor (or TBPROF_OP) returns.
//
// Naming weights (shown as "dense_1/kernel", "dense_1/bias" in the Graphs tab):
//   TBPROF_OP("MatMul", "MatMul", {x.ref(), TensorRef::Variable(w.data(), kFloat32, {k, n},
//             "kernel")}, {y.ref()});
struct TensorRef {
  static constexpr int kMaxRank = 8;

  TensorRef() = default;
  // A tensor identified by its buffer address.
  TensorRef(const void* buffer, DType dtype, absl::Span<const int64_t> shape,
            const char* name = nullptr)
      : TensorRef(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(buffer)), dtype, shape, name) {}
  // A tensor identified by a user-chosen id (0 means unknown and never connects).
  static TensorRef WithId(uint64_t id, DType dtype, absl::Span<const int64_t> shape,
                          const char* name = nullptr) {
    return TensorRef(id, dtype, shape, name);
  }
  // A weight read by the op: node "<scope>/<name>" of type VariableV2 (see TensorRole).
  static TensorRef Variable(const void* buffer, DType dtype, absl::Span<const int64_t> shape,
                            const char* name) {
    return TensorRef(buffer, dtype, shape, name).WithRole(TensorRole::kVariable);
  }
  // A constant read by the op: node "<scope>/<name>" of type Const (see TensorRole).
  static TensorRef Constant(const void* buffer, DType dtype, absl::Span<const int64_t> shape,
                            const char* name) {
    return TensorRef(buffer, dtype, shape, name).WithRole(TensorRole::kConstant);
  }
  // This reference with another role.
  TensorRef WithRole(TensorRole new_role) const {
    TensorRef copy = *this;
    copy.role = new_role;
    return copy;
  }

  uint64_t id = 0;
  DType dtype = DType::kInvalid;
  int32_t rank = 0;  // The real rank; dims holds min(rank, kMaxRank) of them.
  int64_t dims[kMaxRank] = {};
  // Optional display name ("features", "kernel"); nullptr = none. See TensorRole.
  const char* name = nullptr;
  TensorRole role = TensorRole::kAuto;

 private:
  TensorRef(uint64_t tensor_id, DType tensor_dtype, absl::Span<const int64_t> shape,
            const char* tensor_name)
      : id(tensor_id),
        dtype(tensor_dtype),
        rank(static_cast<int32_t>(shape.size())),
        name(tensor_name) {
    for (size_t i = 0; i < shape.size() && i < static_cast<size_t>(kMaxRank); ++i) {
      dims[i] = shape[i];
    }
  }
};

// A framework op: recorded as an event named "<name scope>/<name>:<type>" (the name scope is
// the calling thread's current NameScope path), the form TensorBoard's profile tools count as
// a framework op. Its input and output tensors become a node of the traced graph (one node per
// distinct full name; the tensors of its first execution in a capture are kept).
// Prefer TBPROF_OP, which evaluates nothing while tracing is off; constructing an OpScope
// directly evaluates its arguments (the recording still costs nothing when off).
// `name` and `type` are copied when first seen; they need to live only during the call.
// A ':' in `name` is replaced by '_' (it would break the "name:Type" syntax).
class OpScope {
 public:
  // An inactive op scope; Begin() starts it. Used by TBPROF_OP.
  OpScope() = default;
  OpScope(std::string_view name, std::string_view type, absl::Span<const TensorRef> inputs = {},
          absl::Span<const TensorRef> outputs = {}) {
#if !defined(TBPROF_COMPILE_OUT) || !TBPROF_COMPILE_OUT
    if (internal::MayRecord(internal::kScopeMask)) Begin(name, type, inputs, outputs);
#endif
  }
  ~OpScope() {
#if !defined(TBPROF_COMPILE_OUT) || !TBPROF_COMPILE_OUT
    if (TBPROF_INTERNAL_UNLIKELY(token_ != 0)) internal::ScopeEnd(token_);
#endif
  }
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

  // Starts recording the op (no effect while tracing is off or if already started).
  void Begin(std::string_view name, std::string_view type, absl::Span<const TensorRef> inputs = {},
             absl::Span<const TensorRef> outputs = {}) {
#if !defined(TBPROF_COMPILE_OUT) || !TBPROF_COMPILE_OUT
    if (token_ == 0) {
      token_ = internal::OpBegin(name, type, inputs.data(), inputs.size(), outputs.data(),
                                 outputs.size());
    }
#endif
  }

 private:
  uint32_t token_ = 0;
};

// A name scope ("layer"): ops created inside it are named "<scope>/<name>", nested scopes join
// with '/'. Per thread. At TBPROF_HOST_LEVEL >= 2 the scope is also recorded as a span named
// `name`. `name` is copied (it may be a temporary); it must not contain '/' or ':' to keep
// TensorBoard's grouping meaningful (not checked on the hot path). A NameScope opened while
// tracing was off does not name the ops recorded inside it once tracing is on. Paths deeper
// than 64 scopes or longer than 1024 bytes keep their first levels only.
class NameScope {
 public:
  explicit NameScope(std::string_view name) {
#if !defined(TBPROF_COMPILE_OUT) || !TBPROF_COMPILE_OUT
    if (internal::MayRecord(internal::kScopeMask)) token_ = internal::NameScopeBegin(name);
#endif
  }
  ~NameScope() {
#if !defined(TBPROF_COMPILE_OUT) || !TBPROF_COMPILE_OUT
    if (TBPROF_INTERNAL_UNLIKELY(token_ != 0)) internal::NameScopeEnd(token_);
#endif
  }
  NameScope(const NameScope&) = delete;
  NameScope& operator=(const NameScope&) = delete;

 private:
  uint32_t token_ = 0;
};

// One training or inference step: becomes a step of TensorBoard's overview page (a host event
// carrying `_r` and `step_num`). Steps should not nest. With TBPROF=1 and TBPROF_STEPS=A:B
// (and no TraceOn in the program), the first StepScope whose step lies in [A, B] starts a
// capture and the end of the StepScope with step >= B exports it, as if the program had called
// TraceOn and TraceExport("steps_A_B", B) (see trace.h). `name` is the step event's name
// ("step 12" in the trace viewer); copied when first seen.
class StepScope {
 public:
  explicit StepScope(int64_t step, std::string_view name = "step") : step_(step) {
#if !defined(TBPROF_COMPILE_OUT) || !TBPROF_COMPILE_OUT
    if (internal::MayRecord(internal::kStepMask)) token_ = internal::StepBegin(step, name);
#endif
  }
  ~StepScope() {
#if !defined(TBPROF_COMPILE_OUT) || !TBPROF_COMPILE_OUT
    if (TBPROF_INTERNAL_UNLIKELY(token_ != 0)) internal::StepEnd(token_, step_);
#endif
  }
  StepScope(const StepScope&) = delete;
  StepScope& operator=(const StepScope&) = delete;

 private:
  int64_t step_;
  uint32_t token_ = 0;
};

// Names the calling thread in traces (the trace viewer's row label). Without it tbprof uses the
// OS thread name. Copied (up to 63 bytes); takes effect for the current and later captures.
// Thread-safe, cheap, never allocates; may be called while tracing is off.
void SetThreadName(std::string_view name);

}  // namespace tbprof

#if defined(TBPROF_COMPILE_OUT) && TBPROF_COMPILE_OUT

#define TBPROF_SCOPE(name) static_assert(true, "")
#define TBPROF_OP(name, type, ...) static_assert(true, "")

#else

// TBPROF_SCOPE("name"): records the enclosing block as a span. `name` must be a string literal
// (kept as a pointer, never copied).
#define TBPROF_SCOPE(name) TBPROF_INTERNAL_SCOPE(name, __COUNTER__)
#define TBPROF_INTERNAL_SCOPE(name, n)                                                       \
  static ::tbprof::internal::StaticSite TBPROF_INTERNAL_CONCAT(tbprof_site_, n)("" name ""); \
  ::tbprof::internal::StaticScope TBPROF_INTERNAL_CONCAT(                                    \
      tbprof_scope_, n)(&TBPROF_INTERNAL_CONCAT(tbprof_site_, n))

// TBPROF_OP(name, type, {inputs...}, {outputs...}): records the enclosing block as the framework
// op "<scope>/<name>:<type>" (see OpScope). Inputs and outputs are braced lists of TensorRef
// (`{}` for none). While tracing is off none of the arguments is evaluated.
#define TBPROF_OP(name, type, ...) TBPROF_INTERNAL_OP(__COUNTER__, name, type, __VA_ARGS__)
#define TBPROF_INTERNAL_OP(n, name, type, ...)                       \
  ::tbprof::OpScope TBPROF_INTERNAL_CONCAT(tbprof_op_, n);           \
  if (::tbprof::internal::MayRecord(::tbprof::internal::kScopeMask)) \
  TBPROF_INTERNAL_CONCAT(tbprof_op_, n).Begin(name, type, __VA_ARGS__)

#endif  // TBPROF_COMPILE_OUT

#endif  // TBPROF_ANNOTATE_H_
