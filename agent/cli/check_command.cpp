// `ferry check [-c FILE] [--keys]`: validate a config and print the effective settings, or every error.
// `ferry check --convert FILE`: print the ferry.yaml equivalent to a Kinesis Agent agent.json.
// Validation is the parser's and then the preflight `ferry run` runs before it opens a handle
// (ops/preflight.h), so a config check accepts is one run accepts: the systemd unit relies on that.
#include <cstdio>

#include <fmt/format.h>

#include "agent/cli/commands.h"
#include "agent/cli/config_flag.h"
#include "agent/config/agent_json.h"
#include "agent/config/config.h"
#include "agent/core/environment.h"
#include "agent/ops/preflight.h"

namespace ferry::cli {
namespace {

// The converted text on stdout, its warnings on stderr; it is printed only when ferry's parser accepts it.
int ConvertAgentJson(std::span<const std::string_view> args) {
  if (args.size() != 1) {
    fmt::print(stderr, "ferry check: --convert takes one agent.json (usage: ferry check --convert FILE)\n");
    return kExitUsage;
  }
  const std::string path(args[0]);
  auto text = config::ReadConfigText(path);
  if (!text) {
    PrintLines(text.error().message());
    return kExitUsage;
  }
  if (!config::LooksLikeAgentJson(*text)) {
    fmt::print(stderr, "{}: not a Kinesis Agent agent.json (it does not begin with '{{')\n", path);
    return kExitUsage;
  }
  auto conversion = config::ConvertAgentJson(*text, path);
  auto parsed = conversion ? config::ParseAgentJson(*text, path) : Result<config::Config>(conversion.error());
  if (!parsed) {
    PrintLines(parsed.error().message());
    return kExitUsage;
  }
  for (const auto& warning : conversion->warnings) PrintLines(warning, "warning: ");
  fmt::print("{}", conversion->yaml);
  return kExitOk;
}

}  // namespace

int CheckCommand(std::span<const std::string_view> args) {
  if (args.size() == 1 && args[0] == "--keys") {
    fmt::print("{}", config::DescribeKeys());
    return kExitOk;
  }
  if (!args.empty() && args[0] == "--convert") return ConvertAgentJson(args.subspan(1));
  auto config = LoadConfigFromArgs(args, "check");
  if (!config) return kExitUsage;
  const PreflightReport report = Preflight(*config, Environment::FromProcess());
  for (const auto& warning : report.warnings) PrintLines(warning, "warning: ");
  if (!report.ok()) {
    for (const auto& error : report.errors) PrintLines(error);
    return kExitUsage;
  }
  fmt::print("# {}: valid; effective settings with defaults:\n{}", config->file,
             config::DescribeConfig(*config));
  return kExitOk;
}

}  // namespace ferry::cli
