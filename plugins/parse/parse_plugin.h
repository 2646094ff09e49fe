// ParsePlugin: the `parse` built-in: turns each text line (Apache access and error logs, syslog, CSV, or
// any line by a regex) into one JSON object, under the Kinesis Agent's LOGTOJSON / CSVTOJSON field names.
//
// Each record is decided at once inside Process(): replaced by its JSON object (keys in the format's
// order, values strings or null, always valid JSON and valid UTF-8: see json_text.h), or failed with the
// reason its line is not of the format (on_error then passes, drops or dead-letters it; the Kinesis Agent
// drops it). One trailing "\r" (a CRLF file) is not part of the line. The JSON is built in one buffer the
// plugin reuses and copied into the batch's arena, so a record costs no allocation of its own.
// Loop thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/core/result.h"
#include "agent/pipeline/plugin.h"
#include "plugins/parse/parse_options.h"
#include "plugins/plugin_env.h"

namespace ferry::plugins {

// Fails on options that contradict each other (a csv without field names, as many custom_field_names as
// the format has not, match_pattern with fewer groups than names...), naming the keys.
Result<std::unique_ptr<Plugin>> MakeParsePlugin(const ParseOptions& options, const PluginEnv& env);

// The keys of the JSON object each parsed line becomes, in order: custom_field_names or field_names when
// given, else the format's names (a regex's named groups).
std::vector<std::string> ParseFieldNames(const ParseOptions& options);

}  // namespace ferry::plugins
