// BuiltinPlugins: the plugins ferry is built with, by name. A flow's `plugins:` list names them; the
// config parser finds each here, and `ferry check --keys` and the man page list them in this order.
#pragma once

#include <string_view>
#include <vector>

#include "plugins/plugin_kind.h"

namespace ferry::plugins {

const std::vector<const PluginKind*>& BuiltinPlugins();
// The built-in called name, or null.
const PluginKind* FindPlugin(std::string_view name);

}  // namespace ferry::plugins
