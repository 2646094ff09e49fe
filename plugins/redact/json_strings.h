// JsonStrings: the string values that field paths select in a JSON record, each with where its content
// sits in the record's own bytes, so `redact` with `fields:` can replace secrets inside them and leave
// every other byte of the record as it was (key order, spacing, number spelling, escapes elsewhere).
//
// The record is parsed in situ (a copy, in a buffer reused from record to record): RapidJSON then decodes
// each string where its raw content starts, which gives the raw position without a parser of our own. A
// path that selects an object or an array selects every string inside it (values, not keys); numbers,
// booleans and null are never selected. Parsing is iterative, so deep nesting cannot exhaust the stack.
// Not thread-safe (reused buffers); the plugin's loop thread only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "plugins/fields/field_path.h"

namespace ferry::plugins::redact {

struct JsonString {
  std::size_t begin = 0;   // the raw content in the record: after the opening quote
  std::size_t end = 0;     // at the closing quote
  std::string_view value;  // the decoded string (valid until the next Find)
  bool escaped = false;    // the raw content has escapes, so it differs from value
};

class JsonStrings {
 public:
  // The strings paths select in record, sorted by position, each once. An error when record is not one
  // JSON value (its message says why and at which byte).
  Status Find(std::string_view record, const std::vector<FieldPath>& paths, std::vector<JsonString>& out);

 private:
  std::string buffer_;      // the in-situ copy
  std::vector<char> pool_;  // the DOM's first allocation chunk
  std::vector<const void*> stack_;
};

// Appends text to out as the content of a JSON string: ", \ and control characters escaped (\n, \r, \t,
// \u00XX), other bytes as they are.
void AppendJsonEscaped(std::string& out, std::string_view text);

}  // namespace ferry::plugins::redact
