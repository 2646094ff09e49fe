// LocatedJson: RapidJSON's SAX reader with a handler that builds the tree and places each value.
#include "agent/config/located_json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <fmt/format.h>

namespace ferry::config {
namespace {

// Comments as Jackson's ALLOW_COMMENTS reads them; numbers as text, so "1.50" stays "1.50" and an integer
// past 64 bits is not rounded; UTF-8 checked; recursion bounded by the handler's depth limit.
constexpr unsigned kFlags = rapidjson::kParseCommentsFlag | rapidjson::kParseNumbersAsStringsFlag |
                            rapidjson::kParseValidateEncodingFlag;

class TreeBuilder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TreeBuilder> {
 public:
  TreeBuilder(std::string_view text, const rapidjson::MemoryStream& stream, std::size_t base)
      : text_(text), stream_(stream), base_(base) {}

  bool Null() { return Scalar(JsonValue::Type::kNull, "null", End() - 4); }
  bool Bool(bool b) { return Scalar(JsonValue::Type::kBool, b ? "true" : "false", End() - (b ? 4 : 5)); }
  bool RawNumber(const char* str, rapidjson::SizeType length, bool) {
    return Scalar(JsonValue::Type::kNumber, std::string_view(str, length), End() - length);
  }
  bool String(const char* str, rapidjson::SizeType length, bool) {
    return Scalar(JsonValue::Type::kString, std::string_view(str, length), OpeningQuote());
  }
  bool Key(const char* str, rapidjson::SizeType length, bool) {
    stack_.back()->keys.push_back(JsonKey{std::string(str, length), OpeningQuote()});
    return true;
  }
  bool StartObject() { return Open(JsonValue::Type::kObject); }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() { return Open(JsonValue::Type::kArray); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  // Where the reader is, as a key path ("flows[0].filePattern"): each open container's last member.
  std::string Path() const {
    std::string path;
    for (const JsonValue* open : stack_) {
      if (open->IsObject() && !open->keys.empty()) {
        path += (path.empty() ? "" : ".") + open->keys.back().name;
      } else if (open->IsArray() && !open->items.empty()) {
        path += fmt::format("[{}]", open->items.size() - 1);
      }
    }
    return path.empty() ? "(document)" : path;
  }

  JsonValue& root() { return root_; }
  bool too_deep() const { return too_deep_; }

 private:
  std::size_t End() const { return base_ + stream_.Tell(); }

  // The string just read ends with the quote before the stream's position; its opening quote is the
  // nearest quote before that which no backslash escapes (an odd run of backslashes before it escapes it).
  std::size_t OpeningQuote() const {
    std::size_t i = End() - 1;  // the closing quote
    while (i > 0) {
      --i;
      if (text_[i] != '"') continue;
      std::size_t slashes = 0;
      while (i > slashes && text_[i - 1 - slashes] == '\\') ++slashes;
      if (slashes % 2 == 0) return i;
    }
    return 0;
  }

  JsonValue& Place(JsonValue::Type type, std::size_t offset) {
    JsonValue* target;
    if (stack_.empty()) {
      target = &root_;
    } else {
      stack_.back()->items.emplace_back();
      target = &stack_.back()->items.back();
    }
    target->type = type;
    target->offset = offset;
    return *target;
  }

  bool Scalar(JsonValue::Type type, std::string_view text, std::size_t offset) {
    Place(type, offset).text = std::string(text);
    return true;
  }

  bool Open(JsonValue::Type type) {
    if (stack_.size() >= kMaxJsonDepth) {
      too_deep_ = true;
      return false;
    }
    // Pointers into items stay valid: a container's items only grow while it is the innermost one.
    stack_.push_back(&Place(type, End() - 1));
    return true;
  }

  bool Close() {
    stack_.pop_back();
    return true;
  }

  std::string_view text_;
  const rapidjson::MemoryStream& stream_;
  std::size_t base_;
  JsonValue root_;
  std::vector<JsonValue*> stack_;
  bool too_deep_ = false;
};

std::string Located(std::string_view text, std::size_t offset, std::string_view message) {
  const TextPosition at = PositionOf(text, offset);
  return fmt::format("{}:{}: {}", at.line, at.column, message);
}

}  // namespace

TextPosition PositionOf(std::string_view text, std::size_t offset) {
  TextPosition at;
  offset = std::min(offset, text.size());
  for (std::size_t i = 0; i < offset; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++at.line;
      at.column = 1;
    } else if ((c & 0xC0) != 0x80) {  // not a UTF-8 continuation byte: a new character
      ++at.column;
    }
  }
  return at;
}

Result<JsonValue> ParseLocatedJson(std::string_view text) {
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument, Located(text, nul, "(document): not valid JSON: a NUL byte"));
  }
  // Jackson skips a UTF-8 byte-order mark; so do we, keeping offsets into the whole text.
  const std::size_t base = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  rapidjson::MemoryStream stream(text.data() + base, text.size() - base);
  TreeBuilder builder(text, stream, base);
  rapidjson::Reader reader;
  const rapidjson::ParseResult ok = reader.Parse<kFlags>(stream, builder);
  if (!ok) {
    const std::string what = builder.too_deep()
                                 ? fmt::format("nested deeper than {} levels", kMaxJsonDepth)
                                 : fmt::format("not valid JSON: {}", rapidjson::GetParseError_En(ok.Code()));
    return Error(ErrorCode::kInvalidArgument,
                 Located(text, base + ok.Offset(), fmt::format("{}: {}", builder.Path(), what)));
  }
  return std::move(builder.root());
}

const JsonValue* FindMember(const JsonValue& object, std::string_view name) {
  for (std::size_t i = 0; i < object.keys.size() && i < object.items.size(); ++i) {
    if (object.keys[i].name == name) return &object.items[i];
  }
  return nullptr;
}

std::string_view JsonTypeName(JsonValue::Type type) {
  switch (type) {
    case JsonValue::Type::kNull:
      return "null";
    case JsonValue::Type::kBool:
      return "true or false";
    case JsonValue::Type::kNumber:
      return "a number";
    case JsonValue::Type::kString:
      return "a string";
    case JsonValue::Type::kArray:
      return "a list";
    case JsonValue::Type::kObject:
      return "an object";
  }
  return "a value";
}

}  // namespace ferry::config
