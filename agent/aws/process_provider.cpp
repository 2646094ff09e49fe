// ProcessProvider: uv_spawn with two pipes and a timer. A run ends when the child has exited and both pipes
// reached end of file (or the output outgrew its bound); then its handles close and the callback runs.
#include "agent/aws/process_provider.h"

#include <csignal>
#include <vector>

#include <fmt/format.h>

#include "agent/aws/credential_document.h"

namespace ferry::aws {
namespace {

constexpr std::size_t kMaxStdout = 64 << 10;
constexpr std::size_t kMaxStderr = 4 << 10;

std::string LastLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  const auto nl = text.find_last_of('\n');
  if (nl != std::string_view::npos) text.remove_prefix(nl + 1);
  return std::string(text.substr(0, 200));
}

}  // namespace

struct ProcessProvider::Run {
  ProcessProvider* owner = nullptr;
  Callback done;
  uv_process_t process{};
  uv_pipe_t out{};
  uv_pipe_t err{};
  uv_timer_t timer{};
  std::string out_bytes;
  std::string err_bytes;
  int pending = 3;  // exit, stdout EOF, stderr EOF
  int open_handles = 0;
  std::int64_t exit_status = 0;
  int term_signal = 0;
  bool timed_out = false;
  bool too_large = false;
  bool cancelled = false;

  void Step() {
    if (--pending > 0) return;
    for (uv_handle_t* h : {reinterpret_cast<uv_handle_t*>(&process), reinterpret_cast<uv_handle_t*>(&out),
                           reinterpret_cast<uv_handle_t*>(&err), reinterpret_cast<uv_handle_t*>(&timer)}) {
      uv_close(h, [](uv_handle_t* handle) {
        auto* run = static_cast<Run*>(handle->data);
        if (--run->open_handles == 0) run->Finish();
      });
    }
  }

  void Finish() {
    if (!cancelled) {
      owner->running_ = nullptr;
      Callback callback = std::move(done);
      callback(Outcome());
    }
    delete this;
  }

  Result<TimedCredentials> Outcome() const {
    // The caller names the provider; this says what the program did.
    const std::string_view name = "credential_process";
    if (timed_out) {
      return Error(ErrorCode::kIo,
                   fmt::format("{}: killed after {} ms without finishing", name, owner->timeout_ms_));
    }
    if (too_large) {
      return Error(ErrorCode::kProtocol, fmt::format("{}: printed more than {} bytes", name, kMaxStdout));
    }
    if (term_signal != 0 || exit_status != 0) {
      std::string why = term_signal != 0 ? fmt::format("killed by signal {}", term_signal)
                                         : fmt::format("exit status {}", exit_status);
      const std::string last = LastLine(err_bytes);
      return Error(ErrorCode::kIo, last.empty() ? fmt::format("{}: {}", name, why)
                                                : fmt::format("{}: {} ({})", name, why, last));
    }
    auto parsed = ParseCredentialDocument(out_bytes, CredentialDocumentKind::kProcess);
    if (!parsed) return Error(ErrorCode::kProtocol, fmt::format("{}: {}", name, parsed.error().message()));
    return TimedCredentials{{std::move(parsed->access_key_id), std::move(parsed->secret_access_key),
                             std::move(parsed->session_token)},
                            parsed->expiration};
  }

  void Kill() {
    if (pending > 0) uv_process_kill(&process, SIGKILL);
  }
};

ProcessProvider::ProcessProvider(const ProviderContext& ctx, std::string name, std::string command,
                                 std::uint64_t timeout_ms)
    : ctx_(ctx), name_(std::move(name)), command_(std::move(command)), timeout_ms_(timeout_ms) {}

ProcessProvider::~ProcessProvider() {
  // Close() must have run; a run left here would call back into a destroyed provider.
  if (running_ != nullptr) {
    running_->cancelled = true;
    running_->owner = nullptr;
  }
}

void ProcessProvider::Close() {
  if (running_ == nullptr) return;
  running_->cancelled = true;
  running_->Kill();
  running_ = nullptr;
}

void ProcessProvider::Fetch(Callback done) {
  if (running_ != nullptr) {
    done(Error(ErrorCode::kInternal, "credential_process: already running"));
    return;
  }
  auto* run = new Run;
  run->owner = this;
  run->done = std::move(done);
  uv_pipe_init(ctx_.loop, &run->out, 0);
  uv_pipe_init(ctx_.loop, &run->err, 0);
  uv_timer_init(ctx_.loop, &run->timer);
  run->out.data = run->err.data = run->timer.data = run->process.data = run;
  run->open_handles = 3;

  std::vector<std::string> env_text;
  env_text.reserve(ctx_.env.vars().size());
  for (const auto& [key, value] : ctx_.env.vars())
    env_text.push_back(std::string(key).append("=").append(value));
  std::vector<char*> env;
  env.reserve(env_text.size() + 1);
  for (auto& entry : env_text) env.push_back(entry.data());
  env.push_back(nullptr);
  std::string shell = "/bin/sh", dash_c = "-c";
  std::vector<char*> args = {shell.data(), dash_c.data(), command_.data(), nullptr};

  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&run->out);
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(&run->err);
  uv_process_options_t options{};
  options.file = shell.c_str();
  options.args = args.data();
  options.env = env.data();
  options.stdio = stdio;
  options.stdio_count = 3;
  options.exit_cb = [](uv_process_t* process, std::int64_t status, int signal) {
    auto* r = static_cast<Run*>(process->data);
    r->exit_status = status;
    r->term_signal = signal;
    uv_timer_stop(&r->timer);
    r->Step();
  };
  const int rc = uv_spawn(ctx_.loop, &run->process, &options);
  if (rc != 0) {
    // The process handle needs closing even though spawning failed; the pipes never opened.
    run->pending = 0;
    run->open_handles = 4;
    run->cancelled = true;
    for (uv_handle_t* h :
         {reinterpret_cast<uv_handle_t*>(&run->process), reinterpret_cast<uv_handle_t*>(&run->out),
          reinterpret_cast<uv_handle_t*>(&run->err), reinterpret_cast<uv_handle_t*>(&run->timer)}) {
      uv_close(h, [](uv_handle_t* handle) {
        auto* r = static_cast<Run*>(handle->data);
        if (--r->open_handles == 0) delete r;
      });
    }
    run->done(
        Error(ErrorCode::kIo, fmt::format("credential_process: cannot start /bin/sh: {}", uv_strerror(rc))));
    return;
  }
  run->open_handles = 4;
  running_ = run;
  uv_timer_start(
      &run->timer,
      [](uv_timer_t* timer) {
        auto* r = static_cast<Run*>(timer->data);
        r->timed_out = true;
        r->Kill();
      },
      timeout_ms_, 0);
  auto alloc = [](uv_handle_t*, std::size_t suggested, uv_buf_t* buf) {
    buf->base = new char[suggested];
    buf->len = suggested;
  };
  auto on_read = [](uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
    auto* r = static_cast<Run*>(stream->data);
    const bool is_out = stream == reinterpret_cast<uv_stream_t*>(&r->out);
    if (n > 0) {
      std::string& sink = is_out ? r->out_bytes : r->err_bytes;
      const std::size_t cap = is_out ? kMaxStdout : kMaxStderr;
      if (sink.size() + static_cast<std::size_t>(n) <= cap) {
        sink.append(buf->base, static_cast<std::size_t>(n));
      } else if (is_out && !r->too_large) {
        r->too_large = true;
        r->Kill();
      }
    }
    delete[] buf->base;
    if (n < 0) {
      uv_read_stop(stream);
      r->Step();
    }
  };
  uv_read_start(reinterpret_cast<uv_stream_t*>(&run->out), alloc, on_read);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&run->err), alloc, on_read);
}

}  // namespace ferry::aws
