// The config flag: "-c FILE", "--config FILE" or "--config=FILE"; config errors printed one per line.
#include "agent/cli/config_flag.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include "agent/core/log_escape.h"

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
      return Error(
          ErrorCode::kInvalidArgument,
          fmt::format("unknown argument '{}' (usage: ferry {} [-c FILE] [--state-dir DIR])", arg, command));
    }
  }
  return path;
}

void PrintLines(std::string_view text, std::string_view prefix) {
  std::size_t from = 0;
  while (from < text.size()) {
    const std::size_t end = std::min(text.find('\n', from), text.size());
    fmt::print(stderr, "{}{}\n", prefix, EscapeLogText(text.substr(from, end - from), Backslashes::kKeep));
    from = end + 1;
  }
}

std::optional<config::Config> LoadConfigFromArgs(std::span<const std::string_view> args,
                                                 std::string_view command, config::ConfigOrigin* origin) {
  // --state-dir DIR overrides the config's state_dir: an agent.json has no such key, and a test or a user
  // without /var/lib may want another.
  std::vector<std::string_view> rest;
  std::optional<std::string> state_dir;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--state-dir") {
      state_dir = i + 1 < args.size() ? std::string(args[++i]) : std::string();
    } else if (args[i].starts_with("--state-dir=")) {
      state_dir = std::string(args[i].substr(12));
    } else {
      rest.push_back(args[i]);
    }
  }
  if (state_dir && state_dir->empty()) {
    PrintLines("--state-dir needs a folder", fmt::format("ferry {}: ", command));
    return std::nullopt;
  }
  args = rest;
  auto path = ParseConfigFlag(args, command);
  if (!path) {
    PrintLines(path.error().message(), fmt::format("ferry {}: ", command));
    return std::nullopt;
  }
  config::ConfigOrigin from{*path, state_dir};
  auto config = config::LoadConfig(from);
  if (!config) {
    PrintLines(config.error().message());
    return std::nullopt;
  }
  if (origin != nullptr) *origin = std::move(from);
  return std::move(*config);
}

}  // namespace ferry::cli
