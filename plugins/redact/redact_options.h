// RedactOptions: the options of the `redact` plugin, and the table that parses, checks, prints and
// documents them (`ferry check`, `ferry check --keys`, man ferry.yaml). Every regex is compiled while
// parsing, so a bad one is reported at its file:line:column with RE2's own words.
#pragma once

#include <string>
#include <vector>

#include "agent/config/schema.h"
#include "plugins/fields/field_path.h"
#include "plugins/redact/replacement.h"

namespace ferry::plugins::redact {

// One item of `patterns:`: a library pattern, or a regex of the user's.
struct PatternEntry {
  std::string name;          // the library pattern's name, or the regex's (in hash tokens)
  std::string regex;         // empty for a library pattern
  int group = 0;             // for a regex: the capture group that is the secret; 0 is the whole match
  std::string group_text;    // the group as written (a number or a name), for `ferry check`
  bool has_replace = false;  // replace overrides the plugin's replace for this pattern
  ReplaceSpec replace;
};

enum class UrlEmails { kRedact, kKeep };

struct RedactOptions {
  std::vector<PatternEntry> patterns;
  ReplaceSpec replace;  // fixed "[REDACTED]"
  UrlEmails emails_in_urls = UrlEmails::kRedact;
  std::vector<FieldPath> fields;  // empty: the whole record, as text
};

const std::vector<config::Field<RedactOptions>>& RedactFields();

}  // namespace ferry::plugins::redact
