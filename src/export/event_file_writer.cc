#include "src/export/event_file_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/export/crc32c.h"
#include "src/util/file_util.h"
#include "src/util/strings.h"
#include "tensorflow/event.pb.h"

namespace tbprof::internal {
namespace {

constexpr char kFileVersion[] = "brain.Event:2";
// Attempts at a free file name before giving up (".1" ... ".<n>" after the plain name).
constexpr int kMaxNameAttempts = 1000;

int64_t MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

double WallTimeSeconds() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count();
}

void PutLe32(uint32_t v, char* out) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out, &v, 4);
  } else {
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xffu);
  }
}

void PutLe64(uint64_t v, char* out) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out, &v, 8);
  } else {
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xffu);
  }
}

// The buffer holds whole framed records only, so their lengths locate every boundary:
// returns the bytes of the whole records among the first `prefix` bytes of `framed`.
size_t WholeRecordBytes(std::string_view framed, size_t prefix) {
  size_t at = 0;
  while (framed.size() - at >= 16) {
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i)
      length = (length << 8) | static_cast<unsigned char>(framed[at + i]);
    size_t end = at + 16 + static_cast<size_t>(length);
    if (end > prefix) break;
    at = end;
  }
  return at;
}

size_t CountRecords(std::string_view framed) {
  size_t n = 0;
  size_t at = 0;
  while (framed.size() - at >= 16) {
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i)
      length = (length << 8) | static_cast<unsigned char>(framed[at + i]);
    at += 16 + static_cast<size_t>(length);
    ++n;
  }
  return n;
}

// Adds `extra` to the message of `status`, keeping its code.
absl::Status WithContext(const absl::Status& status, std::string_view extra) {
  return absl::Status(status.code(), absl::StrCat(status.message(), "; ", AsAbsl(extra)));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PosixFileSink

absl::StatusOr<std::unique_ptr<PosixFileSink>> PosixFileSink::CreateNew(std::string path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  return std::unique_ptr<PosixFileSink>(new PosixFileSink(fd, std::move(path)));
}

PosixFileSink::~PosixFileSink() {
  if (fd_ >= 0) close(fd_);
}

absl::Status PosixFileSink::WriteAt(uint64_t offset, std::string_view data, size_t* written) {
  *written = 0;
  if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat("write ", path_, ": closed"));
  while (*written < data.size()) {
    ssize_t n = pwrite(fd_, data.data() + *written, data.size() - *written,
                       static_cast<off_t>(offset + *written));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path_);
    }
    if (n == 0) return ErrnoStatus(EIO, "write", path_);
    *written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status PosixFileSink::Truncate(uint64_t length) {
  if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat("truncate ", path_, ": closed"));
  while (ftruncate(fd_, static_cast<off_t>(length)) != 0) {
    if (errno != EINTR) return ErrnoStatus(errno, "truncate", path_);
  }
  return absl::OkStatus();
}

absl::Status PosixFileSink::Close() {
  if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat("close ", path_, ": closed"));
  int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0 && errno != EINTR) return ErrnoStatus(errno, "close", path_);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// EventFileWriter

namespace {

// Writes the framed record of `data` (12 + data.size() + 4 bytes) at `out`.
inline void FrameRecord(std::string_view data, char* out) {
  PutLe64(data.size(), out);
  PutLe32(MaskCrc32c(Crc32c(out, 8)), out + 8);
  if (!data.empty()) std::memcpy(out + 12, data.data(), data.size());
  PutLe32(MaskCrc32c(Crc32c(data)), out + 12 + data.size());
}

}  // namespace

void EventFileWriter::AppendFramedRecord(std::string_view data, std::string* out) {
  size_t at = out->size();
  out->resize(at + data.size() + 16);
  FrameRecord(data, out->data() + at);
}

absl::StatusOr<std::unique_ptr<EventFileWriter>> EventFileWriter::Create(std::string_view logdir,
                                                                         std::string_view suffix) {
  return Create(logdir, suffix, Options());
}

absl::StatusOr<std::unique_ptr<EventFileWriter>> EventFileWriter::Create(std::string_view logdir,
                                                                         std::string_view suffix,
                                                                         const Options& options) {
  if (logdir.empty()) return absl::InvalidArgumentError("event file: empty log directory path");
  if (suffix.find('/') != std::string_view::npos || suffix.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("event file: suffix \"", AsAbsl(suffix), "\" must not contain '/' or NUL"));
  }
  if (absl::Status s = MakeDirs(logdir); !s.ok()) return s;

  std::string host = Hostname();
  std::replace(host.begin(), host.end(), '/', '_');
  const std::string stem =
      absl::StrFormat("events.out.tfevents.%010d.%s.%d", static_cast<int64_t>(time(nullptr)), host,
                      static_cast<int>(getpid()));
  std::unique_ptr<PosixFileSink> sink;
  std::string final_path;
  for (int attempt = 0; attempt < kMaxNameAttempts && sink == nullptr; ++attempt) {
    std::string name = attempt == 0 ? absl::StrCat(stem, AsAbsl(suffix))
                                    : absl::StrCat(stem, ".", attempt, AsAbsl(suffix));
    final_path = JoinPath(logdir, name);
    std::string create_path = final_path;
    if (!options.temp_prefix.empty()) {
      if (access(final_path.c_str(), F_OK) == 0) continue;
      // The temporary name reserves the final one among this process's writers (O_EXCL).
      std::string hidden = name;
      hidden.replace(hidden.find("tfevents"), 8, "pending");
      create_path = JoinPath(logdir, absl::StrCat(options.temp_prefix, getpid(), ".", hidden));
    }
    auto created = PosixFileSink::CreateNew(create_path);
    if (created.ok()) {
      sink = *std::move(created);
    } else if (!absl::IsAlreadyExists(created.status())) {
      return created.status();
    }
  }
  if (sink == nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("event file: no free name for ", stem, "*",
                                                 AsAbsl(suffix), " in ", AsAbsl(logdir)));
  }
  std::string path = sink->path();
  if (options.temp_prefix.empty()) final_path.clear();
  auto writer = CreateWithSink(std::move(sink), options, std::move(final_path));
  if (!writer.ok()) unlink(path.c_str());  // never leave a file without its version record
  return writer;
}

absl::StatusOr<std::unique_ptr<EventFileWriter>> EventFileWriter::CreateWithSink(
    std::unique_ptr<WriteSink> sink, const Options& options) {
  return CreateWithSink(std::move(sink), options, "");
}

absl::StatusOr<std::unique_ptr<EventFileWriter>> EventFileWriter::CreateWithSink(
    std::unique_ptr<WriteSink> sink, const Options& options, std::string final_path) {
  if (sink == nullptr) return absl::InvalidArgumentError("event file: null sink");
  std::unique_ptr<EventFileWriter> writer(
      new EventFileWriter(std::move(sink), options, std::move(final_path)));
  tensorflow::Event first;
  first.set_wall_time(WallTimeSeconds());
  first.set_file_version(kFileVersion);
  if (absl::Status s = writer->Append(first.SerializeAsString()); !s.ok()) return s;
  if (absl::Status s = writer->Flush(); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(writer->mu_);
  writer->publish_after_ = writer->file_size_;
  return writer;
}

EventFileWriter::EventFileWriter(std::unique_ptr<WriteSink> sink, const Options& options,
                                 std::string final_path)
    : options_(options),
      path_(final_path.empty() ? sink->path() : final_path),
      sink_(std::move(sink)) {
  if (!final_path.empty()) {
    temp_path_ = sink_->path();
    publish_after_ = ~uint64_t{0};  // Set once the file-version record is written.
  }
  Reserve(options_.buffer_bytes + 4096);
}

bool EventFileWriter::published() {
  std::lock_guard<std::mutex> lock(mu_);
  return temp_path_.empty();
}

absl::Status EventFileWriter::PublishLocked() {
  // link() refuses to replace a file that took the name meanwhile.
  if (link(temp_path_.c_str(), path_.c_str()) != 0) return ErrnoStatus(errno, "link", path_);
  unlink(temp_path_.c_str());
  temp_path_.clear();
  return absl::OkStatus();
}

void EventFileWriter::Reserve(size_t more) {
  if (capacity_ - used_ >= more) return;
  size_t capacity = std::max(capacity_ * 2, used_ + more);
  std::unique_ptr<char[]> bigger(new char[capacity]);
  if (used_ > 0) std::memcpy(bigger.get(), buffer_.get(), used_);
  buffer_ = std::move(bigger);
  capacity_ = capacity;
}

EventFileWriter::~EventFileWriter() { Close().IgnoreError(); }

absl::Status EventFileWriter::Append(std::string_view serialized_event) {
  std::lock_guard<std::mutex> lock(mu_);
  if (sink_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("event file ", path_, " is closed"));
  }
  const bool was_empty = used_ == 0;
  const size_t start = used_;
  Reserve(serialized_event.size() + 16);
  FrameRecord(serialized_event, buffer_.get() + used_);
  used_ += serialized_event.size() + 16;
  bool write_now = used_ >= options_.buffer_bytes;
  if (options_.max_delay_ms > 0) {
    int64_t now = MonotonicMs();
    if (was_empty) oldest_buffered_ms_ = now;
    write_now = write_now || now - oldest_buffered_ms_ >= options_.max_delay_ms;
  }
  if (!write_now) return absl::OkStatus();
  const size_t size_before = used_;
  absl::Status s = WriteBufferLocked();
  if (!s.ok() && used_ > 0) {
    // A failed write never completes the buffer's last record, which is this call's: take it
    // back so that an error means "not in the file". WriteBufferLocked only drops whole
    // records from the front, so this record now starts where the buffer shrank to.
    used_ = start - (size_before - used_);
  }
  return s;
}

absl::Status EventFileWriter::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (sink_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("event file ", path_, " is closed"));
  }
  return WriteBufferLocked();
}

absl::Status EventFileWriter::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (sink_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("event file ", path_, " is closed"));
  }
  absl::Status s = WriteBufferLocked();
  if (!s.ok() && used_ > 0) {
    s = WithContext(s, absl::StrCat(CountRecords(Pending()), " records not written"));
  }
  absl::Status c = sink_->Close();
  sink_.reset();
  used_ = 0;
  if (!temp_path_.empty()) unlink(temp_path_.c_str());  // Never got a record to show.
  return s.ok() ? c : s;
}

uint64_t EventFileWriter::Mark() {
  std::lock_guard<std::mutex> lock(mu_);
  return file_size_ + used_;
}

absl::Status EventFileWriter::RollbackTo(uint64_t mark) {
  std::lock_guard<std::mutex> lock(mu_);
  if (mark >= file_size_) {
    // Only buffered records follow the mark: keep the whole ones before it.
    used_ = WholeRecordBytes(Pending(), static_cast<size_t>(mark - file_size_));
    return absl::OkStatus();
  }
  used_ = 0;
  file_size_ = mark;
  torn_tail_ = true;  // Cut now; retried before the next write if this fails.
  if (sink_ == nullptr) return absl::OkStatus();
  if (absl::Status s = sink_->Truncate(file_size_); !s.ok()) return s;
  torn_tail_ = false;
  return absl::OkStatus();
}

absl::Status EventFileWriter::WriteBufferLocked() {
  if (torn_tail_) {
    if (absl::Status s = sink_->Truncate(file_size_); !s.ok()) return s;
    torn_tail_ = false;
  }
  if (used_ == 0) return absl::OkStatus();
  size_t written = 0;
  absl::Status s = sink_->WriteAt(file_size_, Pending(), &written);
  if (s.ok()) {
    file_size_ += used_;
    used_ = 0;
    if (!temp_path_.empty() && file_size_ > publish_after_) {
      if (absl::Status p = PublishLocked(); !p.ok()) return p;
    }
    if (capacity_ > 4 * (options_.buffer_bytes + 4096)) {  // grown for a huge record: give back
      buffer_.reset();
      capacity_ = 0;
      Reserve(options_.buffer_bytes + 4096);
    }
    return s;
  }
  // Keep the records that reached the file whole; cut off the one that did not.
  const size_t complete = WholeRecordBytes(Pending(), written);
  std::string note;
  if (written > complete) {
    if (absl::Status t = sink_->Truncate(file_size_ + complete); !t.ok()) {
      torn_tail_ = true;  // retried before the next write
      note = absl::StrCat("; could not cut the partial record: ", t.message());
    }
  }
  file_size_ += complete;
  if (complete > 0) std::memmove(buffer_.get(), buffer_.get() + complete, used_ - complete);
  used_ -= complete;
  if (used_ > options_.max_pending_bytes) {
    absl::StrAppend(&note, "; dropped ", CountRecords(Pending()), " unwritten records (", used_,
                    " bytes)");
    used_ = 0;
  }
  return absl::Status(
      s.code(), absl::StrCat(s.message(), "; the event file ends at its last complete record (",
                             file_size_, " bytes)", note));
}

}  // namespace tbprof::internal
