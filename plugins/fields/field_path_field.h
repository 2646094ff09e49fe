// Config fields whose values are field paths or conditions (field_path.h): parsed and checked where the
// options table is read, so `ferry check` reports a bad path at its file:line:column with the column in
// the path where it goes wrong.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "agent/config/schema.h"
#include "plugins/fields/field_path.h"

namespace ferry::plugins {

// Parses text as a path, reporting an error at node; false if it is not one.
inline bool ReadFieldPath(const YAML::Node& node, const std::string& path, config::ParseContext& ctx,
                          const std::string& text, FieldPath& out) {
  auto parsed = FieldPath::Parse(text);
  if (!parsed) {
    ctx.Fail(node, path, "invalid field path '" + text + "': " + parsed.error().message());
    return false;
  }
  out = std::move(*parsed);
  return true;
}

// One field path, e.g. `field: httpRequest.uri`.
template <typename S>
config::Field<S> FieldPathField(std::string_view name, FieldPath S::*member, std::string_view doc,
                                bool required = false) {
  return config::Field<S>{
      name,
      "field path",
      "",
      doc,
      required,
      [member](const YAML::Node& n, const std::string& p, S& out, config::ParseContext& ctx) {
        std::string text;
        if (!config::ReadString(n, p, ctx, text)) return;
        ReadFieldPath(n, p, ctx, text, out.*member);
      },
      [name, member](YAML::Emitter& e, const S& in) {
        if (!(in.*member).empty()) e << YAML::Key << std::string(name) << YAML::Value << (in.*member).text();
      }};
}

// A list of field paths (a single path is a list of one), e.g. `drop: [a.b, "c.d"]`.
template <typename S>
config::Field<S> FieldPathListField(std::string_view name, std::vector<FieldPath> S::*member,
                                    std::string_view doc) {
  return config::Field<S>{
      name,
      "field path | list of field paths",
      "",
      doc,
      false,
      [member](const YAML::Node& n, const std::string& p, S& out, config::ParseContext& ctx) {
        FieldPath parsed;
        if (n.IsScalar()) {
          if (ReadFieldPath(n, p, ctx, n.Scalar(), parsed)) (out.*member).push_back(std::move(parsed));
          return;
        }
        if (!n.IsSequence()) {
          ctx.Fail(n, p, "expected a field path or a list of them");
          return;
        }
        for (std::size_t i = 0; i < n.size(); ++i) {
          const std::string item_path = p + "[" + std::to_string(i) + "]";
          std::string text;
          if (!config::ReadString(n[i], item_path, ctx, text)) continue;
          if (ReadFieldPath(n[i], item_path, ctx, text, parsed)) (out.*member).push_back(std::move(parsed));
        }
      },
      [name, member](YAML::Emitter& e, const S& in) {
        if ((in.*member).empty()) return;
        e << YAML::Key << std::string(name) << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const auto& path : in.*member) e << path.text();
        e << YAML::EndSeq;
      }};
}

// A condition, e.g. `where: action != "ALLOW"`.
template <typename S>
config::Field<S> FieldConditionField(std::string_view name, FieldCondition S::*member, std::string_view doc) {
  return config::Field<S>{
      name,
      "condition",
      "",
      doc,
      false,
      [member](const YAML::Node& n, const std::string& p, S& out, config::ParseContext& ctx) {
        std::string text;
        if (!config::ReadString(n, p, ctx, text)) return;
        auto parsed = FieldCondition::Parse(text);
        if (!parsed) {
          ctx.Fail(n, p, "invalid condition '" + text + "': " + parsed.error().message());
          return;
        }
        out.*member = std::move(*parsed);
      },
      [name, member](YAML::Emitter& e, const S& in) {
        if (!(in.*member).empty()) e << YAML::Key << std::string(name) << YAML::Value << (in.*member).text();
      }};
}

}  // namespace ferry::plugins
