// JsonObjectCheck: whether a record is exactly one JSON object (whitespace around it allowed), where its
// closing brace is, whether it has members, and which of a few given keys it has at its top level. It
// reads the record with RapidJSON's SAX reader, iteratively (no recursion, so deep nesting cannot exhaust
// the stack) and without building a DOM, so the add plugin can append members before the closing brace
// without parsing the record into a tree and writing it again.
//
// What is checked is JSON's grammar (RFC 8259): strings with escapes, numbers, literals, nesting, nothing
// but whitespace after the object. The bytes inside strings are not checked for UTF-8, so a record whose
// strings carry other bytes still counts as an object and keeps them as they are.
// One per plugin; it keeps the reader's stack between records. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <rapidjson/reader.h>

namespace ferry::plugins {

struct JsonObjectShape {
  std::size_t close = 0;      // index of the object's closing '}'
  bool has_members = false;   // false for {}
  std::uint64_t present = 0;  // bit k: keys[k] is a top-level key of the object
};

class JsonObjectCheck {
 public:
  // keys: at most 64, looked for at the top level only (after unescaping, so "h\u006fst" is "host").
  explicit JsonObjectCheck(std::span<const std::string> keys) : keys_(keys) {}

  // True when record is one JSON object; fills shape. Otherwise false, and *why (if given) says why.
  bool Check(std::string_view record, JsonObjectShape& shape, std::string* why = nullptr);

 private:
  std::span<const std::string> keys_;
  rapidjson::Reader reader_;
};

}  // namespace ferry::plugins
