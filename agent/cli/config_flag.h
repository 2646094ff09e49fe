// The `-c FILE` / `--config FILE` flag and config loading shared by the commands that read a config.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "agent/config/config_origin.h"
#include "agent/core/result.h"

namespace ferry::cli {

// Default config location of an installed agent.
inline constexpr std::string_view kDefaultConfigPath = "/etc/ferry/ferry.yaml";

// Returns the config path from args (or the default); any other argument is an error naming it.
Result<std::string> ParseConfigFlag(std::span<const std::string_view> args, std::string_view command);

// Prints text to stderr one line per line, each escaped like a log message but with backslashes kept
// (core/log_escape.h): errors quote values from the config and the environment (regexes among them), which
// must not write to the terminal as they please.
void PrintLines(std::string_view text, std::string_view prefix = "");

// The config named by args, loaded and validated; every problem is printed to stderr and nothing returned.
// `--state-dir DIR` among args overrides the config's state_dir. origin (if given) is told where and how it
// was loaded, so it can be loaded again the same way.
std::optional<config::Config> LoadConfigFromArgs(std::span<const std::string_view> args,
                                                 std::string_view command,
                                                 config::ConfigOrigin* origin = nullptr);

}  // namespace ferry::cli
