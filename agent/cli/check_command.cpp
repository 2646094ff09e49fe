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
  auto path = ParseConfigFlag(args, "check");
  if (!path) {
    fmt::print(stderr, "ferry check: {}\n", path.error().message());
    return kExitUsage;
  }
  auto config = config::LoadConfigFile(*path);
  if (!config) {
    fmt::print(stderr, "{}\n", config.error().message());
    return kExitUsage;
  }
  fmt::print("# {}: valid; effective settings with defaults:\n{}", *path, config::DescribeConfig(*config));
  return kExitOk;
}

}  // namespace ferry::cli
