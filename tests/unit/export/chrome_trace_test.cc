#include "src/export/chrome_trace.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <cctype>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/export/text_util.h"
#include "src/util/file_util.h"
#include "tests/unit/export/synthetic_trace.h"
#include "tests/unit/session/test_dirs.h"

namespace tbprof::internal {
namespace {

using ::testing::HasSubstr;
using testing::Intern;

// A strict JSON (RFC 8259) syntax checker, enough to prove the exporter's output parses.
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view s) : s_(s) {}

  bool Valid() {
    Ws();
    if (!Value()) return false;
    Ws();
    return i_ == s_.size();
  }
  size_t position() const { return i_; }

 private:
  bool Value() {
    if (i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '{':
        return Object();
      case '[':
        return Array();
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }
  bool Object() {
    ++i_;
    Ws();
    if (Peek('}')) return ++i_, true;
    while (true) {
      Ws();
      if (!String()) return false;
      Ws();
      if (!Peek(':')) return false;
      ++i_;
      Ws();
      if (!Value()) return false;
      Ws();
      if (Peek('}')) return ++i_, true;
      if (!Peek(',')) return false;
      ++i_;
    }
  }
  bool Array() {
    ++i_;
    Ws();
    if (Peek(']')) return ++i_, true;
    while (true) {
      Ws();
      if (!Value()) return false;
      Ws();
      if (Peek(']')) return ++i_, true;
      if (!Peek(',')) return false;
      ++i_;
    }
  }
  bool String() {
    if (!Peek('"')) return false;
    const size_t start = ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c < 0x20) return false;
      if (c == '\\') {
        ++i_;
        if (i_ >= s_.size()) return false;
        const char e = s_[i_];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k) {
            if (++i_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_]))) {
              return false;
            }
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
      ++i_;
    }
    if (i_ >= s_.size()) return false;
    if (!IsValidUtf8(s_.substr(start, i_ - start))) return false;
    ++i_;
    return true;
  }
  bool Number() {
    const size_t start = i_;
    if (Peek('-')) ++i_;
    if (Peek('0')) {
      ++i_;
    } else if (!Digits()) {
      return false;
    }
    if (Peek('.')) {
      ++i_;
      if (!Digits()) return false;
    }
    if (Peek('e') || Peek('E')) {
      ++i_;
      if (Peek('+') || Peek('-')) ++i_;
      if (!Digits()) return false;
    }
    return i_ > start;
  }
  bool Digits() {
    const size_t start = i_;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    return i_ > start;
  }
  bool Literal(std::string_view lit) {
    if (s_.substr(i_, lit.size()) != lit) return false;
    i_ += lit.size();
    return true;
  }
  bool Peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
  void Ws() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) {
      ++i_;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

void ExpectValidJson(const std::string& json) {
  JsonChecker checker(json);
  EXPECT_TRUE(checker.Valid()) << "invalid JSON near byte " << checker.position() << ": "
                               << json.substr(checker.position() > 40 ? checker.position() - 40 : 0,
                                              80);
}

std::string Gunzip(const std::string& data) {
  z_stream zs = {};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

TEST(ChromeTraceTest, JsonCheckerRejectsBrokenJson) {
  for (std::string_view bad : {"{", "{\"a\":}", "[1,]", "{\"a\":\"\x01\"}", "[01]", "{\"a\" 1}",
                               "\"\\x\"", "[1.]", "{\"\xff\":1}"}) {
    EXPECT_FALSE(JsonChecker(bad).Valid()) << bad;
  }
  EXPECT_TRUE(JsonChecker("{\"a\":[1,-2.5e3,true,null,\"\\u00e9\"]}").Valid());
}

TEST(ChromeTraceTest, HostAndGpuTrace) {
  Trace trace = testing::TrainingLoop({.threads = 2, .steps = 2, .layers = 1, .gpu = true});
  const std::string json = EncodeChromeTraceJson(trace);
  ExpectValidJson(json);
  EXPECT_EQ(json.rfind("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", 0), 0u);
  EXPECT_THAT(json,
              HasSubstr("\"name\":\"process_name\",\"args\":{\"name\":\"/host:CPU testhost\"}"));
  EXPECT_THAT(json, HasSubstr("{\"ph\":\"M\",\"pid\":1,\"tid\":4242,\"name\":\"thread_name\","
                              "\"args\":{\"name\":\"main\"}}"));
  EXPECT_THAT(json, HasSubstr("\"name\":\"process_name\",\"args\":{\"name\":\"/device:GPU:0 "
                              "(NVIDIA H100 80GB HBM3)\"}"));
  EXPECT_THAT(json, HasSubstr("\"tid\":7,\"name\":\"thread_name\",\"args\":{\"name\":\"Stream "
                              "#7(Kernel)\"}"));
  // The first step root: starts at 1000 ns = 1 us, lasts 4.5 us + 3 ops... as exported.
  EXPECT_THAT(json, HasSubstr("{\"ph\":\"X\",\"pid\":1,\"tid\":4242,\"ts\":1,\"dur\":"));
  // Steps are named with their number, and the thread that runs them sorts first.
  EXPECT_THAT(json, HasSubstr("\"name\":\"train 1\",\"args\":{\"step_num\":1}}"));
  EXPECT_THAT(json, HasSubstr("\"tid\":4242,\"name\":\"thread_sort_index\",\"args\":{"
                              "\"sort_index\":0}}"));
  EXPECT_THAT(json, HasSubstr("\"tid\":4243,\"name\":\"thread_sort_index\",\"args\":{"
                              "\"sort_index\":1000001}}"));
  EXPECT_THAT(json, HasSubstr("\"ts\":2,\"dur\":10,\"name\":\"dense_1/MatMul:MatMul\"}"));
  EXPECT_THAT(json, HasSubstr("\"ts\":5,\"dur\":2,\"name\":\"cudaLaunchKernel\",\"args\":{"
                              "\"correlation_id\":1,\"device_id\":0}}"));
  EXPECT_THAT(json, HasSubstr("{\"ph\":\"X\",\"pid\":2,\"tid\":7,\"ts\":8,\"dur\":6,\"name\":"
                              "\"volta_sgemm_128x64_nn\",\"args\":{\"correlation_id\":1,"
                              "\"stream\":7,\"tf_op\":\"dense_1/MatMul:MatMul\","
                              "\"kernel_details\":\"regs:32 static_shared:1024 dynamic_shared:0 "
                              "grid:128,1,1 block:256,1,1 occ_pct:50.0\"}}"));
}

// Overlapping kernels of one stream (programmatic dependent launch) keep their exact times:
// the overlapping one is on an extra thread of the stream, so Perfetto neither nests nor cuts it.
TEST(ChromeTraceTest, OverlappingKernelsOfOneStreamGoToAnExtraThread) {
  Trace trace;
  const NameId k = Intern(&trace, "pdl_kernel");
  DeviceEvent first = testing::Kernel(k, 1000, 1, -1);
  first.end_ns = 4000;
  DeviceEvent second = testing::Kernel(k, 3000, 2, -1);
  second.end_ns = 6000;
  trace.device_events = {first, second};
  const std::string json = EncodeChromeTraceJson(trace);
  ExpectValidJson(json);
  EXPECT_THAT(json, HasSubstr("\"tid\":7,\"name\":\"thread_name\",\"args\":{\"name\":\"Stream "
                              "#7(Kernel)\"}"));
  EXPECT_THAT(json, HasSubstr("\"tid\":9,\"name\":\"thread_name\",\"args\":{\"name\":\"Stream "
                              "#7(Kernel) overlap 1\"}"));
  EXPECT_THAT(json, HasSubstr("{\"ph\":\"X\",\"pid\":2,\"tid\":7,\"ts\":1,\"dur\":3,"));
  EXPECT_THAT(json, HasSubstr("{\"ph\":\"X\",\"pid\":2,\"tid\":9,\"ts\":3,\"dur\":3,"));
}

TEST(ChromeTraceTest, SubMicrosecondTimesAndEscaping) {
  Trace trace;
  ThreadTrack t;
  t.tid = 3;
  t.name = "tab\there \"q\" \x7f \xff";
  t.events.push_back(
      testing::Scope(Intern(&trace, "line\nbreak \\ \x01 \xe2\x82\xac"), 1234567, 1234567 + 250));
  t.events.push_back(testing::Scope(Intern(&trace, "neg"), -1500, -1000));
  trace.threads.push_back(t);
  const std::string json = EncodeChromeTraceJson(trace);
  ExpectValidJson(json);
  EXPECT_THAT(json, HasSubstr("\"ts\":1234.567,\"dur\":0.25,\"name\":\"line\\nbreak \\\\ "
                              "\\u0001 \xe2\x82\xac\""));
  EXPECT_THAT(json, HasSubstr("\"ts\":-1.5,\"dur\":0.5,\"name\":\"neg\""));
  EXPECT_THAT(json, HasSubstr("\"name\":\"tab\\there \\\"q\\\" \x7f \xEF\xBF\xBD\""));
}

TEST(ChromeTraceTest, EmptyTraceIsValidJson) {
  const std::string json = EncodeChromeTraceJson(Trace{});
  ExpectValidJson(json);
  EXPECT_THAT(json, HasSubstr("\"traceEvents\":["));
}

TEST(ChromeTraceTest, SameTraceGivesSameBytes) {
  Trace trace = testing::TrainingLoop({.threads = 2, .steps = 3, .gpu = true});
  EXPECT_EQ(EncodeChromeTraceJson(trace), EncodeChromeTraceJson(trace));
}

TEST(ChromeTraceTest, GzipRoundTrips) {
  const std::string json =
      EncodeChromeTraceJson(testing::TrainingLoop({.threads = 2, .steps = 20, .gpu = true}));
  auto gz = Gzip(json);
  ASSERT_TRUE(gz.ok()) << gz.status();
  ASSERT_GE(gz->size(), 10u);
  EXPECT_EQ(static_cast<unsigned char>((*gz)[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>((*gz)[1]), 0x8b);
  EXPECT_LT(gz->size(), json.size() / 4);
  EXPECT_EQ(Gunzip(*gz), json);
  auto empty = Gzip("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(Gunzip(*empty), "");
}

std::string FreshDir(const std::string& leaf) { return test_dirs::FreshTestDir("/tmp", leaf); }

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// Several MiB of JSON: the streamed writer hands it on in many pieces.
TEST(ChromeTraceTest, StreamedGzipFileHoldsTheSameJson) {
  const Trace trace = testing::ManyHostEvents(60000, 3);
  const std::string json = EncodeChromeTraceJson(trace);
  ASSERT_GT(json.size(), size_t{4} << 20);
  const std::string path = JoinPath(FreshDir("chrome_trace_streamed"), "host.trace.json.gz");
  AtomicFile file;
  ASSERT_TRUE(file.Open(path, /*must_not_exist=*/true).ok());
  ASSERT_TRUE(WriteChromeTraceJsonGz(trace, &file).ok());
  EXPECT_FALSE(Exists(path)) << "visible before Commit";
  ASSERT_TRUE(file.Commit().ok());
  std::string gz;
  ASSERT_TRUE(ReadFile(path, &gz).ok());
  EXPECT_EQ(Gunzip(gz), json);
  EXPECT_EQ(Gunzip(*Gzip(json)), json);
}

TEST(ChromeTraceTest, StreamedGzipOfAnEmptyTrace) {
  const std::string path = JoinPath(FreshDir("chrome_trace_empty"), "empty.trace.json.gz");
  AtomicFile file;
  ASSERT_TRUE(file.Open(path).ok());
  ASSERT_TRUE(WriteChromeTraceJsonGz(Trace{}, &file).ok());
  ASSERT_TRUE(file.Commit().ok());
  std::string gz;
  ASSERT_TRUE(ReadFile(path, &gz).ok());
  EXPECT_EQ(Gunzip(gz), EncodeChromeTraceJson(Trace{}));
}

// A write that fails midway (the file size limit, as a full disk would) names the file, and
// neither the final name nor the temporary file is left behind.
TEST(ChromeTraceTest, StreamedWriteErrorLeavesNoFile) {
  const std::string dir = FreshDir("chrome_trace_write_error");
  const std::string path = JoinPath(dir, "big.trace.json.gz");
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 64 << 10;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  sighandler_t previous = signal(SIGXFSZ, SIG_IGN);  // write fails with EFBIG instead.
  absl::Status status;
  {
    AtomicFile file;
    ASSERT_TRUE(file.Open(path).ok());
    status = WriteChromeTraceJsonGz(testing::ManyHostEvents(60000, 3), &file);
    if (status.ok()) status = file.Commit();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, previous);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("write"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("big.trace.json.gz"));
  EXPECT_FALSE(Exists(path));
  EXPECT_FALSE(Exists(path + ".tmp." + std::to_string(getpid())));
}

TEST(AtomicFileTest, AbortOrDestroyLeavesNothing) {
  const std::string path = JoinPath(FreshDir("atomic_file"), "f");
  {
    AtomicFile file;
    ASSERT_TRUE(file.Open(path).ok());
    ASSERT_TRUE(file.Append("abc").ok());
  }
  EXPECT_FALSE(Exists(path));
  EXPECT_FALSE(Exists(path + ".tmp." + std::to_string(getpid())));
  AtomicFile file;
  ASSERT_TRUE(file.Open(path).ok());
  ASSERT_TRUE(file.Append("abc").ok());
  ASSERT_TRUE(file.Append("def").ok());
  ASSERT_TRUE(file.Commit().ok());
  std::string text;
  ASSERT_TRUE(ReadFile(path, &text).ok());
  EXPECT_EQ(text, "abcdef");
  // must_not_exist refuses an existing name, before and at commit.
  AtomicFile again;
  EXPECT_EQ(again.Open(path, /*must_not_exist=*/true).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(again.Append("x").ok());
}

}  // namespace
}  // namespace tbprof::internal
