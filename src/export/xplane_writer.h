// Trace -> serialized tensorflow.profiler.XSpace (the `<host>.xplane.pb` TensorBoard's Profile
// tab reads). Pure: the same Trace gives the same bytes. Follows spec §1-3: plane "/host:CPU"
// with one line per thread, "/device:GPU:<n>" planes with stream lines, "Task Environment",
// session-relative line timestamps, stats identified by name.
#ifndef TBPROF_SRC_EXPORT_XPLANE_WRITER_H_
#define TBPROF_SRC_EXPORT_XPLANE_WRITER_H_

#include <string>
#include <string_view>

#include "src/trace/trace_data.h"

namespace tbprof::internal {

// Encodes `trace` straight to the protobuf wire format (no message objects per event; the
// output is sized once and written in place, about 15 bytes per typical host event).
//
// Planes, in order: "/host:CPU" (id 49, one line per ThreadTrack, id = tid), one
// "/device:GPU:<n>" per ordinal (id n; a line per stream "Stream #<id>(<types>)", extra lines
// "Stream #<id>(<types>) overlap <k>" for events that overlap others of the stream, plus
// "CUPTI overhead"), "Task Environment" (profile_start_time / profile_stop_time), and for a
// training job (Trace::training) "/host:metadata" with the HLO module xprof reads "Is training
// job" from (src/export/training_marker.h). Each line's timestamp_ns is its first event's start,
// relative to the trace start. Input that breaks the
// line rules (unsorted, partially overlapping or inverted events, duplicate or reserved line
// ids, TensorFlow loop-marker names, ill-formed UTF-8) is repaired, and each repair is listed in
// XSpace.warnings after the Trace's own warnings and drop counts.
//
// Thread-safe (no shared state); the result does not refer to `trace`.
std::string EncodeXSpace(const Trace& trace);

// The names of every stat EncodeXSpace may write (its XStatMetadata names), so that readers can
// tell tbprof's own files from other producers'. Static storage; thread-safe.
const std::string_view* XSpaceStatNames(size_t* count);

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_EXPORT_XPLANE_WRITER_H_
