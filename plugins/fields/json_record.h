// JsonRecord: parses one record at a time into a reused RapidJSON document and writes it back, for the
// plugins that work on JSON fields.
//
// What it accepts: exactly one JSON object filling the record (whitespace around it allowed), strings of
// valid UTF-8 (escapes, surrogate pairs included, are decoded), at most kMaxDepth levels of nesting (the
// parser is iterative and the bound keeps the writer's recursion and everyone's stack small). Anything else
// is refused with a reason that says what and at which byte.
//
// Numbers keep the text they were written with (1.10 stays 1.10, 2^70 stays exact): the DOM holds each
// number as a string that points into the record's bytes, and IsNumber() tells it from a real string
// (real strings and keys are always copied into the document's pool). So the record must stay alive and
// unchanged while the document is in use; ScalarText and field conditions see the number's text.
//
// Duplicate keys are kept, in order, as RapidJSON's DOM keeps them; a field path selects all of them.
//
// Memory: the document and the parser's stack live in pools with inline first blocks that are reset, not
// freed, before each record, so records up to a few KiB are parsed and written without heap allocation.
// One per plugin instance; loop thread only.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace ferry::plugins {

class JsonRecord {
 public:
  static constexpr int kMaxDepth = 128;

  using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                              rapidjson::MemoryPoolAllocator<>>;

  JsonRecord();
  JsonRecord(const JsonRecord&) = delete;
  JsonRecord& operator=(const JsonRecord&) = delete;

  // Parses record into document(); false (and error() says why) if it is not one JSON object.
  bool Parse(std::string_view record);
  const std::string& error() const { return error_; }

  // The parsed record; valid until the next Parse.
  Document& document() { return document_; }
  rapidjson::Document::AllocatorType& allocator() { return pool_; }

  // Whether value is a number of the record (held as its text).
  bool IsNumber(const rapidjson::Value& value) const;

  // The document as compact JSON: member order kept, strings escaped as JSON requires (non-ASCII written
  // as UTF-8), numbers as they were written. Valid until the next Parse or Write.
  std::string_view Write();

 private:
  bool WriteValue(const rapidjson::Value& value);

  std::string_view record_;
  std::string error_;
  alignas(8) std::array<char, 16 * 1024> pool_block_;
  alignas(8) std::array<char, 4 * 1024> stack_block_;
  rapidjson::MemoryPoolAllocator<> pool_;
  rapidjson::MemoryPoolAllocator<> stack_pool_;
  Document document_;
  rapidjson::StringBuffer out_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;  // kept: its level stack is reused
};

}  // namespace ferry::plugins
