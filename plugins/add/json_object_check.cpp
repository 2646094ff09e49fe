// JsonObjectCheck: a cheap look at the first byte, then one simdjson DOM parse (a RapidJSON SAX pass after
// it when simdjson refuses); keys compared at the top level only.
#include "plugins/add/json_object_check.h"

#include <cstring>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>

namespace ferry::plugins {
namespace {

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

struct TopLevelKeys : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TopLevelKeys> {
  std::span<const std::string> keys;
  std::uint64_t present = 0;
  std::size_t depth = 0;

  bool Default() { return true; }
  bool StartObject() {
    ++depth;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth;
    return true;
  }
  bool StartArray() {
    ++depth;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth;
    return true;
  }
  bool Key(const char* str, rapidjson::SizeType length, bool) {
    if (depth != 1) return true;
    for (std::size_t k = 0; k < keys.size(); ++k) {
      if (keys[k].size() == length && std::memcmp(keys[k].data(), str, length) == 0) {
        present |= std::uint64_t{1} << k;
      }
    }
    return true;
  }
};

}  // namespace

bool JsonObjectCheck::CheckWithRapidJson(std::string_view record, std::uint64_t& present, std::string* why) {
  rapidjson::MemoryStream stream(record.data(), record.size());
  TopLevelKeys handler;
  handler.keys = keys_;
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag |
                              rapidjson::kParseValidateEncodingFlag;
  const rapidjson::ParseResult result = reader_.Parse<kFlags>(stream, handler);
  if (result.IsError()) {
    if (why != nullptr) {
      *why = std::string("not a JSON object: ") + rapidjson::GetParseError_En(result.Code()) + " at byte " +
             std::to_string(result.Offset());
    }
    return false;
  }
  // The reader takes a NUL byte for the end of its input; anything after it is not whitespace.
  if (stream.Tell() != record.size()) {
    if (why != nullptr) *why = "not a JSON object: a NUL byte at byte " + std::to_string(stream.Tell());
    return false;
  }
  present = handler.present;
  return true;
}

bool JsonObjectCheck::Check(std::string_view record, JsonObjectShape& shape, std::string* why) {
  std::size_t first = 0;
  while (first < record.size() && IsJsonSpace(record[first])) ++first;
  if (first == record.size() || record[first] != '{') {
    if (why != nullptr) *why = "not a JSON object (it does not start with '{')";
    return false;
  }
  simdjson::dom::object object;
  // parse() copies the record into the parser's padded buffer (simdjson reads a little past the end).
  const simdjson::error_code error = parser_.parse(record.data(), record.size()).get_object().get(object);
  std::uint64_t present = 0;
  if (error == simdjson::SUCCESS) {
    for (const simdjson::dom::key_value_pair member : object) {
      for (std::size_t k = 0; k < keys_.size(); ++k) {
        if (member.key == keys_[k]) present |= std::uint64_t{1} << k;
      }
    }
  }
  if (record.size() > kKeptCapacity) parser_ = simdjson::dom::parser();
  // simdjson refuses some JSON that RFC 8259's grammar allows (integers past 64 bits, nesting past 1024, a
  // lone surrogate escape such as "\udddd"); RapidJSON has the last word on anything simdjson refuses.
  // Records that start with '{' and are not JSON are rare, so the second pass costs little.
  if (error != simdjson::SUCCESS && !CheckWithRapidJson(record, present, why)) return false;
  std::size_t close = record.size() - 1;
  while (IsJsonSpace(record[close])) --close;
  std::size_t before = close - 1;
  while (IsJsonSpace(record[before])) --before;
  shape.close = close;
  shape.has_members = record[before] != '{';
  shape.present = present;
  return true;
}

}  // namespace ferry::plugins
