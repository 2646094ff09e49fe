// Prefilter: one table-driven scan of a record's bytes that says which kinds of byte it contains ('@',
// ':', a digit, ...), so patterns that need a byte the record lacks are not searched for at all. Most
// log lines hold no '@', no '+', no "eyJ"; a record that can match no pattern never reaches RE2.
// A pattern's Needs are bytes it cannot match without: all of them must be present. Pure; any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace ferry::plugins::redact {

using Needs = std::uint32_t;

inline constexpr Needs kNeedsNothing = 0;
inline constexpr Needs kNeedsAt = 1u << 0;        // '@'
inline constexpr Needs kNeedsColon = 1u << 1;     // ':'
inline constexpr Needs kNeedsAssign = 1u << 2;    // ':' or '='
inline constexpr Needs kNeedsDot = 1u << 3;       // '.'
inline constexpr Needs kNeedsPlus = 1u << 4;      // '+'
inline constexpr Needs kNeedsDash = 1u << 5;      // '-'
inline constexpr Needs kNeedsDigit = 1u << 6;     // 0-9
inline constexpr Needs kNeedsUpper = 1u << 7;     // A-Z
inline constexpr Needs kNeedsUpperA = 1u << 8;    // 'A'
inline constexpr Needs kNeedsLetterB = 1u << 9;   // 'b' or 'B'
inline constexpr Needs kNeedsUpperJ = 1u << 10;   // 'J' (of "eyJ")
inline constexpr Needs kNeedsSlash = 1u << 11;    // '/'
inline constexpr Needs kNeedsDigits4 = 1u << 12;  // four digits in a row
inline constexpr Needs kNeedsLetterE = 1u << 13;  // 'e' or 'E' (every keyword of aws_secret_access_key)

// What text contains, as Needs bits.
Needs Present(std::string_view text);

}  // namespace ferry::plugins::redact
