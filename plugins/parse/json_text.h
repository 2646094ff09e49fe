// JsonText: appends a byte string to a buffer as a JSON string literal that is valid JSON and valid UTF-8
// whatever the bytes are.
//
// '"', '\\' and the control characters U+0000..U+001F are escaped (\n, \r, \t, \b, \f by their short
// forms, the rest as \u00XX); valid UTF-8 sequences are copied as they are; every byte that does not begin
// a valid UTF-8 sequence (a stray continuation byte, a truncated or overlong sequence, a surrogate, a code
// point above U+10FFFF) becomes U+FFFD, one per byte. Runs of plain ASCII are copied in one append.
#pragma once

#include <string>
#include <string_view>

namespace ferry::plugins::parse {

// Appends "text" (quotes included) to out.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace ferry::plugins::parse
