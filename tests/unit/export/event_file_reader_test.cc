#include "src/export/event_file_reader.h"

#include <stdlib.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/export/crc32c.h"
#include "src/export/event_file_writer.h"
#include "src/util/file_util.h"
#include "tensorflow/event.pb.h"

namespace tbprof::internal {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const char* base = getenv("TBPROF_TEST_TMPDIR");
  std::string root = base != nullptr && *base != '\0' ? base : "/tmp";
  EXPECT_TRUE(MakeDirs(root).ok());
  std::string templ = JoinPath(root, "event_reader_XXXXXX");
  EXPECT_NE(mkdtemp(templ.data()), nullptr);
  return JoinPath(templ, name);
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string Event(int64_t step, const std::string& payload) {
  tensorflow::Event e;
  e.set_step(step);
  e.set_file_version(payload);
  return e.SerializeAsString();
}

// Three framed events; `ends` gets each record's end offset.
std::string ThreeRecords(std::vector<size_t>* ends) {
  std::string file;
  for (int i = 1; i <= 3; ++i) {
    EventFileWriter::AppendFramedRecord(Event(i, std::string(static_cast<size_t>(i * 10), 'r')),
                                        &file);
    ends->push_back(file.size());
  }
  return file;
}

TEST(EventFileReaderTest, ReadsRecordsAndEventsInOrder) {
  std::vector<size_t> ends;
  const std::string path = TempPath("three");
  WriteBytes(path, ThreeRecords(&ends));
  auto reader = EventFileReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  for (int i = 1; i <= 3; ++i) {
    tensorflow::Event e;
    ASSERT_TRUE((*reader)->ReadEvent(&e).ok());
    EXPECT_EQ(e.step(), i);
    EXPECT_EQ((*reader)->offset(), ends[static_cast<size_t>(i - 1)]);
  }
  tensorflow::Event e;
  absl::Status end = (*reader)->ReadEvent(&e);
  EXPECT_EQ(end.code(), absl::StatusCode::kOutOfRange);
}

TEST(EventFileReaderTest, EveryTruncationIsDataLossAtTheTornRecord) {
  std::vector<size_t> ends;
  const std::string full = ThreeRecords(&ends);
  const std::string path = TempPath("cut");
  for (size_t cut = 0; cut < full.size(); ++cut) {
    WriteBytes(path, full.substr(0, cut));
    auto events = ReadEventFile(path);
    size_t whole = 0;
    while (whole < ends.size() && ends[whole] <= cut) ++whole;
    size_t torn_at = whole == 0 ? 0 : ends[whole - 1];
    if (cut == torn_at) {
      ASSERT_TRUE(events.ok()) << "cut " << cut << ": " << events.status();
      EXPECT_EQ(events->size(), whole);
    } else {
      ASSERT_EQ(events.status().code(), absl::StatusCode::kDataLoss) << "cut " << cut;
      EXPECT_THAT(events.status().message(), HasSubstr(absl::StrCat("offset ", torn_at)));
      EXPECT_THAT(events.status().message(), HasSubstr("truncated"));
      EXPECT_THAT(events.status().message(), HasSubstr(path));
    }
  }
}

TEST(EventFileReaderTest, EveryFlippedByteIsDataLoss) {
  std::vector<size_t> ends;
  const std::string full = ThreeRecords(&ends);
  const std::string path = TempPath("flip");
  for (size_t at = 0; at < full.size(); ++at) {
    std::string bad = full;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    WriteBytes(path, bad);
    auto events = ReadEventFile(path);
    ASSERT_EQ(events.status().code(), absl::StatusCode::kDataLoss) << "byte " << at;
    size_t record = 0;
    while (ends[record] <= at) ++record;
    size_t start = record == 0 ? 0 : ends[record - 1];
    EXPECT_THAT(events.status().message(), HasSubstr(absl::StrCat("offset ", start)));
  }
}

TEST(EventFileReaderTest, LengthChecksumMismatchIsNamed) {
  std::string file;
  EventFileWriter::AppendFramedRecord(Event(1, "a"), &file);
  file[8] = static_cast<char>(file[8] ^ 1);
  const std::string path = TempPath("lencrc");
  WriteBytes(path, file);
  auto events = ReadEventFile(path);
  EXPECT_EQ(events.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(events.status().message(), HasSubstr("length checksum mismatch"));
}

TEST(EventFileReaderTest, HugeLengthWithValidChecksumDoesNotAllocate) {
  std::string header(12, '\0');
  const uint64_t huge = uint64_t{1} << 62;
  for (int i = 0; i < 8; ++i)
    header[static_cast<size_t>(i)] = static_cast<char>((huge >> (8 * i)) & 0xff);
  uint32_t crc = MaskCrc32c(Crc32c(header.data(), 8));
  for (int i = 0; i < 4; ++i)
    header[8 + static_cast<size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xff);
  const std::string path = TempPath("huge");
  WriteBytes(path, header + "some bytes");
  auto events = ReadEventFile(path);
  EXPECT_EQ(events.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(events.status().message(), HasSubstr("truncated"));
  auto records = ParseRecords(header + "some bytes");
  EXPECT_EQ(records.status().code(), absl::StatusCode::kDataLoss);
}

TEST(EventFileReaderTest, RecordThatIsNotAnEvent) {
  std::string file;
  EventFileWriter::AppendFramedRecord(Event(1, "ok"), &file);
  const size_t second = file.size();
  EventFileWriter::AppendFramedRecord(std::string("\xff\xff\xff\xff", 4), &file);
  const std::string path = TempPath("notevent");
  WriteBytes(path, file);
  auto events = ReadEventFile(path);
  EXPECT_EQ(events.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(events.status().message(), HasSubstr("not a tensorflow.Event"));
  EXPECT_THAT(events.status().message(), HasSubstr(absl::StrCat("offset ", second)));
  // The raw records are fine.
  auto records = ParseRecords(file);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 2u);
}

TEST(EventFileReaderTest, ARecordBeingWrittenIsReadOnceComplete) {
  std::string file;
  EventFileWriter::AppendFramedRecord(Event(1, "first"), &file);
  const size_t first_end = file.size();
  EventFileWriter::AppendFramedRecord(Event(2, "second"), &file);
  const std::string path = TempPath("growing");
  WriteBytes(path, file.substr(0, first_end + 5));
  auto reader = EventFileReader::Open(path);
  ASSERT_TRUE(reader.ok());
  tensorflow::Event e;
  ASSERT_TRUE((*reader)->ReadEvent(&e).ok());
  EXPECT_EQ((*reader)->ReadEvent(&e).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ((*reader)->offset(), first_end);
  WriteBytes(path, file);
  ASSERT_TRUE((*reader)->ReadEvent(&e).ok());
  EXPECT_EQ(e.step(), 2);
}

TEST(EventFileReaderTest, RandomGarbageNeverCrashes) {
  std::mt19937_64 rng(12345);
  const std::string path = TempPath("fuzz");
  std::vector<size_t> ends;
  const std::string valid = ThreeRecords(&ends);
  int ok = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string bytes;
    switch (iter % 3) {
      case 0: {  // pure noise
        bytes.resize(rng() % 200);
        for (char& c : bytes) c = static_cast<char>(rng());
        break;
      }
      case 1: {  // valid records with noise spliced in
        bytes = valid;
        size_t n = 1 + rng() % 8;
        for (size_t k = 0; k < n; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
        break;
      }
      default: {  // valid records, then noise
        bytes = valid;
        size_t extra = 1 + rng() % 40;
        for (size_t k = 0; k < extra; ++k) bytes.push_back(static_cast<char>(rng()));
        break;
      }
    }
    WriteBytes(path, bytes);
    auto events = ReadEventFile(path);
    auto records = ParseRecords(bytes);
    EXPECT_TRUE(!events.ok() || records.ok());  // both check the same framing
    if (events.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(events.status().code(), absl::StatusCode::kDataLoss) << events.status();
    }
  }
  EXPECT_LT(ok, 3000);
}

TEST(EventFileReaderTest, OpenErrorsNameThePath) {
  const std::string missing = TempPath("does_not_exist");
  auto r = EventFileReader::Open(missing);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(missing));
  const std::string dir = TempPath("a_dir");
  ASSERT_TRUE(MakeDirs(dir).ok());
  auto d = EventFileReader::Open(dir);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
}

// "File name too long" was an Internal error that named neither the long part nor the limit.
TEST(EventFileReaderTest, NameTooLongIsInvalidArgumentNamingThePartAndTheLimit) {
  const std::string long_name(300, 'n');
  const std::string path = TempPath(long_name + "/events");
  for (absl::Status s :
       {EventFileReader::Open(path).status(), MakeDirs(path), WriteFileAtomically(path, "x")}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(s.message(), HasSubstr(std::string(64, 'n') + "... (300 bytes)\" is 300 bytes"));
    EXPECT_THAT(s.message(), HasSubstr("limit of 255 bytes"));
    EXPECT_LT(s.message().size(), 400u) << s;
  }
  std::string deep = TempPath("");
  while (deep.size() < 5000) deep += std::string(200, 'd') + "/";
  absl::Status s = MakeDirs(deep);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), HasSubstr("limit of 4096 bytes for a path"));
}

TEST(EventFileReaderTest, EmptyFileHasNoEvents) {
  const std::string path = TempPath("empty");
  WriteBytes(path, "");
  auto events = ReadEventFile(path);
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

}  // namespace
}  // namespace tbprof::internal
