// Fuzz target: ParseHttpDate (agent/core/corrected_clock), which reads the Date header of an endpoint's
// answer to correct the signing clock. Any input must be refused or parse to a time that formats back to
// exactly the input (IMF-fixdate has one spelling per second), so nothing else can move the clock.
// libFuzzer calls it on one thread.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string_view>

#include "agent/core/corrected_clock.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ferry::ParseHttpDate(text);
  if (!parsed) return 0;
  // Leap seconds (":60") have no time_t of their own; they read as the next second's start.
  if (text.substr(23, 2) == "60") return 0;
  std::time_t t = static_cast<std::time_t>(*parsed);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) __builtin_trap();
  char buf[64];
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int n = std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                        kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  // The weekday is not checked by the parser (AWS never gets it wrong; a wrong one changes nothing).
  if (n != 29 || std::string_view(buf + 3, 26) != text.substr(3)) __builtin_trap();
  return 0;
}
