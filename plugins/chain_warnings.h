// ChainWarnings: what a flow's plugins do together that none of them can tell alone, as warnings for
// `ferry check` and the log of `ferry run` (the config is valid; it only does not do what it reads as).
//
// One so far: add naming a field that parse, earlier in the chain, gives every record. parse
// apache_combined calls the client's address `host` (the Kinesis Agent's name), so the natural
// `add: { fields: { host: "${hostname}" } }` after it is never added (if_present: keep keeps the record's
// value) or fails every record (if_present: fail). A plugin that may rename or remove fields in between
// (json, lambda, external) ends what is known of the record's keys.
#pragma once

#include <string>
#include <vector>

#include "plugins/plugin_kind.h"

namespace ferry::plugins {

// One line per finding: "file:line:col: flows[0].plugins[3].add.fields.host: ...".
std::vector<std::string> ChainWarnings(const std::vector<PluginSpec>& plugins);

}  // namespace ferry::plugins
