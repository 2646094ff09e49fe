// The `external` plugin's options table: the library's path and the options handed to it as JSON.
#include "plugins/external/external_options.h"

#include "plugins/external/yaml_to_json.h"

namespace ferry::plugins {
namespace {

// Writes node as the plugin reads it: strings quoted, so `ferry check` shows '42' (a string) apart from 42.
void EmitOptions(YAML::Emitter& e, const YAML::Node& node) {
  if (node.IsMap()) {
    e << YAML::BeginMap;
    for (const auto& entry : node) {
      e << YAML::Key << entry.first.Scalar() << YAML::Value;
      EmitOptions(e, entry.second);
    }
    e << YAML::EndMap;
  } else if (node.IsSequence()) {
    e << YAML::BeginSeq;
    for (const auto& item : node) EmitOptions(e, item);
    e << YAML::EndSeq;
  } else if (node.IsScalar() && node.Tag() != "?") {
    e << YAML::DoubleQuoted << node.Scalar();
  } else if (node.IsScalar()) {
    e << node.Scalar();
  } else {
    e << YAML::Null;
  }
}

}  // namespace

const std::vector<config::Field<ExternalOptions>>& ExternalFields() {
  static const std::vector<config::Field<ExternalOptions>> fields = [] {
    auto path = config::StringField<ExternalOptions>(
        "path", &ExternalOptions::path, "",
        "the plugin: a shared object exporting ferry_plugin_entry (plugins/include/ferry/plugin.h), as an "
        "absolute path. It and every folder above it must be changeable by root or ferry's user only",
        true);
    auto read_path = path.parse;
    path.parse = [read_path](const YAML::Node& n, const std::string& p, ExternalOptions& out,
                             config::ParseContext& ctx) {
      read_path(n, p, out, ctx);
      if (!out.path.empty() && out.path[0] != '/') ctx.Fail(n, p, "must be an absolute path");
    };
    config::Field<ExternalOptions> options{
        "options",
        "map",
        "{}",
        "the plugin's own options, any YAML map, handed to its create() as a JSON object (plain scalars "
        "that read as numbers, true/false or null become JSON numbers, booleans and null; quoted ones stay "
        "strings)",
        false,
        [](const YAML::Node& n, const std::string& p, ExternalOptions& out, config::ParseContext& ctx) {
          if (n.IsNull()) return;
          if (!n.IsMap()) {
            ctx.Fail(n, p, "expected a mapping of the plugin's options (it gets them as a JSON object)");
            return;
          }
          std::string json;
          if (!YamlToJson(n, p, ctx, json)) return;
          out.options_json = std::move(json);
          out.options = YAML::Clone(n);
        },
        [](YAML::Emitter& e, const ExternalOptions& in) {
          if (!in.options.IsMap()) return;
          e << YAML::Key << "options" << YAML::Value;
          EmitOptions(e, in.options);
        }};
    return std::vector<config::Field<ExternalOptions>>{std::move(path), std::move(options)};
  }();
  return fields;
}

}  // namespace ferry::plugins
