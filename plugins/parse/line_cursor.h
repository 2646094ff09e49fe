// LineCursor: a position in one log line and the small steps the fixed-format scanners take through it
// (a token up to a space, a [bracketed] part, a "quoted" part with backslash escapes, digits). Each step
// returns false and leaves the position unspecified when the line does not have what it expects; the
// scanner then fails the line. Views point into the line. No allocation.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace ferry::plugins::parse {

class LineCursor {
 public:
  explicit LineCursor(std::string_view line) : s_(line) {}

  bool at_end() const { return pos_ >= s_.size(); }
  std::size_t pos() const { return pos_; }
  void set_pos(std::size_t pos) { pos_ = pos; }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  std::string_view rest() const { return s_.substr(pos_); }

  // Consumes c if it is next.
  bool Skip(char c) {
    if (at_end() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool Skip(std::string_view text) {
    if (s_.substr(pos_, text.size()) != text) return false;
    pos_ += text.size();
    return true;
  }
  // Consumes one or more spaces.
  bool SkipSpaces() {
    std::size_t start = pos_;
    while (!at_end() && s_[pos_] == ' ') ++pos_;
    return pos_ > start;
  }
  // One or more bytes up to the next space or the end.
  bool Token(std::string_view& out) {
    std::size_t start = pos_;
    pos_ = std::min(s_.find(' ', pos_), s_.size());
    out = s_.substr(start, pos_ - start);
    return pos_ > start;
  }
  // "[text]": the text up to the first ']'.
  bool Bracketed(std::string_view& out) {
    if (!Skip('[')) return false;
    std::size_t close = s_.find(']', pos_);
    if (close == std::string_view::npos) return false;
    out = s_.substr(pos_, close - pos_);
    pos_ = close + 1;
    return true;
  }
  // "\"text\"": the text as written, up to the first '"' that no backslash escapes (Apache writes a quote
  // inside a quoted field as \" and a backslash as \\).
  bool Quoted(std::string_view& out) {
    if (!Skip('"')) return false;
    const std::size_t start = pos_;
    for (std::size_t quote = s_.find('"', pos_); quote != std::string_view::npos;
         quote = s_.find('"', quote + 1)) {
      // The quote is escaped when an odd run of backslashes stands right before it (\\ is one backslash).
      std::size_t backslashes = 0;
      while (quote - backslashes > start && s_[quote - backslashes - 1] == '\\') ++backslashes;
      if (backslashes % 2 == 0) {
        out = s_.substr(start, quote - start);
        pos_ = quote + 1;
        return true;
      }
    }
    return false;
  }
  // Between min and max decimal digits.
  bool Digits(std::string_view& out, std::size_t min = 1, std::size_t max = 20) {
    std::size_t start = pos_;
    while (!at_end() && s_[pos_] >= '0' && s_[pos_] <= '9' && pos_ - start < max) ++pos_;
    out = s_.substr(start, pos_ - start);
    return out.size() >= min;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

inline bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace ferry::plugins::parse
