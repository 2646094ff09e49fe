// ServiceNotifier: sd_notify's datagrams, sent by hand (see NOTES.md, "systemd", for why not libsystemd).
#include "agent/ops/service_notifier.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/core/errno_text.h"
#include "agent/core/uv_handle.h"

namespace ferry {
namespace {

std::optional<std::uint64_t> ParseUnsigned(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

NotifyTarget NotifyTargetFromEnvironment(const Environment& env, long pid) {
  NotifyTarget target;
  std::optional<std::string> socket = env.Get("NOTIFY_SOCKET");
  if (!socket) return target;
  // sun_path holds the path and its NUL; an abstract name its leading NUL instead of '@'.
  if ((*socket)[0] != '/' && (*socket)[0] != '@') {
    target.problem =
        fmt::format("NOTIFY_SOCKET \"{}\" is neither a path nor an abstract name (@...)", *socket);
    return target;
  }
  if (socket->size() >= sizeof(sockaddr_un::sun_path)) {
    target.problem =
        fmt::format("NOTIFY_SOCKET is {} bytes long, more than a unix socket address holds", socket->size());
    return target;
  }
  target.socket = std::move(*socket);
  std::optional<std::string> usec = env.Get("WATCHDOG_USEC");
  if (!usec) return target;
  if (std::optional<std::string> for_pid = env.Get("WATCHDOG_PID")) {
    std::optional<std::uint64_t> p = ParseUnsigned(*for_pid);
    if (!p || *p != static_cast<std::uint64_t>(pid)) return target;  // another process's watchdog
  }
  std::optional<std::uint64_t> us = ParseUnsigned(*usec);
  if (!us || *us == 0) {
    target.problem = fmt::format("WATCHDOG_USEC \"{}\" is not a positive number of microseconds", *usec);
    return target;
  }
  target.watchdog = Duration(static_cast<Duration::rep>(*us / 1000 > 0 ? *us / 1000 : 1));
  return target;
}

ServiceNotifier::ServiceNotifier(uv_loop_t* loop, spdlog::logger& log, NotifyTarget target)
    : loop_(loop), log_(log), target_(std::move(target)) {
  uv_timer_init(loop_, &watchdog_timer_);
  watchdog_timer_.data = this;
  uv_timer_init(loop_, &status_timer_);
  status_timer_.data = this;
  if (!target_.problem.empty()) log_.warn("systemd notification: {}; ignored", target_.problem);
  if (!enabled()) return;
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    log_.warn("systemd notification: cannot open a datagram socket: {}; systemd will not hear from ferry",
              ErrnoText(errno));
    target_.socket.clear();
  }
}

ServiceNotifier::~ServiceNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

void ServiceNotifier::Ready() {
  Send("READY=1");
}

void ServiceNotifier::Reloading() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec =
      static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(now.tv_nsec) / 1000;
  Send(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", usec));
}

void ServiceNotifier::Stopping() {
  Send("STOPPING=1");
}

void ServiceNotifier::Status(std::string_view text) {
  // A line break would end the value and start another assignment.
  Send(fmt::format("STATUS={}", text.substr(0, text.find('\n'))));
}

void ServiceNotifier::StartWatchdog() {
  if (!enabled() || !target_.watchdog || closed_) return;
  const auto half = static_cast<std::uint64_t>(std::max<Duration::rep>(target_.watchdog->count() / 2, 1));
  uv_timer_start(
      &watchdog_timer_, [](uv_timer_t* t) { static_cast<ServiceNotifier*>(t->data)->Send("WATCHDOG=1"); }, 0,
      half);
}

void ServiceNotifier::StartStatus(Duration every, std::function<std::string()> text) {
  if (!enabled() || closed_) return;
  status_text_ = std::move(text);
  const auto ms = static_cast<std::uint64_t>(std::max<Duration::rep>(every.count(), 1));
  uv_timer_start(
      &status_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<ServiceNotifier*>(t->data);
        self->Status(self->status_text_());
      },
      0, ms);
}

void ServiceNotifier::Close(std::function<void()> on_closed) {
  if (closed_) {
    if (on_closed) on_closed();
    return;
  }
  closed_ = true;
  CloseHandles({AsHandle(&watchdog_timer_), AsHandle(&status_timer_)},
               [this, on_closed = std::move(on_closed)] {
                 status_text_ = nullptr;
                 if (on_closed) on_closed();
               });
}

void ServiceNotifier::Send(std::string_view message) {
  if (!enabled()) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, target_.socket.data(), target_.socket.size());
  socklen_t length = offsetof(sockaddr_un, sun_path) + target_.socket.size();
  if (addr.sun_path[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract: the name is exactly the bytes after it, no NUL at the end
  } else {
    ++length;  // a path: with its NUL
  }
  iovec iov{const_cast<char*>(message.data()), message.size()};
  msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = length;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) {
    ++sent_;
    return;
  }
  const int err = errno;
  const std::string what(message.substr(0, message.find('=')));  // READY, STATUS, WATCHDOG, ...
  if (auto note = failures_.Admit(what + ErrnoText(err), uv_now(loop_))) {
    log_.warn("systemd notification {} to {} failed: {}{}", what, target_.socket, ErrnoText(err), *note);
  }
}

}  // namespace ferry
