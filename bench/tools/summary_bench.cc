// `tbprof summary` on a profile shaped like TensorFlow's (1M events): a Python thread with
// "train" step roots (_r, step_num) over EagerExecute and FunctionRun (_r, producer stats),
// and executor threads whose ExecutorState::Process events (consumer stats) hold the ops.
//
//   build/bench/tools/summary_bench --benchmark_repetitions=3
//   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "tensorflow/profiler/xplane.pb.h"
#include "tools/profile_summary.h"

namespace {

namespace xp = tensorflow::profiler;

constexpr int kSteps = 1000;
constexpr int kThreads = 4;
constexpr int kOpsPerThread = 124;  // 2 (train, FunctionRun...) + 4 * (1 + 2 * 124) ~ 1000.

xp::XSpace ForeignSpace() {
  xp::XSpace space;
  space.add_hostnames("bench");
  xp::XPlane* host = space.add_planes();
  host->set_id(0);
  host->set_name("/host:CPU");
  int64_t next_md = 1;
  auto event_md = [&](const std::string& name) {
    const int64_t id = next_md++;
    auto& md = (*host->mutable_event_metadata())[id];
    md.set_id(id);
    md.set_name(name);
    return id;
  };
  auto stat_md = [&](int64_t id, const std::string& name) {
    auto& md = (*host->mutable_stat_metadata())[id];
    md.set_id(id);
    md.set_name(name);
  };
  enum Stat : int64_t { kR = 1, kStepNum, kPt, kP, kCt, kC, kIterNum, kId };
  stat_md(kR, "_r");
  stat_md(kStepNum, "step_num");
  stat_md(kPt, "_pt");
  stat_md(kP, "_p");
  stat_md(kCt, "_ct");
  stat_md(kC, "_c");
  stat_md(kIterNum, "iter_num");
  stat_md(kId, "id");
  const int64_t train = event_md("train");
  const int64_t eager = event_md("EagerExecute");
  const int64_t function_run = event_md("FunctionRun");
  const int64_t process = event_md("ExecutorState::Process");
  int64_t ops[8];
  for (int i = 0; i < 8; ++i) {
    ops[i] = event_md("sequential/dense_" + std::to_string(i) + "/MatMul:_MklMatMul");
  }
  const int64_t read = event_md("ReadVariableOp");
  auto stat = [](xp::XEvent* e, int64_t id, int64_t v) {
    auto* s = e->add_stats();
    s->set_metadata_id(id);
    s->set_int64_value(v);
  };
  auto add = [](xp::XLine* line, int64_t md, int64_t start_ns, int64_t dur_ns) {
    xp::XEvent* e = line->add_events();
    e->set_metadata_id(md);
    e->set_offset_ps(start_ns * 1000);
    e->set_duration_ps(dur_ns * 1000);
    return e;
  };
  xp::XLine* python = host->add_lines();
  python->set_id(int64_t{1} << 60);
  python->set_name("python");
  xp::XLine* workers[kThreads];
  for (int t = 0; t < kThreads; ++t) {
    workers[t] = host->add_lines();
    workers[t]->set_id((int64_t{3} << 60) + t);
    workers[t]->set_name("tf_Compute/" + std::to_string(t));
  }
  constexpr int64_t kStepNs = 100'000;
  for (int s = 0; s < kSteps; ++s) {
    const int64_t t0 = s * kStepNs;
    xp::XEvent* root = add(python, train, t0, kStepNs - 100);
    stat(root, kR, 1);
    stat(root, kStepNum, s);
    add(python, eager, t0 + 10, kStepNs - 200);
    xp::XEvent* fr = add(python, function_run, t0 + 20, kStepNs - 300);
    stat(fr, kR, 1);
    stat(fr, kId, s);
    stat(fr, kPt, 2);
    stat(fr, kP, s);
    for (int t = 0; t < kThreads; ++t) {
      xp::XEvent* p = add(workers[t], process, t0 + 30, kStepNs - 400);
      stat(p, kCt, 2);
      stat(p, kC, s);
      stat(p, kIterNum, 0);
      for (int o = 0; o < kOpsPerThread; ++o) {
        const int64_t start = t0 + 40 + o * 700;
        add(workers[t], ops[o % 8], start, 600);
        add(workers[t], read, start + 10, 100);
      }
    }
  }
  return space;
}

void BM_SummaryForeignProfile(benchmark::State& state) {
  const xp::XSpace space = ForeignSpace();
  int64_t events = 0;
  for (const auto& line : space.planes(0).lines()) events += line.events_size();
  for (auto _ : state) {
    tbprof::cli::ProfileSummary s = tbprof::cli::SummarizeXSpace(space, "bench.xplane.pb");
    benchmark::DoNotOptimize(s);
  }
  state.counters["events"] = static_cast<double>(events);
}
BENCHMARK(BM_SummaryForeignProfile)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
