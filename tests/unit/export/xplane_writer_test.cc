#include "src/export/xplane_writer.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tensorflow/profiler/xplane.pb.h"
#include "tests/unit/export/synthetic_trace.h"

namespace tbprof::internal {
namespace {

using ::tensorflow::profiler::XEvent;
using ::tensorflow::profiler::XLine;
using ::tensorflow::profiler::XPlane;
using ::tensorflow::profiler::XSpace;
using ::tensorflow::profiler::XStat;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Intern;
using ::testing::UnorderedElementsAre;

XSpace Decode(const std::string& bytes) {
  XSpace space;
  EXPECT_TRUE(space.ParseFromString(bytes)) << "EncodeXSpace output does not parse";
  return space;
}

const XPlane* FindPlane(const XSpace& space, const std::string& name) {
  for (const XPlane& p : space.planes()) {
    if (p.name() == name) return &p;
  }
  return nullptr;
}

const XLine* FindLine(const XPlane& plane, int64_t id) {
  for (const XLine& l : plane.lines()) {
    if (l.id() == id) return &l;
  }
  return nullptr;
}

std::string EventName(const XPlane& plane, const XEvent& e) {
  auto it = plane.event_metadata().find(e.metadata_id());
  return it == plane.event_metadata().end() ? "<missing>" : it->second.name();
}

std::string StatName(const XPlane& plane, const XStat& s) {
  auto it = plane.stat_metadata().find(s.metadata_id());
  return it == plane.stat_metadata().end() ? "<missing>" : it->second.name();
}

const XStat* FindStat(const XPlane& plane, const google::protobuf::RepeatedPtrField<XStat>& stats,
                      const std::string& name) {
  for (const XStat& s : stats) {
    if (StatName(plane, s) == name) return &s;
  }
  return nullptr;
}

std::set<std::string> StatNames(const XPlane& plane) {
  std::set<std::string> names;
  for (const auto& [id, m] : plane.stat_metadata()) names.insert(m.name());
  return names;
}

// Spec §2/§7 rules every plane must satisfy.
void CheckPlaneInvariants(const XPlane& plane) {
  SCOPED_TRACE(plane.name());
  std::set<std::string> event_names;
  for (const auto& [key, m] : plane.event_metadata()) {
    EXPECT_EQ(key, m.id());
    EXPECT_GE(key, 1);
    EXPECT_TRUE(event_names.insert(m.name()).second) << "duplicate event name " << m.name();
  }
  EXPECT_EQ(plane.event_metadata().size(), event_names.size());
  std::set<std::string> stat_names;
  for (const auto& [key, m] : plane.stat_metadata()) {
    EXPECT_EQ(key, m.id());
    EXPECT_GE(key, 1);
    EXPECT_TRUE(stat_names.insert(m.name()).second) << "duplicate stat name " << m.name();
    EXPECT_NE(m.name(), "group_id");
  }
  // Every used stat/event metadata id exists; every declared one is used.
  std::set<int64_t> used_stats;
  std::set<int64_t> used_events;
  for (const XStat& s : plane.stats()) used_stats.insert(s.metadata_id());
  std::set<int64_t> line_ids;
  for (const XLine& line : plane.lines()) {
    SCOPED_TRACE(line.name());
    EXPECT_TRUE(line_ids.insert(line.id()).second) << "duplicate line id " << line.id();
    EXPECT_GE(line.id(), 0);
    EXPECT_GE(line.timestamp_ns(), 0);
    // Sorted by start, properly nested.
    std::vector<int64_t> stack;
    int64_t prev_start = -1;
    int64_t max_end = 0;
    for (const XEvent& e : line.events()) {
      used_events.insert(e.metadata_id());
      EXPECT_TRUE(plane.event_metadata().contains(e.metadata_id()));
      EXPECT_EQ(e.data_case(), XEvent::kOffsetPs);
      EXPECT_GE(e.offset_ps(), 0);
      EXPECT_GE(e.duration_ps(), 0);
      EXPECT_EQ(e.offset_ps() % 1000, 0);
      const int64_t start = e.offset_ps();
      const int64_t end = start + e.duration_ps();
      EXPECT_GE(start, prev_start);
      prev_start = start;
      while (!stack.empty() && stack.back() <= start) stack.pop_back();
      if (!stack.empty()) EXPECT_LE(end, stack.back()) << "partial overlap";
      stack.push_back(end);
      max_end = std::max(max_end, end);
      std::set<int64_t> per_event;
      for (const XStat& s : e.stats()) {
        used_stats.insert(s.metadata_id());
        EXPECT_TRUE(per_event.insert(s.metadata_id()).second) << "stat twice on one event";
        EXPECT_TRUE(plane.stat_metadata().contains(s.metadata_id()));
        EXPECT_NE(s.value_case(), XStat::kRefValue);
        if (s.value_case() == XStat::kStrValue) {
          EXPECT_FALSE(stat_names.contains(s.str_value())) << "string value equals a stat name";
        }
      }
    }
    if (!line.events().empty()) {
      EXPECT_EQ(line.events(0).offset_ps(), 0) << "line origin is the first event's start";
      EXPECT_EQ(line.duration_ps(), max_end);
    }
  }
  // Stats of event metadata (an op's inputs, outputs and long name) count as used too.
  for (const auto& [id, meta] : plane.event_metadata()) {
    for (const XStat& s : meta.stats()) {
      used_stats.insert(s.metadata_id());
      EXPECT_TRUE(plane.stat_metadata().contains(s.metadata_id()));
    }
  }
  EXPECT_EQ(used_stats.size(), plane.stat_metadata().size()) << "unused stat metadata";
  EXPECT_EQ(used_events.size(), plane.event_metadata().size()) << "unused event metadata";
}

void CheckSpaceInvariants(const XSpace& space) {
  ASSERT_EQ(space.hostnames_size(), 1);
  ASSERT_NE(FindPlane(space, "/host:CPU"), nullptr);
  ASSERT_NE(FindPlane(space, "Task Environment"), nullptr);
  std::set<std::string> plane_names;
  std::vector<int64_t> gpu_ids;
  for (const XPlane& p : space.planes()) {
    EXPECT_TRUE(plane_names.insert(p.name()).second);
    CheckPlaneInvariants(p);
    if (p.name().rfind("/device:GPU:", 0) == 0) {
      EXPECT_EQ(p.name(), "/device:GPU:" + std::to_string(p.id()));
      gpu_ids.push_back(p.id());
    }
  }
  EXPECT_TRUE(std::is_sorted(gpu_ids.begin(), gpu_ids.end()));
}

// Absolute start (ns after the trace start) of an event.
int64_t StartNs(const XLine& line, const XEvent& e) {
  return line.timestamp_ns() + e.offset_ps() / 1000;
}

TEST(XPlaneWriterTest, HostOnlyTrainingLoop) {
  Trace trace = testing::TrainingLoop({.threads = 2, .steps = 3, .layers = 2});
  trace.threads[0].events.push_back(
      testing::Launch(Intern(&trace, "cudaMemcpyAsync"), 200000, 200100, 77, 1));
  const XSpace space = Decode(EncodeXSpace(trace));
  CheckSpaceInvariants(space);
  EXPECT_THAT(space.hostnames(), ElementsAre("testhost"));
  EXPECT_EQ(FindPlane(space, "/device:GPU:0"), nullptr);
  const XPlane& host = *FindPlane(space, "/host:CPU");
  ASSERT_EQ(host.lines_size(), 2);
  const XLine& main = *FindLine(host, 4242);
  EXPECT_EQ(main.name(), "main");
  const XLine& input = *FindLine(host, 4243);
  EXPECT_EQ(input.name(), "input 1");
  // 3 steps x (1 + 2 layers x 4 ops) + 1 launch.
  ASSERT_EQ(main.events_size(), 3 * 9 + 1);
  EXPECT_EQ(main.timestamp_ns(), 1000);
  EXPECT_EQ(input.timestamp_ns(), 1000);
  ASSERT_EQ(input.events_size(), 3);
  EXPECT_EQ(EventName(host, input.events(2)), "input/Decode:DecodeJpeg");
  EXPECT_EQ(StartNs(input, input.events(2)), 1000 + 2 * (66'000 + 2000));

  // Step roots: _r = 1 and step_num (int64), in order.
  int steps = 0;
  for (const XEvent& e : main.events()) {
    const std::string name = EventName(host, e);
    if (name == "train") {
      const XStat* r = FindStat(host, e.stats(), "_r");
      const XStat* step = FindStat(host, e.stats(), "step_num");
      ASSERT_NE(r, nullptr);
      ASSERT_NE(step, nullptr);
      EXPECT_EQ(r->value_case(), XStat::kInt64Value);
      EXPECT_EQ(r->int64_value(), 1);
      EXPECT_EQ(step->value_case(), XStat::kInt64Value);
      EXPECT_EQ(step->int64_value(), steps);
      ++steps;
    } else if (name == "cudaMemcpyAsync") {
      const XStat* c = FindStat(host, e.stats(), "correlation_id");
      const XStat* d = FindStat(host, e.stats(), "device_id");
      ASSERT_NE(c, nullptr);
      ASSERT_NE(d, nullptr);
      EXPECT_EQ(c->value_case(), XStat::kUint64Value);
      EXPECT_EQ(c->uint64_value(), 77u);
      EXPECT_EQ(d->value_case(), XStat::kUint64Value);
      EXPECT_EQ(d->uint64_value(), 1u);
      EXPECT_EQ(StartNs(main, e), 200000);
      EXPECT_EQ(e.duration_ps(), 100000);
    } else {
      EXPECT_EQ(e.stats_size(), 0);
      if (name.ends_with(":Dense")) {
        EXPECT_THAT(name, ::testing::MatchesRegex("dense_[12]:Dense"));
        EXPECT_EQ(e.duration_ps(), 32'000'000);
      } else {
        EXPECT_THAT(name, ::testing::MatchesRegex("dense_[12]/(MatMul:MatMul|BiasAdd:BiasAdd|"
                                                  "Relu:Relu)"));
        EXPECT_EQ(e.duration_ps(), 10'000'000);
      }
    }
  }
  EXPECT_EQ(steps, 3);
  // First ops of the first step, in ps after the line origin (the step start).
  EXPECT_EQ(EventName(host, main.events(1)), "dense_1:Dense");
  EXPECT_EQ(main.events(1).offset_ps(), 500'000);
  EXPECT_EQ(EventName(host, main.events(2)), "dense_1/MatMul:MatMul");
  EXPECT_EQ(main.events(2).offset_ps(), 1'000'000);
  EXPECT_EQ(StatNames(host), (std::set<std::string>{"_r", "step_num", "correlation_id",
                                                     "device_id", "inputs", "outputs",
                                                     "output_bytes", "long_name"}));
  // Event metadata: one per used name, ids 1..n.
  EXPECT_EQ(host.event_metadata().size(), 1u + 8u + 1u + 1u);
  for (size_t id = 1; id <= host.event_metadata().size(); ++id) {
    EXPECT_TRUE(host.event_metadata().contains(id));
  }

  const XPlane& env = *FindPlane(space, "Task Environment");
  const XStat* start = FindStat(env, env.stats(), "profile_start_time");
  const XStat* stop = FindStat(env, env.stats(), "profile_stop_time");
  ASSERT_NE(start, nullptr);
  ASSERT_NE(stop, nullptr);
  EXPECT_EQ(start->value_case(), XStat::kUint64Value);
  EXPECT_EQ(start->uint64_value(), static_cast<uint64_t>(trace.start_walltime_ns));
  EXPECT_EQ(stop->uint64_value(), static_cast<uint64_t>(trace.stop_walltime_ns));
  EXPECT_TRUE(space.warnings().empty());
  EXPECT_TRUE(space.errors().empty());
}

TEST(XPlaneWriterTest, GpuPlanesKernelsMemcpyMemsetOverhead) {
  Trace trace = testing::TrainingLoop({.threads = 1, .steps = 2, .layers = 1, .gpu = true});
  trace.devices.push_back(testing::H100(1));
  auto device_event = [&](DeviceEventKind kind, int32_t device, int64_t stream, int64_t start,
                          int64_t end) {
    DeviceEvent e;
    e.kind = kind;
    e.device_id = device;
    e.stream_id = stream;
    e.start_ns = start;
    e.end_ns = end;
    return e;
  };
  DeviceEvent h2d = device_event(DeviceEventKind::kMemcpy, 0, 7, 500, 900);
  h2d.memcpy_kind = MemcpyKind::kHtoD;
  h2d.bytes = 4096;
  h2d.correlation_id = 900;
  h2d.name = Intern(&trace, "MemcpyHtoD");
  h2d.async = true;
  trace.device_events.push_back(h2d);
  DeviceEvent d2h = device_event(DeviceEventKind::kMemcpy, 1, 3, 100, 300);
  d2h.memcpy_kind = MemcpyKind::kDtoH;
  d2h.bytes = 8;
  d2h.correlation_id = 901;
  d2h.async = false;
  trace.device_events.push_back(d2h);
  DeviceEvent memset = device_event(DeviceEventKind::kMemset, 1, 3, 400, 450);
  memset.bytes = 1 << 20;
  memset.correlation_id = 902;
  memset.op_index = 0;
  trace.device_events.push_back(memset);
  DeviceEvent overhead = device_event(DeviceEventKind::kOverhead, 1, 0, 50, 80);
  overhead.name = Intern(&trace, "CUPTI activity buffer flush");
  trace.device_events.push_back(overhead);

  const XSpace space = Decode(EncodeXSpace(trace));
  CheckSpaceInvariants(space);
  std::vector<std::string> plane_names;
  for (const XPlane& p : space.planes()) plane_names.push_back(p.name());
  EXPECT_THAT(plane_names,
              ElementsAre("/host:CPU", "/device:GPU:0", "/device:GPU:1", "Task Environment"));

  const XPlane& gpu0 = *FindPlane(space, "/device:GPU:0");
  EXPECT_EQ(gpu0.id(), 0);
  // Device capabilities with the types xprof reads.
  const XStat* vendor = FindStat(gpu0, gpu0.stats(), "device_vendor");
  ASSERT_NE(vendor, nullptr);
  EXPECT_EQ(vendor->str_value(), "Nvidia");
  EXPECT_EQ(FindStat(gpu0, gpu0.stats(), "gpu_device_name")->str_value(), "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(FindStat(gpu0, gpu0.stats(), "clock_rate")->int64_value(), 1980000);
  EXPECT_EQ(FindStat(gpu0, gpu0.stats(), "core_count")->int64_value(), 132);
  EXPECT_EQ(FindStat(gpu0, gpu0.stats(), "memory_bandwidth")->value_case(), XStat::kUint64Value);
  EXPECT_EQ(FindStat(gpu0, gpu0.stats(), "memory_bandwidth")->uint64_value(), 3352000000000u);
  EXPECT_EQ(FindStat(gpu0, gpu0.stats(), "memory_size")->uint64_value(), uint64_t{80} << 30);
  EXPECT_EQ(FindStat(gpu0, gpu0.stats(), "compute_cap_major")->value_case(), XStat::kInt64Value);
  EXPECT_EQ(FindStat(gpu0, gpu0.stats(), "compute_cap_major")->int64_value(), 9);
  EXPECT_EQ(FindStat(gpu0, gpu0.stats(), "compute_cap_minor")->int64_value(), 0);

  ASSERT_EQ(gpu0.lines_size(), 1);
  const XLine& stream7 = gpu0.lines(0);
  EXPECT_EQ(stream7.id(), 7);
  EXPECT_EQ(stream7.name(), "Stream #7(Kernel,MemcpyH2D)");
  ASSERT_EQ(stream7.events_size(), 2 * 3 + 1);
  EXPECT_EQ(EventName(gpu0, stream7.events(0)), "MemcpyHToD");
  EXPECT_EQ(FindStat(gpu0, stream7.events(0).stats(), "memcpy_details")->str_value(),
            "kind_src:host kind_dst:device size:4096 dest:0 async:1 num_bytes:4096");
  EXPECT_EQ(FindStat(gpu0, stream7.events(0).stats(), "correlation_id")->uint64_value(), 900u);
  EXPECT_EQ(StartNs(stream7, stream7.events(0)), 500);

  // Kernels: details, correlation id matching a host launch inside a step, tf_op.
  const XPlane& host = *FindPlane(space, "/host:CPU");
  std::map<uint64_t, std::string> launches;  // correlation id -> enclosing op name
  for (const XLine& line : host.lines()) {
    std::string op;
    for (const XEvent& e : line.events()) {
      const std::string name = EventName(host, e);
      if (name.find(':') != std::string::npos) op = name;
      if (const XStat* c = FindStat(host, e.stats(), "correlation_id")) {
        launches[c->uint64_value()] = op;
      }
    }
  }
  int kernels = 0;
  for (const XEvent& e : stream7.events()) {
    const XStat* details = FindStat(gpu0, e.stats(), "kernel_details");
    if (details == nullptr) continue;
    ++kernels;
    EXPECT_EQ(details->str_value(),
              "regs:32 static_shared:1024 dynamic_shared:0 grid:128,1,1 block:256,1,1 "
              "occ_pct:50.0");
    const XStat* corr = FindStat(gpu0, e.stats(), "correlation_id");
    ASSERT_NE(corr, nullptr);
    EXPECT_EQ(corr->value_case(), XStat::kUint64Value);
    ASSERT_TRUE(launches.contains(corr->uint64_value()));
    const XStat* tf_op = FindStat(gpu0, e.stats(), "tf_op");
    ASSERT_NE(tf_op, nullptr);
    EXPECT_EQ(tf_op->str_value(), launches[corr->uint64_value()]);
    EXPECT_EQ(e.duration_ps(), 6'000'000);
  }
  EXPECT_EQ(kernels, 6);
  EXPECT_EQ(StatNames(gpu0),
            (std::set<std::string>{"device_vendor", "gpu_device_name", "clock_rate", "core_count",
                                   "memory_bandwidth", "memory_size", "compute_cap_major",
                                   "compute_cap_minor", "correlation_id", "kernel_details",
                                   "memcpy_details", "tf_op"}));

  const XPlane& gpu1 = *FindPlane(space, "/device:GPU:1");
  EXPECT_EQ(gpu1.id(), 1);
  ASSERT_EQ(gpu1.lines_size(), 2);
  const XLine& stream3 = gpu1.lines(0);
  EXPECT_EQ(stream3.id(), 3);
  EXPECT_EQ(stream3.name(), "Stream #3(MemcpyD2H,Memset)");
  ASSERT_EQ(stream3.events_size(), 2);
  EXPECT_EQ(EventName(gpu1, stream3.events(0)), "MemcpyDToH");
  EXPECT_EQ(FindStat(gpu1, stream3.events(0).stats(), "memcpy_details")->str_value(),
            "kind_src:device kind_dst:host size:8 dest:1 async:0 num_bytes:8");
  EXPECT_EQ(EventName(gpu1, stream3.events(1)), "Memset");
  EXPECT_EQ(FindStat(gpu1, stream3.events(1).stats(), "Memset_details")->str_value(),
            "num_bytes:1048576 async:1");
  EXPECT_EQ(FindStat(gpu1, stream3.events(1).stats(), "tf_op")->str_value(), "dense_1:Dense");
  const XLine& overhead_line = gpu1.lines(1);
  EXPECT_EQ(overhead_line.name(), "CUPTI overhead");
  EXPECT_NE(overhead_line.id(), 3);
  ASSERT_EQ(overhead_line.events_size(), 1);
  EXPECT_EQ(EventName(gpu1, overhead_line.events(0)), "CUPTI activity buffer flush");
  EXPECT_EQ(overhead_line.events(0).stats_size(), 0);
  EXPECT_EQ(overhead_line.timestamp_ns(), 50);
  EXPECT_EQ(overhead_line.events(0).duration_ps(), 30'000);
}

TEST(XPlaneWriterTest, NamesNeedingEscapingAndInvalidUtf8) {
  Trace trace;
  trace.hostname = "host\xff";
  ThreadTrack t;
  t.tid = 12;
  t.name = "th\"read\n\x80";
  t.events.push_back(testing::Scope(Intern(&trace, "a \"quoted\" \\name\t\x01"), 10, 20));
  t.events.push_back(testing::Scope(Intern(&trace, "bad \xc3\x28 utf8 \xe2\x82\xac ok"), 12, 18));
  trace.threads.push_back(t);
  trace.warnings.push_back("warn \xfe");
  const std::string bytes = EncodeXSpace(trace);
  const XSpace space = Decode(bytes);  // Parsing checks UTF-8 of every string field.
  CheckSpaceInvariants(space);
  const XPlane& host = *FindPlane(space, "/host:CPU");
  EXPECT_EQ(host.lines(0).name(), "th\"read\n\xEF\xBF\xBD");
  EXPECT_EQ(EventName(host, host.lines(0).events(0)), "a \"quoted\" \\name\t\x01");
  EXPECT_EQ(EventName(host, host.lines(0).events(1)), "bad \xEF\xBF\xBD( utf8 \xe2\x82\xac ok");
  EXPECT_EQ(space.hostnames(0), "host\xEF\xBF\xBD");
  EXPECT_THAT(space.warnings(), ElementsAre("warn \xEF\xBF\xBD"));
}

TEST(XPlaneWriterTest, EmptyTrace) {
  Trace trace;
  const XSpace space = Decode(EncodeXSpace(trace));
  CheckSpaceInvariants(space);
  EXPECT_THAT(space.hostnames(), ElementsAre("localhost"));
  EXPECT_EQ(FindPlane(space, "/host:CPU")->lines_size(), 0);
  EXPECT_EQ(space.planes_size(), 2);
}

TEST(XPlaneWriterTest, ThreadWithoutEventsKeepsItsLine) {
  Trace trace = testing::TrainingLoop({.threads = 1, .steps = 1});
  ThreadTrack idle;
  idle.tid = 99;
  trace.threads.push_back(idle);
  const XSpace space = Decode(EncodeXSpace(trace));
  CheckSpaceInvariants(space);
  const XLine* line = FindLine(*FindPlane(space, "/host:CPU"), 99);
  ASSERT_NE(line, nullptr);
  EXPECT_EQ(line->name(), "thread 99");
  EXPECT_EQ(line->events_size(), 0);
  EXPECT_EQ(line->timestamp_ns(), 0);
}

TEST(XPlaneWriterTest, OverlappingAndUnsortedInputIsRepairedWithWarning) {
  Trace trace;
  const NameId a = Intern(&trace, "a");
  const NameId b = Intern(&trace, "b");
  const NameId c = Intern(&trace, "c");
  ThreadTrack t;
  t.tid = 5;
  t.name = "t";
  t.events.push_back(testing::Scope(b, 150, 300));  // Overlaps a partially; out of order.
  t.events.push_back(testing::Scope(a, 100, 200));
  t.events.push_back(testing::Scope(c, 400, 390));  // Ends before it starts.
  trace.threads.push_back(t);
  DeviceEvent k1;
  k1.name = Intern(&trace, "k1");
  k1.start_ns = 100;
  k1.end_ns = 200;
  DeviceEvent k2 = k1;
  k2.name = Intern(&trace, "k2");
  k2.start_ns = 190;
  k2.end_ns = 250;
  trace.device_events = {k1, k2};
  const XSpace space = Decode(EncodeXSpace(trace));
  CheckSpaceInvariants(space);
  const XPlane& host = *FindPlane(space, "/host:CPU");
  const XLine& line = host.lines(0);
  ASSERT_EQ(line.events_size(), 3);
  EXPECT_EQ(EventName(host, line.events(0)), "a");
  EXPECT_EQ(EventName(host, line.events(1)), "b");
  EXPECT_EQ(StartNs(line, line.events(1)), 150);
  EXPECT_EQ(line.events(1).duration_ps(), 50'000);  // Clipped to a's end.
  EXPECT_EQ(EventName(host, line.events(2)), "c");
  EXPECT_EQ(line.events(2).duration_ps(), 0);
  // Device events are not clipped: the overlapping kernel keeps its 60 ns on an extra line.
  const XPlane& gpu = *FindPlane(space, "/device:GPU:0");
  ASSERT_EQ(gpu.lines_size(), 2);
  EXPECT_EQ(gpu.lines(0).events_size(), 1);
  EXPECT_EQ(gpu.lines(1).name(), "Stream #0(Kernel) overlap 1");
  ASSERT_EQ(gpu.lines(1).events_size(), 1);
  EXPECT_EQ(gpu.lines(1).events(0).duration_ps(), 60'000);
  EXPECT_THAT(space.warnings(),
              UnorderedElementsAre(HasSubstr("host thread 't' (tid 5): 1 event(s) ended before"),
                                   HasSubstr("host thread 't' (tid 5): 1 event(s) partially "
                                             "overlapped")));
}

TEST(XPlaneWriterTest, ReservedAndDuplicateLineIdsAreRemapped) {
  Trace trace;
  const NameId a = Intern(&trace, "a");
  for (int64_t tid : {int64_t{0xdeadbeef}, int64_t{7}, int64_t{7}}) {
    ThreadTrack t;
    t.tid = tid;
    t.events.push_back(testing::Scope(a, 1, 2));
    trace.threads.push_back(t);
  }
  const XSpace space = Decode(EncodeXSpace(trace));
  CheckSpaceInvariants(space);
  const XPlane& host = *FindPlane(space, "/host:CPU");
  std::vector<int64_t> ids;
  for (const XLine& l : host.lines()) ids.push_back(l.id());
  EXPECT_THAT(ids, ElementsAre(8, 7, 9));
  EXPECT_EQ(space.warnings_size(), 2);
}

TEST(XPlaneWriterTest, WarningsErrorsAndDropCounts) {
  Trace trace;
  trace.warnings = {"clock drift 3 us"};
  trace.errors = {"CUPTI failed"};
  trace.dropped_host_events = 12;
  trace.dropped_device_events = 3;
  DeviceEvent bad;
  bad.device_id = -1;
  trace.device_events.push_back(bad);
  const XSpace space = Decode(EncodeXSpace(trace));
  EXPECT_THAT(space.errors(), ElementsAre("CUPTI failed"));
  EXPECT_THAT(space.warnings(),
              ElementsAre("clock drift 3 us", HasSubstr("12 host event(s) dropped"),
                          HasSubstr("3 device event(s) dropped"),
                          HasSubstr("1 device event(s) with a negative device id")));
}

TEST(XPlaneWriterTest, SameTraceGivesSameBytes) {
  Trace trace = testing::TrainingLoop({.threads = 3, .steps = 4, .layers = 3, .gpu = true});
  const std::string a = EncodeXSpace(trace);
  const std::string b = EncodeXSpace(trace);
  EXPECT_EQ(a, b);
  // And the encoding is what protobuf itself would write for the decoded message (canonical).
  XSpace space = Decode(a);
  std::string reserialized;
  space.SerializeToString(&reserialized);
  EXPECT_EQ(reserialized.size(), a.size());
}

TEST(XPlaneWriterTest, TypicalHostEventsTakeAtMost16BytesEach) {
  // 200k events on 4 threads, 1 us apart, 0.5 us long: the shape the size goal is stated for.
  const Trace trace = testing::ManyHostEvents(200'000, 4);
  const std::string bytes = EncodeXSpace(trace);
  const double per_event = static_cast<double>(bytes.size()) / 200'000;
  EXPECT_LE(per_event, 16.0);
  const XSpace space = Decode(bytes);
  int64_t events = 0;
  for (const XLine& l : FindPlane(space, "/host:CPU")->lines()) events += l.events_size();
  EXPECT_EQ(events, 200'000);
}

}  // namespace
}  // namespace tbprof::internal

namespace tbprof::internal {
namespace {

TEST(XPlaneWriterTest, TensorFlowLoopMarkerNamesAreRenamed) {
  Trace trace;
  ThreadTrack t;
  t.tid = 1;
  t.events.push_back(testing::Scope(Intern(&trace, "ForOp"), 0, 10));
  t.events.push_back(testing::Scope(Intern(&trace, "ForOpX"), 20, 30));
  trace.threads.push_back(t);
  const XSpace space = Decode(EncodeXSpace(trace));
  CheckSpaceInvariants(space);
  const XPlane& host = *FindPlane(space, "/host:CPU");
  EXPECT_EQ(EventName(host, host.lines(0).events(0)), "ForOp_");
  EXPECT_EQ(EventName(host, host.lines(0).events(1)), "ForOpX");
  EXPECT_THAT(space.warnings(), ElementsAre(HasSubstr("events named 'ForOp'")));
}

TEST(XPlaneWriterTest, MemcpyNamesFollowTheirDirection) {
  Trace trace;
  const std::pair<MemcpyKind, std::string> kCases[] = {
      {MemcpyKind::kHtoD, "MemcpyHToD"},        {MemcpyKind::kDtoH, "MemcpyDToH"},
      {MemcpyKind::kDtoD, "MemcpyDToD"},        {MemcpyKind::kHtoH, "MemcpyHToH"},
      {MemcpyKind::kPtoP, "MemcpyDToD (peer)"}, {MemcpyKind::kUnknown, "Memcpy"}};
  int64_t start = 0;
  for (const auto& [kind, name] : kCases) {
    DeviceEvent e;
    e.kind = DeviceEventKind::kMemcpy;
    e.memcpy_kind = kind;
    e.start_ns = start;
    e.end_ns = start + 5;
    start += 10;
    trace.device_events.push_back(e);
  }
  const XSpace space = Decode(EncodeXSpace(trace));
  CheckSpaceInvariants(space);
  const XPlane& gpu = *FindPlane(space, "/device:GPU:0");
  ASSERT_EQ(gpu.lines_size(), 1);
  EXPECT_EQ(gpu.lines(0).name(), "Stream #0(MemcpyH2D,MemcpyD2H,MemcpyD2D,MemcpyP2P,MemcpyOther)");
  std::vector<std::string> names;
  for (const XEvent& e : gpu.lines(0).events()) names.push_back(EventName(gpu, e));
  EXPECT_THAT(names, ElementsAre("MemcpyHToD", "MemcpyDToH", "MemcpyDToD", "MemcpyHToH",
                                 "MemcpyDToD (peer)", "Memcpy"));
  // A plane without DeviceInfo has no capability stats.
  EXPECT_EQ(gpu.stats_size(), 0);
}

}  // namespace
}  // namespace tbprof::internal

namespace tbprof::internal {
namespace {

// Random traces with arbitrary overlaps, unsorted input, inverted events, duplicate names and
// thread ids, several GPUs and streams: whatever comes in, the file parses, satisfies every
// invariant of CheckSpaceInvariants, keeps every event, and is the same bytes twice.
TEST(XPlaneWriterTest, RandomTracesAlwaysGiveValidFiles) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(seed);
    uint64_t state = seed * 0x9E3779B97F4A7C15ull;
    auto next = [&state](uint64_t n) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      return state % n;
    };
    Trace trace;
    trace.hostname = "h";
    for (int i = 0; i < 6; ++i) trace.names.push_back(i == 5 ? "n0" : "n" + std::to_string(i));
    trace.ops.push_back({.name = "s/op", .type = "Op"});
    size_t host_events = 0;
    const int threads = static_cast<int>(next(4));
    for (int t = 0; t < threads; ++t) {
      ThreadTrack track;
      track.tid = static_cast<int64_t>(next(3));  // Duplicates on purpose.
      const int n = static_cast<int>(next(50));
      for (int i = 0; i < n; ++i) {
        HostEvent e;
        e.start_ns = static_cast<int64_t>(next(1000));
        e.end_ns = e.start_ns + static_cast<int64_t>(next(300)) - 20;
        e.name = static_cast<NameId>(next(7));  // 6 is out of range.
        e.kind = static_cast<HostEventKind>(next(4));
        e.step = static_cast<int64_t>(next(5));
        e.correlation_id = next(3);
        e.device_id = static_cast<int32_t>(next(3)) - 1;
        track.events.push_back(e);
      }
      host_events += track.events.size();
      trace.threads.push_back(track);
    }
    const int device_events = static_cast<int>(next(60));
    for (int i = 0; i < device_events; ++i) {
      DeviceEvent e;
      e.start_ns = static_cast<int64_t>(next(1000));
      e.end_ns = e.start_ns + static_cast<int64_t>(next(100));
      e.kind = static_cast<DeviceEventKind>(next(5));
      e.memcpy_kind = static_cast<MemcpyKind>(next(6));
      e.device_id = static_cast<int32_t>(next(3));
      e.stream_id = static_cast<int64_t>(next(3));
      e.correlation_id = next(4);
      e.op_index = static_cast<int32_t>(next(3)) - 1;
      e.name = static_cast<NameId>(next(7));
      trace.device_events.push_back(e);
    }
    if (next(2) == 0) trace.devices.push_back(testing::H100(static_cast<int32_t>(next(3))));
    const std::string bytes = EncodeXSpace(trace);
    EXPECT_EQ(bytes, EncodeXSpace(trace));
    const XSpace space = Decode(bytes);
    CheckSpaceInvariants(space);
    size_t host_out = 0;
    for (const XLine& l : FindPlane(space, "/host:CPU")->lines()) host_out += l.events_size();
    EXPECT_EQ(host_out, host_events);
    int device_out = 0;
    for (const XPlane& p : space.planes()) {
      if (p.name().rfind("/device:GPU:", 0) != 0) continue;
      for (const XLine& l : p.lines()) device_out += l.events_size();
    }
    EXPECT_EQ(device_out, device_events);
  }
}

}  // namespace
}  // namespace tbprof::internal

namespace tbprof::internal {
namespace {

// Kernels of one stream launched with programmatic dependent launch overlap. Each keeps its
// exact start and duration: an overlapping one goes to an extra line of the stream, where it
// overlaps nothing, and nothing is clipped.
Trace OverlappingStream() {
  Trace t;
  const NameId k = Intern(&t, "pdl_kernel");
  auto add = [&](int64_t stream, int64_t start, int64_t end, uint64_t corr) {
    DeviceEvent e = testing::Kernel(k, start, corr, -1);
    e.stream_id = stream;
    e.end_ns = end;
    t.device_events.push_back(e);
  };
  add(7, 1000, 4000, 1);  // Line 0.
  add(7, 3000, 6000, 2);  // Starts before 1 ends: extra line 1.
  add(7, 3500, 3800, 3);  // Inside both: extra line 2.
  add(7, 6500, 7000, 4);  // After all: line 0.
  add(2, 1000, 2000, 5);  // Another stream, no overlap.
  t.devices.push_back(testing::H100(0));
  return t;
}

TEST(XPlaneWriterTest, OverlappingKernelsOfOneStreamKeepExactTimesOnExtraLines) {
  const Trace trace = OverlappingStream();
  const XSpace space = Decode(EncodeXSpace(trace));
  CheckSpaceInvariants(space);
  const XPlane* gpu = FindPlane(space, "/device:GPU:0");
  ASSERT_NE(gpu, nullptr);
  using Interval = std::pair<int64_t, int64_t>;  // (start, duration) in ps.
  std::map<std::string, std::vector<Interval>> lines;
  std::set<int64_t> ids;
  for (const XLine& line : gpu->lines()) {
    ids.insert(line.id());
    for (const XEvent& e : line.events()) {
      lines[line.name()].push_back({line.timestamp_ns() * 1000 + e.offset_ps(), e.duration_ps()});
    }
  }
  const std::map<std::string, std::vector<Interval>> expected = {
      {"Stream #7(Kernel)", {{1'000'000, 3'000'000}, {6'500'000, 500'000}}},
      {"Stream #7(Kernel) overlap 1", {{3'000'000, 3'000'000}}},
      {"Stream #7(Kernel) overlap 2", {{3'500'000, 300'000}}},
      {"Stream #2(Kernel)", {{1'000'000, 1'000'000}}},
  };
  EXPECT_EQ(lines, expected);
  EXPECT_EQ(ids, (std::set<int64_t>{2, 7, 9, 10}));  // 8 is the overhead line's.
  for (const std::string& w : space.warnings())
    EXPECT_THAT(w, ::testing::Not(HasSubstr("clipped")));
}

}  // namespace
}  // namespace tbprof::internal
