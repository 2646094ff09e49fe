// ChainWarnings: the keys parse gives every record, followed down the chain to the add plugins after it.
#include "plugins/chain_warnings.h"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

#include "plugins/add/add_plugin.h"
#include "plugins/parse/parse_plugin.h"

namespace ferry::plugins {

namespace {

// Plugins that may rename or remove a record's fields: after one, its keys are not known.
bool MayChangeKeys(std::string_view kind) {
  return kind == "json" || kind == "lambda" || kind == "external";
}

}  // namespace

std::vector<std::string> ChainWarnings(const std::vector<PluginSpec>& plugins) {
  std::vector<std::string> warnings;
  std::vector<std::string> keys;  // what every record has here, as far as is known
  std::string parse_path;         // the parse plugin that gave them
  for (const auto& spec : plugins) {
    const std::string_view kind = spec.kind->name();
    if (kind == "parse") {
      keys = ParseFieldNames(*static_cast<const ParseOptions*>(spec.options.get()));
      parse_path = spec.path;
      continue;
    }
    if (MayChangeKeys(kind)) keys.clear();
    if (kind != "add" || keys.empty()) continue;
    const auto& add = *static_cast<const AddOptions*>(spec.options.get());
    std::vector<std::pair<std::string, std::string>> added;  // key, its option's path
    for (const auto& field : add.fields) added.emplace_back(field.key, spec.path + ".fields." + field.key);
    if (!add.timestamp.empty()) added.emplace_back(add.timestamp, spec.path + ".timestamp");
    if (!add.record_id.empty()) added.emplace_back(add.record_id, spec.path + ".record_id");
    for (const auto& [key, path] : added) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        keys.push_back(key);
        continue;
      }
      warnings.push_back(fmt::format(
          "{}{}{}: {} already gives every record a field '{}', so {}; give this field another name",
          spec.location, spec.location.empty() ? "" : ": ", path, parse_path, key,
          add.if_present == AddIfPresent::kKeep
              ? "add keeps the record's value and never adds this one (if_present: keep)"
              : "add fails every record it parsed (if_present: fail)"));
    }
  }
  return warnings;
}

}  // namespace ferry::plugins
