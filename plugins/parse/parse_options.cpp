// ParseOptions: the `parse` plugin's options table (see parse_options.h).
#include "plugins/parse/parse_options.h"

#include <set>
#include <string_view>

namespace ferry::plugins {
namespace {

using config::Field;
using config::ParseContext;

constexpr std::string_view kBothSpellings =
    "given twice: ferry's name and the Kinesis Agent's (customFieldNames, matchPattern) are one option";

// The Kinesis Agent's camelCase name of an option, so that its users' settings carry over as they are
// written: parsed as the option, listed in the docs, not printed back (the effective config uses ferry's
// name).
Field<ParseOptions> AgentSpelling(Field<ParseOptions> field, std::string_view agent_name,
                                  std::string_view doc) {
  field.name = agent_name;
  field.doc = doc;
  field.emit = nullptr;
  return field;
}

// A non-empty list of distinct, non-empty names (they become JSON keys; a key given twice is ambiguous).
Field<ParseOptions> NamesField(std::string_view name, std::vector<std::string> ParseOptions::*member,
                               std::string_view doc) {
  return Field<ParseOptions>{
      name,
      "list of strings",
      "",
      doc,
      false,
      [member](const YAML::Node& n, const std::string& p, ParseOptions& out, ParseContext& ctx) {
        if (!(out.*member).empty()) {
          ctx.Fail(n, p, kBothSpellings);
          return;
        }
        std::vector<std::string> names;
        if (!config::ReadStringList(n, p, ctx, names)) return;
        if (names.empty()) {
          ctx.Fail(n, p, "must name at least one field");
          return;
        }
        std::set<std::string, std::less<>> seen;
        for (std::size_t i = 0; i < names.size(); ++i) {
          const YAML::Node& item = n.IsSequence() ? n[i] : n;
          std::string item_path = n.IsSequence() ? p + "[" + std::to_string(i) + "]" : p;
          if (names[i].empty()) {
            ctx.Fail(item, item_path, "a field name must not be empty");
            return;
          }
          if (!seen.insert(names[i]).second) {
            ctx.Fail(item, item_path, "field name '" + names[i] + "' is given twice");
            return;
          }
        }
        out.*member = std::move(names);
      },
      [name, member](YAML::Emitter& e, const ParseOptions& in) {
        if ((in.*member).empty()) return;
        e << YAML::Key << std::string(name) << YAML::Value << YAML::Flow << in.*member;
      }};
}

Field<ParseOptions> FormatField() {
  Field<ParseOptions> f = config::EnumField<ParseOptions, ParseFormat>(
      "format", &ParseOptions::format, ParseFormatWords(),
      "apache_common | apache_combined | apache_error | syslog_rfc3164 | syslog_rfc5424 | csv | regex",
      "the format of the lines, each turned into one JSON object under the Kinesis Agent's field names: "
      "apache_common (COMMONAPACHELOG: host ident authuser datetime request response bytes), apache_combined "
      "(COMBINEDAPACHELOG: the same plus referer agent), apache_error (APACHEERRORLOG: timestamp module "
      "severity processid threadid client message), syslog_rfc3164 (SYSLOG and RFC3339SYSLOG: timestamp "
      "hostname program processid message), syslog_rfc5424 (priority version timestamp hostname program "
      "processid msgid structureddata message), csv (CSVTOJSON: the columns under field_names), regex (the "
      "named groups (?P<name>...) of match_pattern). Values are the text of the line (numbers and "
      "timestamps included); a missing part is null");
  f.required = true;
  f.default_value.clear();
  return f;
}

Field<ParseOptions> MatchPatternField() {
  return Field<ParseOptions>{
      "match_pattern",
      "regex",
      "",
      "the Kinesis Agent's matchPattern: an RE2 regex that must match the whole line, used instead of the "
      "format's scanner; its capturing groups, in order, are the fields under the format's names or "
      "custom_field_names (as many groups as names). Required by format regex, where named groups "
      "(?P<name>...) give the field names. A line it does not match fails",
      false,
      [](const YAML::Node& n, const std::string& p, ParseOptions& out, ParseContext& ctx) {
        if (out.match_regex) {
          ctx.Fail(n, p, kBothSpellings);
          return;
        }
        std::string pattern;
        if (!config::ReadString(n, p, ctx, pattern)) return;
        if (pattern.empty()) {
          ctx.Fail(n, p, "must not be empty");
          return;
        }
        RE2::Options options;
        options.set_log_errors(false);
        auto regex = std::make_shared<const RE2>(pattern, options);
        if (!regex->ok()) {
          ctx.Fail(n, p, "is not a valid RE2 regex: " + regex->error());
          return;
        }
        if (regex->NumberOfCapturingGroups() == 0) {
          ctx.Fail(n, p, "has no capturing group: each group (...) is one field");
          return;
        }
        out.match_pattern = std::move(pattern);
        out.match_regex = std::move(regex);
      },
      [](YAML::Emitter& e, const ParseOptions& in) {
        if (!in.match_pattern.empty()) e << YAML::Key << "match_pattern" << YAML::Value << in.match_pattern;
      }};
}

Field<ParseOptions> DelimiterField() {
  return Field<ParseOptions>{
      "delimiter",
      "character",
      ",",
      "csv only: the one character between columns; \"\\t\" (a tab, or the two characters backslash t, "
      "as the Kinesis Agent writes it) for tab-separated values",
      false,
      [](const YAML::Node& n, const std::string& p, ParseOptions& out, ParseContext& ctx) {
        std::string text;
        if (!config::ReadString(n, p, ctx, text)) return;
        if (text == "\\t") text = "\t";
        if (text.size() != 1) {
          ctx.Fail(n, p, "must be a single character (\"\\t\" for a tab)");
          return;
        }
        if (text[0] == '"' || text[0] == '\n' || text[0] == '\r') {
          ctx.Fail(n, p, "cannot be a quote or a line break");
          return;
        }
        out.delimiter = text[0];
      },
      [](YAML::Emitter& e, const ParseOptions& in) {
        e << YAML::Key << "delimiter" << YAML::Value
          << (in.delimiter == '\t' ? std::string("\\t") : std::string(1, in.delimiter));
      }};
}

}  // namespace

const std::vector<std::pair<std::string, ParseFormat>>& ParseFormatWords() {
  static const std::vector<std::pair<std::string, ParseFormat>> words = {
      {"apache_common", ParseFormat::kApacheCommon},
      {"apache_combined", ParseFormat::kApacheCombined},
      {"apache_error", ParseFormat::kApacheError},
      {"syslog_rfc3164", ParseFormat::kSyslogRfc3164},
      {"syslog_rfc5424", ParseFormat::kSyslogRfc5424},
      {"csv", ParseFormat::kCsv},
      {"regex", ParseFormat::kRegex}};
  return words;
}

const std::vector<config::Field<ParseOptions>>& ParseFields() {
  static const std::vector<config::Field<ParseOptions>> fields = {
      FormatField(),
      NamesField("custom_field_names", &ParseOptions::custom_field_names,
                 "the Kinesis Agent's customFieldNames: the JSON keys to use instead of the format's field "
                 "names, as many as it has (or as match_pattern has groups); for csv, the column names"),
      NamesField("field_names", &ParseOptions::field_names,
                 "csv only: the names of the columns, in order (the same as custom_field_names; give one of "
                 "the two). Columns beyond them are ignored; names beyond the columns are null"),
      MatchPatternField(),
      DelimiterField(),
      AgentSpelling(NamesField("customFieldNames", &ParseOptions::custom_field_names, ""), "customFieldNames",
                    "the Kinesis Agent's name of custom_field_names (give one of the two)"),
      AgentSpelling(MatchPatternField(), "matchPattern",
                    "the Kinesis Agent's name of match_pattern (give one of the two)"),
  };
  return fields;
}

}  // namespace ferry::plugins
