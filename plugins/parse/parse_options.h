// ParseOptions: the options of the `parse` plugin and the table that declares them (validation with
// file:line:column, defaults, and the text of `ferry check --keys` and the man page). on_error is added by
// the plugin's kind (plugins/plugin_kind.h). match_pattern is compiled here, at config time, so a bad regex
// is reported where it is written, with RE2's own message.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <re2/re2.h>

#include "agent/config/schema.h"

namespace ferry::plugins {

enum class ParseFormat {
  kApacheCommon,    // the Kinesis Agent's COMMONAPACHELOG
  kApacheCombined,  // COMBINEDAPACHELOG
  kApacheError,     // APACHEERRORLOG
  kSyslogRfc3164,   // SYSLOG and RFC3339SYSLOG
  kSyslogRfc5424,   // RFC 5424 (not in the agent)
  kCsv,             // CSVTOJSON
  kRegex,           // named groups of match_pattern
};

const std::vector<std::pair<std::string, ParseFormat>>& ParseFormatWords();

struct ParseOptions {
  ParseFormat format = ParseFormat::kApacheCombined;  // required: no default in effect
  std::vector<std::string> custom_field_names;        // the agent's customFieldNames
  std::vector<std::string> field_names;               // csv's column names (custom_field_names' other name)
  std::string match_pattern;                          // the agent's matchPattern, as written
  std::shared_ptr<const RE2> match_regex;             // match_pattern compiled; null when not given
  char delimiter = ',';                               // csv only
};

const std::vector<config::Field<ParseOptions>>& ParseFields();

}  // namespace ferry::plugins
