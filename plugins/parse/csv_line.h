// CsvLine: splits one line of delimiter-separated values into columns, RFC 4180 style (the Kinesis
// Agent's CSVTOJSON, with quoting, which the agent lacks: it splits on every delimiter).
//
// A field that starts with '"' is quoted: it may hold the delimiter, line breaks and "" (one quote), and
// must end with a '"' followed by the delimiter or the end of the line. A '"' inside an unquoted field is
// an ordinary character. Spaces are part of fields (" a" stays " a"). Columns beyond the names are
// ignored and names beyond the columns are null, as in the agent. Thread: any, one line at a time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "plugins/parse/field_value.h"

namespace ferry::plugins::parse {

class CsvLine {
 public:
  CsvLine(char delimiter, std::size_t columns) : delimiter_(delimiter), columns_(columns) {}

  // Fills out[0 .. columns); returns null, or why the line is not CSV (a static string). Quoted fields
  // with "" are unescaped into scratch (cleared first), so out points into line and scratch.
  const char* Split(std::string_view line, std::string& scratch, FieldValue* out) const;

 private:
  char delimiter_;
  std::size_t columns_;
};

}  // namespace ferry::plugins::parse
