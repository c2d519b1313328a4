// The host recorder: per-thread buffers of compact records written by the annotations of
// tbprof/annotate.h, collected into a Trace at export.
//
// Records. Each thread writes 8-byte words into fixed-size blocks (64 KiB) taken from a
// process-wide pool (block_pool.h) and given back after collection. The pool's blocks are
// pre-faulted: StartRecording faults 4 MiB in, and while a capture records a refill thread keeps
// blocks ahead of demand (more when a thread finds the pool empty), so the recording threads
// do not page-fault; after a capture the pool keeps about 64 blocks. A scope
// is two words, begin and end:
//   bits  0-31  ticks since the thread's previous record (delta; an absolute-time escape of two
//               words precedes a record whose delta would not fit, and starts every block)
//   bits 32-33  type: 0 begin, 1 end, 2 escape
//   bits 34-63  begin/end: the name id; escape: subtype (4 bits) and name id (26 bits)
// so a recorded scope costs 16 bytes. Steps use an escape followed by the step number.
// Static names (TBPROF_SCOPE) get their id once per call site; dynamic names (name scopes, op
// names, step names) are looked up by a 64-bit hash in a per-thread table and registered the
// first time a thread sees them. Ids index a process-wide name table (append-only).
//
// Ops. An op is identified by a hash of (name-scope path, name, type), looked up in the
// thread's table. The first execution of an op by a thread in a session registers the full
// name "scope/name:Type" (once per process) and copies the op's input/output tensors into the
// session's table (once per op and session: that is the only allocation, under the registry
// lock). Later executions hash the two strings and look the id up: no lock, no allocation.
// The 64-bit hash is trusted (a collision would merge two ops; about 1 in 10^10 for 10^4 ops).
//
// Synchronization. The owner thread appends without locks and publishes its write position
// with a release store; the collector reads below that position. One mutex guards the thread
// registry, the name table, the block pool and the session's op tensors; the owner takes it
// only on slow paths: first record of a thread, new block (once per 8191 words), first sight of
// a name, first record in a new session, thread exit.
//
// Sessions. StartRecording begins a generation; records carry no generation, instead a thread
// whose last records belong to an older generation rewinds its block on its first record in
// the new one (an end record whose begin belonged to an older session is dropped there).
// Threads that exit hand their blocks to the registry; they are collected like live ones.
#ifndef TBPROF_SRC_HOST_RECORDER_H_
#define TBPROF_SRC_HOST_RECORDER_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "src/host/clock.h"
#include "src/trace/trace_data.h"

namespace tbprof::internal {

// Bytes per recorded scope (begin + end record): what TBPROF_MAX_EVENTS is sized with.
inline constexpr int64_t kBytesPerScope = 16;
// Words (8 bytes) per block, after the block's header.
inline constexpr int64_t kBlockWords = 8191;

struct RecorderOptions {
  int host_level = 2;            // 1..3.
  int64_t max_events = 1 << 24;  // Cap on recorded scopes (2 words each) over all threads.
  bool record_tensors = true;    // Keep the tensors of each op's first execution (graph).
  // Ring (flight recorder) mode: the session records forever into per-thread rings of blocks.
  // max_events is then the rings' memory budget (all threads together); a thread that needs a
  // block recycles its own oldest one when that block's records are all older than
  // ring_window_ns (0: no window) or when the budget is spent. See SnapshotRing.
  bool ring = false;
  int64_t ring_window_ns = 0;
};

// Reads the process config once (first annotation or first capture): chooses the clock, arms
// the TBPROF_STEPS capture, installs the fork handlers. Thread-safe, idempotent.
void EnsureInitialized();
// Installs the recorder's fork handlers once (also done by EnsureInitialized). Layers above
// that keep their own locks install theirs after calling this, so that their locks are taken
// first before a fork (the order of the export path). In the child of a fork the recorder
// is consistent and not recording: a capture running in the parent is not continued there,
// the other threads' records are treated as exited, and the child may start its own capture.
void InstallRecorderForkHandlers();
// Re-reads ProcessConfig() (after SetProcessConfig) and re-arms or disarms TBPROF_STEPS. With
// TBPROF=flight it then calls the flight starter (outside the recorder's lock).
void ApplyProcessConfig();
// Sets what ApplyProcessConfig calls when the config asks for the flight recorder: the session
// layer's starter (src/session/flight_recorder.h), registered by that layer, so that the first
// annotation of a TBPROF=flight process starts it without the recorder depending on it.
void SetFlightStarter(void (*start)());
// Arms or disarms the TBPROF_STEPS capture bit (the trace layer disarms it once done).
void SetStepsArmed(bool armed);

// Starts a new recording session. FailedPrecondition when one is recording or a stopped one
// has not been collected or discarded yet.
absl::Status StartRecording(const RecorderOptions& options);
// Stops recording (annotations become no-ops again) and takes the end clock sample.
// Idempotent; no effect when not recording.
void StopRecording();
bool IsRecording();
// Pauses (or resumes) the recording session without ending it: while paused every annotation
// takes the tracing-off path (one relaxed load and a branch), nothing is recorded, and the
// session, its records and (ring mode) its history stay. For measurements comparing recording
// with not recording inside one process (bench/host/flight_bench.cc). Call it where no scope
// is open, or the open scopes' ends are lost. No effect when not recording.
void SetRecordingPaused(bool paused);
// The clock sample taken when the current (or last) session started.
ClockSample RecordingStartSample();

// Moves what the stopped session recorded into `trace`: start/duration/wall times, names,
// one ThreadTrack per thread with events (sorted by start, longer first, nested), ops (one per
// distinct full op name, with the tensors of its first execution) and steps, warnings (drops,
// unbalanced scopes) and dropped_host_events. Gives the blocks back to the pool. Calls
// StopRecording first if needed. FailedPrecondition when no session was started.
absl::Status CollectHostTrace(Trace* trace);
// Ring mode: fills `trace` with what the rings hold now, as CollectHostTrace would, without
// stopping the recording. The threads' filled blocks are detached while they are decoded and
// spliced back after (the threads go on recording into other blocks, up to a quarter of the
// budget more, meanwhile); each thread's block being written is copied under the lock. Scopes
// whose begin was recycled are left out silently; scopes still open end at the snapshot.
// FailedPrecondition when no ring session is recording. Thread-safe; concurrent snapshots are
// taken one after the other.
absl::Status SnapshotRing(Trace* trace);
// Ring mode: changes the window (e.g. to hold more history for a pending request). No-op
// when no ring session is recording.
void SetRingWindow(int64_t window_ns);
// Ring mode: gives back blocks older than the window (also those of exited threads, whose
// records are then forgotten) and blocks beyond the budget. Call periodically.
void MaintainRing();

// Drops what the current or stopped session recorded.
void DiscardRecording();

// Records a step begin (used by the trace layer's StepScope handling). Returns the token for
// ScopeEnd, 0 when nothing was recorded.
uint32_t RecordStepBegin(int64_t step, std::string_view name);

// Statistics for benchmarks and tests.
struct RecorderStats {
  int64_t blocks_in_use = 0;  // Blocks holding records.
  int64_t blocks_pooled = 0;  // Free blocks kept for reuse.
  int64_t words_written = 0;  // Words in the current session's blocks (live threads:
                              // up to their published position).
  int64_t threads = 0;        // Registered thread records.
  int64_t dynamic_names = 0;  // Dynamic names (name scopes, ops, steps) of the current session.
};
RecorderStats GetRecorderStats();

// Returns the heap's free memory to the operating system (glibc: malloc_trim), so that the
// memory of an exported capture is given back, not only freed. Takes milliseconds.
void GiveBackFreedMemory();

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_HOST_RECORDER_H_
