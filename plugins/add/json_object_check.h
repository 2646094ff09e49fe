// JsonObjectCheck: whether a record is exactly one JSON object (whitespace around it allowed), where its
// closing brace is, whether it has members, and which of a few given keys it has at its top level, so the
// add plugin can append members before the closing brace without parsing the record into a tree of its
// own and writing it again.
//
// It validates with simdjson's DOM parser, which checks all of RFC 8259 (strings, escapes, numbers,
// literals, nothing but whitespace after the object) and that the whole record is UTF-8, in about 200 ns
// for a 200-byte record (RapidJSON's SAX reader took several times as long). simdjson also refuses what
// RFC 8259 allows but it cannot hold (integers past 64 bits, exponents past a double's range, nesting
// deeper than 1024, lone surrogate escapes); a record it refuses is read again by RapidJSON's SAX reader,
// iteratively (no recursion, so no depth exhausts the stack), numbers kept as text. Neither reads an
// exponent past a double's range (1e999), nor a record with invalid UTF-8 in a string: those are not
// objects here. The parsers keep their buffers between records; simdjson's, grown
// by a record over 64 KiB, is let go. One per plugin. Not thread-safe.
#pragma once

#include <rapidjson/reader.h>
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

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
  // The slow path, for what simdjson refuses but JSON allows.
  bool CheckWithRapidJson(std::string_view record, std::uint64_t& present, std::string* why);

  static constexpr std::size_t kKeptCapacity = 64 * 1024;
  std::span<const std::string> keys_;
  simdjson::dom::parser parser_;
  rapidjson::Reader reader_;
};

}  // namespace ferry::plugins
