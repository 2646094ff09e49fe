// The config flag: "-c FILE", "--config FILE" or "--config=FILE".
#include "agent/cli/config_flag.h"

#include <cstdio>

#include <fmt/format.h>

namespace ferry::cli {

Result<std::string> ParseConfigFlag(std::span<const std::string_view> args, std::string_view command) {
  std::string path(kDefaultConfigPath);
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-c" || arg == "--config") {
      if (i + 1 == args.size())
        return Error(ErrorCode::kInvalidArgument, fmt::format("{} needs a file name", arg));
      path = args[++i];
    } else if (arg.starts_with("--config=")) {
      path = arg.substr(9);
    } else {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("unknown argument '{}' (usage: ferry {} [-c FILE])", arg, command));
    }
  }
  return path;
}

std::optional<config::Config> LoadConfigFromArgs(std::span<const std::string_view> args,
                                                 std::string_view command) {
  auto path = ParseConfigFlag(args, command);
  if (!path) {
    fmt::print(stderr, "ferry {}: {}\n", command, path.error().message());
    return std::nullopt;
  }
  auto config = config::LoadConfigFile(*path);
  if (!config) {
    fmt::print(stderr, "{}\n", config.error().message());
    return std::nullopt;
  }
  return std::move(*config);
}

}  // namespace ferry::cli
