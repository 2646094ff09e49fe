// EscapedText: JSON string bodies and logfmt values with invalid UTF-8 replaced.
#include "plugins/add/escaped_text.h"

namespace ferry::plugins {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

void AppendEscapedByte(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    default:
      break;
  }
  if (c < 0x20) {
    out += "\\u00";
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
    return;
  }
  out += static_cast<char>(c);
}

bool NeedsQuotes(std::string_view text) {
  if (text.empty()) return true;
  for (unsigned char c : text) {
    if (c <= 0x20 || c == '=' || c == '"' || c == '\\' || c == 0x7F) return true;
  }
  return false;
}

}  // namespace

std::size_t Utf8SequenceLength(std::string_view text, std::size_t at, std::size_t* skip) {
  const auto b = static_cast<unsigned char>(text[at]);
  if (b < 0x80) return 1;
  std::size_t need = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    need = 1;
  } else if (b == 0xE0) {
    need = 2, lo = 0xA0;  // no overlong forms
  } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
    need = 2;
  } else if (b == 0xED) {
    need = 2, hi = 0x9F;  // no surrogates
  } else if (b == 0xF0) {
    need = 3, lo = 0x90;
  } else if (b >= 0xF1 && b <= 0xF3) {
    need = 3;
  } else if (b == 0xF4) {
    need = 3, hi = 0x8F;  // nothing past U+10FFFF
  } else {
    *skip = 1;
    return 0;
  }
  for (std::size_t k = 1; k <= need; ++k) {
    if (at + k >= text.size()) {
      *skip = k;
      return 0;
    }
    const auto c = static_cast<unsigned char>(text[at + k]);
    if (c < lo || c > hi) {
      *skip = k;
      return 0;
    }
    lo = 0x80, hi = 0xBF;
  }
  return need + 1;
}

void AppendJsonStringBody(std::string& out, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      AppendEscapedByte(out, c);
      ++i;
      continue;
    }
    std::size_t skip = 0;
    const std::size_t n = Utf8SequenceLength(text, i, &skip);
    if (n == 0) {
      out += kReplacement;
      i += skip;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
}

void AppendLogfmtValue(std::string& out, std::string_view text) {
  if (!NeedsQuotes(text)) {
    // Still replace ill-formed UTF-8, which NeedsQuotes does not look at.
    AppendJsonStringBody(out, text);
    return;
  }
  out += '"';
  AppendJsonStringBody(out, text);
  out += '"';
}

}  // namespace ferry::plugins
