// LambdaInstance: one running process of a transformation function, which answers one invocation at a
// time (plugins/lambda/PROTOCOL.md).
//
// - Start() spawns it (agent/process/child_process.h: stdin and stdout piped, stderr read by lines and
//   logged as "flow <name>: lambda[<pid>]: <line>"). A spawn that fails there is an error for the caller
//   (ferry stops at start-up); later, a respawn that fails is retried with backoff.
// - Invoke() writes one request line; done gets the answer line, or why there is none: the process exited
//   or crashed, closed its stdout, answered past the line cap (it is then killed), or passed the timeout
//   (its process group is killed; a process's first invocation has start_allowance more, for its start).
//   done never runs from inside Invoke().
// - After a failure the process is restarted once it has exited, after a backoff that starts at
//   backoff_min and doubles to backoff_max, and goes back to backoff_min after an answered invocation. A
//   process that exits while idle is restarted the same way. events.on_ready runs each time a (re)started
//   process can take an invocation; events.on_start_failed each time a respawn fails.
// - A line on stdout with no invocation under way breaks the one-line-per-request rhythm: the process is
//   killed and restarted, so a stray line can never pass for the next request's answer.
// - Close() ends stdin (the wrapper exits once it sees EOF), sends SIGTERM after stop_grace and SIGKILL
//   after another; on_closed runs once the process has exited and every handle is closed. An invocation
//   under way then never gets its done. Destroying the instance kills the process and closes everything
//   without a callback.
// Loop thread only; never blocks.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "agent/core/result.h"
#include "agent/core/units.h"
#include "agent/process/child_process.h"

namespace ferry::plugins {

struct LambdaInstanceOptions {
  std::vector<std::string> argv;  // argv[0]: the program's path
  std::vector<std::string> env;   // "KEY=value", the whole environment
  Duration timeout{60000};        // per invocation
  // Added to the timeout of a process's first invocation, which includes its start (an interpreter, the
  // handler's module): Lambda, too, gives a function's init phase 10 s of its own.
  Duration start_allowance{10000};
  std::size_t max_answer_bytes = 24 << 20;  // one answer line; past it the process is killed
  Duration backoff_min{100};
  Duration backoff_max{30000};
  Duration stop_grace{1000};  // Close(): from EOF to SIGTERM, and from SIGTERM to SIGKILL
  std::string flow;           // for the log
};

// What became of one invocation.
struct LambdaAnswer {
  bool answered = false;
  std::string line;     // answered: the answer line, without its newline
  std::string failure;  // else why: "Lambda.FunctionError: exit status 1", "Lambda.Timeout: ..."
};

struct LambdaInstanceCounters {
  std::uint64_t restarts = 0;  // processes started after the first
  std::uint64_t timeouts = 0;
  std::uint64_t start_failures = 0;  // respawns that failed
};

class LambdaInstance {
 public:
  struct Events {
    std::function<void()> on_ready;
    std::function<void(const std::string& why)> on_start_failed;
  };

  LambdaInstance(uv_loop_t* loop, const LambdaInstanceOptions& options, spdlog::logger& log, Events events);
  ~LambdaInstance();
  LambdaInstance(const LambdaInstance&) = delete;
  LambdaInstance& operator=(const LambdaInstance&) = delete;

  // Spawns the process. Once.
  Status Start();
  // Running and not answering an invocation: Invoke() may be called.
  bool idle() const { return state_ == State::kRunning && !busy_; }
  bool running() const { return child_ != nullptr && child_->running(); }
  // request: one line, its '\n' included. Only when idle().
  void Invoke(std::string request, std::function<void(LambdaAnswer)> done);
  void Close(std::function<void()> on_closed);

  const LambdaInstanceCounters& counters() const { return counters_; }
  int pid() const { return child_ != nullptr ? child_->pid() : 0; }

 private:
  enum class State {
    kNew,
    kRunning,  // a process is up
    kExiting,  // killed or failed: waiting for its exit before the restart
    kBackoff,  // waiting to respawn
    kClosing,
    kClosed,
  };

  Status Spawn();
  void OnAnswerLine(std::string_view line);
  void OnExit(const process::ChildExit& exit);
  void OnTimer();
  // Kills the process (restarted once it has exited); the invocation under way fails with why, now or
  // (answer_now false: never from inside Invoke) at the exit.
  void Fail(std::string why, bool answer_now);
  void FinishInvocation(LambdaAnswer answer);
  void ScheduleRestart();
  void ArmTimer(Duration after);
  void FinishClose();

  uv_loop_t* loop_;
  LambdaInstanceOptions options_;
  spdlog::logger& log_;
  Events events_;
  State state_ = State::kNew;
  std::unique_ptr<process::ChildProcess> child_;
  int child_pid_ = 0;  // for the log, after the child is gone
  uv_timer_t* timer_;  // the invocation's timeout, the restart's backoff, Close's graces (one at a time)
  bool busy_ = false;
  bool answered_ = false;  // the running process has answered an invocation (it has started)
  std::function<void(LambdaAnswer)> done_;
  std::string failure_;  // why the process is being killed, for the invocation under way
  Duration backoff_;
  bool terminated_ = false;  // Close(): SIGTERM sent
  std::function<void()> on_closed_;
  LambdaInstanceCounters counters_;
};

}  // namespace ferry::plugins
