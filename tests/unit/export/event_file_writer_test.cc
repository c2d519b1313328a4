#include "src/export/event_file_writer.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/export/crc32c.h"
#include "src/export/event_file_reader.h"
#include "src/util/file_util.h"
#include "tensorflow/event.pb.h"

namespace tbprof::internal {
namespace {

using ::testing::HasSubstr;

std::string NewTempDir() {
  const char* base = getenv("TBPROF_TEST_TMPDIR");
  std::string root = base != nullptr && *base != '\0' ? base : "/tmp";
  EXPECT_TRUE(MakeDirs(root).ok());
  std::string templ = JoinPath(root, "event_writer_XXXXXX");
  EXPECT_NE(mkdtemp(templ.data()), nullptr) << templ;
  return templ;
}

std::string FileBytes(const std::string& path) {
  std::string bytes;
  EXPECT_TRUE(ReadFile(path, &bytes).ok()) << path;
  return bytes;
}

uint32_t Le32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

uint64_t Le64(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// Splits a TFRecord file by hand, checking both masked CRCs of every record; independent of
// the reader under test.
std::vector<std::string> SplitRecordsByHand(const std::string& file) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < file.size()) {
    EXPECT_GE(file.size() - at, 12u) << "torn header at " << at;
    if (file.size() - at < 12) break;
    uint64_t len = Le64(file, at);
    EXPECT_EQ(Le32(file, at + 8), MaskCrc32c(Crc32c(file.data() + at, 8))) << "at " << at;
    EXPECT_GE(file.size() - at - 12, len + 4) << "torn record at " << at;
    if (file.size() - at - 12 < len + 4) break;
    std::string data = file.substr(at + 12, len);
    EXPECT_EQ(Le32(file, at + 12 + len), MaskCrc32c(Crc32c(data))) << "at " << at;
    out.push_back(data);
    at += 12 + len + 4;
  }
  return out;
}

std::string MakeEvent(int64_t step, const std::string& payload) {
  tensorflow::Event e;
  e.set_wall_time(1.5);
  e.set_step(step);
  e.set_file_version(payload);  // any string field will do as a payload
  return e.SerializeAsString();
}

TEST(EventFileWriterTest, NameFirstRecordAndEveryRecordReadBack) {
  const std::string dir = JoinPath(NewTempDir(), "run/a");  // created by the writer
  const double before = static_cast<double>(time(nullptr)) - 1;
  auto writer = EventFileWriter::Create(dir, ".tbprof");
  ASSERT_TRUE(writer.ok()) << writer.status();
  const std::string path = (*writer)->path();
  const std::string name = path.substr(dir.size() + 1);
  EXPECT_TRUE(
      std::regex_match(name, std::regex(absl::StrCat("events\\.out\\.tfevents\\.[0-9]{10}\\.",
                                                     Hostname(), "\\.", getpid(), "\\.tbprof"))))
      << name;

  std::vector<std::string> written;
  for (int i = 0; i < 500; ++i) {
    written.push_back(MakeEvent(i, std::string(static_cast<size_t>(i * 7 % 3000), 'a' + i % 26)));
    ASSERT_TRUE((*writer)->Append(written.back()).ok());
  }
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_FALSE((*writer)->Append(written[0]).ok());  // closed

  std::vector<std::string> by_hand = SplitRecordsByHand(FileBytes(path));
  ASSERT_EQ(by_hand.size(), written.size() + 1);
  for (size_t i = 0; i < written.size(); ++i) EXPECT_EQ(by_hand[i + 1], written[i]) << i;

  auto events = ReadEventFile(path);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), written.size() + 1);
  EXPECT_EQ((*events)[0].file_version(), "brain.Event:2");
  EXPECT_GE((*events)[0].wall_time(), before);
  EXPECT_LE((*events)[0].wall_time(), static_cast<double>(time(nullptr)) + 1);
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ((*events)[i + 1].SerializeAsString(), written[i]) << i;
  }
}

TEST(EventFileWriterTest, FileVersionRecordIsOnDiskRightAfterCreate) {
  const std::string dir = NewTempDir();
  auto writer = EventFileWriter::Create(dir, ".v2");
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_THAT((*writer)->path(), ::testing::EndsWith(".v2"));
  auto events = ReadEventFile((*writer)->path());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].file_version(), "brain.Event:2");
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  closedir(d);
  return out;
}

TEST(EventFileWriterTest, TempPrefixHidesTheFileUntilItHoldsARecord) {
  const std::string dir = NewTempDir();
  EventFileWriter::Options options;
  options.temp_prefix = ".tbprof-tmp.";
  auto writer = EventFileWriter::Create(dir, ".tbprof", options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  const std::string final_path = (*writer)->path();
  EXPECT_FALSE((*writer)->published());
  EXPECT_NE(access(final_path.c_str(), F_OK), 0);
  std::vector<std::string> entries = Entries(dir);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_THAT(entries[0], ::testing::StartsWith(".tbprof-tmp."));
  EXPECT_THAT(entries[0], ::testing::Not(HasSubstr("tfevents")));  // TensorBoard skips it.
  tensorflow::Event event;
  event.set_step(7);
  ASSERT_TRUE((*writer)->Append(event.SerializeAsString()).ok());
  ASSERT_TRUE((*writer)->Flush().ok());
  EXPECT_TRUE((*writer)->published());
  EXPECT_THAT(Entries(dir), ::testing::ElementsAre(final_path.substr(dir.size() + 1)));
  auto events = ReadEventFile(final_path);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].step(), 7);

  // A writer that never wrote a record leaves nothing behind.
  auto unused = EventFileWriter::Create(dir, ".other", options);
  ASSERT_TRUE(unused.ok());
  ASSERT_TRUE((*unused)->Close().ok());
  EXPECT_EQ(Entries(dir).size(), 1u);
}

TEST(EventFileWriterTest, WritersOpenedInTheSameSecondGetDistinctFiles) {
  const std::string dir = NewTempDir();
  std::vector<std::unique_ptr<EventFileWriter>> writers;
  std::set<std::string> paths;
  for (int i = 0; i < 5; ++i) {
    auto w = EventFileWriter::Create(dir, ".tbprof");
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->Append(MakeEvent(i, "x")).ok());
    paths.insert((*w)->path());
    writers.push_back(*std::move(w));
  }
  EXPECT_EQ(paths.size(), 5u);
  writers.clear();  // closes and flushes
  for (const std::string& p : paths) {
    auto events = ReadEventFile(p);
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_EQ(events->size(), 2u) << p;
  }
}

TEST(EventFileWriterTest, ConcurrentAppendsNeverInterleave) {
  const std::string dir = NewTempDir();
  EventFileWriter::Options options;
  options.buffer_bytes = 4096;  // many writes while other threads append
  auto writer = EventFileWriter::Create(dir, ".tbprof", options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string payload(static_cast<size_t>((t * 131 + i * 17) % 700),
                            static_cast<char>('A' + t));
        if (!(*writer)->Append(MakeEvent(int64_t{t} * 1000000 + i, payload)).ok()) ++failures;
        if (i % 500 == 0 && !(*writer)->Flush().ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE((*writer)->Close().ok());

  auto events = ReadEventFile((*writer)->path());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), size_t{kThreads * kPerThread + 1});
  std::map<int, int> next;  // per thread, the next expected sequence number
  for (size_t k = 1; k < events->size(); ++k) {
    const tensorflow::Event& e = (*events)[k];
    int t = static_cast<int>(e.step() / 1000000);
    int i = static_cast<int>(e.step() % 1000000);
    ASSERT_EQ(i, next[t]) << "thread " << t;
    ++next[t];
    EXPECT_EQ(e.file_version(), std::string(static_cast<size_t>((t * 131 + i * 17) % 700),
                                            static_cast<char>('A' + t)));
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kPerThread);
}

// Wraps the real file sink; armed, the next WriteAt writes only the first half of its data
// and fails as a full disk would, and Truncate can be made to fail too.
class FailingSink : public WriteSink {
 public:
  explicit FailingSink(std::unique_ptr<WriteSink> inner) : inner_(std::move(inner)) {}
  absl::Status WriteAt(uint64_t offset, std::string_view data, size_t* written) override {
    ++writes;
    if (!fail_next_write) return inner_->WriteAt(offset, data, written);
    fail_next_write = false;
    absl::Status s = inner_->WriteAt(offset, data.substr(0, data.size() / 2), written);
    EXPECT_TRUE(s.ok());
    return absl::ResourceExhaustedError(
        absl::StrCat("write ", path(), ": No space left on device"));
  }
  absl::Status Truncate(uint64_t length) override {
    ++truncates;
    if (fail_truncate) return absl::InternalError(absl::StrCat("truncate ", path(), ": I/O error"));
    return inner_->Truncate(length);
  }
  absl::Status Close() override { return inner_->Close(); }
  const std::string& path() const override { return inner_->path(); }

  bool fail_next_write = false;
  bool fail_truncate = false;
  int writes = 0;
  int truncates = 0;

 private:
  std::unique_ptr<WriteSink> inner_;
};

struct Injected {
  std::unique_ptr<EventFileWriter> writer;
  FailingSink* sink;
  std::string path;
};

Injected OpenInjected(size_t buffer_bytes) {
  std::string path = JoinPath(NewTempDir(), "events.out.tfevents.0000000001.test");
  auto file = PosixFileSink::CreateNew(path);
  EXPECT_TRUE(file.ok()) << file.status();
  auto sink = std::make_unique<FailingSink>(*std::move(file));
  FailingSink* raw = sink.get();
  EventFileWriter::Options options;
  options.buffer_bytes = buffer_bytes;
  options.max_delay_ms = 0;
  auto writer = EventFileWriter::CreateWithSink(std::move(sink), options);
  EXPECT_TRUE(writer.ok()) << writer.status();
  return {*std::move(writer), raw, path};
}

std::vector<int64_t> StepsInFile(const std::string& path) {
  auto events = ReadEventFile(path);
  EXPECT_TRUE(events.ok()) << events.status();
  std::vector<int64_t> steps;
  if (!events.ok()) return steps;
  for (size_t i = 1; i < events->size(); ++i) steps.push_back((*events)[i].step());
  return steps;
}

TEST(EventFileWriterTest, HalfWrittenRecordIsCutAndTheWriterGoesOn) {
  Injected f = OpenInjected(/*buffer_bytes=*/1);  // every Append writes
  ASSERT_TRUE(f.writer->Append(MakeEvent(1, std::string(100, 'a'))).ok());
  const size_t good_size = FileBytes(f.path).size();

  f.sink->fail_next_write = true;
  absl::Status s = f.writer->Append(MakeEvent(2, std::string(100, 'b')));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr(f.path));
  EXPECT_THAT(s.message(), HasSubstr("No space left on device"));
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("last complete record (", good_size, " bytes)")));
  EXPECT_EQ(FileBytes(f.path).size(), good_size);  // the torn half is gone
  EXPECT_EQ(StepsInFile(f.path), (std::vector<int64_t>{1}));

  ASSERT_TRUE(f.writer->Append(MakeEvent(3, std::string(100, 'c'))).ok());
  ASSERT_TRUE(f.writer->Flush().ok());
  // The failed call's record never appears; the next one follows the last complete record.
  EXPECT_EQ(StepsInFile(f.path), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(SplitRecordsByHand(FileBytes(f.path)).size(), 3u);
}

TEST(EventFileWriterTest, FailedFlushKeepsWholeRecordsAndRetriesTheRest) {
  Injected f = OpenInjected(/*buffer_bytes=*/1 << 20);  // all buffered until Flush
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(f.writer->Append(MakeEvent(i, std::string(50, 'x'))).ok());
  f.sink->fail_next_write = true;
  absl::Status s = f.writer->Flush();
  EXPECT_FALSE(s.ok());
  // Half the buffer reached the disk: the whole records in it stay, the torn one is cut.
  std::vector<int64_t> after_failure = StepsInFile(f.path);
  EXPECT_EQ(after_failure, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(SplitRecordsByHand(FileBytes(f.path)).size(), after_failure.size() + 1);

  ASSERT_TRUE(f.writer->Flush().ok());
  EXPECT_EQ(StepsInFile(f.path), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(EventFileWriterTest, FailedTruncateIsRepairedBeforeTheNextWrite) {
  Injected f = OpenInjected(/*buffer_bytes=*/1);
  ASSERT_TRUE(f.writer->Append(MakeEvent(1, std::string(300, 'a'))).ok());
  f.sink->fail_next_write = true;
  f.sink->fail_truncate = true;
  absl::Status s = f.writer->Append(MakeEvent(2, std::string(300, 'b')));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("could not cut the partial record"));
  // The torn half is still there now; the reader reports it, with its offset.
  auto torn = ReadEventFile(f.path);
  EXPECT_EQ(torn.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(torn.status().message(), HasSubstr("offset"));

  f.sink->fail_truncate = false;
  ASSERT_TRUE(f.writer->Append(MakeEvent(3, "c")).ok());  // short: would not cover the tail
  EXPECT_EQ(StepsInFile(f.path), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(SplitRecordsByHand(FileBytes(f.path)).size(), 3u);
}

TEST(EventFileWriterTest, PendingRecordsBeyondTheCapAreDroppedAndReported) {
  std::string path = JoinPath(NewTempDir(), "events.out.tfevents.0000000001.cap");
  auto file = PosixFileSink::CreateNew(path);
  ASSERT_TRUE(file.ok());
  auto sink = std::make_unique<FailingSink>(*std::move(file));
  FailingSink* raw = sink.get();
  EventFileWriter::Options options;
  options.buffer_bytes = 1 << 20;
  options.max_pending_bytes = 1000;
  options.max_delay_ms = 0;
  auto writer = EventFileWriter::CreateWithSink(std::move(sink), options);
  ASSERT_TRUE(writer.ok());
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE((*writer)->Append(MakeEvent(i, std::string(100, 'x'))).ok());
  raw->fail_next_write = true;
  absl::Status s = (*writer)->Flush();
  EXPECT_THAT(s.message(), HasSubstr("dropped"));
  ASSERT_TRUE((*writer)->Append(MakeEvent(99, "y")).ok());
  ASSERT_TRUE((*writer)->Flush().ok());
  std::vector<int64_t> steps = StepsInFile(path);
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.back(), 99);
  for (size_t i = 0; i + 1 < steps.size(); ++i) EXPECT_EQ(steps[i], static_cast<int64_t>(i));
}

TEST(EventFileWriterTest, MissingLogDirIsCreated) {
  const std::string dir = JoinPath(NewTempDir(), "a/b/c/d");
  auto writer = EventFileWriter::Create(dir, ".tbprof");
  ASSERT_TRUE(writer.ok()) << writer.status();
  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST(EventFileWriterTest, LogDirUnderARegularFileIsAnErrorNamingThePath) {
  const std::string root = NewTempDir();
  const std::string file = JoinPath(root, "plain_file");
  std::ofstream(file) << "x";
  auto writer = EventFileWriter::Create(JoinPath(file, "logs"), ".tbprof");
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(writer.status().message(), HasSubstr(file));
}

TEST(EventFileWriterTest, UnwritableLogDirIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "running as root: directory permissions are not enforced";
  const std::string dir = JoinPath(NewTempDir(), "readonly");
  ASSERT_TRUE(MakeDirs(dir).ok());
  ASSERT_EQ(chmod(dir.c_str(), 0555), 0);
  auto writer = EventFileWriter::Create(dir, ".tbprof");
  chmod(dir.c_str(), 0755);
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(writer.status().message(), HasSubstr(dir));
}

TEST(EventFileWriterTest, OverlongPathComponentIsAnErrorNamingIt) {
  const std::string dir = JoinPath(NewTempDir(), std::string(300, 'n'));
  auto writer = EventFileWriter::Create(dir, ".tbprof");
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), absl::StatusCode::kInvalidArgument);
  // The component is named (cut to a readable length) with its size and the limit.
  EXPECT_THAT(writer.status().message(), HasSubstr(std::string(32, 'n')));
  EXPECT_THAT(writer.status().message(), HasSubstr("is 300 bytes, over the file system's limit"));
}

TEST(EventFileWriterTest, BadArguments) {
  auto empty = EventFileWriter::Create("", ".tbprof");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  auto slash = EventFileWriter::Create(NewTempDir(), "/x");
  EXPECT_EQ(slash.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(slash.status().message(), HasSubstr("suffix"));
}

TEST(EventFileWriterTest, OldRecordsAreWrittenAfterMaxDelay) {
  const std::string dir = NewTempDir();
  EventFileWriter::Options options;
  options.max_delay_ms = 1;
  auto writer = EventFileWriter::Create(dir, ".tbprof", options);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append(MakeEvent(1, "a")).ok());
  usleep(20000);
  ASSERT_TRUE((*writer)->Append(MakeEvent(2, "b")).ok());  // the buffer is old: written now
  EXPECT_EQ(StepsInFile((*writer)->path()), (std::vector<int64_t>{1, 2}));
}

TEST(EventFileWriterTest, RecordsLargerThanTheBuffer) {
  const std::string dir = NewTempDir();
  EventFileWriter::Options options;
  options.buffer_bytes = 1024;
  auto writer = EventFileWriter::Create(dir, ".tbprof", options);
  ASSERT_TRUE(writer.ok());
  const std::string big = MakeEvent(1, std::string(3 << 20, 'b'));  // 3 MiB
  ASSERT_TRUE((*writer)->Append(MakeEvent(0, "small")).ok());
  ASSERT_TRUE((*writer)->Append(big).ok());
  ASSERT_TRUE((*writer)->Append(MakeEvent(2, "after")).ok());
  ASSERT_TRUE((*writer)->Close().ok());
  auto events = ReadEventFile((*writer)->path());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ((*events)[2].SerializeAsString(), big);
  EXPECT_EQ((*events)[3].step(), 2);
}

TEST(EventFileWriterTest, FramingOfAnEmptyRecord) {
  std::string framed;
  EventFileWriter::AppendFramedRecord("", &framed);
  ASSERT_EQ(framed.size(), 16u);
  EXPECT_EQ(Le64(framed, 0), 0u);
  EXPECT_EQ(Le32(framed, 8), MaskCrc32c(Crc32c(framed.data(), 8)));
  EXPECT_EQ(Le32(framed, 12), MaskCrc32c(0));
}

}  // namespace
}  // namespace tbprof::internal
