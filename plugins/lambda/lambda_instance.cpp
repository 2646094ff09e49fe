// LambdaInstance: a ChildProcess and one timer, driven by a small state machine (kNew -> kRunning ->
// kExiting -> kBackoff -> kRunning ..., and kClosing -> kClosed from any of them).
#include "plugins/lambda/lambda_instance.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "agent/core/callback_join.h"
#include "agent/core/uv_handle.h"

namespace ferry::plugins {
namespace {

constexpr std::size_t kMaxStderrLine = 8 << 10;

std::uint64_t Ms(Duration d) {
  return static_cast<std::uint64_t>(std::max<Duration::rep>(d.count(), 0));
}

}  // namespace

LambdaInstance::LambdaInstance(uv_loop_t* loop, const LambdaInstanceOptions& options, spdlog::logger& log,
                               Events events)
    : loop_(loop),
      options_(options),
      log_(log),
      events_(std::move(events)),
      timer_(new uv_timer_t),
      backoff_(options.backoff_min) {
  uv_timer_init(loop_, timer_);
  timer_->data = this;
}

LambdaInstance::~LambdaInstance() {
  child_.reset();  // kills the process; its handles close on their own
  if (timer_ != nullptr) {
    uv_timer_stop(timer_);
    CloseHandle(timer_, [t = timer_] { delete t; });
  }
}

Status LambdaInstance::Start() {
  Status spawned = Spawn();
  if (spawned) state_ = State::kRunning;
  return spawned;
}

Status LambdaInstance::Spawn() {
  process::ChildOptions o;
  o.argv = options_.argv;
  o.env = options_.env;
  o.stdin_pipe = true;
  o.stdout_options = {process::OutputOptions::Mode::kLines, options_.max_answer_bytes,
                      /*kill_on_overflow=*/true};
  o.stderr_options = {process::OutputOptions::Mode::kLines, kMaxStderrLine, false};
  process::ChildEvents events;
  events.on_stdout_line = [this](std::string_view line, bool) { OnAnswerLine(line); };
  events.on_stderr_line = [this](std::string_view line, bool cut) {
    log_.info("flow {}: lambda[{}]: {}{}", options_.flow, child_pid_, line, cut ? " (cut)" : "");
  };
  events.on_exit = [this](const process::ChildExit& exit) { OnExit(exit); };
  auto child = process::ChildProcess::Spawn(loop_, o, std::move(events));
  if (!child) return child.error();
  child_ = std::move(*child);
  child_pid_ = child_->pid();
  answered_ = false;
  return Status::Ok();
}

void LambdaInstance::Invoke(std::string request, std::function<void(LambdaAnswer)> done) {
  busy_ = true;
  done_ = std::move(done);
  Status written = child_->Write(std::move(request));
  if (!written) {
    // Answered once the process has exited, never from here.
    Fail(fmt::format("Lambda.FunctionError: cannot write the request: {}", written.error().message()), false);
    return;
  }
  ArmTimer(answered_ ? options_.timeout : options_.timeout + options_.start_allowance);
}

void LambdaInstance::OnAnswerLine(std::string_view line) {
  if (state_ != State::kRunning) return;  // a late line of a process being killed
  if (!busy_) {
    log_.warn("flow {}: lambda[{}] wrote a line with no request under way; restarting it", options_.flow,
              child_pid_);
    Fail("", false);
    return;
  }
  uv_timer_stop(timer_);
  answered_ = true;
  backoff_ = options_.backoff_min;
  FinishInvocation(LambdaAnswer{true, std::string(line), {}});
}

void LambdaInstance::Fail(std::string why, bool answer_now) {
  state_ = State::kExiting;
  uv_timer_stop(timer_);
  failure_ = std::move(why);
  if (child_ != nullptr) child_->Kill();
  if (answer_now && busy_) FinishInvocation(LambdaAnswer{false, {}, std::move(failure_)});
}

void LambdaInstance::FinishInvocation(LambdaAnswer answer) {
  busy_ = false;
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(answer));
}

void LambdaInstance::OnExit(const process::ChildExit& exit) {
  std::string what = exit.overflowed
                         ? fmt::format("answered more than {} bytes in one line", options_.max_answer_bytes)
                         : exit.Describe();
  const bool overflowed = exit.overflowed;
  // The handles close on their own (exit goes with them); a new process may start from here.
  child_.reset();
  if (state_ == State::kClosing) {
    FinishClose();
    return;
  }
  if (busy_) {
    std::string why = !failure_.empty() ? std::move(failure_)
                      : overflowed      ? fmt::format("Lambda.InvalidResponse: {}", what)
                                        : fmt::format("Lambda.FunctionError: {}", what);
    failure_.clear();
    log_.warn("flow {}: lambda[{}] ended during an invocation ({}); restarting it in {}", options_.flow,
              child_pid_, what, FormatDuration(backoff_));
    ScheduleRestart();
    FinishInvocation(LambdaAnswer{false, {}, std::move(why)});
    return;
  }
  if (state_ == State::kRunning) {
    log_.warn("flow {}: lambda[{}] ended ({}); restarting it in {}", options_.flow, child_pid_, what,
              FormatDuration(backoff_));
  }
  failure_.clear();
  ScheduleRestart();
}

void LambdaInstance::ScheduleRestart() {
  state_ = State::kBackoff;
  ArmTimer(backoff_);
  backoff_ = std::min(backoff_ * 2, options_.backoff_max);
}

void LambdaInstance::ArmTimer(Duration after) {
  // From now, not from the start of the loop's iteration: a timeout must not start short.
  uv_update_time(loop_);
  uv_timer_start(
      timer_, [](uv_timer_t* t) { static_cast<LambdaInstance*>(t->data)->OnTimer(); }, Ms(after), 0);
}

void LambdaInstance::OnTimer() {
  switch (state_) {
    case State::kRunning: {
      if (!busy_) return;
      ++counters_.timeouts;
      const std::string within = answered_ || options_.start_allowance.count() == 0
                                     ? FormatDuration(options_.timeout)
                                     : fmt::format("{} (and {} to start)", FormatDuration(options_.timeout),
                                                   FormatDuration(options_.start_allowance));
      log_.warn("flow {}: lambda[{}] gave no answer within {}; killing and restarting it", options_.flow,
                child_pid_, within);
      Fail(fmt::format("Lambda.Timeout: no answer within {}", within), true);
      return;
    }
    case State::kBackoff: {
      Status spawned = Spawn();
      if (!spawned) {
        ++counters_.start_failures;
        const std::string why = spawned.error().message();
        log_.error("flow {}: lambda: {}; trying again in {}", options_.flow, why, FormatDuration(backoff_));
        ScheduleRestart();
        if (events_.on_start_failed) events_.on_start_failed(why);
        return;
      }
      ++counters_.restarts;
      state_ = State::kRunning;
      if (events_.on_ready) events_.on_ready();
      return;
    }
    case State::kClosing:
      if (child_ != nullptr && !terminated_) {
        terminated_ = true;
        child_->Terminate(options_.stop_grace);
      }
      return;
    case State::kNew:
    case State::kExiting:
    case State::kClosed:
      return;
  }
}

void LambdaInstance::Close(std::function<void()> on_closed) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  on_closed_ = std::move(on_closed);
  state_ = State::kClosing;
  busy_ = false;
  done_ = nullptr;
  uv_timer_stop(timer_);
  if (child_ != nullptr && child_->running()) {
    // The wrapper exits at end of input; SIGTERM only if it has not after the grace.
    child_->CloseStdin();
    ArmTimer(options_.stop_grace);
    return;
  }
  FinishClose();
}

void LambdaInstance::FinishClose() {
  state_ = State::kClosed;
  auto join = JoinCallbacks(child_ != nullptr ? 2 : 1, [done = std::move(on_closed_)] {
    if (done) done();
  });
  on_closed_ = nullptr;
  if (child_ != nullptr) {
    std::unique_ptr<process::ChildProcess> child = std::move(child_);
    child->Close(join);
  }
  uv_timer_stop(timer_);
  CloseHandle(timer_, [t = timer_, join] {
    delete t;
    join();
  });
  timer_ = nullptr;
}

}  // namespace ferry::plugins
