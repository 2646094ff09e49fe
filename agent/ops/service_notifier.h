// ServiceNotifier: tells systemd (Type=notify) how the daemon is doing, by sd_notify(3)'s documented
// protocol spoken directly: each notification is one datagram of "KEY=VALUE" lines sent with sendmsg(2)
// over an AF_UNIX SOCK_DGRAM socket to the address in NOTIFY_SOCKET (a path, or an abstract name written
// with a leading '@'). Without NOTIFY_SOCKET every method does nothing and nothing else changes.
//
// The watchdog: when WATCHDOG_USEC is set (and WATCHDOG_PID is unset or this process's pid), a timer on the
// daemon's loop sends WATCHDOG=1 every half interval, as sd_watchdog_enabled(3) advises. The pings come from
// the loop itself, so a loop that is stuck stops pinging and systemd restarts the service.
//
// Sends never block the loop (MSG_DONTWAIT): a datagram the socket cannot take now is dropped, and failures
// are logged once a minute with a count (core/repeat_filter.h). Owns one socket and, with a watchdog or a
// status refresh, timers on the loop: Close() before destroying it. Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "agent/core/environment.h"
#include "agent/core/repeat_filter.h"
#include "agent/core/units.h"

namespace ferry {

// Where and how often to notify, from the environment systemd gives a Type=notify service.
struct NotifyTarget {
  std::string socket;                // NOTIFY_SOCKET; empty: not under systemd's notify protocol
  std::optional<Duration> watchdog;  // WATCHDOG_USEC when meant for this process
  std::string problem;               // why a variable that is set was not used (for the log), or empty
};
// pid: this process's, compared with WATCHDOG_PID.
NotifyTarget NotifyTargetFromEnvironment(const Environment& env, long pid);

class ServiceNotifier {
 public:
  ServiceNotifier(uv_loop_t* loop, spdlog::logger& log, NotifyTarget target);
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  bool enabled() const { return !target_.socket.empty(); }

  // READY=1: every flow has started (and again after a reload).
  void Ready();
  // RELOADING=1 with MONOTONIC_USEC= (CLOCK_MONOTONIC now), which systemd 253 and later require.
  void Reloading();
  // STOPPING=1: shutdown has begun.
  void Stopping();
  // STATUS=text (one line; a line break ends it).
  void Status(std::string_view text);
  // Starts the watchdog pings, if the environment asked for them.
  void StartWatchdog();
  // Calls text() every `every` and sends it as STATUS= (when enabled), starting now.
  void StartStatus(Duration every, std::function<std::string()> text);
  // Stops and closes the timers; on_closed runs once they are closed (may be empty).
  void Close(std::function<void()> on_closed);

  std::uint64_t sent() const { return sent_; }

 private:
  void Send(std::string_view message);

  uv_loop_t* loop_;
  spdlog::logger& log_;
  NotifyTarget target_;
  int fd_ = -1;
  uv_timer_t watchdog_timer_{};
  uv_timer_t status_timer_{};
  std::function<std::string()> status_text_;
  bool closed_ = false;
  std::uint64_t sent_ = 0;
  RepeatFilter failures_;
};

}  // namespace ferry
