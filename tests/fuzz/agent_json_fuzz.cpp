// Fuzz target: the Kinesis Agent agent.json reader (agent/config/located_json, agent_json). Any input must
// give a Config or an Error, never a crash. Two oracles:
// - RapidJSON's own DOM (iterative, the same flags) must accept exactly what the located reader accepts,
//   except a NUL byte or nesting past kMaxJsonDepth, which only the located reader refuses; and the two
//   trees must be equal (types, strings, numbers as written, keys in order), each value's offset pointing
//   at its first character.
// - What the converted ferry.yaml says must read back exactly: a flow's files are its filePattern, byte for
//   byte, whatever quoting YAML needed.
#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/config/agent_json.h"
#include "agent/config/located_json.h"

namespace {

using ferry::config::JsonValue;

constexpr unsigned kFlags = rapidjson::kParseCommentsFlag | rapidjson::kParseNumbersAsStringsFlag |
                            rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;

void Require(bool ok) {
  if (!ok) std::abort();
}

// Equal trees; at a value's offset the text starts as its type does.
void Compare(std::string_view text, const JsonValue& ours, const rapidjson::Value& theirs) {
  Require(ours.offset < text.size());
  const char first = text[ours.offset];
  switch (ours.type) {
    case JsonValue::Type::kNull:
      Require(theirs.IsNull() && first == 'n');
      break;
    case JsonValue::Type::kBool:
      Require(theirs.IsBool() && ours.text == (theirs.GetBool() ? "true" : "false") && first == ours.text[0]);
      break;
    case JsonValue::Type::kNumber:
      // With numbers as strings, the DOM holds a number as its text.
      Require(theirs.IsString() &&
              ours.text == std::string_view(theirs.GetString(), theirs.GetStringLength()));
      Require(first == '-' || (first >= '0' && first <= '9'));
      break;
    case JsonValue::Type::kString:
      Require(theirs.IsString() &&
              ours.text == std::string_view(theirs.GetString(), theirs.GetStringLength()));
      Require(first == '"');
      break;
    case JsonValue::Type::kArray:
      Require(theirs.IsArray() && first == '[' && ours.items.size() == theirs.Size());
      for (rapidjson::SizeType i = 0; i < theirs.Size(); ++i) Compare(text, ours.items[i], theirs[i]);
      break;
    case JsonValue::Type::kObject: {
      Require(theirs.IsObject() && first == '{' && ours.items.size() == theirs.MemberCount());
      Require(ours.keys.size() == ours.items.size());
      std::size_t i = 0;
      for (auto m = theirs.MemberBegin(); m != theirs.MemberEnd(); ++m, ++i) {
        Require(ours.keys[i].name == std::string_view(m->name.GetString(), m->name.GetStringLength()));
        Require(text[ours.keys[i].offset] == '"');
        Compare(text, ours.items[i], m->value);
      }
      break;
    }
  }
}

// Brackets in text: a bound on its nesting, so the oracle's recursive DOM (and its destructor) stays shallow.
std::size_t Brackets(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += c == '[' || c == '{';
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ours = ferry::config::ParseLocatedJson(text);

  const std::size_t base = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  if (ours || Brackets(text) <= 2000) {
    rapidjson::Document theirs;
    rapidjson::MemoryStream stream(text.data() + base, text.size() - base);
    theirs.ParseStream<kFlags>(stream);
    const bool nul = text.find('\0') != std::string_view::npos;
    if (ours) {
      Require(!nul && !theirs.HasParseError());
      Compare(text, *ours, theirs);
    } else if (!theirs.HasParseError() && !nul) {
      // What RapidJSON reads, the located reader refuses only for its depth.
      Require(ours.error().message().find("nested deeper than") != std::string::npos);
    }
  }

  auto config = ferry::config::ParseAgentJson(text, "fuzz.json");
  if (config && ours) {
    const JsonValue* flows = ferry::config::FindMember(*ours, "flows");
    Require(flows != nullptr && flows->IsArray() && flows->items.size() == config->flows.size());
    for (std::size_t i = 0; i < flows->items.size(); ++i) {
      const JsonValue* pattern = ferry::config::FindMember(flows->items[i], "filePattern");
      Require(pattern != nullptr && config->flows[i].files.size() == 1 &&
              config->flows[i].files[0] == pattern->text);
    }
  }
  return 0;
}
