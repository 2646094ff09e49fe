// JsonRecord: a SAX builder in front of RapidJSON's document that bounds nesting and keeps numbers as
// views of the record's text, and a writer that puts them back verbatim.
#include "plugins/fields/json_record.h"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstring>
#include <functional>

namespace ferry::plugins {

namespace {

constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                                 rapidjson::kParseNumbersAsStringsFlag;

const char* Reason(rapidjson::ParseErrorCode code) {
  switch (code) {
    case rapidjson::kParseErrorDocumentEmpty:
      return "nothing but whitespace";
    case rapidjson::kParseErrorDocumentRootNotSingular:
      return "more after the object";
    case rapidjson::kParseErrorValueInvalid:
      return "invalid value";
    case rapidjson::kParseErrorObjectMissName:
      return "missing a member name";
    case rapidjson::kParseErrorObjectMissColon:
      return "missing ':' after a member name";
    case rapidjson::kParseErrorObjectMissCommaOrCurlyBracket:
      return "missing ',' or '}' after a member";
    case rapidjson::kParseErrorArrayMissCommaOrSquareBracket:
      return "missing ',' or ']' after an element";
    case rapidjson::kParseErrorStringUnicodeEscapeInvalidHex:
      return "bad hex digit in a \\u escape";
    case rapidjson::kParseErrorStringUnicodeSurrogateInvalid:
      return "invalid surrogate pair in a \\u escape";
    case rapidjson::kParseErrorStringEscapeInvalid:
      return "invalid escape in a string";
    case rapidjson::kParseErrorStringMissQuotationMark:
      return "string not closed";
    case rapidjson::kParseErrorStringInvalidEncoding:
      return "invalid UTF-8 in a string";
    case rapidjson::kParseErrorNumberTooBig:
      return "number too large";
    case rapidjson::kParseErrorNumberMissFraction:
      return "missing digits after '.' in a number";
    case rapidjson::kParseErrorNumberMissExponent:
      return "missing digits in a number's exponent";
    default:
      return "syntax error";
  }
}

// Builds the document through its own SAX handler, with two changes: nesting deeper than the bound stops
// the parse, and a number becomes a string value pointing at its text in the record.
class Builder {
 public:
  Builder(JsonRecord::Document& doc, const rapidjson::MemoryStream& in, std::string_view record)
      : doc_(doc), in_(in), record_(record) {}

  bool too_deep() const { return too_deep_; }

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned i) { return doc_.Uint(i); }
  bool Int64(std::int64_t i) { return doc_.Int64(i); }
  bool Uint64(std::uint64_t i) { return doc_.Uint64(i); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const char* text, rapidjson::SizeType length, bool copy) {
    // The parser has just read the number, so it ends where the input stands.
    const std::size_t end = in_.Tell();
    if (end >= length && end <= record_.size() &&
        std::memcmp(record_.data() + end - length, text, length) == 0) {
      return doc_.String(record_.data() + end - length, length, false);
    }
    return doc_.RawNumber(text, length, copy);  // never expected; a copied string then
  }
  bool String(const char* s, rapidjson::SizeType length, bool copy) { return doc_.String(s, length, copy); }
  bool Key(const char* s, rapidjson::SizeType length, bool copy) { return doc_.Key(s, length, copy); }
  bool StartObject() { return Enter() && doc_.StartObject(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return doc_.EndObject(members);
  }
  bool StartArray() { return Enter() && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return doc_.EndArray(elements);
  }

 private:
  bool Enter() {
    if (++depth_ > JsonRecord::kMaxDepth) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  JsonRecord::Document& doc_;
  const rapidjson::MemoryStream& in_;
  std::string_view record_;
  int depth_ = 0;
  bool too_deep_ = false;
};

}  // namespace

JsonRecord::JsonRecord()
    : pool_(pool_block_.data(), pool_block_.size()),
      stack_pool_(stack_block_.data(), stack_block_.size()),
      document_(&pool_, 1024, &stack_pool_),
      writer_(out_) {}

bool JsonRecord::Parse(std::string_view record) {
  document_.SetNull();
  pool_.Clear();
  stack_pool_.Clear();
  record_ = record;
  if (record.empty()) {
    error_ = "not JSON: empty record";
    return false;
  }
  rapidjson::MemoryStream in(record.data(), record.size());
  Builder builder(document_, in, record);
  rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>> reader(
      &stack_pool_);
  bool parsed = false;
  auto generate = [&](JsonRecord::Document&) {
    parsed = !reader.Parse<kParseFlags>(in, builder).IsError();
    return parsed;
  };
  document_.Populate(generate);
  if (!parsed) {
    const std::size_t at = reader.GetErrorOffset();
    if (builder.too_deep()) {
      error_ = "not accepted: nested deeper than " + std::to_string(kMaxDepth) + " levels";
    } else if (at < record.size() && record[at] == '\0') {
      error_ = "not JSON: a NUL byte at byte " + std::to_string(at);
    } else {
      error_ =
          std::string("not JSON: ") + Reason(reader.GetParseErrorCode()) + " at byte " + std::to_string(at);
    }
    document_.SetNull();
    return false;
  }
  // The stream reads a NUL byte as the end of input, so text after one would go unseen.
  if (in.Tell() != record.size()) {
    error_ = "not JSON: a NUL byte at byte " + std::to_string(in.Tell());
    return false;
  }
  if (!document_.IsObject()) {
    error_ = document_.IsArray() ? "not a JSON object: an array" : "not a JSON object: a single value";
    return false;
  }
  return true;
}

bool JsonRecord::IsNumber(const rapidjson::Value& value) const {
  if (!value.IsString()) return false;
  const char* s = value.GetString();
  const std::less<const char*> before;
  return !before(s, record_.data()) && before(s, record_.data() + record_.size());
}

std::string_view JsonRecord::Write() {
  out_.Clear();
  writer_.Reset(out_);
  WriteValue(document_);
  return std::string_view(out_.GetString(), out_.GetSize());
}

bool JsonRecord::WriteValue(const rapidjson::Value& value) {
  switch (value.GetType()) {
    case rapidjson::kObjectType:
      writer_.StartObject();
      for (rapidjson::SizeType i = 0; i < value.MemberCount(); ++i) {
        const auto& m = value.MemberBegin()[i];  // by index: see field_path.cpp
        writer_.Key(m.name.GetString(), m.name.GetStringLength());
        WriteValue(m.value);
      }
      return writer_.EndObject();
    case rapidjson::kArrayType:
      writer_.StartArray();
      for (auto e = value.Begin(); e != value.End(); ++e) WriteValue(*e);
      return writer_.EndArray();
    case rapidjson::kStringType:
      if (IsNumber(value))
        return writer_.RawValue(value.GetString(), value.GetStringLength(), rapidjson::kNumberType);
      return writer_.String(value.GetString(), value.GetStringLength());
    default:
      // Numbers made by a plugin, true, false, null: the writer's own text.
      return value.Accept(writer_);
  }
}

}  // namespace ferry::plugins
