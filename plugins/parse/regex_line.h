// RegexLine: the fields of a line by an RE2 regex that must match the whole line, one field per capturing
// group (match_pattern, and the regex format). A group that took no part in the match is null.
//
// RE2 runs in time linear in the line, whatever the pattern, so no line can stall the loop. Not
// thread-safe (it reuses its group buffer); one per plugin, loop thread only.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include <re2/re2.h>

#include "plugins/parse/field_value.h"

namespace ferry::plugins::parse {

class RegexLine {
 public:
  // groups: the capturing groups to report, in field order (1-based group numbers).
  RegexLine(std::shared_ptr<const RE2> regex, std::vector<int> groups, bool dash_is_null);

  // Fills out[0 .. groups.size()); returns null, or why not (a static string).
  const char* Match(std::string_view line, FieldValue* out);

 private:
  std::shared_ptr<const RE2> regex_;
  std::vector<int> groups_;
  bool dash_is_null_;
  std::vector<re2::StringPiece> submatch_;  // group 0 .. the highest group reported
};

}  // namespace ferry::plugins::parse
