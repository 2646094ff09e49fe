// GrepOptions: the options of the `grep` plugin (keep or drop records by regexes, on the whole record or
// on a JSON field), their table, and the maker. The table's doc lines are the reference text of
// `ferry check --keys` and the man page; README.md has examples.
#pragma once

#include <memory>
#include <vector>

#include "agent/config/schema.h"
#include "agent/core/result.h"
#include "agent/pipeline/plugin.h"
#include "plugins/fields/field_path.h"
#include "plugins/grep/pattern_set.h"
#include "plugins/plugin_env.h"

namespace ferry::plugins {

struct GrepOptions {
  PatternSet include;  // if any: a record must match one of them
  PatternSet exclude;  // a record that matches one of them is dropped
  FieldPath field;     // empty: the whole record; else the field(s) of a JSON record it selects
};

const std::vector<config::Field<GrepOptions>>& GrepFields();
Result<std::unique_ptr<Plugin>> MakeGrepPlugin(const GrepOptions& options, const PluginEnv& env);

}  // namespace ferry::plugins
