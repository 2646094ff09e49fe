// Tests of the status socket (agent/ops/status_server.h) in a temporary folder. The server runs on the test
// thread's uv_loop_t; clients are FetchStatus calls on other threads (std::async) or raw sockets that the
// test holds open without reading, while the test thread drives the loop.
#include "agent/ops/status_server.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <catch2/catch.hpp>

#include "agent/ops/status_client.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct TempDir {
  TempDir() {
    // Short, so socket paths stay well within sun_path.
    char tmpl[] = "/tmp/ferry-status-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(std::string_view name) const { return (path / name).string(); }
  fs::path path;
};

// Set FERRY_TEST_LOG=1 to see the server's log while debugging a test.
spdlog::sink_ptr LogSink() {
  if (std::getenv("FERRY_TEST_LOG") != nullptr) return std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return std::make_shared<spdlog::sinks::null_sink_mt>();
}

// A loop and the servers made on it; every server is closed (and the loop run until it is) at the end, so a
// failed REQUIRE does not destroy a server that still owns handles.
class Harness {
 public:
  Harness() : log_("test", LogSink()) {
    // As ferry's main does: a client that hangs up mid-write must not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    REQUIRE(uv_loop_init(&loop_) == 0);
  }
  ~Harness() {
    // Close() on a server already closed is ignored; the servers go only once their handles are closed.
    for (auto& s : servers_) s->Close([] {});
    uv_run(&loop_, UV_RUN_DEFAULT);
    servers_.clear();
    CHECK(uv_loop_close(&loop_) == 0);
  }

  StatusServer& Make(const std::string& path, std::function<std::string()> snapshot,
                     StatusServerLimits limits = {}) {
    servers_.push_back(std::make_unique<StatusServer>(&loop_, log_, path, std::move(snapshot), limits));
    return *servers_.back();
  }

  // Runs the loop until pred holds or timeout passes; returns pred().
  template <typename Pred>
  bool RunUntil(Pred pred, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      uv_run(&loop_, UV_RUN_NOWAIT);
      usleep(1000);
    }
    return true;
  }

  // FetchStatus on another thread; the result once the loop has served it.
  Result<std::string> Fetch(const std::string& path) {
    auto f = FetchAsync(path);
    REQUIRE(RunUntil([&] { return Ready(f); }));
    return f.get();
  }

  static std::future<Result<std::string>> FetchAsync(const std::string& path) {
    return std::async(std::launch::async, [path] { return FetchStatus(path, Duration(5000)); });
  }
  template <typename T>
  static bool Ready(std::future<T>& f) {
    return f.wait_for(0s) == std::future_status::ready;
  }

  // Returns how many times on_closed ran (it must be once).
  int Close(StatusServer& s) {
    int calls = 0;
    s.Close([&] { ++calls; });
    RunUntil([&] { return calls > 0; });
    uv_run(&loop_, UV_RUN_NOWAIT);
    return calls;
  }

 private:
  uv_loop_t loop_{};
  spdlog::logger log_;
  std::vector<std::unique_ptr<StatusServer>> servers_;
};

// A blocking client that connects and reads nothing until asked.
int ConnectRaw(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

// Reads until EOF or an error; the bytes read.
std::size_t Drain(int fd) {
  std::size_t total = 0;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return total;
    total += static_cast<std::size_t>(n);
  }
}

TEST_CASE("StatusServer sends every client a snapshot and a newline, then closes", "[status]") {
  TempDir tmp;
  Harness h;
  int calls = 0;
  StatusServer& s = h.Make(tmp / "ferry.sock", [&] { return fmt::format(R"({{"call":{}}})", ++calls); });
  REQUIRE(s.Start().ok());
  CHECK(fs::is_socket(tmp / "ferry.sock"));
  CHECK((fs::status(tmp / "ferry.sock").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::group_write));

  auto first = h.Fetch(tmp / "ferry.sock");
  REQUIRE(first.ok());
  CHECK(*first == "{\"call\":1}\n");
  auto second = h.Fetch(tmp / "ferry.sock");
  REQUIRE(second.ok());
  CHECK(*second == "{\"call\":2}\n");
  REQUIRE(h.RunUntil([&] { return s.clients() == 0; }));
}

TEST_CASE("StatusServer serves many clients at once", "[status]") {
  TempDir tmp;
  Harness h;
  std::string snapshot(200'000, 'x');  // larger than a socket buffer, so writes interleave on the loop
  StatusServer& s = h.Make(tmp / "ferry.sock", [&] { return snapshot; });
  REQUIRE(s.Start().ok());
  std::vector<std::future<Result<std::string>>> clients;
  for (int i = 0; i < 40; ++i) clients.push_back(Harness::FetchAsync(tmp / "ferry.sock"));
  REQUIRE(h.RunUntil([&] {
    for (auto& c : clients) {
      if (!Harness::Ready(c)) return false;
    }
    return true;
  }));
  for (auto& c : clients) {
    auto reply = c.get();
    REQUIRE(reply.ok());
    CHECK(*reply == snapshot + "\n");
  }
  REQUIRE(h.RunUntil([&] { return s.clients() == 0; }));
}

TEST_CASE("StatusServer refuses a state_dir whose socket answers", "[status]") {
  TempDir tmp;
  Harness h;
  StatusServer& first = h.Make(tmp / "ferry.sock", [] { return "{}"; });
  REQUIRE(first.Start().ok());
  StatusServer& second = h.Make(tmp / "ferry.sock", [] { return "{}"; });
  Status st = second.Start();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ErrorCode::kIo);
  CHECK(st.error().message() ==
        fmt::format("another ferry is running with state_dir {} (status socket {} answers)",
                    tmp.path.string(), tmp / "ferry.sock"));

  // The first one is untouched and still answers.
  auto reply = h.Fetch(tmp / "ferry.sock");
  REQUIRE(reply.ok());
  CHECK(*reply == "{}\n");

  // Once the first has gone, the second may start.
  CHECK(h.Close(first) == 1);
  REQUIRE(second.Start().ok());
  CHECK(h.Fetch(tmp / "ferry.sock").ok());
}

TEST_CASE("StatusServer replaces the socket of a ferry that died", "[status]") {
  TempDir tmp;
  Harness h;
  {
    // What a killed ferry leaves behind: a bound socket file that nobody listens on.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = tmp / "ferry.sock";
    std::memcpy(addr.sun_path, path.data(), path.size());
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    ::close(fd);
  }
  REQUIRE(fs::is_socket(tmp / "ferry.sock"));
  StatusServer& s = h.Make(tmp / "ferry.sock", [] { return "{\"fresh\":true}"; });
  REQUIRE(s.Start().ok());
  auto reply = h.Fetch(tmp / "ferry.sock");
  REQUIRE(reply.ok());
  CHECK(*reply == "{\"fresh\":true}\n");
}

TEST_CASE("StatusServer never removes a file that is not a socket", "[status]") {
  TempDir tmp;
  Harness h;
  std::ofstream(tmp / "ferry.sock") << "precious";
  StatusServer& s = h.Make(tmp / "ferry.sock", [] { return "{}"; });
  Status st = s.Start();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ErrorCode::kIo);
  CHECK_THAT(st.error().message(), Catch::Contains("not a socket"));
  std::ifstream in(tmp / "ferry.sock");
  std::string content;
  in >> content;
  CHECK(content == "precious");
}

TEST_CASE("StatusServer rejects a path too long for a unix socket", "[status]") {
  TempDir tmp;
  Harness h;
  std::string path = tmp / std::string(120, 'd') + "/ferry.sock";
  StatusServer& s = h.Make(path, [] { return "{}"; });
  Status st = s.Start();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(st.error().message(), Catch::Contains(path));
  CHECK_THAT(st.error().message(),
             Catch::Contains(fmt::format("at most {}", sizeof(sockaddr_un::sun_path) - 1)));
}

TEST_CASE("StatusServer::Close removes the socket file; nothing answers afterwards", "[status]") {
  TempDir tmp;
  Harness h;
  StatusServer& s = h.Make(tmp / "ferry.sock", [] { return "{}"; });
  REQUIRE(s.Start().ok());
  REQUIRE(h.Fetch(tmp / "ferry.sock").ok());
  CHECK(h.Close(s) == 1);
  CHECK_FALSE(fs::exists(tmp / "ferry.sock"));
  auto reply = FetchStatus(tmp / "ferry.sock", Duration(1000));
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code() == ErrorCode::kNotFound);
}

TEST_CASE("StatusServer::Close leaves a socket file another process put in its place", "[status]") {
  TempDir tmp;
  Harness h;
  StatusServer& s = h.Make(tmp / "ferry.sock", [] { return "{}"; });
  REQUIRE(s.Start().ok());
  fs::remove(tmp / "ferry.sock");
  std::ofstream(tmp / "ferry.sock") << "someone else's";
  CHECK(h.Close(s) == 1);
  CHECK(fs::exists(tmp / "ferry.sock"));
}

TEST_CASE("StatusServer drops a client that does not read within client_timeout", "[status]") {
  TempDir tmp;
  Harness h;
  std::string snapshot(4 << 20, 'x');  // far more than the socket buffers hold
  StatusServer& s = h.Make(tmp / "ferry.sock", [&] { return snapshot; }, {Duration(100), 64});
  REQUIRE(s.Start().ok());
  int fd = ConnectRaw(tmp / "ferry.sock");
  REQUIRE(h.RunUntil([&] { return s.clients() == 1; }));
  auto accepted = std::chrono::steady_clock::now();
  REQUIRE(h.RunUntil([&] { return s.clients() == 0; }, 2s));
  CHECK(std::chrono::steady_clock::now() - accepted >= 90ms);
  // What fitted in the buffers arrives, then EOF: the reply is cut short, never completed later.
  CHECK(Drain(fd) < snapshot.size());
  ::close(fd);
}

TEST_CASE("StatusServer::Close closes clients still being served", "[status]") {
  TempDir tmp;
  Harness h;
  std::string snapshot(4 << 20, 'x');
  StatusServer& s = h.Make(tmp / "ferry.sock", [&] { return snapshot; });
  REQUIRE(s.Start().ok());
  int a = ConnectRaw(tmp / "ferry.sock");
  int b = ConnectRaw(tmp / "ferry.sock");
  REQUIRE(h.RunUntil([&] { return s.clients() == 2; }));
  CHECK(h.Close(s) == 1);
  CHECK(s.clients() == 0);
  CHECK_FALSE(fs::exists(tmp / "ferry.sock"));
  ::close(a);
  ::close(b);
}

TEST_CASE("StatusServer closes clients beyond max_clients unanswered", "[status]") {
  TempDir tmp;
  Harness h;
  std::string snapshot(4 << 20, 'x');
  StatusServer& s = h.Make(tmp / "ferry.sock", [&] { return snapshot; }, {Duration(5000), 1});
  REQUIRE(s.Start().ok());
  int held = ConnectRaw(tmp / "ferry.sock");  // keeps the only slot: it does not read
  REQUIRE(h.RunUntil([&] { return s.clients() == 1; }));
  auto reply = h.Fetch(tmp / "ferry.sock");
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code() == ErrorCode::kProtocol);
  CHECK_THAT(reply.error().message(), Catch::Contains("closed without an answer"));
  ::close(held);
}

TEST_CASE("StatusServer::Close before Start calls on_closed at once", "[status]") {
  TempDir tmp;
  Harness h;
  StatusServer& s = h.Make(tmp / "ferry.sock", [] { return "{}"; });
  int calls = 0;
  s.Close([&] { ++calls; });
  CHECK(calls == 1);
  CHECK_FALSE(fs::exists(tmp / "ferry.sock"));
}

}  // namespace
}  // namespace ferry

namespace ferry {
namespace {

// A client on another thread that sends `request` (nothing if empty) and reads to EOF; the time the first
// line and EOF arrived after connecting.
struct Timed {
  std::string reply;
  std::chrono::milliseconds first_line{-1};
  std::chrono::milliseconds eof{-1};
};
// No Catch2 assertion runs on the client's thread (they are not thread-safe): failures show in what it read.
int ConnectQuiet(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::future<Timed> RawClient(const std::string& path, std::string request) {
  return std::async(std::launch::async, [path, request] {
    Timed out;
    const auto began = std::chrono::steady_clock::now();
    auto since = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
    };
    int fd = ConnectQuiet(path);
    if (fd < 0) return out;
    if (!request.empty() && ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
      ::close(fd);
      return out;
    }
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      out.reply.append(buf, static_cast<std::size_t>(n));
      if (out.first_line.count() < 0 && out.reply.find('\n') != std::string::npos) out.first_line = since();
    }
    out.eof = since();
    ::close(fd);
    return out;
  });
}

TEST_CASE("StatusServer answers a client that sends nothing at once, and closes after request_wait",
          "[status]") {
  TempDir tmp;
  Harness h;
  StatusServerLimits limits;
  limits.request_wait = Duration(1500);
  StatusServer& s = h.Make(
      tmp / "ferry.sock", [] { return "{\"ok\":1}"; }, limits);
  REQUIRE(s.Start().ok());
  auto client = RawClient(tmp / "ferry.sock", "");
  REQUIRE(h.RunUntil([&] { return Harness::Ready(client); }, 5s));
  Timed t = client.get();
  CHECK(t.reply == "{\"ok\":1}\n");
  CHECK(t.first_line >= 0ms);
  CHECK(t.first_line < 1000ms);  // the snapshot does not wait for a request
  CHECK(t.eof >= 1400ms);        // the connection does, for one that may come
}

TEST_CASE("StatusServer closes at once after \"status\" or EOF", "[status]") {
  TempDir tmp;
  Harness h;
  StatusServerLimits limits;
  limits.request_wait = Duration(5000);
  StatusServer& s = h.Make(
      tmp / "ferry.sock", [] { return "{}"; }, limits);
  REQUIRE(s.Start().ok());
  const auto began = std::chrono::steady_clock::now();
  auto reply = h.Fetch(tmp / "ferry.sock");  // sends "status\n"
  REQUIRE(reply.ok());
  CHECK(*reply == "{}\n");
  CHECK(std::chrono::steady_clock::now() - began < 3s);

  // A client that shuts its side without a request is answered as one that asked for the status.
  auto half_closed = std::async(std::launch::async, [path = tmp / "ferry.sock"] {
    int fd = ConnectQuiet(path);
    if (fd < 0) return std::string("(no connection)");
    ::shutdown(fd, SHUT_WR);
    std::string got;
    char buf[256];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return got;
  });
  const auto asked = std::chrono::steady_clock::now();
  REQUIRE(h.RunUntil([&] { return Harness::Ready(half_closed); }, 4s));
  CHECK(half_closed.get() == "{}\n");
  CHECK(std::chrono::steady_clock::now() - asked < 3s);
}

TEST_CASE("StatusServer answers \"reload\" with the snapshot, then the handler's line", "[status]") {
  TempDir tmp;
  Harness h;
  StatusServer& s = h.Make(tmp / "ferry.sock", [] { return "{\"snapshot\":1}"; });
  std::function<void(std::string)> pending;
  s.set_reload_handler([&](std::function<void(std::string)> reply) { pending = std::move(reply); });
  REQUIRE(s.Start().ok());
  auto client = std::async(std::launch::async, [path = tmp / "ferry.sock"] {
    return AskStatusSocket(path, "reload", Duration(5000));
  });
  REQUIRE(h.RunUntil([&] { return pending != nullptr; }));
  // The handler answers later, from the loop: the client waits for it.
  h.RunUntil([] { return false; }, 100ms);
  CHECK_FALSE(Harness::Ready(client));
  pending(R"({"result":"applied"})");
  REQUIRE(h.RunUntil([&] { return Harness::Ready(client); }));
  auto reply = client.get();
  REQUIRE(reply.ok());
  CHECK(*reply == "{\"snapshot\":1}\n{\"result\":\"applied\"}\n");
  REQUIRE(h.RunUntil([&] { return s.clients() == 0; }));
}

TEST_CASE("StatusServer answers an unknown request, or reload without a handler, with an error line",
          "[status]") {
  TempDir tmp;
  Harness h;
  StatusServer& s = h.Make(tmp / "ferry.sock", [] { return "{}"; });
  REQUIRE(s.Start().ok());
  auto unknown = RawClient(tmp / "ferry.sock", "restart\n");
  REQUIRE(h.RunUntil([&] { return Harness::Ready(unknown); }));
  CHECK(unknown.get().reply == "{}\n{\"error\":\"unknown request 'restart' (known: status, reload)\"}\n");

  auto flood = RawClient(tmp / "ferry.sock", std::string(100'000, 'x'));
  REQUIRE(h.RunUntil([&] { return Harness::Ready(flood); }));
  CHECK(flood.get().reply == "{}\n{\"error\":\"request line longer than 63 bytes\"}\n");

  auto reload = RawClient(tmp / "ferry.sock", "reload\n");
  REQUIRE(h.RunUntil([&] { return Harness::Ready(reload); }));
  CHECK(reload.get().reply == "{}\n{\"error\":\"this process does not reload its config\"}\n");
  REQUIRE(h.RunUntil([&] { return s.clients() == 0; }));
}

TEST_CASE("StatusServer: a reload answer after the client or the server is gone goes nowhere", "[status]") {
  TempDir tmp;
  Harness h;
  StatusServerLimits limits;
  limits.reload_timeout = Duration(200);
  StatusServer& s = h.Make(
      tmp / "ferry.sock", [] { return "{}"; }, limits);
  std::vector<std::function<void(std::string)>> pending;
  s.set_reload_handler([&](std::function<void(std::string)> reply) { pending.push_back(std::move(reply)); });
  REQUIRE(s.Start().ok());
  // The first waits longer than reload_timeout: it is dropped with its snapshot only.
  auto late = RawClient(tmp / "ferry.sock", "reload\n");
  REQUIRE(h.RunUntil([&] { return Harness::Ready(late); }));
  CHECK(late.get().reply == "{}\n");
  REQUIRE(pending.size() == 1);
  pending[0]("{\"too\":\"late\"}");
  // The second is still waiting when the server closes.
  auto closed = RawClient(tmp / "ferry.sock", "reload\n");
  REQUIRE(h.RunUntil([&] { return pending.size() == 2; }));
  CHECK(h.Close(s) == 1);
  pending[1]("{\"too\":\"late\"}");
  REQUIRE(h.RunUntil([&] { return Harness::Ready(closed); }));
  CHECK(closed.get().reply == "{}\n");
}

}  // namespace
}  // namespace ferry
