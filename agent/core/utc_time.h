// UTC time from its parts, for the parsers of the timestamps peers send (HTTP Date, ISO 8601 expirations),
// without the C library's locale- and timezone-dependent functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry {

// The value of a run of ASCII digits (no sign, no blank); nullopt for anything else or an empty run.
std::optional<int> ParseDigits(std::string_view digits);

// Seconds since the Unix epoch of a proleptic Gregorian UTC date and time; nullopt when a field is out of
// range (month 1..12, the month's days, hour 0..23, minute 0..59, second 0..60, a leap second being read
// as the first second of the next minute).
std::optional<std::int64_t> UnixSecondsFromUtc(int year, int month, int day, int hour, int minute,
                                               int second);

// "YYYY-MM-DDTHH:MM:SSZ" for years 0 to 9999 (what AWS writes in expirations).
std::string FormatIso8601Utc(std::int64_t unix_seconds);

}  // namespace ferry
