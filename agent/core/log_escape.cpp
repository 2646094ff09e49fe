// LogEscape: one pass over the bytes, decoding UTF-8 by hand (no locale, no allocation when nothing
// needs escaping).
#include "agent/core/log_escape.h"

#include <cstdint>

#include <fmt/format.h>

namespace ferry {
namespace {

bool ShownAsEscape(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::size_t DecodeUtf8(std::string_view text, std::size_t i, std::uint32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[i + k]); };
  const std::uint8_t lead = byte(0);
  std::size_t length = 0;
  std::uint32_t min = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, cp = lead & 0x1fu, min = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, cp = lead & 0x0fu, min = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, cp = lead & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(k) & 0xc0u) != 0x80u) return 0;
    cp = (cp << 6) | (byte(k) & 0x3fu);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return length;
}

bool NeedsLogEscape(std::string_view text, Backslashes backslashes) {
  const bool escape_backslash = backslashes == Backslashes::kEscape;
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7f || (c == '\\' && escape_backslash)) return true;
  }
  return false;
}

std::string EscapeLogText(std::string_view text, Backslashes backslashes) {
  if (!NeedsLogEscape(text, backslashes)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b >= 0x20 && b < 0x7f) {
      if (b == '\\' && backslashes == Backslashes::kEscape) out += '\\';
      out += static_cast<char>(b);
      ++i;
      continue;
    }
    switch (b) {
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      default:
        break;
    }
    std::uint32_t cp = 0;
    const std::size_t length = b >= 0x80 ? DecodeUtf8(text, i, cp) : 0;
    if (length == 0) {
      out += fmt::format("\\x{:02x}", b);
      ++i;
    } else if (ShownAsEscape(cp)) {
      out += fmt::format("\\u{:04x}", cp);
      i += length;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace ferry
