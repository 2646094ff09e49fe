// Matcher: finds every secret of one record for all of a plugin's patterns in one pass.
//
// An RE2::Set of every pattern reads the record once and says which patterns match somewhere; only those
// patterns' own regexes then run, to find where (a record with no secret costs the one pass and nothing
// else). Matches a check vetoes (Luhn, mod-97, ...) are passed over. Overlapping secrets of different
// patterns are merged into one span (the earliest-starting, longest one names it) so that no byte of
// either survives. All regexes run in RE2's Latin-1 mode: bytes in, so binary records and invalid UTF-8
// are searched like text, and RE2 keeps every search linear in the record's length.
//
// Not thread-safe (scratch space is reused from record to record); the plugin's loop thread only.
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/result.h"
#include "plugins/redact/pattern_library.h"
#include "plugins/redact/prefilter.h"

namespace ferry::plugins::redact {

// The capture group of a match that is the secret.
inline constexpr int kFirstGroupTaken = -1;  // the first group that took part (library patterns)
inline constexpr int kWholeMatch = 0;

struct MatcherPattern {
  std::string name;
  std::string regex;
  int group = kWholeMatch;  // kFirstGroupTaken, kWholeMatch or a group's number
  Check check = Check::kNone;
  bool library = false;       // its regex has context bytes around the secret (see pattern_library.h)
  bool keep_in_urls = false;  // a match inside a URL (scheme://...) is left alone
  bool not_url_password =
      false;                    // a match that starts at the password of scheme://user:password@ is not this
  Needs needs = kNeedsNothing;  // what a record must contain for it to match (prefilter.h)
};

// One secret: bytes [begin, end) of the record, found by pattern.
struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t pattern = 0;
};

// RE2's options for every regex of the plugin (Latin-1, as pattern_library.h says), so that a user's
// regex is checked when parsed exactly as it will run.
RE2::Options RedactRegexOptions();

class Matcher {
 public:
  // Compiles the patterns; an error names the pattern and says RE2's complaint.
  static Result<std::unique_ptr<Matcher>> Make(std::vector<MatcherPattern> patterns);

  // The secrets of text, sorted by position, none overlapping, into spans (cleared first).
  void Find(std::string_view text, std::vector<Span>& spans);

  // Whether any pattern may match somewhere in text (the prefilter and the set only): false means Find
  // would find nothing.
  bool MayMatch(std::string_view text);

  std::size_t size() const { return patterns_.size(); }
  const MatcherPattern& pattern(std::size_t i) const { return patterns_[i]; }
  // Records for which the set could not run (its memory budget spent) and every pattern ran instead.
  std::uint64_t set_fallbacks() const { return set_fallbacks_; }

 private:
  Matcher(std::vector<MatcherPattern> patterns, RE2::Set set);
  // The set's hits (into hits_) for text with present bytes; false when none.
  bool SetHits(std::string_view text, Needs present);
  void FindPattern(std::size_t index, std::string_view text, std::vector<Span>& spans);
  bool InsideUrl(std::string_view text, std::size_t begin, std::size_t end);

  std::vector<MatcherPattern> patterns_;
  std::vector<std::unique_ptr<RE2>> regexes_;
  RE2::Set set_;
  std::vector<int> hits_;
  std::vector<re2::StringPiece> groups_;
  // [begin, end) of each URL in the current record, found when a keep_in_urls pattern first needs them.
  std::vector<std::pair<std::size_t, std::size_t>> urls_;
  bool urls_found_ = false;
  std::uint64_t set_fallbacks_ = 0;
};

}  // namespace ferry::plugins::redact
