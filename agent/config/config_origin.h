// ConfigOrigin: where a config was read from and how (`ferry run -c FILE --state-dir DIR`), so the daemon
// re-reads it the same way when asked to reload (ops/daemon.h).
#pragma once

#include <optional>
#include <string>

#include "agent/config/config.h"
#include "agent/core/result.h"

namespace ferry::config {

struct ConfigOrigin {
  std::string path;                      // a ferry.yaml or an agent.json (LoadConfigFile tells them apart)
  std::optional<std::string> state_dir;  // --state-dir: replaces the file's state_dir
};

// LoadConfigFile(origin.path) with the state_dir override applied: the errors of LoadConfigFile.
Result<Config> LoadConfig(const ConfigOrigin& origin);

}  // namespace ferry::config
