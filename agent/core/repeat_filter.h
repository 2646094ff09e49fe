// RepeatFilter: keeps a log from saying the same thing over and over. During an outage every request fails
// the same way, and a line per failure (hundreds a minute) buries everything else. The first line of a
// kind is written; further lines of that kind within `window` are only counted; the first one after the
// window is written with the count of those held back ("(and 57 more like it in the last 60 s)") and
// starts a new window. What makes lines "of a kind" is the key the caller gives (an error code and its
// message, say); runs of digits in the key are treated as one, so timings, attempt numbers and byte counts
// in a message ("after 1002 ms") do not make every line new.
//
// Memory is bounded: at most max_kinds keys are remembered; beyond that, kinds whose window is over and
// that held nothing back are forgotten first, and a new kind that still finds no room is written (never
// lost) without being remembered. Time comes from the caller (loop milliseconds), so tests drive it.
// Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ferry {

class RepeatFilter {
 public:
  static constexpr std::uint64_t kDefaultWindowMs = 60'000;
  static constexpr std::size_t kDefaultMaxKinds = 64;

  explicit RepeatFilter(std::uint64_t window_ms = kDefaultWindowMs, std::size_t max_kinds = kDefaultMaxKinds)
      : window_ms_(window_ms), max_kinds_(max_kinds) {}

  // Whether a line of this kind is written now: nullopt to hold it back (it is counted); otherwise a note
  // to end the line with: empty, or " (and N more like it in the last S s)" for the lines held back since
  // the last one written.
  std::optional<std::string> Admit(std::string_view key, std::uint64_t now_ms);

  // Lines held back so far, of every kind (for tests and counters).
  std::uint64_t held_back() const { return held_back_total_; }

 private:
  struct Kind {
    std::uint64_t written_at = 0;  // when the last line of this kind was written
    std::uint64_t held = 0;        // lines held back since
  };
  static std::string Normalized(std::string_view key);
  void MakeRoom(std::uint64_t now_ms);

  std::uint64_t window_ms_;
  std::size_t max_kinds_;
  std::map<std::string, Kind, std::less<>> kinds_;
  std::uint64_t held_back_total_ = 0;
};

}  // namespace ferry
