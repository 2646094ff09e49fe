// Tests of ServiceNotifier (agent/ops/service_notifier) against a real datagram socket the test binds, by
// a path and by an abstract name: each notification arrives as one datagram in sd_notify's form; the
// watchdog pings every half interval from the loop; without NOTIFY_SOCKET nothing is sent; and the
// environment's variables are read as systemd means them (WATCHDOG_PID for another process, bad values).
#include "agent/ops/service_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <spdlog/sinks/null_sink.h>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/scratch_dir.h"

namespace ferry {
namespace {

// A bound datagram socket, as systemd's notify socket is.
class NotifySocket {
 public:
  // name: a path, or an abstract name starting with '@'.
  explicit NotifySocket(std::string name) : name_(std::move(name)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name_.data(), name_.size());
    socklen_t length = offsetof(sockaddr_un, sun_path) + name_.size();
    if (name_[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      ++length;
    }
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), length) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // Every datagram waiting now.
  std::vector<std::string> Received() {
    std::vector<std::string> out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) break;
      out.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  int fd_ = -1;
};

Environment Env(std::map<std::string, std::string, std::less<>> vars) {
  return Environment(std::move(vars));
}

std::string AbstractName() {
  return "@ferry-notify-test-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
}

struct Loop {
  Loop() { REQUIRE(uv_loop_init(&loop) == 0); }
  ~Loop() { CHECK(uv_loop_close(&loop) == 0); }
  // Runs the loop for ms milliseconds.
  void RunFor(std::uint64_t ms) {
    uv_timer_t stop{};
    uv_timer_init(&loop, &stop);
    uv_timer_start(
        &stop, [](uv_timer_t* t) { uv_stop(t->loop); }, ms, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&stop), nullptr);
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  void Close(ServiceNotifier& notifier) {
    bool closed = false;
    notifier.Close([&] { closed = true; });
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(closed);
  }
  uv_loop_t loop{};
};

spdlog::logger NullLog() {
  return spdlog::logger("notify-test", std::make_shared<spdlog::sinks::null_sink_st>());
}

TEST_CASE("ServiceNotifier sends each notification as one datagram to a path or an abstract name",
          "[service_notifier]") {
  testing::ScratchDir dir("ferry-notify");
  NotifySocket socket(GENERATE(as<bool>(), true, false) ? AbstractName() : dir / "notify");
  Loop loop;
  auto log = NullLog();
  NotifyTarget target = NotifyTargetFromEnvironment(Env({{"NOTIFY_SOCKET", socket.name()}}), 1);
  REQUIRE(target.problem.empty());
  ServiceNotifier notifier(&loop.loop, log, target);
  REQUIRE(notifier.enabled());
  notifier.Ready();
  notifier.Status("3 flows; 0 lines/s read\nREADY=1");  // a line break may not smuggle a second assignment
  notifier.Reloading();
  notifier.Stopping();
  auto got = socket.Received();
  REQUIRE(got.size() == 4);
  CHECK(got[0] == "READY=1");
  CHECK(got[1] == "STATUS=3 flows; 0 lines/s read");
  REQUIRE(got[2].starts_with("RELOADING=1\nMONOTONIC_USEC="));
  const std::uint64_t usec = std::stoull(got[2].substr(got[2].find('=', 12) + 1));
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto now_usec = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
  CHECK(usec <= now_usec);
  CHECK(usec + 5'000'000 > now_usec);
  CHECK(got[3] == "STOPPING=1");
  CHECK(notifier.sent() == 4);
  loop.Close(notifier);
}

TEST_CASE("ServiceNotifier pings the watchdog every half interval from the loop", "[service_notifier]") {
  NotifySocket socket(AbstractName());
  Loop loop;
  auto log = NullLog();
  // 40 ms: a ping at once, then every 20 ms.
  NotifyTarget target =
      NotifyTargetFromEnvironment(Env({{"NOTIFY_SOCKET", socket.name()}, {"WATCHDOG_USEC", "40000"}}), 1);
  REQUIRE(target.watchdog == Duration(40));
  ServiceNotifier notifier(&loop.loop, log, target);
  notifier.StartWatchdog();
  loop.RunFor(110);
  auto got = socket.Received();
  CHECK(got.size() >= 3);  // at 0, 20, 40, 60, 80, 100 ms on an idle machine; a busy one runs late
  CHECK(got.size() <= 7);
  for (const auto& message : got) CHECK(message == "WATCHDOG=1");
  // A loop that does not run sends nothing, however long it waits: that is what systemd notices.
  ::usleep(60'000);
  CHECK(socket.Received().empty());
  loop.Close(notifier);
  loop.RunFor(50);
  CHECK(socket.Received().empty());  // closed: no more pings
}

TEST_CASE("ServiceNotifier refreshes STATUS= from the text it is given", "[service_notifier]") {
  NotifySocket socket(AbstractName());
  Loop loop;
  auto log = NullLog();
  ServiceNotifier notifier(&loop.loop, log,
                           NotifyTargetFromEnvironment(Env({{"NOTIFY_SOCKET", socket.name()}}), 1));
  int calls = 0;
  notifier.StartStatus(Duration(30), [&] { return "call " + std::to_string(++calls); });
  loop.RunFor(75);
  auto got = socket.Received();
  REQUIRE(got.size() >= 2);
  CHECK(got[0] == "STATUS=call 1");
  CHECK(got[1] == "STATUS=call 2");
  loop.Close(notifier);
}

TEST_CASE("ServiceNotifier does nothing without NOTIFY_SOCKET", "[service_notifier]") {
  Loop loop;
  auto log = NullLog();
  NotifyTarget target = NotifyTargetFromEnvironment(Env({{"WATCHDOG_USEC", "1000"}}), 1);
  CHECK(target.socket.empty());
  CHECK_FALSE(target.watchdog);
  CHECK(target.problem.empty());
  ServiceNotifier notifier(&loop.loop, log, target);
  CHECK_FALSE(notifier.enabled());
  notifier.StartWatchdog();
  notifier.StartStatus(Duration(1), [] { return std::string("x"); });
  notifier.Ready();
  loop.RunFor(20);
  CHECK(notifier.sent() == 0);
  loop.Close(notifier);
}

TEST_CASE("NotifyTargetFromEnvironment reads the variables as systemd means them", "[service_notifier]") {
  auto target = [](std::map<std::string, std::string, std::less<>> vars) {
    return NotifyTargetFromEnvironment(Environment(std::move(vars)), 42);
  };
  SECTION("a watchdog for this process or for whichever process reads it") {
    CHECK(target({{"NOTIFY_SOCKET", "/run/n"}, {"WATCHDOG_USEC", "30000000"}, {"WATCHDOG_PID", "42"}})
              .watchdog == Duration(30'000));
    CHECK(target({{"NOTIFY_SOCKET", "/run/n"}, {"WATCHDOG_USEC", "30000000"}}).watchdog == Duration(30'000));
  }
  SECTION("a watchdog for another process is not ours") {
    auto t = target({{"NOTIFY_SOCKET", "/run/n"}, {"WATCHDOG_USEC", "30000000"}, {"WATCHDOG_PID", "7"}});
    CHECK(t.socket == "/run/n");
    CHECK_FALSE(t.watchdog);
    CHECK(t.problem.empty());
  }
  SECTION("bad values are reported and not used") {
    auto bad_usec = target({{"NOTIFY_SOCKET", "@n"}, {"WATCHDOG_USEC", "30s"}});
    CHECK(bad_usec.socket == "@n");
    CHECK_FALSE(bad_usec.watchdog);
    CHECK(bad_usec.problem.find("WATCHDOG_USEC") != std::string::npos);
    auto zero = target({{"NOTIFY_SOCKET", "@n"}, {"WATCHDOG_USEC", "0"}});
    CHECK_FALSE(zero.watchdog);
    auto relative = target({{"NOTIFY_SOCKET", "run/n"}});
    CHECK(relative.socket.empty());
    CHECK(relative.problem.find("NOTIFY_SOCKET") != std::string::npos);
    auto vsock = target({{"NOTIFY_SOCKET", "vsock:2:1234"}});
    CHECK(vsock.socket.empty());
    auto too_long = target({{"NOTIFY_SOCKET", "/" + std::string(200, 'x')}});
    CHECK(too_long.socket.empty());
    CHECK_FALSE(too_long.problem.empty());
  }
}

}  // namespace
}  // namespace ferry
