// AgentProcessingOptions: each processing option checked as the agent's ProcessingUtilsFactory reads it,
// then written as one ferry plugin.
#include "agent/config/agent_processing_options.h"

#include <fmt/format.h>

namespace ferry::config {
namespace {

constexpr std::size_t kItemIndent = 6;     // "      - parse:"
constexpr std::size_t kOptionIndent = 10;  // its options

const std::vector<std::string_view>& OptionNames() {
  static const std::vector<std::string_view> names = {
      "ADDMETADATA", "ADDEC2METADATA", "SINGLELINE", "CSVTOJSON", "LOGTOJSON", "ADDBRACKETS", "USINGPLUGGIN"};
  return names;
}

// The agent's log formats and the parse formats that read them (plugins/parse/README.md).
std::string_view ParseFormatFor(std::string_view log_format) {
  if (log_format == "COMMONAPACHELOG") return "apache_common";
  if (log_format == "COMBINEDAPACHELOG") return "apache_combined";
  if (log_format == "APACHEERRORLOG") return "apache_error";
  return "syslog_rfc3164";  // SYSLOG and RFC3339SYSLOG: one scanner reads both timestamps
}

// Why an option has no plugin yet, and what to write instead.
std::string_view NotMapped(std::string_view name) {
  if (name == "ADDMETADATA") {
    return "ADDMETADATA is not mapped yet: the agent makes each line a new JSON object, "
           "{\"ts\":\"<UTC, ms>\",\"metadata\":<the metadata value, any JSON, null if none>,"
           "\"data\":\"<the line as a JSON string>\"} in that order, and no ferry plugin wraps a line so: "
           "`add` appends fields with string values to a JSON record, or key=value pairs before a text line; "
           "if that shape will do, write the flow in ferry.yaml (ferry check --convert) with `add`";
  }
  if (name == "ADDEC2METADATA") {
    return "ADDEC2METADATA is not mapped yet: ferry has no plugin that reads the EC2 instance metadata; "
           "write the flow in ferry.yaml (ferry check --convert) with `add` and fixed fields for the "
           "instance";
  }
  if (name == "ADDBRACKETS") {
    return "ADDBRACKETS is not mapped yet: ferry has no plugin that wraps a batch of records in [ ]";
  }
  return "USINGPLUGGIN is not mapped yet: ferry cannot load Java classes; a local program speaking "
         "Firehose's data-transformation contract can take its place (the lambda plugin)";
}

struct Plugin {
  std::string name;                // ferry plugin
  std::vector<std::string> lines;  // its options, as YAML lines at kOptionIndent
  std::string comment;             // for the item line
};

class OptionConverter {
 public:
  OptionConverter(const JsonValue& option, std::string key, std::string ferry, AgentJsonContext& ctx)
      : option_(option), key_(std::move(key)), ferry_(std::move(ferry)), ctx_(ctx) {}

  // The plugin, or false (with errors).
  bool Convert(Plugin& out) {
    if (!ctx_.CheckObject(option_, key_)) return false;
    const JsonValue* name_value = FindMember(option_, "optionName");
    std::string name;
    if (name_value == nullptr || name_value->IsNull()) {
      ctx_.Fail(option_, Key("optionName"),
                "missing required key (one of SINGLELINE, CSVTOJSON, LOGTOJSON, "
                "ADDMETADATA, ADDEC2METADATA, ADDBRACKETS, USINGPLUGGIN)");
      return false;
    }
    if (!ctx_.ReadWord(*name_value, Key("optionName"), OptionNames(), name)) return false;
    if (name == "SINGLELINE") return SingleLine(out);
    if (name == "CSVTOJSON") return CsvToJson(out);
    if (name == "LOGTOJSON") return LogToJson(out);
    ctx_.Fail(*name_value, Key("optionName"), NotMapped(name));
    return false;
  }

 private:
  std::string Key(std::string_view name) const { return fmt::format("{}.{}", key_, name); }

  // Unknown keys are errors; returns false if there were any.
  bool KnownKeysOnly(std::initializer_list<std::string_view> known) {
    bool ok = true;
    for (std::size_t i = 0; i < option_.keys.size(); ++i) {
      const std::string& k = option_.keys[i].name;
      bool found = k == "optionName";
      for (std::string_view name : known) found = found || k == name;
      if (found) continue;
      std::string list = "optionName";
      for (std::string_view name : known) list += fmt::format(", {}", name);
      ctx_.FailAt(option_.keys[i].offset, Key(k), fmt::format("unknown key (known keys here: {})", list));
      ok = false;
    }
    return ok;
  }

  void Option(Plugin& out, const std::string& ferry_key, const std::string& value, const JsonValue& from,
              std::string_view agent_key, std::string_view comment) {
    out.lines.push_back(YamlLine(kOptionIndent, fmt::format("{}: {}", ferry_key, value), comment));
    ctx_.Origin(fmt::format("{}.{}.{}", ferry_, out.name, ferry_key), from, Key(agent_key));
  }

  std::string FlowList(const std::vector<std::string>& items) {
    std::string list = "[";
    for (const auto& item : items) list += fmt::format("{}{}", list.size() > 1 ? ", " : "", YamlQuote(item));
    return list + "]";
  }

  // jsonFormat: COMPACT is what ferry writes; PRETTYPRINT is warned about.
  void JsonFormat() {
    const JsonValue* format = FindMember(option_, "jsonFormat");
    std::string word;
    if (format == nullptr || !ctx_.ReadWord(*format, Key("jsonFormat"), {"COMPACT", "PRETTYPRINT"}, word)) {
      return;
    }
    if (word == "PRETTYPRINT") {
      ctx_.Warn(*format, Key("jsonFormat"), "jsonFormat",
                "ferry writes each record as compact JSON on one line, not pretty-printed");
    }
  }

  bool SingleLine(Plugin& out) {
    out.name = "singleline";
    out.comment = fmt::format("{}: SINGLELINE", key_);
    if (!KnownKeysOnly({"parseOptions"})) return false;
    ctx_.Origin(fmt::format("{}.singleline", ferry_), option_, key_);
    const JsonValue* parse_options = FindMember(option_, "parseOptions");
    std::vector<std::string> words;
    if (parse_options == nullptr || !ctx_.ReadTextList(*parse_options, Key("parseOptions"), words)) {
      return ctx_.errors().empty();
    }
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (words[i] == "NO_TRIM") {
        Option(out, "trim", "false", parse_options->items[i], "parseOptions", "parseOptions: NO_TRIM");
      } else if (words[i] == "ESCAPE_NEW_LINE") {
        Option(out, "separator", "'\\\\n'", parse_options->items[i], "parseOptions",
               "parseOptions: ESCAPE_NEW_LINE (the three characters \\\\n, as the agent writes)");
      } else {
        ctx_.Fail(parse_options->items[i], fmt::format("{}[{}]", Key("parseOptions"), i),
                  fmt::format("'{}' is not one of: NO_TRIM, ESCAPE_NEW_LINE", words[i]));
        return false;
      }
    }
    return true;
  }

  bool CsvToJson(Plugin& out) {
    out.name = "parse";
    out.comment = fmt::format("{}: CSVTOJSON", key_);
    if (!KnownKeysOnly({"customFieldNames", "delimiter", "jsonFormat"})) return false;
    ctx_.Origin(fmt::format("{}.parse", ferry_), option_, key_);
    out.lines.push_back(YamlLine(kOptionIndent, "format: csv"));
    const JsonValue* names = FindMember(option_, "customFieldNames");
    std::vector<std::string> fields;
    if (names == nullptr || names->IsNull()) {
      ctx_.Fail(option_, Key("customFieldNames"), "missing required key (the names of the columns)");
      return false;
    }
    if (!ctx_.ReadTextList(*names, Key("customFieldNames"), fields)) return false;
    Option(out, "field_names", FlowList(fields), *names, "customFieldNames", "customFieldNames");
    if (const JsonValue* delimiter = FindMember(option_, "delimiter")) {
      std::string text;
      if (ctx_.ReadText(*delimiter, Key("delimiter"), text)) {
        Option(out, "delimiter", YamlQuote(text), *delimiter, "delimiter",
               "delimiter (one character, taken as it is; the agent took a Java regex)");
      }
    }
    JsonFormat();
    return true;
  }

  bool LogToJson(Plugin& out) {
    out.name = "parse";
    out.comment = fmt::format("{}: LOGTOJSON", key_);
    if (!KnownKeysOnly({"logFormat", "matchPattern", "customFieldNames", "jsonFormat"})) return false;
    ctx_.Origin(fmt::format("{}.parse", ferry_), option_, key_);
    const JsonValue* format = FindMember(option_, "logFormat");
    std::string word;
    if (format == nullptr || format->IsNull()) {
      ctx_.Fail(option_, Key("logFormat"),
                "missing required key (COMMONAPACHELOG, COMBINEDAPACHELOG, APACHEERRORLOG, SYSLOG, "
                "RFC3339SYSLOG)");
      return false;
    }
    if (!ctx_.ReadWord(*format, Key("logFormat"),
                       {"COMMONAPACHELOG", "COMBINEDAPACHELOG", "APACHEERRORLOG", "SYSLOG", "RFC3339SYSLOG"},
                       word)) {
      return false;
    }
    Option(out, "format", std::string(ParseFormatFor(word)), *format, "logFormat",
           fmt::format("logFormat: {}", word));
    if (const JsonValue* names = FindMember(option_, "customFieldNames")) {
      std::vector<std::string> fields;
      if (ctx_.ReadTextList(*names, Key("customFieldNames"), fields)) {
        Option(out, "custom_field_names", FlowList(fields), *names, "customFieldNames", "customFieldNames");
      }
    }
    if (const JsonValue* pattern = FindMember(option_, "matchPattern")) {
      std::string text;
      if (ctx_.ReadNonEmptyText(*pattern, Key("matchPattern"), text)) {
        Option(out, "match_pattern", YamlQuote(text), *pattern, "matchPattern",
               "matchPattern (RE2 syntax: no look-around or backreferences)");
      }
    }
    JsonFormat();
    out.lines.push_back(YamlLine(kOptionIndent, "on_error: drop", "the agent drops lines that do not parse"));
    return true;
  }

  const JsonValue& option_;
  std::string key_;
  std::string ferry_;
  AgentJsonContext& ctx_;
};

}  // namespace

void ConvertProcessingOptions(const JsonValue& options, const std::string& agent_flow,
                              const std::string& ferry_flow, AgentJsonContext& ctx, std::string& yaml) {
  const std::string key = fmt::format("{}.dataProcessingOptions", agent_flow);
  if (options.IsNull()) return;
  if (!options.IsArray()) {
    ctx.Fail(options, key,
             fmt::format("expected a list of processing options, found {}", JsonTypeName(options.type)));
    return;
  }
  std::string items;
  std::size_t count = 0;
  for (std::size_t i = 0; i < options.items.size(); ++i) {
    Plugin plugin;
    OptionConverter converter(options.items[i], fmt::format("{}[{}]", key, i),
                              fmt::format("{}.plugins[{}]", ferry_flow, count), ctx);
    if (!converter.Convert(plugin)) continue;
    ++count;
    if (plugin.lines.empty()) {
      items += YamlLine(kItemIndent, fmt::format("- {}: {{}}", plugin.name), plugin.comment);
    } else {
      items += YamlLine(kItemIndent, fmt::format("- {}:", plugin.name), plugin.comment);
      for (const auto& line : plugin.lines) items += line;
    }
  }
  if (count == 0) return;
  yaml += YamlLine(kItemIndent - 2, "plugins:", key);
  yaml += items;
}

}  // namespace ferry::config
