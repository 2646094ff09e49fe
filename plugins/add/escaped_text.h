// EscapedText: writes text the add plugin takes from outside (templates, file paths) into JSON strings and
// logfmt values, so that no byte of it can break the record it is added to. Invalid UTF-8 becomes U+FFFD
// (each maximal ill-formed subsequence one replacement, as Unicode recommends); control characters,
// quotes and backslashes are escaped as JSON escapes them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry::plugins {

// The length of the well-formed UTF-8 sequence at text[at] (1 to 4), or 0 when it is ill-formed; then
// *skip is the length of its maximal ill-formed prefix (at least 1).
std::size_t Utf8SequenceLength(std::string_view text, std::size_t at, std::size_t* skip);

// Appends text as the inside of a JSON string (without the quotes).
void AppendJsonStringBody(std::string& out, std::string_view text);

// Appends text as a logfmt value: bare when it is not empty and has no space, '=', '"', '\\' or control
// character; otherwise in double quotes with JSON's escapes. Invalid UTF-8 becomes U+FFFD either way.
void AppendLogfmtValue(std::string& out, std::string_view text);

}  // namespace ferry::plugins
