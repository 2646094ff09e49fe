// `ferry check [-c FILE] [--keys]`: validate a config and print the effective settings, or every error.
// Validation is the parser's and then the preflight `ferry run` runs before it opens a handle
// (ops/preflight.h), so a config check accepts is one run accepts: the systemd unit relies on that.
#include <cstdio>

#include <fmt/format.h>

#include "agent/cli/commands.h"
#include "agent/cli/config_flag.h"
#include "agent/config/config.h"
#include "agent/core/environment.h"
#include "agent/ops/preflight.h"

namespace ferry::cli {

int CheckCommand(std::span<const std::string_view> args) {
  if (args.size() == 1 && args[0] == "--keys") {
    fmt::print("{}", config::DescribeKeys());
    return kExitOk;
  }
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
