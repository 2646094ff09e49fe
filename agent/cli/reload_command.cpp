// `ferry reload [-c FILE | --state-dir DIR]`: ask the ferry running with DIR (or with FILE's state_dir) to
// re-read its config over the status socket ("reload\n", ops/status_request.h), and print the outcome.
// The daemon reloads the file it was started with; -c only finds the daemon. Exit 0 when the new config
// was applied, 1 when it was refused (or a flow of it could not start) or no ferry answered, 2 for bad usage.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "agent/cli/commands.h"
#include "agent/cli/config_flag.h"
#include "agent/config/config.h"
#include "agent/ops/reload_outcome.h"
#include "agent/ops/status_client.h"
#include "agent/ops/status_server.h"

namespace ferry::cli {
namespace {

constexpr std::string_view kUsage = "usage: ferry reload [-c FILE | --state-dir DIR]";

// As long as the daemon keeps a reload client (StatusServerLimits::reload_timeout), and a little more.
constexpr Duration kReplyTimeout = StatusServerLimits{}.reload_timeout + std::chrono::seconds(5);

struct ReloadArgs {
  std::optional<std::string> config;
  std::optional<std::string> state_dir;
};

Result<ReloadArgs> ParseReloadArgs(std::span<const std::string_view> args) {
  ReloadArgs out;
  auto value = [&](std::size_t& i, std::string_view flag) -> Result<std::string> {
    std::string_view arg = args[i];
    if (arg.size() > flag.size() && arg[flag.size()] == '=') return std::string(arg.substr(flag.size() + 1));
    if (i + 1 == args.size() || args[i + 1].empty())
      return Error(ErrorCode::kInvalidArgument, fmt::format("{} needs a value ({})", flag, kUsage));
    return std::string(args[++i]);
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    Result<std::string> got = Error(ErrorCode::kInvalidArgument, "");
    if (arg == "-c" || arg == "--config" || arg.starts_with("--config=")) {
      got = value(i, arg == "-c" ? "-c" : "--config");
      if (!got) return got.error();
      out.config = *got;
    } else if (arg == "--state-dir" || arg.starts_with("--state-dir=")) {
      got = value(i, "--state-dir");
      if (!got) return got.error();
      out.state_dir = *got;
    } else {
      return Error(ErrorCode::kInvalidArgument, fmt::format("unknown argument '{}' ({})", arg, kUsage));
    }
  }
  if (out.config && out.state_dir) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("give -c FILE or --state-dir DIR, not both ({})", kUsage));
  }
  if ((out.config && out.config->empty()) || (out.state_dir && out.state_dir->empty()))
    return Error(ErrorCode::kInvalidArgument, fmt::format("an empty value ({})", kUsage));
  return out;
}

}  // namespace

int ReloadCommand(std::span<const std::string_view> args) {
  auto parsed = ParseReloadArgs(args);
  if (!parsed) {
    fmt::print(stderr, "ferry reload: {}\n", parsed.error().message());
    return kExitUsage;
  }
  std::string state_dir = parsed->state_dir.value_or(config::Config{}.state_dir);
  if (parsed->config) {
    // The file names the daemon's state_dir. A file that does not parse would be refused by the daemon
    // too; without its state_dir there is no daemon to ask.
    auto config = config::LoadConfigFile(*parsed->config);
    if (!config) {
      PrintLines(config.error().message());
      fmt::print(stderr,
                 "ferry reload: {} has errors, so its state_dir is unknown and no ferry was asked; a ferry "
                 "running with it would refuse it too\n",
                 *parsed->config);
      return kExitFailure;
    }
    state_dir = config->state_dir;
  }
  const std::string socket_path = (std::filesystem::path(state_dir) / kStatusSocketName).string();
  auto reply = AskStatusSocket(socket_path, "reload", kReplyTimeout);
  if (!reply) {
    const Error& e = reply.error();
    if (e.code() == ErrorCode::kNotFound) {
      fmt::print(stderr, "ferry reload: no ferry is running with state_dir {} ({})\n", state_dir,
                 e.message());
    } else {
      fmt::print(stderr, "ferry reload: {}\n", e.message());
    }
    return e.code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  // The snapshot comes first, then the answer: the last line.
  std::string_view text(*reply);
  text.remove_suffix(1);  // the final "\n" (AskStatusSocket checked it)
  const std::size_t newline = text.rfind('\n');
  if (newline == std::string_view::npos) {
    fmt::print(stderr,
               "ferry reload: {}: the daemon sent its status but no answer to the reload (a ferry older than "
               "this one does not reload)\n",
               socket_path);
    return kExitFailure;
  }
  auto answer = DescribeReloadAnswer(text.substr(newline + 1));
  if (!answer) {
    fmt::print(stderr, "ferry reload: {}: {}\n", socket_path, answer.error().message());
    return kExitFailure;
  }
  std::fwrite(answer->text.data(), 1, answer->text.size(), answer->ok ? stdout : stderr);
  return answer->ok ? kExitOk : kExitFailure;
}

}  // namespace ferry::cli
