// The `-c FILE` / `--config FILE` flag shared by the commands that read a config.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry::cli {

// Default config location of an installed agent.
inline constexpr std::string_view kDefaultConfigPath = "/etc/ferry/ferry.yaml";

// Returns the config path from args (or the default); any other argument is an error naming it.
Result<std::string> ParseConfigFlag(std::span<const std::string_view> args, std::string_view command);

}  // namespace ferry::cli
