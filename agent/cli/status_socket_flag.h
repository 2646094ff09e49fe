// Which running ferry a client command (status, top) talks to: the daemon of `--state-dir DIR`, of the
// state_dir the config `-c FILE` names, or of the default state_dir. The status socket lives in that folder.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace ferry::cli {

struct StatusSocketTarget {
  std::string state_dir;
  std::string socket_path;
  std::vector<std::string_view> rest;  // the arguments that were not about the daemon, in order
};

// Takes -c FILE / --config FILE / --config=FILE and --state-dir DIR / --state-dir=DIR out of args; with
// both, --state-dir wins. A config is read (and must be valid) only when one is named. kInvalidArgument
// for a flag without its value or a config with errors (the message holds every error, one per line).
Result<StatusSocketTarget> ParseStatusSocketFlags(std::span<const std::string_view> args);

}  // namespace ferry::cli
