// Tests of FetchStatus (agent/ops/status_client.h) against raw sockets that misbehave; the happy path is
// covered with the real server in status_server_test.cpp.
#include "agent/ops/status_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>

#include <catch2/catch.hpp>

namespace ferry {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/ferry-status-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string Socket() const { return (path / "ferry.sock").string(); }
  fs::path path;
};

// A socket bound at path; listening (connections queue, nobody accepts) or not (connections are refused).
int Bind(const std::string& path, bool listen) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  if (listen) REQUIRE(::listen(fd, 8) == 0);
  return fd;
}

TEST_CASE("FetchStatus: no socket file is kNotFound naming the path", "[status]") {
  TempDir tmp;
  auto reply = FetchStatus(tmp.Socket(), Duration(1000));
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code() == ErrorCode::kNotFound);
  CHECK(reply.error().message() == tmp.Socket() + ": No such file or directory (ENOENT)");
}

TEST_CASE("FetchStatus: a socket nobody listens on is kNotFound", "[status]") {
  TempDir tmp;
  int fd = Bind(tmp.Socket(), false);
  auto reply = FetchStatus(tmp.Socket(), Duration(1000));
  ::close(fd);
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code() == ErrorCode::kNotFound);
  CHECK(reply.error().message() == tmp.Socket() + ": Connection refused (ECONNREFUSED)");
}

TEST_CASE("FetchStatus: a daemon that never answers times out", "[status]") {
  TempDir tmp;
  int fd = Bind(tmp.Socket(), true);
  auto start = std::chrono::steady_clock::now();
  auto reply = FetchStatus(tmp.Socket(), Duration(200));
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code() == ErrorCode::kNetwork);
  CHECK(reply.error().message() == tmp.Socket() + ": no complete answer within 200ms");
  CHECK(took >= std::chrono::milliseconds(190));
  CHECK(took < std::chrono::seconds(2));
}

TEST_CASE("FetchStatus: a reply without its final newline is cut short", "[status]") {
  TempDir tmp;
  int listener = Bind(tmp.Socket(), true);
  auto reply = std::async(std::launch::async, [&] { return FetchStatus(tmp.Socket(), Duration(5000)); });
  // Half a reply, then hang up: what a daemon that gave up on its client sends.
  int peer = ::accept(listener, nullptr, nullptr);
  REQUIRE(peer >= 0);
  std::string half = "{\"ferry\": \"0";
  CHECK(::write(peer, half.data(), half.size()) == static_cast<ssize_t>(half.size()));
  ::close(peer);
  ::close(listener);
  auto result = reply.get();
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code() == ErrorCode::kProtocol);
  CHECK(result.error().message() == tmp.Socket() + ": the answer was cut short after 12 bytes");
}

TEST_CASE("FetchStatus: a path too long for a unix socket is kInvalidArgument", "[status]") {
  auto reply = FetchStatus("/tmp/" + std::string(200, 'x') + "/ferry.sock", Duration(100));
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code() == ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry
