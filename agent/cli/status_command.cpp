// `ferry status [-c FILE | --state-dir DIR] [--json]`: ask the ferry running with DIR (or FILE's state_dir)
// for its status over the status socket, and print it as a report (or as the JSON it sent).
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "agent/cli/commands.h"
#include "agent/cli/config_flag.h"
#include "agent/cli/status_socket_flag.h"
#include "agent/ops/status_client.h"
#include "agent/ops/status_report_format.h"
#include "agent/ops/status_server.h"

namespace ferry::cli {
namespace {

constexpr std::string_view kUsage = "usage: ferry status [-c FILE | --state-dir DIR] [--json]";

// As long as the daemon keeps a client (StatusServerLimits::client_timeout).
constexpr Duration kReplyTimeout = StatusServerLimits{}.client_timeout;

}  // namespace

int StatusCommand(std::span<const std::string_view> args) {
  auto target = ParseStatusSocketFlags(args);
  if (!target) {
    PrintLines(target.error().message(), "ferry status: ");
    return kExitUsage;
  }
  bool json = false;
  for (std::string_view arg : target->rest) {
    if (arg != "--json") {
      fmt::print(stderr, "ferry status: unknown argument '{}' ({})\n", arg, kUsage);
      return kExitUsage;
    }
    json = true;
  }
  const std::string& socket_path = target->socket_path;
  auto reply = FetchStatus(socket_path, kReplyTimeout);
  if (!reply) {
    const Error& e = reply.error();
    if (e.code() == ErrorCode::kNotFound) {
      fmt::print(stderr, "ferry status: no ferry is running with state_dir {} ({})\n", target->state_dir,
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
  const std::string& out = json ? *reply : *report;
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace ferry::cli
