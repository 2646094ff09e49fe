// ChildProcess: uv_spawn with up to three pipes and one timer. The Core owns the handles and frees itself
// once Close() (or the owner's destruction) has closed all of them; the ChildProcess is only its handle.
// The timer serves, one at a time or together, the timeout, Terminate()'s grace and the output grace
// after the exit: it is armed for the earliest of them.
#include "agent/process/child_process.h"
#include "agent/core/uv_handle.h"

#include <algorithm>
#include <csignal>

#include <fmt/format.h>

namespace ferry::process {
namespace {

constexpr std::size_t kReadBufferBytes = 64 << 10;

uv_stream_t* AsStream(auto* h) {
  return reinterpret_cast<uv_stream_t*>(h);
}

}  // namespace

ChildOptions ChildOptions::Shell(std::string command) {
  ChildOptions options;
  options.argv = {"/bin/sh", "-c", std::move(command)};
  return options;
}

std::string ChildExit::Describe(std::uint64_t timeout_ms) const {
  if (timed_out) {
    return timeout_ms > 0 ? fmt::format("killed after {} ms without finishing", timeout_ms)
                          : std::string("killed at its timeout");
  }
  if (overflowed) return fmt::format("killed: {}", overflow);
  if (term_signal != 0) return fmt::format("killed by signal {}", term_signal);
  return fmt::format("exit status {}", exit_status);
}

struct ChildProcess::Core {
  struct Output {
    uv_pipe_t pipe{};
    OutputOptions options;
    const char* name = "";
    bool piped = false;
    bool ended = true;        // end of file, a read error, or no pipe
    bool discarding = false;  // killed for overflow: the rest is read and dropped
    bool skipping = false;    // dropping the rest of a line already delivered cut
    bool cut = false;
    std::string text;  // kWhole: the output; kLines: the line being read
    std::vector<char> buffer;
    std::function<void(std::string_view, bool)>* on_line = nullptr;
  };
  struct WriteRequest {
    uv_write_t req{};
    std::string data;
    Core* core = nullptr;
  };

  uv_loop_t* loop = nullptr;
  ChildEvents events;
  uv_process_t process{};
  uv_timer_t timer{};
  uv_pipe_t in{};
  bool in_piped = false;
  bool in_open = false;
  bool in_ending = false;  // CloseStdin: shutting down after the queue
  std::size_t queued = 0;
  Output out;
  Output err;

  int open_handles = 0;
  bool spawned = false;
  bool exited = false;
  bool reported = false;
  bool closing = false;
  std::function<void()> on_closed;
  std::uint64_t timeout_ms = 0;
  std::uint64_t timeout_at = 0;    // loop ms; 0: none
  std::uint64_t term_kill_at = 0;  // Terminate's SIGKILL
  std::uint64_t grace_at = 0;      // outputs cut off after the exit
  ChildExit exit;

  Output& OutputOf(uv_stream_t* stream) { return stream == AsStream(&out.pipe) ? out : err; }

  void InitHandle(uv_handle_t* handle) {
    handle->data = this;
    ++open_handles;
  }

  void CloseHandle(uv_handle_t* handle) {
    ferry::CloseHandle(handle, [this] {
      if (--open_handles == 0 && closing) {
        auto done = std::move(on_closed);
        delete this;
        if (done) done();
      }
    });
  }

  void Signal(int signum) {
    if (!spawned || exited) return;
    // The group first (the child leads one of its own), then the child alone should the group be gone.
    if (uv_kill(-process.pid, signum) != 0) uv_kill(process.pid, signum);
  }

  void ArmTimer() {
    std::uint64_t due = 0;
    for (std::uint64_t at : {timeout_at, term_kill_at, grace_at}) {
      if (at != 0 && (due == 0 || at < due)) due = at;
    }
    if (due == 0 || closing) {
      uv_timer_stop(&timer);
      return;
    }
    const std::uint64_t now = uv_now(loop);
    uv_timer_start(
        &timer, [](uv_timer_t* t) { static_cast<Core*>(t->data)->OnTimer(); }, due > now ? due - now : 0, 0);
  }

  void OnTimer() {
    const std::uint64_t now = uv_now(loop);
    if (!exited && timeout_at != 0 && now >= timeout_at) {
      timeout_at = 0;
      exit.timed_out = true;
      Signal(SIGKILL);
    }
    if (!exited && term_kill_at != 0 && now >= term_kill_at) {
      term_kill_at = 0;
      Signal(SIGKILL);
    }
    if (exited && grace_at != 0 && now >= grace_at) {
      grace_at = 0;
      for (Output* o : {&out, &err}) {
        if (!o->ended) EndOutput(*o);
      }
      MaybeReport();
    }
    ArmTimer();
  }

  void OnExit(std::int64_t status, int signum) {
    exited = true;
    exit.exit_status = status;
    exit.term_signal = signum;
    timeout_at = term_kill_at = 0;
    if (closing) {
      CloseHandle(AsHandle(&process));
      return;
    }
    if (!out.ended || !err.ended) grace_at = uv_now(loop) + static_cast<std::uint64_t>(kOutputGrace.count());
    ArmTimer();
    MaybeReport();
  }

  void MaybeReport() {
    if (reported || closing || !exited || !out.ended || !err.ended) return;
    reported = true;
    grace_at = 0;
    ArmTimer();
    exit.stdout_cut = out.cut;
    exit.stderr_cut = err.cut;
    if (out.options.mode == OutputOptions::Mode::kWhole) exit.stdout_text = std::move(out.text);
    if (err.options.mode == OutputOptions::Mode::kWhole) exit.stderr_text = std::move(err.text);
    if (events.on_exit) events.on_exit(exit);
  }

  void Overflow(Output& o) {
    o.cut = true;
    if (!o.options.kill_on_overflow) return;
    o.discarding = true;
    o.text.clear();
    if (!exit.overflowed) {
      exit.overflowed = true;
      exit.overflow = fmt::format("its {} passed {} bytes{}", o.name, o.options.cap,
                                  o.options.mode == OutputOptions::Mode::kLines ? " in one line" : "");
    }
    Signal(SIGKILL);
  }

  void DeliverLine(Output& o, bool cut) {
    std::string_view line = o.text;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!closing && *o.on_line) (*o.on_line)(line, cut);
    o.text.clear();
  }

  void Consume(Output& o, std::string_view data) {
    if (o.discarding || closing) return;
    if (o.options.mode == OutputOptions::Mode::kWhole) {
      const std::size_t room = o.options.cap - std::min(o.options.cap, o.text.size());
      o.text.append(data.substr(0, room));
      if (data.size() > room) Overflow(o);
      return;
    }
    while (!data.empty() && !o.discarding && !closing) {
      const std::size_t nl = data.find('\n');
      const std::string_view piece = data.substr(0, nl);
      data = nl == std::string_view::npos ? std::string_view() : data.substr(nl + 1);
      if (!o.skipping) {
        const std::size_t room = o.options.cap - std::min(o.options.cap, o.text.size());
        o.text.append(piece.substr(0, room));
        if (piece.size() > room) {
          Overflow(o);
          if (o.discarding) return;
          DeliverLine(o, true);
          o.skipping = true;
        }
      }
      if (nl == std::string_view::npos) break;
      if (o.skipping) {
        o.skipping = false;  // the long line ends here
      } else {
        DeliverLine(o, false);
      }
    }
  }

  void EndOutput(Output& o) {
    if (o.ended) return;
    o.ended = true;
    uv_read_stop(AsStream(&o.pipe));
    if (o.options.mode == OutputOptions::Mode::kLines && !o.discarding && !o.skipping && !o.text.empty()) {
      DeliverLine(o, false);
    }
  }

  void StartReading(Output& o) {
    uv_read_start(
        AsStream(&o.pipe),
        [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
          auto* core = static_cast<Core*>(h->data);
          Output& o = core->OutputOf(reinterpret_cast<uv_stream_t*>(h));
          buf->base = o.buffer.data();
          buf->len = o.buffer.size();
        },
        [](uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
          auto* core = static_cast<Core*>(stream->data);
          Output& o = core->OutputOf(stream);
          if (n > 0) core->Consume(o, std::string_view(buf->base, static_cast<std::size_t>(n)));
          if (n < 0) {
            core->EndOutput(o);
            core->MaybeReport();
          }
        });
  }

  void StdinFailed(std::string why) {
    if (exit.stdin_error.empty()) exit.stdin_error = std::move(why);
    if (in_open) {
      in_open = false;
      CloseHandle(AsHandle(&in));
    }
  }

  void Close(std::function<void()> done) {
    if (closing) return;
    closing = true;
    on_closed = std::move(done);
    Signal(SIGKILL);
    CloseHandle(AsHandle(&timer));
    if (in_piped) {
      in_open = false;
      CloseHandle(AsHandle(&in));
    }
    for (Output* o : {&out, &err}) {
      if (o->piped) CloseHandle(AsHandle(&o->pipe));
    }
    // A child not reaped yet keeps its handle until it exits (OnExit closes it), or it would stay a zombie.
    if (!spawned || exited) CloseHandle(AsHandle(&process));
  }
};

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(uv_loop_t* loop, const ChildOptions& options,
                                                          ChildEvents events) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return Error(ErrorCode::kInvalidArgument, "no program to run");
  }
  auto* core = new Core;
  core->loop = loop;
  core->events = std::move(events);
  uv_timer_init(loop, &core->timer);
  core->InitHandle(AsHandle(&core->timer));
  core->InitHandle(AsHandle(&core->process));  // closed even if spawning fails (libuv's rule)

  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  if (options.stdin_pipe) {
    uv_pipe_init(loop, &core->in, 0);
    core->InitHandle(AsHandle(&core->in));
    core->in_piped = true;
    stdio[0].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE);
    stdio[0].data.stream = AsStream(&core->in);
  }
  const std::pair<Core::Output*, const OutputOptions*> outputs[] = {{&core->out, &options.stdout_options},
                                                                    {&core->err, &options.stderr_options}};
  core->out.name = "stdout";
  core->err.name = "stderr";
  core->out.on_line = &core->events.on_stdout_line;
  core->err.on_line = &core->events.on_stderr_line;
  for (int i = 0; i < 2; ++i) {
    auto [o, given] = outputs[i];
    o->options = *given;
    stdio[i + 1].flags = UV_IGNORE;
    if (given->mode == OutputOptions::Mode::kDiscard) continue;
    uv_pipe_init(loop, &o->pipe, 0);
    core->InitHandle(AsHandle(&o->pipe));
    o->piped = true;
    o->ended = false;
    o->buffer.resize(kReadBufferBytes);
    stdio[i + 1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
    stdio[i + 1].data.stream = AsStream(&o->pipe);
  }

  std::vector<std::string> args_text = options.argv;
  std::vector<char*> args;
  for (auto& a : args_text) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_text;
  std::vector<char*> env;
  if (options.env) {
    env_text = *options.env;
    for (auto& e : env_text) env.push_back(e.data());
    env.push_back(nullptr);
  }
  uv_process_options_t spawn{};
  spawn.file = args_text[0].c_str();
  spawn.args = args.data();
  spawn.env = options.env ? env.data() : nullptr;
  spawn.cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  spawn.flags = UV_PROCESS_DETACHED;  // setsid(): a process group (and session) of its own
  spawn.stdio = stdio;
  spawn.stdio_count = 3;
  spawn.exit_cb = [](uv_process_t* p, std::int64_t status, int signum) {
    static_cast<Core*>(p->data)->OnExit(status, signum);
  };
  const int rc = uv_spawn(loop, &core->process, &spawn);
  core->process.data = core;
  if (rc != 0) {
    core->Close(nullptr);
    return Error(ErrorCode::kIo, fmt::format("cannot start {}: {}", options.argv[0], uv_strerror(rc)));
  }
  core->spawned = true;
  core->in_open = core->in_piped;
  for (Core::Output* o : {&core->out, &core->err}) {
    if (o->piped) core->StartReading(*o);
  }
  if (options.timeout.count() > 0) {
    core->timeout_ms = static_cast<std::uint64_t>(options.timeout.count());
    core->timeout_at = uv_now(loop) + core->timeout_ms;
    core->ArmTimer();
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(core));
}

ChildProcess::~ChildProcess() {
  if (core_ != nullptr) core_->Close(nullptr);
}

int ChildProcess::pid() const {
  return core_ != nullptr ? core_->process.pid : 0;
}

bool ChildProcess::running() const {
  return core_ != nullptr && core_->spawned && !core_->exited;
}

Status ChildProcess::Write(std::string data) {
  if (core_ == nullptr || !core_->in_open || core_->in_ending) {
    std::string why = core_ != nullptr && !core_->exit.stdin_error.empty() ? core_->exit.stdin_error
                      : core_ != nullptr && !core_->in_piped               ? "it has no stdin pipe"
                                                                           : "its stdin is closed";
    return Error(ErrorCode::kIo, "cannot write to the child's stdin: " + why);
  }
  if (data.empty()) return Status::Ok();
  auto* request = new Core::WriteRequest;
  request->data = std::move(data);
  request->core = core_;
  request->req.data = request;
  uv_buf_t buf = uv_buf_init(request->data.data(), static_cast<unsigned>(request->data.size()));
  const int rc = uv_write(&request->req, AsStream(&core_->in), &buf, 1, [](uv_write_t* req, int status) {
    std::unique_ptr<Core::WriteRequest> request(static_cast<Core::WriteRequest*>(req->data));
    Core* core = request->core;
    core->queued -= request->data.size();
    if (status < 0) {
      if (status != UV_ECANCELED) core->StdinFailed(uv_strerror(status));
      return;
    }
    if (core->queued == 0 && !core->closing && core->events.on_writable) core->events.on_writable();
  });
  if (rc != 0) {
    delete request;
    core_->StdinFailed(uv_strerror(rc));
    return Error(ErrorCode::kIo, fmt::format("cannot write to the child's stdin: {}", uv_strerror(rc)));
  }
  core_->queued += request->data.size();
  return Status::Ok();
}

std::size_t ChildProcess::queued_bytes() const {
  return core_ != nullptr ? core_->queued : 0;
}

void ChildProcess::CloseStdin() {
  if (core_ == nullptr || !core_->in_open || core_->in_ending) return;
  core_->in_ending = true;
  auto* request = new uv_shutdown_t;
  request->data = core_;
  const int rc = uv_shutdown(request, AsStream(&core_->in), [](uv_shutdown_t* req, int) {
    auto* core = static_cast<Core*>(req->data);
    delete req;
    if (core->in_open) {
      core->in_open = false;
      core->CloseHandle(AsHandle(&core->in));
    }
  });
  if (rc != 0) {
    delete request;
    core_->in_open = false;
    core_->CloseHandle(AsHandle(&core_->in));
  }
}

void ChildProcess::PauseStdout() {
  if (core_ != nullptr && core_->out.piped && !core_->out.ended) uv_read_stop(AsStream(&core_->out.pipe));
}

void ChildProcess::ResumeStdout() {
  if (core_ != nullptr && core_->out.piped && !core_->out.ended && !core_->closing) {
    core_->StartReading(core_->out);
  }
}

void ChildProcess::Terminate(Duration grace) {
  if (core_ == nullptr || !running()) return;
  core_->Signal(SIGTERM);
  core_->term_kill_at =
      uv_now(core_->loop) + static_cast<std::uint64_t>(std::max<Duration::rep>(grace.count(), 0));
  core_->ArmTimer();
}

void ChildProcess::Kill() {
  if (core_ != nullptr) core_->Signal(SIGKILL);
}

void ChildProcess::Close(std::function<void()> on_closed) {
  if (core_ == nullptr) return;
  Core* core = core_;
  core_ = nullptr;
  core->Close(std::move(on_closed));
}

}  // namespace ferry::process
