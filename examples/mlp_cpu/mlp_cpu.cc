// A multi-layer perceptron's forward pass on the CPU, instrumented with tbprof: one NameScope
// per layer, one TBPROF_OP per op (MatMul, BiasAdd, Relu, Softmax) with its input and output
// tensors, one StepScope per batch, and an input thread that prepares the next batch.
//
// The program never turns tracing on itself. Run it as
//   TBPROF=1 TBPROF_STEPS=2:4 ./mlp_cpu --logdir /tmp/tbprof_logs
// and open the result with `tensorboard --logdir /tmp/tbprof_logs`.
//
// Flags: --logdir DIR (same as TBPROF_LOGDIR=DIR), --steps N (default 10), --batch B
// (default 64), --no-flows (no input-thread -> step arrows), --seconds S (run steps for S seconds
// instead of N steps), --slow-step K with
// --slow-ms MS (default 300): step K sleeps MS more, a deliberately slow step for the flight
// recorder (TBPROF=flight TBPROF_SLOW_STEP_MS=...), --slow-input-ms MS: the input thread takes MS
// more per batch, so that every step waits for its input (the Profile tab's "Input" time).
// Prints the forward loop's wall time as "loop_ms: <ms>" (used by the overhead benchmarks in
// bench/host).
//
// Memory: the activations of each step come from a caching arena that reports every allocation
// and free to tbprof (activation_arena.h), so the Memory Profile tool shows allocator
// "mlp_cpu_arena" with one sawtooth per step. The program prints the arena's own peak as
// "arena_peak_bytes: <bytes>".
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "activation_arena.h"
#include "tbprof/tbprof.h"
#ifdef MLP_CPU_WITH_SERVER
#include "tbprof/server.h"
#endif

namespace {

// --no-flows: no producer/consumer arrows from the input thread to the steps.
bool g_flows = true;
// --slow-input-ms: extra time the input thread spends on each batch.
int64_t g_slow_input_ms = 0;

struct Tensor {
  int64_t rows = 0;
  int64_t cols = 0;
  std::pmr::vector<float> data;  // Weights and inputs: the heap; activations: the arena.

  Tensor() = default;
  Tensor(int64_t r, int64_t c, std::pmr::memory_resource* memory = std::pmr::new_delete_resource())
      : rows(r), cols(c), data(static_cast<size_t>(r * c), memory) {}
  tbprof::TensorRef ref(const char* name = nullptr) const {
    return tbprof::TensorRef(data.data(), tbprof::DType::kFloat32, {rows, cols}, name);
  }
  // A weight, shown as "<layer>/<name>" in the graph (like Keras' "dense_1/kernel").
  tbprof::TensorRef var(const char* name) const {
    return tbprof::TensorRef::Variable(data.data(), tbprof::DType::kFloat32, {rows, cols}, name);
  }
};

// y = x * w, blocked over k and j so the inner loop streams contiguous rows.
void Gemm(const Tensor& x, const Tensor& w, Tensor* y) {
  const int64_t m = x.rows, k = x.cols, n = w.cols;
  std::fill(y->data.begin(), y->data.end(), 0.0f);
  constexpr int64_t kBlockK = 64, kBlockN = 256;
  for (int64_t k0 = 0; k0 < k; k0 += kBlockK) {
    const int64_t k1 = std::min(k, k0 + kBlockK);
    for (int64_t n0 = 0; n0 < n; n0 += kBlockN) {
      const int64_t n1 = std::min(n, n0 + kBlockN);
      for (int64_t i = 0; i < m; ++i) {
        float* yrow = y->data.data() + i * n;
        const float* xrow = x.data.data() + i * k;
        for (int64_t kk = k0; kk < k1; ++kk) {
          const float a = xrow[kk];
          const float* wrow = w.data.data() + kk * n;
          for (int64_t j = n0; j < n1; ++j) yrow[j] += a * wrow[j];
        }
      }
    }
  }
}

class Dense {
 public:
  Dense(std::string name, int64_t in, int64_t out, bool softmax, std::mt19937* rng)
      : name_(std::move(name)), w_(in, out), b_(1, out), softmax_(softmax) {
    std::normal_distribution<float> dist(0.0f, 1.0f / std::sqrt(static_cast<float>(in)));
    for (float& v : w_.data) v = dist(*rng);
    for (float& v : b_.data) v = 0.01f;
  }

  // The layer's output; its activations (z and the output) come from `arena`.
  Tensor Forward(const Tensor& x, std::pmr::memory_resource* arena) {
    tbprof::NameScope layer(name_);
    Tensor z(x.rows, w_.cols, arena);  // Freed when the layer returns.
    Tensor out(0, 0, arena);           // Allocated just before the op that writes it.
    Tensor* y = &out;
    {
      TBPROF_OP("MatMul", "MatMul", {x.ref("features"), w_.var("kernel")}, {z.ref()});
      Gemm(x, w_, &z);
    }
    {
      TBPROF_OP("BiasAdd", "BiasAdd", {z.ref(), b_.var("bias")}, {z.ref()});
      for (int64_t i = 0; i < z.rows; ++i) {
        float* row = z.data.data() + i * z.cols;
        for (int64_t j = 0; j < z.cols; ++j) row[j] += b_.data[j];
      }
    }
    out = Tensor(x.rows, w_.cols, arena);
    if (softmax_) {
      TBPROF_OP("Softmax", "Softmax", {z.ref()}, {y->ref()});
      for (int64_t i = 0; i < z.rows; ++i) {
        const float* in = z.data.data() + i * z.cols;
        float* out = y->data.data() + i * y->cols;
        float mx = in[0];
        for (int64_t j = 1; j < z.cols; ++j) mx = std::max(mx, in[j]);
        float sum = 0;
        for (int64_t j = 0; j < z.cols; ++j) sum += out[j] = std::exp(in[j] - mx);
        for (int64_t j = 0; j < z.cols; ++j) out[j] /= sum;
      }
    } else {
      TBPROF_OP("Relu", "Relu", {z.ref()}, {y->ref()});
      for (size_t i = 0; i < z.data.size(); ++i) y->data[i] = std::max(0.0f, z.data[i]);
    }
    return out;
  }

 private:
  std::string name_;
  Tensor w_, b_;
  bool softmax_;
};

// Prepares batches on its own thread, one ahead of the model.
class InputPipeline {
 public:
  InputPipeline(int64_t batch, int64_t features, int64_t count)
      : batch_(batch), features_(features), remaining_(count), thread_([this] { Run(); }) {}
  ~InputPipeline() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  Tensor Next() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return ready_.has_value(); });
    Tensor t = std::move(*ready_);
    ready_.reset();
    cv_.notify_all();
    return t;
  }

 private:
  void Run() {
    tbprof::SetThreadName("input");
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    int64_t batch_id = 0;
    while (remaining_-- > 0) {
      Tensor t(batch_, features_);
      {
        TBPROF_INPUT_WORK("generate_batch");
        for (float& v : t.data) v = dist(rng);
        if (g_slow_input_ms > 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(g_slow_input_ms));
        }
        // Batch n (from 1) is consumed by step n - 1.
        if (g_flows) tbprof::FlowProduce(++batch_id);
      }
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !ready_.has_value(); });
      if (stop_) return;
      ready_ = std::move(t);
      cv_.notify_all();
    }
  }

  int64_t batch_, features_, remaining_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Tensor> ready_;
  bool stop_ = false;
  std::thread thread_;
};

void Usage() {
  std::fprintf(stderr,
               "usage: mlp_cpu [--logdir DIR] [--steps N] [--batch B] [--seconds S] "
               "[--slow-step K [--slow-ms MS]] [--slow-input-ms MS] [--no-flows]%s\n",
#ifdef MLP_CPU_WITH_SERVER
               " [--serve]"
#else
               ""
#endif
  );
}

bool ParsePositive(const char* text, int64_t* out) {
  char* end = nullptr;
  long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < 1) return false;
  *out = v;
  return true;
}

// TBPROF as the library reads it: 1, true, on or yes (any case, surrounding blanks) trace.
bool TbprofOn(const char* value) {
  if (value == nullptr) return false;
  std::string v;
  for (const char* c = value; *c != '\0'; ++c) {
    if (*c == ' ' || *c == '\t') continue;
    v += static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
  }
  return v == "1" || v == "true" || v == "on" || v == "yes";
}

// TBPROF_STEPS as the library reads it: "A:B" or "A", integers 0 <= A <= B.
bool ParseSteps(const char* value, int64_t* first, int64_t* last) {
  char* end = nullptr;
  errno = 0;
  const long long a = std::strtoll(value, &end, 10);
  long long b = a;
  if (end == value || errno != 0) return false;
  while (*end == ' ' || *end == '\t') ++end;
  if (*end == ':') {
    const char* start = end + 1;
    b = std::strtoll(start, &end, 10);
    if (end == start || errno != 0) return false;
    while (*end == ' ' || *end == '\t') ++end;
  }
  if (*end != '\0' || a < 0 || a > b) return false;
  *first = a;
  *last = b;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t steps = 10, batch = 64, seconds = 0, slow_step = -1, slow_ms = 300;
  std::string logdir;
  bool serve = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--no-flows") {
      g_flows = false;
      continue;
    }
    if (arg == "--slow-input-ms" && i + 1 < argc) {
      const char* value = argv[++i];
      if (!ParsePositive(value, &g_slow_input_ms)) {
        std::fprintf(stderr, "mlp_cpu: --slow-input-ms needs a positive integer, got '%s'\n",
                     value);
        return 2;
      }
      continue;
    }
#ifdef MLP_CPU_WITH_SERVER
    if (arg == "--serve") {
      serve = true;
      continue;
    }
#endif
    if ((arg == "--logdir" || arg == "--steps" || arg == "--batch" || arg == "--seconds" ||
         arg == "--slow-step" || arg == "--slow-ms") &&
        i + 1 < argc) {
      const char* value = argv[++i];
      int64_t* target = arg == "--steps"       ? &steps
                        : arg == "--batch"     ? &batch
                        : arg == "--seconds"   ? &seconds
                        : arg == "--slow-step" ? &slow_step
                                               : &slow_ms;
      if (arg == "--logdir") {
        logdir = value;
      } else if (!ParsePositive(value, target)) {
        std::fprintf(stderr, "mlp_cpu: %s needs a positive integer, got '%s'\n", arg.c_str(),
                     value);
        return 2;
      }
    } else {
      Usage();
      return 2;
    }
  }
  // --logdir is TBPROF_LOGDIR; set before the first tbprof call reads the environment.
  if (!logdir.empty()) setenv("TBPROF_LOGDIR", logdir.c_str(), 1);
  const char* tbprof_env = std::getenv("TBPROF");
  const bool tracing = TbprofOn(tbprof_env);
  const char* steps_env = std::getenv("TBPROF_STEPS");
  if (seconds > 0) steps = std::numeric_limits<int64_t>::max();
  if (tbprof::FlightRecorderActive()) {
    std::printf("flight recorder on: dumps on SIGUSR2 (kill -USR2 %d)%s\n",
                static_cast<int>(getpid()),
                std::getenv("TBPROF_SLOW_STEP_MS") != nullptr ? " and after slow steps" : "");
  } else if (!tracing) {
    std::printf("tracing is off. To profile steps 2..4:\n  TBPROF=1 TBPROF_STEPS=2:4 %s%s%s\n",
                argv[0], logdir.empty() ? "" : " --logdir ", logdir.c_str());
  } else if (steps_env == nullptr) {
    std::printf(
        "TBPROF=1 but TBPROF_STEPS is not set: nothing will be captured "
        "(e.g. TBPROF_STEPS=2:4)\n");
  }

#ifdef MLP_CPU_WITH_SERVER
  // --serve: serve TensorBoard's Capture Profile button on 127.0.0.1:$TBPROF_PORT and run steps
  // until one capture has been answered (at most 10 minutes).
  if (serve) {
    if ((!tracing && !tbprof::FlightRecorderActive()) || std::getenv("TBPROF_PORT") == nullptr) {
      std::fprintf(stderr, "mlp_cpu: --serve needs TBPROF=1 (or flight) and TBPROF_PORT=<port>\n");
      return 2;
    }
    if (absl::Status s = tbprof::StartCaptureServer(); !s.ok()) {
      std::fprintf(stderr, "mlp_cpu: %s\n", s.ToString().c_str());
      return 1;
    }
    if (tbprof::CaptureServerPort() == 0) {
      std::fprintf(stderr, "mlp_cpu: the capture server did not start (see the tbprof message)\n");
      return 1;
    }
    std::printf(
        "serving captures on 127.0.0.1:%d: in TensorBoard, Profile > Capture Profile, "
        "service address localhost:%d\n",
        tbprof::CaptureServerPort(), tbprof::CaptureServerPort());
    std::fflush(stdout);
    steps = std::numeric_limits<int64_t>::max();
  }
  const auto serve_deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
#endif

  std::mt19937 rng(42);
  constexpr int64_t kFeatures = 512;
  std::vector<Dense> layers;
  layers.emplace_back("dense_1", kFeatures, 1024, false, &rng);
  layers.emplace_back("dense_2", 1024, 1024, false, &rng);
  layers.emplace_back("dense_3", 1024, 512, false, &rng);
  layers.emplace_back("dense_4", 512, 128, true, &rng);
  ActivationArena arena("mlp_cpu_arena");

  InputPipeline input(batch, kFeatures, steps);
  double checksum = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const auto run_until = t0 + std::chrono::seconds(seconds);
  for (int64_t step = 0; step < steps; ++step) {
    if (seconds > 0 && (step & 7) == 0 && std::chrono::steady_clock::now() >= run_until) {
      steps = step;
      break;
    }
#ifdef MLP_CPU_WITH_SERVER
    if (serve && (tbprof::CaptureServerCapturesServed() > 0 ||
                  std::chrono::steady_clock::now() > serve_deadline)) {
      steps = step;
      break;
    }
#endif
    tbprof::StepScope s(step);
    Tensor x;
    {
      TBPROF_INPUT_WAIT("wait_for_input");
      x = input.Next();
      if (g_flows) tbprof::FlowConsume(step + 1);  // The arrow from the input thread to this step.
    }
    tbprof::NameScope model("mlp");
    // Each layer's output lives until the next layer has read it: in use rises and falls within
    // the step, and is back to zero when the step ends.
    Tensor act = layers[0].Forward(x, &arena);
    for (size_t l = 1; l < layers.size(); ++l) act = layers[l].Forward(act, &arena);
    const Tensor* in = &act;
    checksum += in->data[static_cast<size_t>(step) % in->data.size()];
    if (step == slow_step) {
      TBPROF_SCOPE("deliberately_slow");
      std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms));
    }
  }
  const double loop_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
#ifdef MLP_CPU_WITH_SERVER
  if (serve) {
    std::printf("captures served: %lld\n",
                static_cast<long long>(tbprof::CaptureServerCapturesServed()));
    tbprof::StopCaptureServer();
  }
#endif
  std::printf("ran %lld steps of batch %lld: loop_ms: %.3f checksum: %.6f\n",
              static_cast<long long>(steps), static_cast<long long>(batch), loop_ms, checksum);
  std::printf("arena_peak_bytes: %lld\n", static_cast<long long>(arena.peak_bytes()));

  if (std::optional<tbprof::ExportInfo> info = tbprof::LastExportInfo()) {
    std::printf("profile written to %s\n", info->session_dir.c_str());
    std::printf("  %lld steps, %lld ops, %lld host events on %lld threads",
                static_cast<long long>(info->steps), static_cast<long long>(info->ops),
                static_cast<long long>(info->host_events), static_cast<long long>(info->threads));
    if (info->device_events > 0) {
      std::printf(", %lld device events", static_cast<long long>(info->device_events));
    }
    if (info->dropped_events > 0) {
      std::printf(", %lld dropped", static_cast<long long>(info->dropped_events));
    }
    std::printf("\nview it with:\n  tensorboard --logdir %s\n", info->logdir.c_str());
  } else if (tracing && steps_env != nullptr) {
    int64_t first = 0, last = 0;
    if (!ParseSteps(steps_env, &first, &last)) {
      std::printf("nothing captured: TBPROF_STEPS=%s is not valid (see the tbprof message)\n",
                  steps_env);
    } else if (first > steps - 1) {
      std::printf("nothing captured: TBPROF_STEPS=%s starts after the last step (%lld)\n",
                  steps_env, static_cast<long long>(steps - 1));
    } else {
      std::printf(
          "no capture exported yet: TBPROF_STEPS=%s ends after the last step (%lld); steps "
          "%lld..%lld are written when the program exits\n",
          steps_env, static_cast<long long>(steps - 1), static_cast<long long>(first),
          static_cast<long long>(steps - 1));
    }
  }
  return 0;
}
