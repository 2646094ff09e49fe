// ParseHttpDate: IMF-fixdate, strictly, without the C library's locale-dependent parsers.
#include "agent/core/corrected_clock.h"

#include <array>

#include "agent/core/utc_time.h"

namespace ferry {

std::optional<std::int64_t> ParseHttpDate(std::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed positions.
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  unsigned month = 0;
  while (month < kMonths.size() && kMonths[month] != text.substr(8, 3)) ++month;
  auto day = ParseDigits(text.substr(5, 2));
  auto year = ParseDigits(text.substr(12, 4));
  auto hour = ParseDigits(text.substr(17, 2));
  auto minute = ParseDigits(text.substr(20, 2));
  auto second = ParseDigits(text.substr(23, 2));
  if (month == kMonths.size() || !day || !year || !hour || !minute || !second) return std::nullopt;
  return UnixSecondsFromUtc(*year, static_cast<int>(month) + 1, *day, *hour, *minute, *second);
}

}  // namespace ferry
