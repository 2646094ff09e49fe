// Base64Decode: standard base64 (RFC 4648 section 4, the alphabet with + and /) back to bytes, for the
// records a transformation function returns. Strict: any byte outside the alphabet (whitespace and line
// breaks included), padding anywhere but at the end, or a length no encoding has makes the text invalid.
// Padding may be left out (Java's and Node's decoders accept that too). The encoder is
// agent/aws/json_body.h's AppendBase64.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::plugins {

// The number of bytes text decodes to, or nothing when it is not valid base64.
std::optional<std::size_t> Base64DecodedSize(std::string_view text);

// Appends the bytes of text to out; false (out unchanged) when text is not valid base64.
bool AppendBase64Decoded(std::string& out, std::string_view text);

}  // namespace ferry::plugins
