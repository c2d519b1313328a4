#include "src/server/capture_server.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "src/host/recorder.h"
#include "src/server/peer_uid.h"
#include "tbprof/annotate.h"
#include "tbprof/server.h"
#include "tbprof/trace.h"
#include "tensorflow/profiler/profiler_service.grpc.pb.h"
#include "tensorflow/profiler/xplane.pb.h"

namespace tbprof::internal {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// Runs annotated steps (one op each) on its own thread until destroyed.
class Workload {
 public:
  Workload() : thread_([this] { Run(); }) {}
  ~Workload() {
    stop_ = true;
    thread_.join();
  }

 private:
  void Run() {
    SetThreadName("worker");
    for (int64_t step = 0; !stop_; ++step) {
      StepScope s(step);
      NameScope layer("dense");
      OpScope op("MatMul", "MatMul");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class CaptureServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<CaptureServer>> server = CaptureServer::Start(0);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = tensorflow::ProfilerService::NewStub(channel_);
  }

  grpc::Status Profile(uint64_t duration_ms, tensorflow::ProfileResponse* response,
                       const std::string& session_id = "2026_01_01_00_00_00") {
    tensorflow::ProfileRequest request;
    request.set_duration_ms(duration_ms);
    request.set_session_id(session_id);
    request.set_host_name("localhost:" + std::to_string(server_->port()));
    request.set_repository_root("/nonexistent/plugins/profile");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return stub_->Profile(&context, request, response);
  }

  grpc::Status Terminate(const std::string& session_id) {
    tensorflow::TerminateRequest request;
    request.set_session_id(session_id);
    tensorflow::TerminateResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->Terminate(&context, request, &response);
  }

  std::unique_ptr<CaptureServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<tensorflow::ProfilerService::Stub> stub_;
};

const tensorflow::profiler::XPlane* FindPlane(const tensorflow::profiler::XSpace& space,
                                              const std::string& name) {
  for (const auto& p : space.planes()) {
    if (p.name() == name) return &p;
  }
  return nullptr;
}

TEST_F(CaptureServerTest, ProfileReturnsTheXSpaceOfTheNextDuration) {
  Workload work;
  tensorflow::ProfileResponse response;
  const auto t0 = Clock::now();
  grpc::Status s = Profile(300, &response);
  const auto elapsed = Clock::now() - t0;
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
  EXPECT_FALSE(response.empty_trace());
  ASSERT_EQ(response.tool_data_size(), 1);
  EXPECT_EQ(response.tool_data(0).name(), "xplane.pb");
  tensorflow::profiler::XSpace space;
  ASSERT_TRUE(space.ParseFromString(response.tool_data(0).data()));
  const tensorflow::profiler::XPlane* host = FindPlane(space, "/host:CPU");
  ASSERT_NE(host, nullptr);
  std::set<std::string> event_names, stat_names, line_names;
  for (const auto& [id, m] : host->event_metadata()) event_names.insert(m.name());
  for (const auto& [id, m] : host->stat_metadata()) stat_names.insert(m.name());
  int64_t events = 0;
  for (const auto& line : host->lines()) {
    line_names.insert(line.name());
    events += line.events_size();
  }
  EXPECT_GT(events, 10);
  EXPECT_TRUE(event_names.count("dense/MatMul:MatMul")) << "op missing from the host plane";
  EXPECT_TRUE(stat_names.count("step_num")) << "steps missing from the host plane";
  EXPECT_TRUE(line_names.count("worker"));
  EXPECT_EQ(server_->captures_served(), 1);

  // The server is ready for the next capture; an idle program gives an empty trace.
  tensorflow::ProfileResponse second;
  ASSERT_TRUE(Profile(50, &second).ok());
  EXPECT_EQ(server_->captures_served(), 2);
}

TEST_F(CaptureServerTest, EmptyCaptureIsReportedEmpty) {
  tensorflow::ProfileResponse response;
  ASSERT_TRUE(Profile(20, &response).ok());
  EXPECT_TRUE(response.empty_trace());
  ASSERT_EQ(response.tool_data_size(), 1);
}

TEST_F(CaptureServerTest, DurationOutOfRangeIsInvalidArgument) {
  tensorflow::ProfileResponse response;
  grpc::Status zero = Profile(0, &response);
  EXPECT_EQ(zero.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(zero.error_message(), HasSubstr("duration_ms=0"));
  grpc::Status huge = Profile(kMaxCaptureDurationMs + 1, &response);
  EXPECT_EQ(huge.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(huge.error_message(), HasSubstr("600001"));
  EXPECT_EQ(server_->captures_served(), 0);
}

TEST_F(CaptureServerTest, ConcurrentCaptureIsRefusedAndTerminateEndsTheFirst) {
  Workload work;
  grpc::Status first_status;
  tensorflow::ProfileResponse first;
  const auto t0 = Clock::now();
  std::thread t([&] { first_status = Profile(60000, &first, "long_session"); });
  // Wait (bounded) until the long capture is running: a second one is then refused.
  grpc::Status second_status;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    tensorflow::ProfileResponse second;
    second_status = Profile(1, &second, "other");
    if (!second_status.ok()) break;
  }
  EXPECT_EQ(second_status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(second_status.error_message(), HasSubstr("already running"));
  EXPECT_THAT(second_status.error_message(), HasSubstr("long_session"));

  EXPECT_EQ(Terminate("not_this_one").error_code(), grpc::StatusCode::NOT_FOUND);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  grpc::Status term = Terminate("long_session");
  EXPECT_TRUE(term.ok()) << term.error_message();
  t.join();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(30));
  ASSERT_TRUE(first_status.ok()) << first_status.error_message();
  EXPECT_FALSE(first.empty_trace());
  tensorflow::profiler::XSpace space;
  ASSERT_EQ(first.tool_data_size(), 1);
  ASSERT_TRUE(space.ParseFromString(first.tool_data(0).data()));
  EXPECT_NE(FindPlane(space, "/host:CPU"), nullptr);
}

TEST_F(CaptureServerTest, ProgramsOwnCaptureIsNotDisturbed) {
  TraceOptions options;
  options.force = true;
  ASSERT_TRUE(TraceOn(options).ok());
  tensorflow::ProfileResponse response;
  grpc::Status s = Profile(10, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("not interrupted"));
  EXPECT_TRUE(IsRecording());
  EXPECT_TRUE(TraceOff().ok());
  EXPECT_TRUE(Profile(10, &response).ok());
}

TEST_F(CaptureServerTest, MonitorIsUnimplemented) {
  tensorflow::MonitorRequest request;
  tensorflow::MonitorResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  EXPECT_EQ(stub_->Monitor(&context, request, &response).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(CaptureServerTest, PortInUseIsAClearError) {
  absl::StatusOr<std::unique_ptr<CaptureServer>> second = CaptureServer::Start(server_->port());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("127.0.0.1:" + std::to_string(server_->port())));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use"));
}

TEST_F(CaptureServerTest, ShutdownEndsACaptureInProgress) {
  grpc::Status status;
  tensorflow::ProfileResponse response;
  std::thread t([&] { status = Profile(60000, &response, "cut"); });
  // Bounded wait until the capture runs (Terminate finds it).
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (IsRecording()) break;
  }
  const auto t0 = Clock::now();
  server_->Shutdown();
  t.join();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(20));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_FALSE(IsRecording());
  server_->Shutdown();  // Idempotent.
}

TEST_F(CaptureServerTest, TerminateBeforeAFutureStartFreesTheSlotAtOnce) {
  grpc::Status status;
  std::thread t([&] {
    tensorflow::ProfileRequest request;
    request.set_duration_ms(100);
    request.set_session_id("later");
    const auto start = std::chrono::system_clock::now() + std::chrono::seconds(50);
    request.mutable_opts()->set_start_timestamp_ns(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count()));
    tensorflow::ProfileResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(90));
    status = stub_->Profile(&context, request, &response);
  });
  // Bounded wait until the capture holds the slot (Terminate finds it).
  grpc::Status term;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    term = Terminate("later");
    if (term.ok()) break;
  }
  ASSERT_TRUE(term.ok()) << term.error_message();
  const auto t0 = Clock::now();
  t.join();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  tensorflow::ProfileResponse next;
  grpc::Status again = Profile(10, &next, "next");
  EXPECT_TRUE(again.ok()) << again.error_message();
}

TEST(PeerUidTest, LoopbackPeerPort) {
  EXPECT_EQ(LoopbackPeerPort("ipv4:127.0.0.1:54321"), 54321);
  EXPECT_EQ(LoopbackPeerPort("ipv6:[::1]:4000"), 4000);
  EXPECT_EQ(LoopbackPeerPort("ipv6:%5B::1%5D:4000"), 4000);
  EXPECT_EQ(LoopbackPeerPort("ipv6:[::ffff:127.0.0.1]:80"), 80);
  EXPECT_EQ(LoopbackPeerPort("ipv4:10.0.0.2:54321"), std::nullopt);
  EXPECT_EQ(LoopbackPeerPort("unix:/tmp/s"), std::nullopt);
  EXPECT_EQ(LoopbackPeerPort("ipv4:127.0.0.1:99999"), std::nullopt);
  EXPECT_EQ(LoopbackPeerPort("ipv4:127.0.0.1:"), std::nullopt);
  EXPECT_EQ(LoopbackPeerPort(""), std::nullopt);
}

TEST(PeerUidTest, FindSocketUidMatchesTheClientsSocket) {
  const std::string text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 "
      "       0 111 1 0000000000000000 100 0 0 10 0\n"
      "   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1001 "
      "       0 222 1 0000000000000000 20 4 30 10 -1\n"
      "   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000 "
      "       0 333 1 0000000000000000 20 4 30 10 -1\n";
  // Client port 0xD431 = 54321 to server port 0x1F90 = 8080: the client's socket is uid 1001.
  EXPECT_EQ(FindSocketUid(text, 54321, 8080), 1001u);
  EXPECT_EQ(FindSocketUid(text, 8080, 54321), 1000u);  // The server's own accepted socket.
  EXPECT_EQ(FindSocketUid(text, 54322, 8080), std::nullopt);
  EXPECT_EQ(FindSocketUid("", 1, 2), std::nullopt);
  EXPECT_EQ(FindSocketUid("header\n   1: garbage\n", 1, 2), std::nullopt);
}

TEST(PeerUidTest, ServesOnlyTheOwnerAndRootUnlessAnyUserIsAllowed) {
  EXPECT_TRUE(ServesPeer(1000u, 1000, false));
  EXPECT_TRUE(ServesPeer(0u, 1000, false));
  EXPECT_FALSE(ServesPeer(1001u, 1000, false));
  EXPECT_FALSE(ServesPeer(std::nullopt, 1000, false));
  EXPECT_TRUE(ServesPeer(1001u, 1000, true));
  EXPECT_TRUE(ServesPeer(std::nullopt, 1000, true));
}

TEST(PeerUidTest, RealLoopbackConnectionIsThisProcesssUser) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int server_port = ntohs(addr.sin_port);
  int client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  sockaddr_in local{};
  len = sizeof(local);
  ASSERT_EQ(getsockname(client, reinterpret_cast<sockaddr*>(&local), &len), 0);
  const std::string peer = "ipv4:127.0.0.1:" + std::to_string(ntohs(local.sin_port));
  EXPECT_EQ(PeerUid(peer, server_port), geteuid());
  EXPECT_EQ(PeerUid(peer, server_port + 1 > 65535 ? 1 : server_port + 1), std::nullopt);
  close(client);
  close(listener);
}

// Run in a child as another user by CallsFromAnotherUser...: calls the server on
// TBPROF_TEST_PEER_PORT and checks the codes it gets.
TEST(PeerClient, CallsTheServer) {
  const char* port = std::getenv("TBPROF_TEST_PEER_PORT");
  const char* expect = std::getenv("TBPROF_TEST_PEER_EXPECT");
  if (port == nullptr || expect == nullptr) GTEST_SKIP() << "run by CallsFromAnotherUser tests";
  auto channel =
      grpc::CreateChannel(std::string("127.0.0.1:") + port, grpc::InsecureChannelCredentials());
  auto stub = tensorflow::ProfilerService::NewStub(channel);
  tensorflow::ProfileRequest request;
  request.set_duration_ms(10);
  request.set_session_id("intruder");
  tensorflow::ProfileResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status profile = stub->Profile(&context, request, &response);
  tensorflow::TerminateRequest term_request;
  term_request.set_session_id("someone");
  tensorflow::TerminateResponse term_response;
  grpc::ClientContext term_context;
  term_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status term = stub->Terminate(&term_context, term_request, &term_response);
  if (std::string(expect) == "denied") {
    EXPECT_EQ(profile.error_code(), grpc::StatusCode::PERMISSION_DENIED) << profile.error_message();
    EXPECT_THAT(profile.error_message(), HasSubstr("TBPROF_SERVER_USERS=any"));
    EXPECT_EQ(term.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  } else {
    EXPECT_TRUE(profile.ok()) << profile.error_message();
    EXPECT_EQ(term.error_code(), grpc::StatusCode::NOT_FOUND);
  }
}

// Runs PeerClient.CallsTheServer in this test binary as uid/gid 65534; returns its exit status.
int RunClientAsNobody(int port, const char* expect) {
  std::string exe(4096, '\0');
  ssize_t n = readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (n <= 0) return -1;
  exe.resize(static_cast<size_t>(n));
  std::string filter = "--gtest_filter=PeerClient.CallsTheServer";
  std::string port_env = "TBPROF_TEST_PEER_PORT=" + std::to_string(port);
  std::string expect_env = std::string("TBPROF_TEST_PEER_EXPECT=") + expect;
  char* argv[] = {exe.data(), filter.data(), nullptr};
  char* envp[] = {port_env.data(), expect_env.data(), nullptr};
  pid_t child = fork();
  if (child == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(90);
    execve(exe.c_str(), argv, envp);
    _exit(91);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(CaptureServerUsersTest, CallsFromAnotherUserAreRefusedUnlessAnyUserIsAllowed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a client as another user";
  {
    absl::StatusOr<std::unique_ptr<CaptureServer>> server = CaptureServer::Start(0);
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_EQ(RunClientAsNobody((*server)->port(), "denied"), 0);
    EXPECT_EQ((*server)->captures_served(), 0);
  }
  absl::StatusOr<std::unique_ptr<CaptureServer>> open =
      CaptureServer::Start(0, /*allow_any_user=*/true);
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(RunClientAsNobody((*open)->port(), "served"), 0);
  EXPECT_EQ((*open)->captures_served(), 1);
}

TEST(CaptureServerStartTest, InvalidPortIsRejected) {
  EXPECT_EQ(CaptureServer::Start(65536).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CaptureServer::Start(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PublicCaptureServerTest, StartStopAndPort) {
  // Without TBPROF=1 / TBPROF_PORT in the test's environment: nothing starts.
  ASSERT_EQ(std::getenv("TBPROF_PORT"), nullptr);
  EXPECT_TRUE(StartCaptureServer().ok());
  EXPECT_EQ(CaptureServerPort(), 0);

  CaptureServerOptions options;
  options.port = 0;
  ASSERT_TRUE(StartCaptureServer(options).ok());
  const int port = CaptureServerPort();
  EXPECT_GT(port, 0);
  absl::Status again = StartCaptureServer(options);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.message()), HasSubstr(std::to_string(port)));
  EXPECT_EQ(CaptureServerCapturesServed(), 0);
  StopCaptureServer();
  EXPECT_EQ(CaptureServerPort(), 0);
  StopCaptureServer();
}

}  // namespace
}  // namespace tbprof::internal
