// Matcher: prefilter, one RE2::Set pass, then the regexes of the patterns that hit; checks veto; spans
// merged.
#include "plugins/redact/matcher.h"

#include <algorithm>

namespace ferry::plugins::redact {

namespace {

bool IsUrlEnd(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '\'' || c == '<' || c == '>';
}

bool IsSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '.' ||
         c == '-';
}

// Whether text[begin] starts the password of scheme://user:password@host: the colon before it ends a user
// that "://" begins (url_password's own left context).
bool StartsUrlPassword(std::string_view text, std::size_t begin) {
  if (begin == 0 || text[begin - 1] != ':') return false;
  std::size_t user = begin - 1;
  while (user > 0) {
    char c = text[user - 1];
    if (IsUrlEnd(c) || c == '/' || c == ':' || c == '?' || c == '#' || c == '@') break;
    --user;
  }
  return user >= 3 && text.substr(user - 3, 3) == "://";
}

}  // namespace

RE2::Options RedactRegexOptions() {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingLatin1);
  options.set_log_errors(false);
  // Each regex's DFA cache is bounded by this (RE2 starts it again when full, and falls back to its NFA,
  // still linear, when that happens too often): a hostile record cannot make a plugin hold more than about
  // 13 of these. One pattern's DFA needs far less.
  options.set_max_mem(2 << 20);
  return options;
}

namespace {

// The set holds every pattern in one program: its DFA gets more room.
RE2::Options SetOptions() {
  RE2::Options options = RedactRegexOptions();
  options.set_max_mem(16 << 20);
  return options;
}

}  // namespace

Result<std::unique_ptr<Matcher>> Matcher::Make(std::vector<MatcherPattern> patterns) {
  RE2::Set set(SetOptions(), RE2::UNANCHORED);
  for (const auto& p : patterns) {
    std::string error;
    if (set.Add(p.regex, &error) < 0) {
      return Error(ErrorCode::kInvalidArgument, "redact pattern " + p.name + ": " + error);
    }
  }
  if (!set.Compile()) {
    return Error(ErrorCode::kInvalidArgument,
                 "redact: the patterns together are too large for RE2 to compile");
  }
  std::unique_ptr<Matcher> m(new Matcher(std::move(patterns), std::move(set)));
  int most_groups = 0;
  for (const auto& p : m->patterns_) {
    auto re = std::make_unique<RE2>(p.regex, RedactRegexOptions());
    if (!re->ok()) return Error(ErrorCode::kInvalidArgument, "redact pattern " + p.name + ": " + re->error());
    if (p.group > re->NumberOfCapturingGroups()) {
      return Error(ErrorCode::kInvalidArgument,
                   "redact pattern " + p.name + ": no capture group " + std::to_string(p.group));
    }
    most_groups = std::max(most_groups, re->NumberOfCapturingGroups());
    m->regexes_.push_back(std::move(re));
  }
  m->groups_.resize(static_cast<std::size_t>(most_groups) + 1);
  return m;
}

Matcher::Matcher(std::vector<MatcherPattern> patterns, RE2::Set set)
    : patterns_(std::move(patterns)), set_(std::move(set)) {}

bool Matcher::SetHits(std::string_view text, Needs present) {
  hits_.clear();
  bool any = false;
  for (const auto& p : patterns_) any = any || (p.needs & present) == p.needs;
  if (!any) return false;
  RE2::Set::ErrorInfo error{RE2::Set::kNoError};
  if (!set_.Match(re2::StringPiece(text.data(), text.size()), &hits_, &error)) {
    if (error.kind == RE2::Set::kNoError) return false;
    // The set's DFA ran out of memory on this record: search with every pattern rather than miss a secret.
    ++set_fallbacks_;
    hits_.clear();
    for (std::size_t i = 0; i < patterns_.size(); ++i) hits_.push_back(static_cast<int>(i));
  }
  // A pattern the set reports matches; one whose bytes are missing cannot (the fallback lists them all).
  std::erase_if(hits_, [&](int hit) {
    Needs needs = patterns_[static_cast<std::size_t>(hit)].needs;
    return (needs & present) != needs;
  });
  return !hits_.empty();
}

bool Matcher::MayMatch(std::string_view text) {
  return SetHits(text, Present(text));
}

void Matcher::Find(std::string_view text, std::vector<Span>& spans) {
  spans.clear();
  urls_found_ = false;
  if (!SetHits(text, Present(text))) return;
  for (int hit : hits_) FindPattern(static_cast<std::size_t>(hit), text, spans);
  if (spans.size() < 2) return;

  // Earliest first, the longest of those that start together first; an overlap extends the span it meets,
  // so every byte any pattern matched is covered.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  std::size_t kept = 0;
  for (std::size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].begin < spans[kept].end) {
      spans[kept].end = std::max(spans[kept].end, spans[i].end);
    } else {
      spans[++kept] = spans[i];
    }
  }
  spans.resize(kept + 1);
}

void Matcher::FindPattern(std::size_t index, std::string_view text, std::vector<Span>& spans) {
  const MatcherPattern& p = patterns_[index];
  const RE2& re = *regexes_[index];
  re2::StringPiece whole(text.data(), text.size());
  const int n = p.group == kFirstGroupTaken ? 1 + re.NumberOfCapturingGroups() : p.group + 1;
  std::size_t pos = 0;
  while (pos <= text.size() && re.Match(whole, pos, text.size(), RE2::UNANCHORED, groups_.data(), n)) {
    const re2::StringPiece& match = groups_[0];
    const auto match_end = static_cast<std::size_t>(match.data() + match.size() - text.data());
    re2::StringPiece value;
    if (p.group == kFirstGroupTaken) {
      for (int g = 1; g < n && value.data() == nullptr; ++g) value = groups_[static_cast<std::size_t>(g)];
    } else {
      value = groups_[static_cast<std::size_t>(p.group)];
    }
    if (value.data() == nullptr || value.empty()) {
      pos = std::max(match_end, pos + 1);  // nothing to replace; an empty match must still move on
      continue;
    }
    const auto begin = static_cast<std::size_t>(value.data() - text.data());
    std::size_t length = value.size();
    bool valid = PassesCheck(p.check, std::string_view(value.data(), value.size()), length);
    if (valid && p.keep_in_urls && InsideUrl(text, begin, begin + length)) valid = false;
    // "pw@db.example" in postgres://app:pw@db.example is a password and a host, not an address: taking it
    // as one would take the host with the password.
    if (valid && p.not_url_password && StartsUrlPassword(text, begin)) valid = false;
    if (valid) spans.push_back({begin, begin + length, index});
    // A library pattern's right-hand context may be the next secret's left-hand context.
    std::size_t next = p.library ? begin + (valid ? length : value.size()) : match_end;
    pos = std::max(next, pos + 1);
  }
}

bool Matcher::InsideUrl(std::string_view text, std::size_t begin, std::size_t end) {
  if (!urls_found_) {
    urls_found_ = true;
    urls_.clear();
    std::size_t from = 0;
    for (std::size_t at; (at = text.find("://", from)) != std::string_view::npos;) {
      std::size_t start = at;
      while (start > 0 && IsSchemeChar(text[start - 1])) --start;
      std::size_t stop = at + 3;
      while (stop < text.size() && !IsUrlEnd(text[stop])) ++stop;
      if (start < at) urls_.emplace_back(start, stop);  // "://" with no scheme before it is not a URL
      from = stop;
    }
  }
  for (const auto& [b, e] : urls_) {
    if (begin >= b && end <= e) return true;
  }
  return false;
}

}  // namespace ferry::plugins::redact
