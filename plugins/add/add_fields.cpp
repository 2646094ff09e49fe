// The add plugin's options table: what `ferry check` validates and `ferry check --keys` prints.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugins/add/add_plugin.h"

namespace ferry::plugins {
namespace {

// A key must be writable bare both as a JSON key and as a logfmt key.
bool ValidKey(std::string_view key, std::string* why) {
  if (key.empty()) {
    *why = "a key must not be empty";
    return false;
  }
  for (unsigned char c : key) {
    if (c <= 0x20 || c == 0x7F || c == '=' || c == '"' || c == '\\') {
      *why = "a key must not hold spaces, control characters, '=', '\"' or '\\'";
      return false;
    }
  }
  return true;
}

// Whether key is already taken by another option; the second of two is the one reported.
bool KeyTaken(const AddOptions& o, std::string_view key) {
  for (const auto& f : o.fields) {
    if (f.key == key) return true;
  }
  return o.timestamp == key || o.record_id == key;
}

config::Field<AddOptions> KeyField(std::string_view name, std::string AddOptions::*member,
                                   std::string_view doc) {
  config::Field<AddOptions> f = config::StringField<AddOptions>(name, member, "", doc);
  f.type = "key";
  f.parse = [member](const YAML::Node& n, const std::string& p, AddOptions& out, config::ParseContext& ctx) {
    std::string key;
    if (!config::ReadString(n, p, ctx, key)) return;
    std::string why;
    if (!ValidKey(key, &why)) {
      ctx.Fail(n, p, why);
      return;
    }
    if (KeyTaken(out, key)) {
      ctx.Fail(n, p, "key '" + key + "' is added twice");
      return;
    }
    out.*member = std::move(key);
  };
  return f;
}

config::Field<AddOptions> FieldsField() {
  return config::Field<AddOptions>{
      "fields",
      "map of key: template",
      "",
      "fields to add, in this order: each value is text with ${hostname}, ${file} (the record's file), "
      "${flow} in it (\"$${\" is a literal \"${\"); values are JSON strings in JSON records",
      false,
      [](const YAML::Node& n, const std::string& p, AddOptions& out, config::ParseContext& ctx) {
        if (!n.IsMap() || n.size() == 0) {
          ctx.Fail(n, p, "expected a mapping of keys to values, e.g. { host: \"${hostname}\" }");
          return;
        }
        for (const auto& entry : n) {
          const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
          const std::string key_path = config::JoinPath(p, key);
          std::string why;
          if (!ValidKey(key, &why)) {
            ctx.Fail(entry.first, key_path, why);
            continue;
          }
          if (KeyTaken(out, key)) {
            ctx.Fail(entry.first, key_path, "key '" + key + "' is added twice");
            continue;
          }
          std::string source;
          if (!config::ReadString(entry.second, key_path, ctx, source)) continue;
          std::optional<FieldTemplate> value = FieldTemplate::Parse(source, &why);
          if (!value) {
            ctx.Fail(entry.second, key_path, why);
            continue;
          }
          out.fields.push_back({key, std::move(*value)});
        }
        if (out.fields.size() + 2 > kAddMaxKeys) {
          ctx.Fail(n, p, "at most " + std::to_string(kAddMaxKeys - 2) + " fields");
        }
      },
      [](YAML::Emitter& e, const AddOptions& in) {
        if (in.fields.empty()) return;
        e << YAML::Key << "fields" << YAML::Value << YAML::BeginMap;
        for (const auto& f : in.fields) e << YAML::Key << f.key << YAML::Value << f.value.source();
        e << YAML::EndMap;
      }};
}

}  // namespace

const std::vector<config::Field<AddOptions>>& AddFields() {
  static const std::vector<config::Field<AddOptions>> fields = {
      FieldsField(),
      KeyField("timestamp", &AddOptions::timestamp,
               "key of the time the record was read, ISO 8601 UTC with milliseconds "
               "(2026-12-05T07:57:00.123Z)"),
      KeyField("record_id", &AddOptions::record_id,
               "key of the record's id, <file id>-<end offset> as 16 + 16 lowercase hex digits: the same "
               "when a crash or retry sends the record again, so a consumer can drop duplicates; "
               "records without a file identity (stdin) get none"),
      config::EnumField<AddOptions, AddAs>(
          "as", &AddOptions::as, {{"auto", AddAs::kAuto}, {"json", AddAs::kJson}, {"text", AddAs::kText}},
          "auto | json | text",
          "json: members go into records that are one JSON object (others fail, see on_error); text: "
          "key=value pairs (logfmt) and a space go before every record; auto: JSON objects get members, "
          "everything else the pairs"),
      config::EnumField<AddOptions, AddIfPresent>(
          "if_present", &AddOptions::if_present,
          {{"keep", AddIfPresent::kKeep}, {"fail", AddIfPresent::kFail}}, "keep | fail",
          "a JSON record that already has one of the keys at its top level keeps its own value and gets "
          "the others (keep), or fails (fail, see on_error)"),
  };
  return fields;
}

}  // namespace ferry::plugins
