// JsonObjectCheck: one SAX pass per record, keys compared at depth 1 only.
#include "plugins/add/json_object_check.h"

#include <cstring>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>

namespace ferry::plugins {
namespace {

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

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

bool JsonObjectCheck::Check(std::string_view record, JsonObjectShape& shape, std::string* why) {
  std::size_t first = 0;
  while (first < record.size() && IsJsonSpace(record[first])) ++first;
  if (first == record.size() || record[first] != '{') {
    if (why != nullptr) *why = "not a JSON object (it does not start with '{')";
    return false;
  }
  rapidjson::MemoryStream stream(record.data(), record.size());
  TopLevelKeys handler;
  handler.keys = keys_;
  // Numbers as strings: only their grammar matters here, not their value.
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
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
  std::size_t close = record.size() - 1;
  while (IsJsonSpace(record[close])) --close;
  std::size_t before = close - 1;
  while (IsJsonSpace(record[before])) --before;
  shape.close = close;
  shape.has_members = record[before] != '{';
  shape.present = handler.present;
  return true;
}

}  // namespace ferry::plugins
