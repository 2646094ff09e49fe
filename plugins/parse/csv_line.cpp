// CsvLine: RFC 4180 fields of one line (see csv_line.h).
#include "plugins/parse/csv_line.h"

namespace ferry::plugins::parse {

const char* CsvLine::Split(std::string_view line, std::string& scratch, FieldValue* out) const {
  scratch.clear();
  // Unescaping only ever shortens a field, so scratch never reallocates and earlier views stay valid.
  scratch.reserve(line.size());
  std::size_t col = 0;
  std::size_t pos = 0;
  const std::size_t n = line.size();
  while (col < columns_) {
    if (pos < n && line[pos] == '"') {
      std::size_t start = ++pos;
      bool escaped = false;
      while (true) {
        std::size_t quote = line.find('"', pos);
        if (quote == std::string_view::npos) return "a quoted field has no closing quote";
        if (quote + 1 < n && line[quote + 1] == '"') {
          escaped = true;
          pos = quote + 2;
          continue;
        }
        pos = quote;
        break;
      }
      std::string_view raw = line.substr(start, pos - start);
      ++pos;  // the closing quote
      if (pos < n && line[pos] != delimiter_) return "text after the closing quote of a quoted field";
      if (!escaped) {
        out[col] = {raw};
      } else {
        std::size_t begin = scratch.size();
        for (std::size_t i = 0; i < raw.size(); ++i) {
          scratch.push_back(raw[i]);
          if (raw[i] == '"') ++i;  // "" is one quote
        }
        out[col] = {std::string_view(scratch).substr(begin)};
      }
    } else {
      std::size_t end = line.find(delimiter_, pos);
      if (end == std::string_view::npos) end = n;
      out[col] = {line.substr(pos, end - pos)};
      pos = end;
    }
    ++col;
    if (pos >= n) break;
    ++pos;                             // the delimiter
    if (pos == n && col < columns_) {  // a trailing delimiter ends with one more, empty, field
      out[col++] = {line.substr(n)};
      break;
    }
  }
  for (; col < columns_; ++col) out[col] = {{}, true};
  return nullptr;
}

}  // namespace ferry::plugins::parse
