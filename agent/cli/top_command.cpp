// `ferry top [-c FILE | --state-dir DIR] [--interval DURATION]`: a live view of a running ferry. Every
// interval it fetches the daemon's status over the status socket (the same document `ferry status` reads),
// turns two consecutive replies into rates (ops/top_model.h), renders a screen for the window's size
// (ops/top_screen.h) and draws it on the alternate screen (terminal_mode.h); keys sort and quit.
//
// One small libuv loop on the main thread: the keys (uv_tty), the refresh timer, and SIGINT, SIGTERM,
// SIGHUP and SIGWINCH as uv_signal handles, so every way out returns through Run and the terminal is
// restored. The fetch itself blocks the loop, bounded by its timeout (the interval, within 0.5 to 5 s): a
// key pressed meanwhile waits at most that long.
//
// Exit status: 0 on q or Ctrl-C while the daemon answers; 1 on q or Ctrl-C while it does not (the view
// showed no daemon), or when the terminal cannot be used; 2 for bad flags or when standard input or output
// is not a terminal; 128 + the signal on SIGTERM or SIGHUP.
#include <sys/types.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "agent/cli/commands.h"
#include "agent/cli/config_flag.h"
#include "agent/cli/status_socket_flag.h"
#include "agent/cli/terminal_mode.h"
#include "agent/cli/top_keys.h"
#include "agent/core/event_loop.h"
#include "agent/core/units.h"
#include "agent/core/uv_handle.h"
#include "agent/ops/status_client.h"
#include "agent/ops/top_model.h"
#include "agent/ops/top_screen.h"

namespace ferry::cli {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kUsage = "usage: ferry top [-c FILE | --state-dir DIR] [--interval DURATION]";
constexpr Duration kMinInterval = 100ms;
constexpr Duration kMaxInterval = 1h;

struct TopArgs {
  StatusSocketTarget target;
  Duration interval = 1s;
};

Result<TopArgs> ParseTopArgs(std::span<const std::string_view> args) {
  auto target = ParseStatusSocketFlags(args);
  if (!target) return target.error();
  TopArgs out{std::move(*target)};
  const std::vector<std::string_view>& rest = out.target.rest;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    std::string_view arg = rest[i];
    std::string_view value;
    if (arg == "--interval") {
      if (i + 1 == rest.size()) return Error(ErrorCode::kInvalidArgument, "--interval needs a duration");
      value = rest[++i];
    } else if (arg.starts_with("--interval=")) {
      value = arg.substr(11);
    } else {
      return Error(ErrorCode::kInvalidArgument, fmt::format("unknown argument '{}' ({})", arg, kUsage));
    }
    auto interval = ParseDuration(value);
    if (!interval)
      return Error(ErrorCode::kInvalidArgument, fmt::format("--interval: {}", interval.error().message()));
    if (*interval < kMinInterval || *interval > kMaxInterval) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("--interval {} is out of range ({} to {})", value,
                               FormatDuration(kMinInterval), FormatDuration(kMaxInterval)));
    }
    out.interval = *interval;
  }
  return out;
}

// The resident memory of process pid, from /proc/PID/status ("VmRSS:  1234 kB"); none when it cannot be
// read (another host's /proc, a daemon that just exited).
std::optional<std::uint64_t> ResidentBytes(long pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("VmRSS:")) continue;
    unsigned long kib = 0;
    if (std::sscanf(line.c_str() + 6, "%lu", &kib) != 1) return std::nullopt;
    return std::uint64_t{kib} * 1024;
  }
  return std::nullopt;
}

class TopSession {
 public:
  explicit TopSession(TopArgs args) : args_(std::move(args)) {}

  // Runs until a key, a signal or a failure ends it; returns the exit status. The terminal is restored
  // before this returns, on every path.
  Result<int> Run();

 private:
  static TopSession* From(void* data) { return static_cast<TopSession*>(data); }

  Status StartHandles();
  void Refresh();
  void OnKeys(std::string_view bytes);
  void Redraw();
  void Quit(int code);

  TopArgs args_;
  uv_loop_t loop_{};
  uv_tty_t keys_{};
  uv_timer_t timer_{};
  uv_signal_t signals_[4]{};
  std::vector<uv_handle_t*> open_;  // initialised handles, to close on the way out
  bool quitting_ = false;
  char read_buffer_[256];

  std::unique_ptr<TerminalMode> terminal_;
  std::optional<TopSnapshot> previous_;
  std::optional<TopView> view_;
  std::string unreachable_;
  TopSort sort_;
  bool help_ = false;
  int exit_code_ = kExitOk;
  std::optional<Error> failure_;
};

Status TopSession::StartHandles() {
  auto uv_error = [](std::string_view what, int rc) {
    return Error(ErrorCode::kIo, fmt::format("{}: {}", what, uv_strerror(rc)));
  };
  // Signals first, so that from the moment the terminal changes, every signal that ends us unwinds.
  constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};
  for (std::size_t i = 0; i < std::size(kSignals); ++i) {
    uv_signal_t* s = &signals_[i];
    if (int rc = uv_signal_init(&loop_, s); rc != 0) return uv_error("signal handler", rc);
    s->data = this;
    open_.push_back(AsHandle(s));
    int rc = uv_signal_start(
        s,
        [](uv_signal_t* h, int signum) {
          TopSession* self = From(h->data);
          if (signum == SIGWINCH) return self->Redraw();
          // Ctrl-C is the other way to quit; SIGTERM and SIGHUP are someone ending us.
          if (signum == SIGINT) return self->Quit(self->unreachable_.empty() ? kExitOk : kExitFailure);
          self->Quit(128 + signum);
        },
        kSignals[i]);
    if (rc != 0) return uv_error("signal handler", rc);
  }
  if (int rc = uv_tty_init(&loop_, &keys_, STDIN_FILENO, 1); rc != 0) return uv_error("standard input", rc);
  keys_.data = this;
  open_.push_back(AsHandle(&keys_));
  int rc = uv_read_start(
      reinterpret_cast<uv_stream_t*>(&keys_),
      [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
        TopSession* self = From(h->data);
        *buf = uv_buf_init(self->read_buffer_, sizeof self->read_buffer_);
      },
      [](uv_stream_t* h, ssize_t n, const uv_buf_t* buf) {
        TopSession* self = From(h->data);
        if (n > 0) return self->OnKeys(std::string_view(buf->base, static_cast<std::size_t>(n)));
        if (n < 0) {  // the terminal is gone (hung up): nothing to show anything on
          self->failure_ =
              Error(ErrorCode::kIo, fmt::format("standard input: {}", uv_strerror(static_cast<int>(n))));
          self->Quit(kExitFailure);
        }
      });
  if (rc != 0) return uv_error("standard input", rc);
  if (int rc = uv_timer_init(&loop_, &timer_); rc != 0) return uv_error("timer", rc);
  timer_.data = this;
  open_.push_back(AsHandle(&timer_));
  return Status::Ok();
}

void TopSession::Refresh() {
  // Within the daemon's patience for a client, and short enough that keys stay responsive.
  const Duration timeout = std::clamp<Duration>(args_.interval, 500ms, 5s);
  auto reply = FetchStatus(args_.target.socket_path, timeout);
  Result<TopSnapshot> snapshot = reply ? ParseTopSnapshot(*reply) : Result<TopSnapshot>(reply.error());
  if (!snapshot) {
    // Rates resume from the next two replies: an interval across an outage (or a restart) means nothing.
    unreachable_ = snapshot.error().message();
    previous_.reset();
    view_.reset();
  } else {
    unreachable_.clear();
    snapshot->rss_bytes = ResidentBytes(snapshot->pid);
    view_ = BuildTopView(previous_ ? &*previous_ : nullptr, *snapshot, sort_);
    previous_ = std::move(*snapshot);
  }
  Redraw();
}

void TopSession::OnKeys(std::string_view bytes) {
  for (const TopKey& key : DecodeTopKeys(bytes)) {
    switch (key.action) {
      case TopKey::Action::kQuit:
        return Quit(unreachable_.empty() ? kExitOk : kExitFailure);
      case TopKey::Action::kStepSort:
        sort_.key = StepTopSortKey(sort_.key, key.step);
        break;
      case TopKey::Action::kPickSort:
        sort_.key = key.column;
        break;
      case TopKey::Action::kReverse:
        sort_.reversed = !sort_.reversed;
        break;
      case TopKey::Action::kHelp:
        help_ = !help_;
        break;
    }
  }
  if (view_) SortTopRows(view_->flows, sort_);
  Redraw();
}

void TopSession::Redraw() {
  if (quitting_ || !terminal_) return;
  TerminalMode::Size size = terminal_->WindowSize();
  TopScreenState state{
      args_.target.socket_path, view_ ? &*view_ : nullptr, unreachable_, sort_, help_, args_.interval};
  Status drawn = terminal_->Draw(RenderTopScreen(state, {size.columns, size.rows}));
  if (!drawn) {
    failure_ = drawn.error();
    Quit(kExitFailure);
  }
}

void TopSession::Quit(int code) {
  if (quitting_) return;
  quitting_ = true;
  exit_code_ = code;
  for (uv_handle_t* h : open_) CloseHandle(h);
}

Result<int> TopSession::Run() {
  if (Status s = InitLoop(&loop_); !s) return s.error();
  Status started = StartHandles();
  if (started) {
    auto terminal = TerminalMode::Enter(STDIN_FILENO, STDOUT_FILENO);
    if (terminal) {
      terminal_ = std::move(*terminal);
    } else {
      started = terminal.error();
    }
  }
  if (started) {
    uv_timer_start(
        &timer_, [](uv_timer_t* t) { From(t->data)->Refresh(); }, 0,
        static_cast<std::uint64_t>(args_.interval.count()));
  } else {
    Quit(kExitFailure);
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (terminal_) terminal_->Restore();
  if (std::string open = CloseLoop(&loop_); !open.empty()) {
    return Error(ErrorCode::kInternal, fmt::format("event loop still busy: {}", open));
  }
  if (!started) return started.error();
  if (failure_) return *failure_;
  return exit_code_;
}

}  // namespace

int TopCommand(std::span<const std::string_view> args) {
  auto parsed = ParseTopArgs(args);
  if (!parsed) {
    PrintLines(parsed.error().message(), "ferry top: ");
    return kExitUsage;
  }
  if (!::isatty(STDOUT_FILENO)) {
    fmt::print(stderr, "ferry top: standard output is not a terminal (for a report, use ferry status)\n");
    return kExitUsage;
  }
  if (!::isatty(STDIN_FILENO)) {
    fmt::print(stderr, "ferry top: standard input is not a terminal (ferry top reads its keys from it)\n");
    return kExitUsage;
  }
  TopSession session(std::move(*parsed));
  auto code = session.Run();
  if (!code) {
    fmt::print(stderr, "ferry top: {}\n", code.error().message());
    return kExitFailure;
  }
  return *code;
}

}  // namespace ferry::cli
