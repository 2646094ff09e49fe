// ProcessProvider: one ChildProcess per fetch, its stdout read whole and parsed once it has exited; the
// last line of its stderr explains a failure.
#include "agent/aws/process_provider.h"

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

ProcessProvider::ProcessProvider(const ProviderContext& ctx, std::string name, std::string command,
                                 std::uint64_t timeout_ms)
    : ctx_(ctx), name_(std::move(name)), command_(std::move(command)), timeout_ms_(timeout_ms) {}

// A child still running is killed and its handles close as the loop runs (child_process.h).
ProcessProvider::~ProcessProvider() = default;

void ProcessProvider::Close() {
  child_.reset();
}

void ProcessProvider::Fetch(Callback done) {
  if (child_) {
    done(Error(ErrorCode::kInternal, "credential_process: already running"));
    return;
  }
  process::ChildOptions options = process::ChildOptions::Shell(command_);
  std::vector<std::string> env;
  env.reserve(ctx_.env.vars().size());
  for (const auto& [key, value] : ctx_.env.vars()) env.push_back(std::string(key).append("=").append(value));
  options.env = std::move(env);
  options.stdout_options = {process::OutputOptions::Mode::kWhole, kMaxStdout, /*kill_on_overflow=*/true};
  options.stderr_options = {process::OutputOptions::Mode::kWhole, kMaxStderr, false};
  options.timeout = Duration(static_cast<Duration::rep>(timeout_ms_));
  process::ChildEvents events;
  events.on_exit = [this, done](const process::ChildExit& exit) {
    Result<TimedCredentials> outcome = Outcome(exit);
    // The handles close on their own; the next fetch may start from the callback.
    child_.reset();
    done(std::move(outcome));
  };
  auto child = process::ChildProcess::Spawn(ctx_.loop, options, std::move(events));
  if (!child) {
    done(Error(ErrorCode::kIo, fmt::format("credential_process: {}", child.error().message())));
    return;
  }
  child_ = std::move(*child);
}

Result<TimedCredentials> ProcessProvider::Outcome(const process::ChildExit& exit) const {
  // The caller names the provider; this says what the program did.
  const std::string_view name = "credential_process";
  if (exit.timed_out) return Error(ErrorCode::kIo, fmt::format("{}: {}", name, exit.Describe(timeout_ms_)));
  if (exit.overflowed) {
    return Error(ErrorCode::kProtocol, fmt::format("{}: printed more than {} bytes", name, kMaxStdout));
  }
  if (!exit.succeeded()) {
    const std::string last = LastLine(exit.stderr_text);
    return Error(ErrorCode::kIo, last.empty() ? fmt::format("{}: {}", name, exit.Describe())
                                              : fmt::format("{}: {} ({})", name, exit.Describe(), last));
  }
  auto parsed = ParseCredentialDocument(exit.stdout_text, CredentialDocumentKind::kProcess);
  if (!parsed) return Error(ErrorCode::kProtocol, fmt::format("{}: {}", name, parsed.error().message()));
  return TimedCredentials{{std::move(parsed->access_key_id), std::move(parsed->secret_access_key),
                           std::move(parsed->session_token)},
                          parsed->expiration};
}

}  // namespace ferry::aws
