#include "src/export/training_marker.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/export/xplane_writer.h"
#include "tensorflow/profiler/xplane.pb.h"
#include "tests/unit/export/synthetic_trace.h"

namespace tbprof::internal {
namespace {

using ::tensorflow::profiler::XPlane;
using ::tensorflow::profiler::XSpace;
using ::tensorflow::profiler::XStat;
using ::testing::ElementsAre;
using testing::TrainingLoop;

// A protobuf message read back field by field (no xla protos here): field number -> the values
// of its occurrences, varints as numbers, length-delimited fields as bytes.
struct Fields {
  std::map<uint32_t, std::vector<uint64_t>> varints;
  std::map<uint32_t, std::vector<std::string>> bytes;
};

bool ReadVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80u) == 0) return true;
  }
  return false;
}

Fields Parse(std::string_view in) {
  Fields f;
  while (!in.empty()) {
    uint64_t key = 0, v = 0;
    EXPECT_TRUE(ReadVarint(&in, &key));
    const uint32_t field = static_cast<uint32_t>(key >> 3);
    if ((key & 7) == 0) {
      EXPECT_TRUE(ReadVarint(&in, &v));
      f.varints[field].push_back(v);
    } else if ((key & 7) == 2) {
      EXPECT_TRUE(ReadVarint(&in, &v));
      EXPECT_LE(v, in.size());
      f.bytes[field].push_back(std::string(in.substr(0, v)));
      in.remove_prefix(v);
    } else {
      ADD_FAILURE() << "unexpected wire type " << (key & 7);
      break;
    }
  }
  return f;
}

const std::string& One(const Fields& f, uint32_t field) {
  static const std::string kEmpty;
  auto it = f.bytes.find(field);
  EXPECT_TRUE(it != f.bytes.end() && it->second.size() == 1) << "field " << field;
  return it == f.bytes.end() || it->second.empty() ? kEmpty : it->second[0];
}

TEST(TrainingMarkerTest, HloModuleHasOneParameterUnderAGradientTapeScope) {
  // HloProto.hlo_module -> HloModuleProto.
  const Fields module = Parse(One(Parse(EncodeTrainingMarkerHloProto()), 1));
  EXPECT_EQ(One(module, 1), "tbprof_training_job");
  EXPECT_EQ(One(module, 2), "main");                  // entry_computation_name
  EXPECT_THAT(module.varints.at(6), ElementsAre(1));  // entry_computation_id
  const Fields comp = Parse(One(module, 3));
  EXPECT_EQ(One(comp, 1), "main");
  EXPECT_THAT(comp.varints.at(5), ElementsAre(1));  // id
  EXPECT_THAT(comp.varints.at(6), ElementsAre(1));  // root_id
  const Fields instr = Parse(One(comp, 2));
  EXPECT_EQ(One(instr, 2), "parameter");
  EXPECT_THAT(instr.varints.at(35), ElementsAre(1));                 // id = root_id
  EXPECT_THAT(Parse(One(instr, 3)).varints.at(2), ElementsAre(11));  // F32
  const Fields metadata = Parse(One(instr, 7));
  EXPECT_EQ(One(metadata, 1), "NoOp");
  EXPECT_EQ(One(metadata, 2), "gradient_tape/training");
  // The entry's program shape takes the parameter and returns it.
  const Fields program = Parse(One(comp, 4));
  EXPECT_EQ(program.bytes.at(1).size(), 1u);
  EXPECT_EQ(One(program, 3), "training");
}

TEST(TrainingMarkerTest, XSpaceOfATrainingJobCarriesTheModuleInAMetadataPlane) {
  Trace trace = TrainingLoop({});
  trace.training = true;
  XSpace space;
  ASSERT_TRUE(space.ParseFromString(EncodeXSpace(trace)));
  std::vector<std::string> names;
  for (const XPlane& p : space.planes()) names.push_back(p.name());
  EXPECT_THAT(names, ElementsAre("/host:CPU", "Task Environment", "/host:metadata"));
  const XPlane& plane = space.planes(2);
  ASSERT_EQ(plane.event_metadata().size(), 1);
  const auto& meta = plane.event_metadata().at(1);
  EXPECT_EQ(meta.name(), "tbprof_training_job");
  std::map<std::string, const XStat*> stats;
  for (const XStat& s : meta.stats()) stats[plane.stat_metadata().at(s.metadata_id()).name()] = &s;
  ASSERT_EQ(stats.count("Hlo Proto"), 1u);
  EXPECT_EQ(stats["Hlo Proto"]->bytes_value(), EncodeTrainingMarkerHloProto());
  ASSERT_EQ(stats.count("program_id"), 1u);
  EXPECT_EQ(stats["program_id"]->uint64_value(), 1u);
  // Its stat names are among those the writer declares (tbprof validate relies on it).
  size_t n = 0;
  const std::string_view* declared = XSpaceStatNames(&n);
  for (const auto& [name, stat] : stats) {
    EXPECT_NE(std::find(declared, declared + n, name), declared + n) << name;
  }
}

TEST(TrainingMarkerTest, OtherExportsHaveNoMetadataPlane) {
  const Trace trace = TrainingLoop({});
  XSpace space;
  ASSERT_TRUE(space.ParseFromString(EncodeXSpace(trace)));
  for (const XPlane& p : space.planes()) EXPECT_NE(p.name(), "/host:metadata");
}

}  // namespace
}  // namespace tbprof::internal
