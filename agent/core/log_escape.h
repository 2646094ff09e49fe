// LogEscape: text made safe for one line of ferry's log. Every value ferry logs may come from outside (file
// names, endpoint answers, error texts of libraries), and a log is read line by line by people and by
// programs, so no value may start a line of its own or hide what it is. The log sink escapes every message
// with this (ops/log_sink.h); `ferry check` escapes what it prints the same way.
#pragma once

#include <cstddef>
#include <cstdint>

#include <string>
#include <string_view>

namespace ferry {

// Whether a backslash is escaped too. In the log it is, so that "\n" in a value cannot pass for an escaped
// line break; in text printed for a person (`ferry check`'s errors, which quote regexes), it is kept.
enum class Backslashes { kEscape, kKeep };

// The length of the valid UTF-8 sequence at text[i] (2..4) and its code point, or 0 when the bytes there
// are not one (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). Also the JSON log's.
std::size_t DecodeUtf8(std::string_view text, std::size_t i, std::uint32_t& cp);

// Whether EscapeLogText would change text; false for plain printable ASCII (without a backslash, unless
// kept), which is what nearly every message is, so those are written without a copy.
bool NeedsLogEscape(std::string_view text, Backslashes backslashes = Backslashes::kEscape);

// text with:
// - \n \r \t and the backslash (unless kept) as \n \r \t \\, other C0 controls and DEL as \xNN, so that a
//   line break, a terminal escape sequence or a forged "\n" cannot pass for the real thing;
// - bytes that are not valid UTF-8 (stray continuation bytes, overlong forms, surrogates, cut sequences) as
//   \xNN, one per byte;
// - valid UTF-8 kept as it is, except the characters that break or reorder lines when shown: the C1
//   controls U+0080..U+009F (NEL among them), U+2028 and U+2029, and the bidirectional controls U+200E,
//   U+200F, U+202A..U+202E and U+2066..U+2069, written as \uXXXX.
std::string EscapeLogText(std::string_view text, Backslashes backslashes = Backslashes::kEscape);

}  // namespace ferry
