// Tests of MetricsServer (agent/ops/metrics_server.h) over real TCP on the loopback: the server runs on the
// test thread's loop; clients are blocking sockets on other threads (std::async) or held by the test
// without writing, while the test thread drives the loop.
#include "agent/ops/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <catch2/catch.hpp>

namespace ferry {
namespace {

using namespace std::chrono_literals;

spdlog::sink_ptr LogSink() {
  if (std::getenv("FERRY_TEST_LOG") != nullptr) return std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return std::make_shared<spdlog::sinks::null_sink_mt>();
}

// 127.0.0.1 with port 0: the kernel picks a free port (ParseListenAddress refuses 0; only code makes it).
ListenAddress AnyLoopbackPort() {
  auto a = ParseListenAddress("127.0.0.1:1");
  REQUIRE(a);
  reinterpret_cast<sockaddr_in*>(&a->addr)->sin_port = 0;
  a->port = 0;
  return *a;
}

class Harness {
 public:
  Harness() : log_("test", LogSink()) {
    std::signal(SIGPIPE, SIG_IGN);
    REQUIRE(uv_loop_init(&loop_) == 0);
  }
  ~Harness() {
    for (auto& s : servers_) s->Close([] {});
    uv_run(&loop_, UV_RUN_DEFAULT);
    servers_.clear();
    CHECK(uv_loop_close(&loop_) == 0);
  }

  MetricsServer& Start(MetricsServerLimits limits = {}, std::function<std::string()> render = nullptr) {
    if (!render) render = [this] { return "ferry_test_renders " + std::to_string(++renders) + "\n"; };
    servers_.push_back(std::make_unique<MetricsServer>(&loop_, log_, AnyLoopbackPort(), render, limits));
    REQUIRE(servers_.back()->Start());
    return *servers_.back();
  }

  template <typename Pred>
  bool RunUntil(Pred pred, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      uv_run(&loop_, UV_RUN_NOWAIT);
      usleep(500);
    }
    return true;
  }

  // Sends request on another thread and reads the answer to its end; "" when the server closed at once.
  std::string Ask(std::uint16_t port, std::string request) {
    auto f = std::async(std::launch::async, [port, request] { return Exchange(port, request); });
    REQUIRE(RunUntil([&] { return f.wait_for(0s) == std::future_status::ready; }));
    return f.get();
  }

  static int Connect(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return -1;
    }
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }

  static std::string ReadAll(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  static std::string Exchange(std::uint16_t port, const std::string& request) {
    int fd = Connect(port);
    if (fd < 0) return "connect failed";
    std::size_t sent = 0;
    while (sent < request.size()) {
      const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;  // the server may answer and close before it has read everything
      sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);  // as a client that sent its whole request does
    std::string out = ReadAll(fd);
    ::close(fd);
    return out;
  }

  int renders = 0;
  uv_loop_t loop_{};

 private:
  spdlog::logger log_;
  std::vector<std::unique_ptr<MetricsServer>> servers_;
};

TEST_CASE("GET /metrics answers the exposition; HEAD its headers only", "[metrics_server]") {
  Harness h;
  MetricsServer& s = h.Start();
  const std::string get = h.Ask(s.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(get.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(get.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
  CHECK(get.find("Connection: close\r\n") != std::string::npos);
  CHECK(get.find("Content-Length: 21\r\n") != std::string::npos);
  CHECK(get.ends_with("\r\n\r\nferry_test_renders 1\n"));
  const std::string head = h.Ask(s.port(), "HEAD /metrics HTTP/1.0\r\n\r\n");
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.ends_with("\r\n\r\n"));
  CHECK(s.counters().scrapes == 2);
}

TEST_CASE("/ is a short page, other paths 404, other methods 405", "[metrics_server]") {
  Harness h;
  MetricsServer& s = h.Start();
  CHECK(h.Ask(s.port(), "GET / HTTP/1.1\r\n\r\n").find("<a href=\"/metrics\">") != std::string::npos);
  CHECK(h.Ask(s.port(), "GET /debug HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0) == 0);
  const std::string post = h.Ask(s.port(), "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  CHECK(post.rfind("HTTP/1.1 405 ", 0) == 0);
  CHECK(post.find("Allow: GET, HEAD\r\n") != std::string::npos);
  CHECK(h.Ask(s.port(), "GET /metrics HTTP/2.0\r\n\r\n").rfind("HTTP/1.1 505 ", 0) == 0);
  CHECK(h.Ask(s.port(), "garbage\r\n\r\n").rfind("HTTP/1.1 400 ", 0) == 0);
  CHECK(h.renders == 0);  // nothing but /metrics renders
}

TEST_CASE("a 1 MiB request line gets 431 and costs no more than the head bound", "[metrics_server]") {
  Harness h;
  MetricsServerLimits limits;
  limits.max_head_bytes = 1024;
  MetricsServer& s = h.Start(limits);
  // Several times: closing with the rest of the line unread would reset the connection, and the reset
  // often destroys the answer before the client reads it; the server reads the rest away first.
  for (int i = 0; i < 10; ++i) {
    const std::string answer = h.Ask(s.port(), "GET /" + std::string(1 << 20, 'a') + " HTTP/1.1\r\n\r\n");
    CHECK(answer.rfind("HTTP/1.1 431 ", 0) == 0);
  }
  CHECK(h.Ask(s.port(), "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200 ", 0) == 0);
}

TEST_CASE("after answering, the server reads the client's rest away, at most for the linger time",
          "[metrics_server]") {
  Harness h;
  MetricsServerLimits limits;
  limits.max_head_bytes = 1024;
  limits.linger_timeout = 300ms;
  MetricsServer& s = h.Start(limits);
  int fd = Harness::Connect(s.port());
  REQUIRE(fd >= 0);
  const std::string line = "GET /" + std::string(4096, 'a');
  REQUIRE(::send(fd, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size()));
  REQUIRE(h.RunUntil([&] { return s.clients() == 1; }));
  // Answered with 431, and still connected: more of the line is read and discarded, not reset.
  uv_run(&h.loop_, UV_RUN_NOWAIT);
  REQUIRE(::send(fd, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size()));
  // The client never ends: the server gives up lingering after linger_timeout.
  const auto began = std::chrono::steady_clock::now();
  REQUIRE(h.RunUntil([&] { return s.clients() == 0; }));
  CHECK(std::chrono::steady_clock::now() - began < 2s);
  CHECK(Harness::ReadAll(fd).rfind("HTTP/1.1 431 ", 0) == 0);
  ::close(fd);
}

TEST_CASE("a client that does not finish its request is dropped at the deadline", "[metrics_server]") {
  Harness h;
  MetricsServerLimits limits;
  limits.request_timeout = 200ms;
  MetricsServer& s = h.Start(limits);
  int slow = Harness::Connect(s.port());
  REQUIRE(slow >= 0);
  REQUIRE(::send(slow, "GET /metrics HTTP/1.1\r\nX-A: ", 28, MSG_NOSIGNAL) == 28);
  REQUIRE(h.RunUntil([&] { return s.clients() == 1; }));
  const auto began = std::chrono::steady_clock::now();
  REQUIRE(h.RunUntil([&] { return s.clients() == 0; }));
  CHECK(std::chrono::steady_clock::now() - began < 2s);
  CHECK(s.counters().timeouts == 1);
  // Dropped without an answer: the connection reads its end.
  char c;
  CHECK(::recv(slow, &c, 1, 0) == 0);
  ::close(slow);
}

TEST_CASE("connections beyond the limit are closed at once; the others are still answered",
          "[metrics_server]") {
  Harness h;
  MetricsServerLimits limits;
  limits.max_clients = 3;
  MetricsServer& s = h.Start(limits);
  std::vector<int> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(Harness::Connect(s.port()));
    REQUIRE(idle.back() >= 0);
  }
  REQUIRE(h.RunUntil([&] { return s.clients() == 3; }));
  // A fourth: accepted and closed unanswered.
  CHECK(h.Ask(s.port(), "GET /metrics HTTP/1.1\r\n\r\n").empty());
  CHECK(s.counters().refused_clients == 1);
  CHECK(s.clients() <= 3);
  // One of the idle three finishes its request: it is answered.
  const std::string req = "GET /metrics HTTP/1.0\r\n\r\n";
  REQUIRE(::send(idle[0], req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
  std::string answer;
  auto f = std::async(std::launch::async, [fd = idle[0]] { return Harness::ReadAll(fd); });
  REQUIRE(h.RunUntil([&] { return f.wait_for(0s) == std::future_status::ready; }));
  CHECK(f.get().rfind("HTTP/1.1 200 ", 0) == 0);
  for (int fd : idle) ::close(fd);
  REQUIRE(h.RunUntil([&] { return s.clients() == 0; }));
  CHECK(h.Ask(s.port(), "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200 ", 0) == 0);
}

TEST_CASE("a port in use is a clear error", "[metrics_server]") {
  Harness h;
  MetricsServer& first = h.Start();
  auto taken = ParseListenAddress(fmt::format("127.0.0.1:{}", first.port()));
  REQUIRE(taken);
  spdlog::logger log("test", LogSink());
  MetricsServer second(&h.loop_, log, *taken, [] { return std::string(); });
  Status started = second.Start();
  REQUIRE_FALSE(started);
  CHECK_THAT(started.error().message(),
             Catch::Contains(fmt::format("metrics.listen 127.0.0.1:{}", first.port())));
  CHECK_THAT(started.error().message(), Catch::Contains("address already in use"));
  bool closed = false;
  second.Close([&] { closed = true; });
  CHECK(closed);  // nothing was open
  uv_run(&h.loop_, UV_RUN_NOWAIT);
}

TEST_CASE("Close ends the clients still connected and runs on_closed once", "[metrics_server]") {
  Harness h;
  MetricsServer& s = h.Start();
  int fd = Harness::Connect(s.port());
  REQUIRE(fd >= 0);
  REQUIRE(h.RunUntil([&] { return s.clients() == 1; }));
  int calls = 0;
  s.Close([&] { ++calls; });
  REQUIRE(h.RunUntil([&] { return calls > 0; }));
  uv_run(&h.loop_, UV_RUN_NOWAIT);
  CHECK(calls == 1);
  CHECK(s.clients() == 0);
  ::close(fd);
}

}  // namespace
}  // namespace ferry
