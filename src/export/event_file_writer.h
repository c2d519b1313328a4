// The TensorBoard event file: a TFRecord file (spec §4.2) of serialized tensorflow.Event
// messages, named `events.out.tfevents.<%010d secs>.<host>.<pid><suffix>` (spec §4.1) and
// starting with Event{wall_time, file_version:"brain.Event:2"}.
//
// Records are framed and buffered in memory, then written with one write per buffer. A write
// that fails part-way is rolled back: the file is truncated to the end of the last complete
// record, so TensorBoard never reads a torn record followed by more records.
#ifndef TBPROF_SRC_EXPORT_EVENT_FILE_WRITER_H_
#define TBPROF_SRC_EXPORT_EVENT_FILE_WRITER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tbprof::internal {

// Where the framed bytes go. The writer owns one sink; calls are serialized by the writer.
// Production uses PosixFileSink; tests wrap it to inject failures.
class WriteSink {
 public:
  virtual ~WriteSink() = default;

  // Writes `data` at byte `offset` of the file. On failure sets `*written` to the number of
  // bytes that did reach the file (0 <= *written < data.size()) and returns an error naming the
  // file and the OS error; on success `*written == data.size()`.
  virtual absl::Status WriteAt(uint64_t offset, std::string_view data, size_t* written) = 0;

  // Cuts the file to `length` bytes.
  virtual absl::Status Truncate(uint64_t length) = 0;

  // Closes the file. Further calls fail.
  virtual absl::Status Close() = 0;

  // The file's path, for messages.
  virtual const std::string& path() const = 0;
};

// A sink on a POSIX file descriptor (pwrite, ftruncate).
class PosixFileSink : public WriteSink {
 public:
  // Creates `path`, which must not exist (O_EXCL). AlreadyExists when it does; otherwise the
  // error of open(2) naming the path.
  static absl::StatusOr<std::unique_ptr<PosixFileSink>> CreateNew(std::string path);

  ~PosixFileSink() override;
  absl::Status WriteAt(uint64_t offset, std::string_view data, size_t* written) override;
  absl::Status Truncate(uint64_t length) override;
  absl::Status Close() override;
  const std::string& path() const override { return path_; }

 private:
  PosixFileSink(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

// Appends serialized tensorflow.Event records to one event file.
//
// Thread-safety: all methods may be called concurrently; one mutex serializes them, so records
// never interleave. Append() does not block on I/O unless the buffer is full (or older than
// Options::max_delay_ms), in which case the calling thread writes it.
class EventFileWriter {
 public:
  struct Options {
    // Framed bytes buffered before they are written with one write.
    size_t buffer_bytes = 256 * 1024;
    // An Append writes the buffer when its oldest record waited at least this long, so a
    // TensorBoard reading the file during a run sees data without an explicit Flush. 0: only
    // the size limit and Flush() write.
    int64_t max_delay_ms = 5000;
    // Records that could not be written (failed writes) are kept and retried at the next write
    // while they fit in this many bytes; beyond it they are dropped and the error says so.
    size_t max_pending_bytes = 16 * 1024 * 1024;
    // Non-empty: the file is created as "<logdir>/<temp_prefix><pid>.<name without
    // 'tfevents'>" (a name TensorBoard does not list) and takes its final name when a record
    // after the file-version record is written, so a kill leaves no empty event file where
    // TensorBoard reads. A file that never got one is removed by Close.
    std::string temp_prefix;
  };

  // Creates `logdir` (and parents) and a new event file in it:
  // `events.out.tfevents.<secs>.<hostname>.<pid>[.<n>]<suffix>`, where `.<n>` is added for the
  // second and later file this process opens in the same second in the same directory, so
  // names never collide. Writes and flushes the file-version record.
  // Errors: InvalidArgument (empty logdir, suffix with '/'), the MakeDirs/open/write errors
  // naming the path (PermissionDenied, NotFound, FailedPrecondition, ...).
  static absl::StatusOr<std::unique_ptr<EventFileWriter>> Create(std::string_view logdir,
                                                                 std::string_view suffix);
  static absl::StatusOr<std::unique_ptr<EventFileWriter>> Create(std::string_view logdir,
                                                                 std::string_view suffix,
                                                                 const Options& options);

  // Writes to `sink` (a new, empty file): the file-version record first, then as Create.
  static absl::StatusOr<std::unique_ptr<EventFileWriter>> CreateWithSink(
      std::unique_ptr<WriteSink> sink, const Options& options);
  // As above; a non-empty `final_path` is the name `sink`'s file takes (link) once a record
  // after the file-version record is written (see Options::temp_prefix).
  static absl::StatusOr<std::unique_ptr<EventFileWriter>> CreateWithSink(
      std::unique_ptr<WriteSink> sink, const Options& options, std::string final_path);

  // Flushes and closes; errors at this point are lost (call Close() to see them).
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  // Appends one record holding `serialized_event` (a serialized tensorflow.Event). OK means the
  // record is buffered (or written). On error (the error of the write that failed, naming the
  // path) this record is not in the file and never will be; the writer stays usable.
  absl::Status Append(std::string_view serialized_event);

  // Writes every buffered record. On error the file ends at its last complete record and the
  // unwritten records are kept for the next attempt (see Options::max_pending_bytes).
  absl::Status Flush();

  // The end of the records appended so far (bytes in the file plus buffered bytes): a point
  // RollbackTo can return to, so that a group of records is in the file whole or not at all.
  uint64_t Mark();

  // Forgets every record appended after `mark` (a value of Mark()): buffered ones are dropped,
  // written ones are cut off the file. Use it when the writer has a single user (appends of
  // other threads after the mark would be lost too). A failed truncation is retried before
  // the next write, so later records still follow the mark. Errors: the truncation's.
  absl::Status RollbackTo(uint64_t mark);

  // Flush, then close the file. Later calls return FailedPrecondition.
  absl::Status Close();

  // The event file's path (its final name, also while it has a temporary one).
  const std::string& path() const { return path_; }

  // False while the file still has its temporary name (Options::temp_prefix).
  bool published();

  // Frames `data` as one TFRecord and appends it to `*out`:
  // u64le length, u32le masked crc(length), data, u32le masked crc(data).
  static void AppendFramedRecord(std::string_view data, std::string* out);

 private:
  EventFileWriter(std::unique_ptr<WriteSink> sink, const Options& options,
                  std::string final_path = "");
  absl::Status PublishLocked();
  absl::Status WriteBufferLocked();
  std::string_view Pending() const { return {buffer_.get(), used_}; }
  // Makes room for `more` bytes after used_.
  void Reserve(size_t more);

  const Options options_;
  const std::string path_;
  std::mutex mu_;
  std::unique_ptr<WriteSink> sink_;  // null once closed
  // Framed records not yet in the file (whole records only): used_ bytes of a capacity_-byte
  // block, filled in place without zeroing.
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t used_ = 0;
  uint64_t file_size_ = 0;          // bytes of complete records in the file
  int64_t oldest_buffered_ms_ = 0;  // monotonic time of the first buffered record
  bool torn_tail_ = false;          // a failed write left bytes after file_size_
  // Options::temp_prefix: the temporary name while unpublished, and the size the file must
  // exceed (the file-version record) to be published.
  std::string temp_path_;
  uint64_t publish_after_ = 0;
};

}  // namespace tbprof::internal

#endif  // TBPROF_SRC_EXPORT_EVENT_FILE_WRITER_H_
