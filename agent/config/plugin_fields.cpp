// PluginFields: a flow's list of plugins, each entry parsed by its plugin's own options table.
#include "agent/config/plugin_fields.h"

#include <fmt/format.h>

#include "plugins/builtin_plugins.h"

namespace ferry::config {
namespace {

std::string KnownPlugins() {
  std::string known;
  for (const plugins::PluginKind* kind : plugins::BuiltinPlugins()) {
    known += (known.empty() ? "" : ", ") + std::string(kind->name());
  }
  return known;
}

void ParseEntry(const YAML::Node& item, const std::string& path, ParseContext& ctx, FlowOptions& out) {
  // `- singleline` names a plugin with no options; otherwise a map of exactly one key, the plugin's name.
  YAML::Node name_node;
  YAML::Node options;
  if (item.IsScalar()) {
    name_node = item;
  } else if (item.IsMap() && item.size() == 1) {
    name_node = item.begin()->first;
    options = item.begin()->second;
  } else {
    ctx.Fail(item, path,
             item.IsMap()
                 ? "each item names one plugin (write a second plugin as a new item: '- name: {...}')"
                 : "expected a plugin: its name, then its options (- grep: { exclude: 'x' })");
    return;
  }
  const std::string name = name_node.IsScalar() ? name_node.Scalar() : std::string();
  const plugins::PluginKind* kind = plugins::FindPlugin(name);
  if (kind == nullptr) {
    ctx.Fail(name_node, path, fmt::format("unknown plugin '{}' (known plugins: {})", name, KnownPlugins()));
    return;
  }
  const std::string options_path = JoinPath(path, name);
  ctx.set_key_mark(name_node.Mark());
  plugins::PluginSpec spec;
  kind->Parse(options, options_path, ctx, spec);
  if (const YAML::Mark mark = name_node.Mark(); !mark.is_null()) {
    spec.location = fmt::format("{}:{}:{}", ctx.file(), mark.line + 1, mark.column + 1);
  }
  spec.path = options_path;
  out.plugins.push_back(std::move(spec));
}

}  // namespace

Field<FlowOptions> PluginsField() {
  return Field<FlowOptions>{
      "plugins",
      "list of plugins",
      "",
      "what to do with each record before it is sent, in order: grep, redact, json, parse, add, singleline, "
      "sample, throttle, external (each item: the plugin's name, then its options)",
      false,
      [](const YAML::Node& n, const std::string& p, FlowOptions& out, ParseContext& ctx) {
        if (n.IsNull()) return;
        if (!n.IsSequence()) {
          ctx.Fail(n, p, "expected a list of plugins (- grep: { exclude: 'x' })");
          return;
        }
        for (std::size_t i = 0; i < n.size(); ++i) ParseEntry(n[i], fmt::format("{}[{}]", p, i), ctx, out);
      },
      [](YAML::Emitter& e, const FlowOptions& in) {
        if (in.plugins.empty()) return;
        e << YAML::Key << "plugins" << YAML::Value << YAML::BeginSeq;
        for (const auto& spec : in.plugins) {
          e << YAML::BeginMap << YAML::Key << std::string(spec.kind->name()) << YAML::Value;
          spec.kind->Emit(e, spec);
          e << YAML::EndMap;
        }
        e << YAML::EndSeq;
      }};
}

void DescribePluginKeys(std::string& out, std::string_view prefix) {
  for (const plugins::PluginKind* kind : plugins::BuiltinPlugins()) {
    const std::string at = JoinPath(prefix, kind->name());
    DescribeKeyLine(out, at, "plugin", "", kind->doc());
    kind->Describe(out, at);
  }
}

namespace {

// Text safe in troff: backslashes written as \e, and a line never begins with a control character.
std::string Troff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

// One table row as man text; the kinds describe their keys as `ferry check --keys` lines, so the man page
// reads the same table through the same function.
struct ManWriter {
  std::string out;
  void Key(std::string_view key, std::string_view type, std::string_view default_value,
           std::string_view doc) {
    std::string what(type);
    if (default_value == "(required)") {
      what += ", required";
    } else if (!default_value.empty()) {
      what += fmt::format(", default {}", default_value);
    }
    out += fmt::format(".TP\n.BR {} \" ({})\"\n{}\n", key, Troff(what), Troff(doc));
  }
};

}  // namespace

std::string PluginKeysManText() {
  std::string out;
  for (const plugins::PluginKind* kind : plugins::BuiltinPlugins()) {
    out += fmt::format(".SS {}\n{}\n", kind->name(), Troff(kind->doc()));
    ManWriter man;
    kind->DescribeEach([&man](std::string_view key, std::string_view type, std::string_view default_value,
                              std::string_view doc) { man.Key(key, type, default_value, doc); });
    out += man.out;
  }
  return out;
}

}  // namespace ferry::config
