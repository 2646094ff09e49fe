// PatternSet: a list of RE2 regexes compiled once, asking in one pass over a text whether any of them
// matches it (unanchored). One pattern is one RE2; several are one RE2::Set, with each pattern's own RE2
// kept to answer in the rare case the set's DFA runs out of its memory budget (RE2::Set has no fallback of
// its own and would say "no match"). Linear in the text whatever the patterns; Matches does not allocate.
//
// Patterns are UTF-8 and texts are matched as UTF-8: a byte that is not part of valid UTF-8 is never an
// error, it just matches nothing but \C (any byte), so binary records are searched like any other.
// Immutable after Compile; shared by copies; Matches may run on several threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace re2 {
class RE2;
}

namespace ferry::plugins {

class PatternSet {
 public:
  PatternSet() = default;  // matches nothing

  // An error names the pattern (its index when there are several) and what RE2 found wrong with it.
  static Result<PatternSet> Compile(const std::vector<std::string>& patterns);

  bool empty() const { return !compiled_; }
  const std::vector<std::string>& patterns() const { return patterns_; }
  // Whether any pattern matches somewhere in text.
  bool Matches(std::string_view text) const;

 private:
  struct Compiled;
  std::vector<std::string> patterns_;
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace ferry::plugins
