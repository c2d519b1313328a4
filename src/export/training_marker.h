// The signal that makes TensorBoard's Profile tab (xprof) call a profile a training job.
//
// xprof's overview page says "Is training job: true" only when an HLO module stored in the
// XSpace's "/host:metadata" plane has an instruction whose TensorFlow op name (metadata op_name,
// with a TensorFlow op type) lies under a name scope "gradient_tape" or "gradients[...]" (its
// model tracker); nothing on the host or device timelines is read for it. tbprof has no HLO, so
// a training export carries one small module written for that purpose only: module
// "tbprof_training_job", entry computation "main" with a single f32[] parameter "training",
// whose metadata is op_type "NoOp", op_name "gradient_tape/training". xprof also lists
// memory_viewer and graph_viewer for any profile holding an HLO module; for this one they show
// that single instruction.
#ifndef TBPROF_SRC_EXPORT_TRAINING_MARKER_H_
#define TBPROF_SRC_EXPORT_TRAINING_MARKER_H_

#include <cstdint>
#include <string>

namespace tbprof::internal {

// The plane name xprof reads HLO modules from, and the names of the stats of its event metadata.
inline constexpr char kMetadataPlaneName[] = "/host:metadata";
inline constexpr char kHloProtoStatName[] = "Hlo Proto";
inline constexpr char kProgramIdStatName[] = "program_id";

// The serialized xla.HloProto of the marker module described above. Pure; thread-safe.
std::string EncodeTrainingMarkerHloProto();

// The serialized tensorflow.profiler.XPlane "/host:metadata" (id `plane_id`) holding the marker
// module: one event metadata (id 1, named after the module) with the stats "Hlo Proto" (bytes)
// and "program_id" (uint64 1). Pure; thread-safe.
std::string EncodeTrainingMarkerPlane(int64_t plane_id);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_EXPORT_TRAINING_MARKER_H_
