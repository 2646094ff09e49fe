// The `json` plugin's options table: one entry per key, with its validation and reference text.
#include "plugins/json/json_options.h"

#include "plugins/fields/field_path_field.h"

namespace ferry::plugins {

namespace {

// The paths of drop/keep/mask must name fields, not the record itself.
template <typename Member>
config::Field<JsonOptions> FieldsOnly(config::Field<JsonOptions> field, Member member) {
  field.parse = [parse = field.parse, member](const YAML::Node& n, const std::string& p, JsonOptions& out,
                                              config::ParseContext& ctx) {
    parse(n, p, out, ctx);
    for (const FieldPath& path : out.*member) {
      if (path.IsRoot()) {
        ctx.Fail(n, p, "'@' is the whole record, not a field (to drop records, use where or keep_where)");
        return;
      }
    }
  };
  return field;
}

config::Field<JsonOptions> RenameField() {
  return config::Field<JsonOptions>{
      "rename",
      "map of field path to new name",
      "",
      "renames fields: each key is the path of a field, its value the field's new name in the same object, "
      "where it keeps its place (`rename: { httpRequest.clientIp: client_ip }`). The path may choose "
      "several fields (`a[].ip`); one that already has a sibling of the new name fails the record",
      false,
      [](const YAML::Node& n, const std::string& p, JsonOptions& out, config::ParseContext& ctx) {
        if (!n.IsMap()) {
          ctx.Fail(n, p, "expected a mapping of field paths to new names");
          return;
        }
        for (const auto& entry : n) {
          std::string from;
          std::string to;
          const std::string key_path =
              config::JoinPath(p, entry.first.IsScalar() ? entry.first.Scalar() : "");
          if (!config::ReadString(entry.first, p, ctx, from) ||
              !config::ReadString(entry.second, key_path, ctx, to)) {
            continue;
          }
          JsonRename rename;
          if (!ReadFieldPath(entry.first, key_path, ctx, from, rename.from)) continue;
          if (!rename.from.EndsWithKey()) {
            ctx.Fail(entry.first, key_path, "the path must end with a key (the member to rename)");
            continue;
          }
          if (to.empty()) {
            ctx.Fail(entry.second, key_path, "the new name must not be empty");
            continue;
          }
          rename.to = std::move(to);
          out.rename.push_back(std::move(rename));
        }
      },
      [](YAML::Emitter& e, const JsonOptions& in) {
        if (in.rename.empty()) return;
        e << YAML::Key << "rename" << YAML::Value << YAML::BeginMap;
        for (const auto& r : in.rename) e << YAML::Key << r.from.text() << YAML::Value << r.to;
        e << YAML::EndMap;
      }};
}

}  // namespace

const std::vector<config::Field<JsonOptions>>& JsonFields() {
  static const std::vector<config::Field<JsonOptions>> fields = {
      FieldConditionField<JsonOptions>(
          "where", &JsonOptions::where,
          "drops the records for which this condition holds, e.g. `action == \"ALLOW\"` (WAF logs of a web "
          "ACL whose default action allows). A condition compares fields with ==, !=, in [...], not in "
          "[...], tests `exists`, and combines with and, or, not and parentheses; strings are quoted, "
          "i\"...\" ignores case, numbers compare by their text; == and in hold if any value the path "
          "selects matches, != and not in if none does (so they hold for a missing field)"),
      FieldConditionField<JsonOptions>("drop_where", &JsonOptions::drop_where,
                                       "the same as where (a record is dropped when either holds)"),
      FieldConditionField<JsonOptions>(
          "keep_where", &JsonOptions::keep_where,
          "keeps only the records for which this condition holds and drops the others (SQL's WHERE), e.g. "
          "`action in [\"BLOCK\", \"COUNT\"]`; with where too, a record is kept when keep_where holds and "
          "where does not"),
      FieldsOnly(
          FieldPathListField<JsonOptions>(
              "keep", &JsonOptions::keep,
              "if set, only these fields remain (with the objects and arrays that hold them); "
              "paths like a.b, a[0], a[], a[name == \"x\"], and '\"key.with.dots\"' (quoted inside YAML's "
              "single quotes)"),
          &JsonOptions::keep),
      FieldsOnly(FieldPathListField<JsonOptions>(
                     "drop", &JsonOptions::drop,
                     "these fields are removed, e.g. `httpRequest.headers[name in [i\"cookie\", "
                     "i\"authorization\"]]` removes those headers from the array"),
                 &JsonOptions::drop),
      FieldsOnly(FieldPathListField<JsonOptions>(
                     "mask", &JsonOptions::mask,
                     "these fields' values are replaced by mask_with, e.g. `httpRequest.headers[name in "
                     "[i\"cookie\", i\"authorization\"]].value`"),
                 &JsonOptions::mask),
      config::StringField<JsonOptions>("mask_with", &JsonOptions::mask_with, JsonOptions{}.mask_with,
                                       "the string a masked value becomes"),
      RenameField(),
  };
  return fields;
}

}  // namespace ferry::plugins
