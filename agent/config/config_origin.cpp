// ConfigOrigin: loading a config as it was first loaded.
#include "agent/config/config_origin.h"

namespace ferry::config {

Result<Config> LoadConfig(const ConfigOrigin& origin) {
  auto config = LoadConfigFile(origin.path);
  if (!config) return config;
  if (origin.state_dir) {
    config->state_dir = *origin.state_dir;
    // Errors about state_dir must not point at the file's line: the value came from the command line.
    config->locations.erase("state_dir");
  }
  return config;
}

}  // namespace ferry::config
