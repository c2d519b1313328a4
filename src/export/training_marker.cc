#include "src/export/training_marker.h"

#include <string>
#include <string_view>

#include "src/export/proto_wire.h"

namespace tbprof::internal {
namespace {

using wire::BytesField;
using wire::Int64Field;
using wire::Message;
using wire::SizeSink;
using wire::VarintField;
using wire::WriteSink;

// Field numbers of xla/service/hlo.proto and xla/xla_data.proto.
namespace hlo {
constexpr uint32_t kProtoModule = 1;  // HloProto.hlo_module
// HloModuleProto
constexpr uint32_t kModuleName = 1, kModuleEntryName = 2, kModuleComputations = 3,
                   kModuleHostProgramShape = 4, kModuleId = 5, kModuleEntryId = 6;
// HloComputationProto
constexpr uint32_t kCompName = 1, kCompInstructions = 2, kCompProgramShape = 4, kCompId = 5,
                   kCompRootId = 6;
// HloInstructionProto
constexpr uint32_t kInstrName = 1, kInstrOpcode = 2, kInstrShape = 3, kInstrMetadata = 7,
                   kInstrParameterNumber = 9, kInstrId = 35;
// OpMetadata
constexpr uint32_t kMetaOpType = 1, kMetaOpName = 2;
// ShapeProto: element_type (PrimitiveType F32 = 11), layout.
constexpr uint32_t kShapeElementType = 2, kShapeLayout = 5;
constexpr uint64_t kF32 = 11;
// ProgramShapeProto
constexpr uint32_t kProgParameters = 1, kProgResult = 2, kProgParameterNames = 3;
}  // namespace hlo

// Field numbers of tensorflow.profiler's xplane.proto.
namespace xp {
constexpr uint32_t kPlaneId = 1, kPlaneName = 2, kPlaneEventMetadata = 4, kPlaneStatMetadata = 5;
constexpr uint32_t kMapKey = 1, kMapValue = 2;
constexpr uint32_t kMetaId = 1, kMetaName = 2, kEventMetaStats = 5;
constexpr uint32_t kStatMetadataId = 1, kStatUint64 = 3, kStatBytes = 6;
}  // namespace xp

constexpr char kModuleName[] = "tbprof_training_job";
constexpr char kParameterName[] = "training";
constexpr int64_t kHloProtoStatId = 1, kProgramIdStatId = 2;

template <typename S>
void ScalarF32(S& s, uint32_t field) {
  Message(s, field, [](auto& m) {
    VarintField(m, hlo::kShapeElementType, hlo::kF32);
    BytesField(m, hlo::kShapeLayout, "");  // A scalar's layout: no dimensions.
  });
}

template <typename S>
void ProgramShape(S& s, uint32_t field) {
  Message(s, field, [](auto& m) {
    ScalarF32(m, hlo::kProgParameters);
    ScalarF32(m, hlo::kProgResult);
    BytesField(m, hlo::kProgParameterNames, kParameterName);
  });
}

template <typename S>
void HloProtoBody(S& s) {
  Message(s, hlo::kProtoModule, [](auto& module) {
    BytesField(module, hlo::kModuleName, kModuleName);
    BytesField(module, hlo::kModuleEntryName, "main");
    Message(module, hlo::kModuleComputations, [](auto& comp) {
      BytesField(comp, hlo::kCompName, "main");
      Message(comp, hlo::kCompInstructions, [](auto& instr) {
        BytesField(instr, hlo::kInstrName, kParameterName);
        BytesField(instr, hlo::kInstrOpcode, "parameter");
        ScalarF32(instr, hlo::kInstrShape);
        Message(instr, hlo::kInstrMetadata, [](auto& meta) {
          BytesField(meta, hlo::kMetaOpType, "NoOp");
          BytesField(meta, hlo::kMetaOpName, "gradient_tape/training");
        });
        Int64Field(instr, hlo::kInstrParameterNumber, 0);
        Int64Field(instr, hlo::kInstrId, 1);
      });
      ProgramShape(comp, hlo::kCompProgramShape);
      Int64Field(comp, hlo::kCompId, 1);
      Int64Field(comp, hlo::kCompRootId, 1);
    });
    ProgramShape(module, hlo::kModuleHostProgramShape);
    Int64Field(module, hlo::kModuleId, 1);
    Int64Field(module, hlo::kModuleEntryId, 1);
  });
}

template <typename S>
void StatMetadata(S& s, int64_t id, std::string_view name) {
  Message(s, xp::kPlaneStatMetadata, [&](auto& entry) {
    Int64Field(entry, xp::kMapKey, id);
    Message(entry, xp::kMapValue, [&](auto& m) {
      Int64Field(m, xp::kMetaId, id);
      BytesField(m, xp::kMetaName, name);
    });
  });
}

template <typename Body>
std::string Encode(const Body& body) {
  SizeSink size;
  body(size);
  std::string out(size.size(), '\0');
  WriteSink w(out.data());
  body(w);
  return out;
}

}  // namespace

std::string EncodeTrainingMarkerHloProto() {
  return Encode([](auto& s) { HloProtoBody(s); });
}

std::string EncodeTrainingMarkerPlane(int64_t plane_id) {
  const std::string hlo_proto = EncodeTrainingMarkerHloProto();
  return Encode([&](auto& s) {
    Int64Field(s, xp::kPlaneId, plane_id);
    BytesField(s, xp::kPlaneName, kMetadataPlaneName);
    Message(s, xp::kPlaneEventMetadata, [&](auto& entry) {
      Int64Field(entry, xp::kMapKey, 1);
      Message(entry, xp::kMapValue, [&](auto& m) {
        Int64Field(m, xp::kMetaId, 1);
        BytesField(m, xp::kMetaName, kModuleName);
        Message(m, xp::kEventMetaStats, [&](auto& stat) {
          Int64Field(stat, xp::kStatMetadataId, kHloProtoStatId);
          BytesField(stat, xp::kStatBytes, hlo_proto);
        });
        Message(m, xp::kEventMetaStats, [&](auto& stat) {
          Int64Field(stat, xp::kStatMetadataId, kProgramIdStatId);
          VarintField(stat, xp::kStatUint64, 1);
        });
      });
    });
    StatMetadata(s, kHloProtoStatId, kHloProtoStatName);
    StatMetadata(s, kProgramIdStatId, kProgramIdStatName);
  });
}

}  // namespace tbprof::internal
