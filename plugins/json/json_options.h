// JsonOptions: the options of the `json` plugin (parse each record as one JSON object, drop records by a
// condition, and keep, drop, mask or rename fields), their table, and the maker. The table's doc lines are
// the reference text of `ferry check --keys` and the man page; README.md has examples.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/config/schema.h"
#include "agent/core/result.h"
#include "agent/pipeline/plugin.h"
#include "plugins/fields/field_path.h"
#include "plugins/plugin_env.h"

namespace ferry::plugins {

struct JsonRename {
  FieldPath from;  // ends with a key
  std::string to;  // the member's new name, in the same object
};

struct JsonOptions {
  FieldCondition where;         // records for which it holds are dropped (empty: none)
  FieldCondition drop_where;    // the same as where, by its longer name
  FieldCondition keep_where;    // records for which it does not hold are dropped (empty: none)
  std::vector<FieldPath> keep;  // if any: only these fields (and the objects holding them) remain
  std::vector<FieldPath> drop;  // these fields are removed
  std::vector<FieldPath> mask;  // these fields' values become mask_with
  std::string mask_with = "[MASKED]";
  std::vector<JsonRename> rename;  // in order
};

const std::vector<config::Field<JsonOptions>>& JsonFields();
Result<std::unique_ptr<Plugin>> MakeJsonPlugin(const JsonOptions& options, const PluginEnv& env);

}  // namespace ferry::plugins
