// FieldValue: one field a parser found in a line, as a view into the line (or into the parser's scratch
// buffer), or null where the line says the field is absent (apache's "-", an optional part left out).
// The views live as long as the line and the parser's scratch buffer; the plugin writes them out at once.
#pragma once

#include <string_view>

namespace ferry::plugins::parse {

struct FieldValue {
  std::string_view text;
  bool null = false;
};

// Apache's and RFC 5424's way of saying "no value": exactly "-".
inline FieldValue DashIsNull(std::string_view text) {
  return {text, text == "-"};
}

}  // namespace ferry::plugins::parse
