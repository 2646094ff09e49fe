// ParsePlugin: lines to JSON objects (see parse_plugin.h).
#include "plugins/parse/parse_plugin.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/parse/apache_log.h"
#include "plugins/parse/csv_line.h"
#include "plugins/parse/field_value.h"
#include "plugins/parse/json_text.h"
#include "plugins/parse/regex_line.h"
#include "plugins/parse/syslog_line.h"

namespace ferry::plugins {
namespace {

using parse::FieldValue;

template <std::size_t N>
std::vector<std::string> Names(const std::array<std::string_view, N>& names) {
  return {names.begin(), names.end()};
}

// The format's own field names (none for csv and regex).
std::vector<std::string> FormatNames(ParseFormat format) {
  switch (format) {
    case ParseFormat::kApacheCommon:
      return Names(parse::kApacheCommonFields);
    case ParseFormat::kApacheCombined:
      return Names(parse::kApacheCombinedFields);
    case ParseFormat::kApacheError:
      return Names(parse::kApacheErrorFields);
    case ParseFormat::kSyslogRfc3164:
      return Names(parse::kSyslog3164Fields);
    case ParseFormat::kSyslogRfc5424:
      return Names(parse::kSyslog5424Fields);
    case ParseFormat::kCsv:
    case ParseFormat::kRegex:
      break;
  }
  return {};
}

// Formats whose "-" means "no value" (apache's and RFC 5424's NILVALUE), also when match_pattern is used.
bool DashMeansNull(ParseFormat format) {
  return format == ParseFormat::kApacheCommon || format == ParseFormat::kApacheCombined ||
         format == ParseFormat::kApacheError || format == ParseFormat::kSyslogRfc5424;
}

class ParsePlugin final : public Plugin {
 public:
  ParsePlugin(ParseFormat format, const std::vector<std::string>& names,
              std::optional<parse::RegexLine> regex, char delimiter)
      : format_(format),
        regex_(std::move(regex)),
        csv_(delimiter, names.size()),
        values_(names.size()),
        failure_prefix_("not " + config::WordFor(ParseFormatWords(), format) + ": ") {
    for (std::size_t i = 0; i < names.size(); ++i) {
      std::string prefix(i == 0 ? "{" : ",");
      parse::AppendJsonString(prefix, names[i]);
      prefix.push_back(':');
      key_prefixes_.push_back(std::move(prefix));
    }
  }

  void Process(PluginBatch& work) override {
    std::span<const Record> records = work.records();
    for (std::size_t i = 0; i < records.size(); ++i) {
      std::string_view line = records[i].data;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const char* why = line.empty() ? "empty line" : Scan(line);
      if (why != nullptr) {
        work.Fail(i, failure_prefix_ + why);
        continue;
      }
      out_.clear();
      for (std::size_t k = 0; k < values_.size(); ++k) {
        out_.append(key_prefixes_[k]);
        if (values_[k].null) {
          out_.append("null");
        } else {
          parse::AppendJsonString(out_, values_[k].text);
        }
      }
      out_.push_back('}');
      work.Replace(i, out_);
    }
    work.Done();
  }

 private:
  const char* Scan(std::string_view line) {
    FieldValue* out = values_.data();
    if (regex_) return regex_->Match(line, out);
    switch (format_) {
      case ParseFormat::kApacheCommon:
        return parse::ScanApacheAccess(line, false, out);
      case ParseFormat::kApacheCombined:
        return parse::ScanApacheAccess(line, true, out);
      case ParseFormat::kApacheError:
        return parse::ScanApacheError(line, out);
      case ParseFormat::kSyslogRfc3164:
        return parse::ScanSyslog3164(line, out);
      case ParseFormat::kSyslogRfc5424:
        return parse::ScanSyslog5424(line, out);
      case ParseFormat::kCsv:
        return csv_.Split(line, scratch_, out);
      case ParseFormat::kRegex:
        break;
    }
    return "no scanner";  // kRegex always has regex_
  }

  ParseFormat format_;
  std::optional<parse::RegexLine> regex_;
  parse::CsvLine csv_;
  std::vector<std::string> key_prefixes_;  // `{"name":` for the first field, `,"name":` for the others
  std::vector<FieldValue> values_;         // this line's fields, reused
  std::string scratch_;                    // csv's unescaped fields, reused
  std::string out_;                        // this line's JSON, reused
  std::string failure_prefix_;
};

Error Invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, "parse: " + std::move(message));
}

}  // namespace

std::vector<std::string> ParseFieldNames(const ParseOptions& options) {
  if (!options.custom_field_names.empty()) return options.custom_field_names;
  if (!options.field_names.empty()) return options.field_names;
  if (options.format != ParseFormat::kRegex) return FormatNames(options.format);
  std::vector<std::string> names;
  if (options.match_regex) {
    for (const auto& entry : options.match_regex->CapturingGroupNames()) names.push_back(entry.second);
  }
  return names;
}

Result<std::unique_ptr<Plugin>> MakeParsePlugin(const ParseOptions& options, const PluginEnv& /*env*/) {
  const ParseFormat format = options.format;
  const std::string format_word = config::WordFor(ParseFormatWords(), format);
  const bool csv = format == ParseFormat::kCsv;
  if (!csv && !options.field_names.empty())
    return Invalid("field_names is for format csv; format " + format_word + " takes custom_field_names");
  if (!csv && options.delimiter != ',') return Invalid("delimiter is for format csv only");
  if (csv && options.match_regex) return Invalid("format csv takes no match_pattern (use format regex)");
  if (!options.field_names.empty() && !options.custom_field_names.empty())
    return Invalid("give field_names or custom_field_names, not both");

  std::vector<std::string> names = ParseFieldNames(options);
  std::vector<int> groups;
  if (format == ParseFormat::kRegex) {
    if (!options.match_regex)
      return Invalid("format regex needs match_pattern, with named groups (?P<name>...)");
    if (options.custom_field_names.empty()) {
      // The named groups in order (ParseFieldNames gave their names); unnamed groups only group.
      for (const auto& entry : options.match_regex->CapturingGroupNames()) groups.push_back(entry.first);
      if (names.empty())
        return Invalid(
            "match_pattern of format regex has no named group (?P<name>...) to name a field (or "
            "give custom_field_names, one per group)");
    }
  }
  if (csv && names.empty())
    return Invalid("format csv needs field_names (or custom_field_names): the names of its columns");

  std::optional<parse::RegexLine> regex;
  if (options.match_regex) {
    if (groups.empty()) {
      int count = options.match_regex->NumberOfCapturingGroups();
      if (static_cast<std::size_t>(count) != names.size()) {
        return Invalid("match_pattern has " + std::to_string(count) + " capturing groups but there are " +
                       std::to_string(names.size()) + " field names (" +
                       (options.custom_field_names.empty() ? "format " + format_word + "'s"
                                                           : std::string("custom_field_names")) +
                       "): one group per field");
      }
      for (int g = 1; g <= count; ++g) groups.push_back(g);
    }
    regex.emplace(options.match_regex, std::move(groups), DashMeansNull(format));
  } else if (!options.custom_field_names.empty() && !csv) {
    std::size_t expected = FormatNames(format).size();
    if (names.size() != expected) {
      return Invalid("format " + format_word + " has " + std::to_string(expected) + " fields but " +
                     "custom_field_names names " + std::to_string(names.size()) +
                     " (give one name per field, or a match_pattern with as many groups)");
    }
  }
  return std::unique_ptr<Plugin>(
      std::make_unique<ParsePlugin>(format, names, std::move(regex), options.delimiter));
}

}  // namespace ferry::plugins
