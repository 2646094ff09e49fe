// The `grep` plugin's options table: one entry per key, with its validation and reference text.
#include "plugins/grep/grep_options.h"

#include <string>

#include "plugins/fields/field_path_field.h"

namespace ferry::plugins {

namespace {

// A regex or a list of them, each compiled where it is read so an error points at the pattern itself.
config::Field<GrepOptions> PatternsField(std::string_view name, PatternSet GrepOptions::*member,
                                         std::string_view doc) {
  return config::Field<GrepOptions>{
      name,
      "regex | list of regexes",
      "",
      doc,
      false,
      [member](const YAML::Node& n, const std::string& p, GrepOptions& out, config::ParseContext& ctx) {
        std::vector<std::string> patterns;
        if (!config::ReadStringList(n, p, ctx, patterns)) return;
        if (patterns.empty()) {
          ctx.Fail(n, p, "expected at least one regex");
          return;
        }
        bool ok = true;
        for (std::size_t i = 0; i < patterns.size(); ++i) {
          auto one = PatternSet::Compile({patterns[i]});
          if (!one) {
            const bool list = n.IsSequence();
            ctx.Fail(list ? n[i] : n, list ? p + "[" + std::to_string(i) + "]" : p, one.error().message());
            ok = false;
          }
        }
        if (!ok) return;
        auto all = PatternSet::Compile(patterns);
        if (!all) {
          ctx.Fail(n, p, all.error().message());
          return;
        }
        out.*member = std::move(*all);
      },
      [name, member](YAML::Emitter& e, const GrepOptions& in) {
        if ((in.*member).empty()) return;
        e << YAML::Key << std::string(name) << YAML::Value << YAML::Flow << (in.*member).patterns();
      }};
}

}  // namespace

const std::vector<config::Field<GrepOptions>>& GrepFields() {
  static const std::vector<config::Field<GrepOptions>> fields = {
      PatternsField(
          "include", &GrepOptions::include,
          "keeps only the records that match at least one of these regexes (RE2 syntax, unanchored: "
          "it matches anywhere unless you write ^ or $; (?i) ignores case)"),
      PatternsField(
          "exclude", &GrepOptions::exclude,
          "drops the records that match any of these regexes; with include too, a record is kept when "
          "it matches an include and no exclude"),
      FieldPathField<GrepOptions>(
          "field", &GrepOptions::field,
          "matches the regexes against this field of a JSON record instead of the whole record (e.g. "
          "httpRequest.uri; numbers as written, true/false/null as words). A path choosing several values "
          "matches if any does. A missing field, an object or an array matches nothing (so an include drops "
          "the record and an exclude keeps it); a record that is not a JSON object fails (on_error decides)"),
  };
  return fields;
}

}  // namespace ferry::plugins
