// The singleline plugin: makes a multi-line record (a stack trace the flow's multiline option joined, a
// pretty-printed JSON document) one line, as the Kinesis Agent's SINGLELINE processor does: the record is
// split at its newlines, trailing empty lines are dropped, each line is trimmed of leading and trailing
// whitespace (bytes up to 0x20, what Java's String.trim removes), and the lines are joined with nothing
// between them. README.md says where ferry differs from the agent.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/config/schema.h"
#include "agent/core/result.h"
#include "agent/pipeline/plugin.h"
#include "plugins/plugin_env.h"

namespace ferry::plugins {

struct SinglelineOptions {
  bool trim = true;       // the agent's default; its NO_TRIM option is trim: false
  std::string separator;  // between two lines; the agent writes nothing (ESCAPE_NEW_LINE: "\\\\n")
};

const std::vector<config::Field<SinglelineOptions>>& SinglelineFields();
Result<std::unique_ptr<Plugin>> MakeSinglelinePlugin(const SinglelineOptions& options, const PluginEnv& env);

}  // namespace ferry::plugins
