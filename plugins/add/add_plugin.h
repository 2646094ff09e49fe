// The add plugin: adds context to records: fields from templates (${hostname}, ${file}, ${flow}, static
// text), the read time, and a record id a consumer dedupes on. JSON object records get members appended
// before their closing brace; other records get logfmt pairs before the line (README.md shows both).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/config/schema.h"
#include "agent/core/result.h"
#include "agent/pipeline/plugin.h"
#include "plugins/add/field_template.h"
#include "plugins/plugin_env.h"

namespace ferry::plugins {

// How a record is read: as a JSON object, as text, or by what it looks like.
enum class AddAs { kAuto, kJson, kText };
// What happens when a JSON record already has a key the plugin would add.
enum class AddIfPresent { kKeep, kFail };

struct AddField {
  std::string key;
  FieldTemplate value;
};

struct AddOptions {
  std::vector<AddField> fields;  // in the order the config writes them
  std::string timestamp;         // key of the read time; empty: none
  std::string record_id;         // key of the record id; empty: none
  AddAs as = AddAs::kAuto;
  AddIfPresent if_present = AddIfPresent::kKeep;
};

// Keys, values and everything added fit in this many members.
inline constexpr std::size_t kAddMaxKeys = 64;

const std::vector<config::Field<AddOptions>>& AddFields();
Result<std::unique_ptr<Plugin>> MakeAddPlugin(const AddOptions& options, const PluginEnv& env);

}  // namespace ferry::plugins
