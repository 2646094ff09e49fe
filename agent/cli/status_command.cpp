// `ferry status [--state-dir DIR] [--json]`: ask the ferry running with DIR for its status over the status
// socket, and print it as a report (or as the JSON it sent).
#include <cstdio>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "agent/cli/commands.h"
#include "agent/config/config.h"
#include "agent/ops/status_client.h"
#include "agent/ops/status_report_format.h"
#include "agent/ops/status_server.h"

namespace ferry::cli {
namespace {

constexpr std::string_view kUsage = "usage: ferry status [--state-dir DIR] [--json]";

// As long as the daemon keeps a client (StatusServerLimits::client_timeout).
constexpr Duration kReplyTimeout = StatusServerLimits{}.client_timeout;

struct StatusArgs {
  std::string state_dir = config::Config{}.state_dir;
  bool json = false;
};

Result<StatusArgs> ParseStatusArgs(std::span<const std::string_view> args) {
  StatusArgs out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--json") {
      out.json = true;
    } else if (arg == "--state-dir") {
      if (i + 1 == args.size()) return Error(ErrorCode::kInvalidArgument, "--state-dir needs a directory");
      out.state_dir = args[++i];
    } else if (arg.starts_with("--state-dir=")) {
      out.state_dir = arg.substr(12);
    } else {
      return Error(ErrorCode::kInvalidArgument, fmt::format("unknown argument '{}' ({})", arg, kUsage));
    }
  }
  if (out.state_dir.empty()) return Error(ErrorCode::kInvalidArgument, "--state-dir needs a directory");
  return out;
}

}  // namespace

int StatusCommand(std::span<const std::string_view> args) {
  auto parsed = ParseStatusArgs(args);
  if (!parsed) {
    fmt::print(stderr, "ferry status: {}\n", parsed.error().message());
    return kExitUsage;
  }
  std::string socket_path = (std::filesystem::path(parsed->state_dir) / kStatusSocketName).string();
  auto reply = FetchStatus(socket_path, kReplyTimeout);
  if (!reply) {
    const Error& e = reply.error();
    if (e.code() == ErrorCode::kNotFound) {
      fmt::print(stderr, "ferry status: no ferry is running with state_dir {} ({})\n", parsed->state_dir,
                 e.message());
    } else {
      fmt::print(stderr, "ferry status: {}\n", e.message());
    }
    return e.code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  // Checked in --json mode too, so a script never takes a garbled reply for the daemon's answer.
  auto report = FormatStatusReport(*reply);
  if (!report) {
    fmt::print(stderr, "ferry status: {}: {}\n", socket_path, report.error().message());
    return kExitFailure;
  }
  const std::string& out = parsed->json ? *reply : *report;
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace ferry::cli
