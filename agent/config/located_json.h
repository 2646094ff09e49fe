// LocatedJson: a JSON document read into a tree whose every value and key knows where it was written, so
// errors about a Kinesis Agent agent.json name its line and column as ferry.yaml's errors do.
//
// What it reads is what the Kinesis Agent's reader (Jackson with ALLOW_COMMENTS) reads: RFC 8259 JSON in
// UTF-8, with /* */ and // comments and an optional byte-order mark. Stricter than Jackson in two ways,
// both on purpose: anything but whitespace and comments after the top-level value is an error (Jackson
// stops reading there), and so is a NUL byte anywhere. Nesting deeper than kMaxDepth is an error, so the
// tree (destroyed recursively) never costs more stack than that.
//
// RapidJSON does the parsing (its SAX reader validates UTF-8, numbers and escapes); a handler builds the
// tree and takes each value's position from the stream's offset when the value ends, walking back to its
// first byte (a string's opening quote, a number's first digit), which RapidJSON does not report.
//
// Plain data; no threads of its own.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace ferry::config {

struct JsonKey {
  std::string name;
  std::size_t offset = 0;  // of its opening quote
};

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  // A string's value (unescaped, valid UTF-8), a number as written ("1e3", "-0"), "true"/"false"/"null".
  std::string text;
  std::size_t offset = 0;        // byte offset of the value's first character in the document
  std::vector<JsonValue> items;  // an array's elements, or an object's values in the order written
  std::vector<JsonKey> keys;     // an object's keys, keys[i] naming items[i]; repeated keys are all kept

  bool IsObject() const { return type == Type::kObject; }
  bool IsArray() const { return type == Type::kArray; }
  bool IsString() const { return type == Type::kString; }
  bool IsNull() const { return type == Type::kNull; }
};

inline constexpr std::size_t kMaxJsonDepth = 64;

// The 1-based line and column of a byte offset in text; columns count characters (UTF-8 code points).
struct TextPosition {
  std::size_t line = 1;
  std::size_t column = 1;
};
TextPosition PositionOf(std::string_view text, std::size_t offset);

// Parses text. The error (kInvalidArgument) reads "<line>:<column>: <key path>: <what is wrong>", its
// position being where the reader stopped and the key path that of the last key read before it
// ("flows[0].filePattern"), or "(document)".
Result<JsonValue> ParseLocatedJson(std::string_view text);

// The value of object's member called name (the first, if repeated), or null.
const JsonValue* FindMember(const JsonValue& object, std::string_view name);

// "a string", "a number", "an object"...: for messages about a value of the wrong type.
std::string_view JsonTypeName(JsonValue::Type type);

}  // namespace ferry::config
