// `ferry check [-c FILE] [--keys]`: validate a config and print the effective settings, or every error.
#include <cstdio>

#include <fmt/format.h>

#include "agent/cli/commands.h"
#include "agent/cli/config_flag.h"
#include "agent/config/config.h"

namespace ferry::cli {

int CheckCommand(std::span<const std::string_view> args) {
  if (args.size() == 1 && args[0] == "--keys") {
    fmt::print("{}", config::DescribeKeys());
    return kExitOk;
  }
  auto config = LoadConfigFromArgs(args, "check");
  if (!config) return kExitUsage;
  fmt::print("# {}: valid; effective settings with defaults:\n{}", config->file,
             config::DescribeConfig(*config));
  return kExitOk;
}

}  // namespace ferry::cli
