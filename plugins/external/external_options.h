// ExternalOptions: the options of the `external` plugin (a plugin built outside the tree, loaded from a
// shared object through the C ABI of plugins/include/ferry/plugin.h), their table, and the maker.
//
// Make checks and loads the library and creates the instance (the plugin's create() sees its options), so
// `ferry check` refuses what `ferry run` would: a file that is missing, not a shared object, not a ferry
// plugin, built for another ABI, changeable by another user than root or ferry's, or whose options the
// plugin refuses. README.md here tells how to write one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "agent/config/schema.h"
#include "agent/core/result.h"
#include "agent/pipeline/plugin.h"
#include "plugins/plugin_env.h"

namespace ferry::plugins {

struct ExternalOptions {
  std::string path;                 // the shared object, an absolute path
  std::string options_json = "{}";  // `options:` as the JSON object create() gets
  YAML::Node options;               // `options:` as written, for `ferry check`
};

const std::vector<config::Field<ExternalOptions>>& ExternalFields();
Result<std::unique_ptr<Plugin>> MakeExternalPlugin(const ExternalOptions& options, const PluginEnv& env);

}  // namespace ferry::plugins
