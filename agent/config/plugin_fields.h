// PluginFields: the `plugins:` key of a flow, an ordered list whose items each name one built-in plugin
// and give its options (`- grep: { exclude: 'GET /health' }`, or a bare `- singleline` for a plugin with
// every option at its default). Each plugin's options are parsed by its own table (plugins/plugin_kind.h),
// so errors name the key path down to the option: "flows[0].plugins[1].redact.patterns[2]".
#pragma once

#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "agent/config/schema.h"

namespace ferry::config {

Field<FlowOptions> PluginsField();

// Every built-in's keys, one line each ("flows[].plugins[].grep.include ..."), for `ferry check --keys`.
void DescribePluginKeys(std::string& out, std::string_view prefix);

// The same keys as troff for man/ferry.yaml.5: one .SS per plugin with its doc, one .TP per key with its
// type, default and doc (a unit test keeps the man page's plugin section equal to it).
std::string PluginKeysManText();

}  // namespace ferry::config
