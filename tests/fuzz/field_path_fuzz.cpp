// Fuzz target: FieldPath::Parse and FieldCondition::Parse on arbitrary text, then each parsed path or
// condition evaluated on a JSON document from the rest of the input. The first byte picks path or
// condition, the second where the text ends and the document begins. Checks that every error names a
// column inside the text (or is one of the whole-text errors), that what parses keeps its text, and that
// evaluation terminates without touching memory it should not (AddressSanitizer). Single-threaded.
#include <rapidjson/document.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "plugins/fields/field_path.h"

namespace {

using ferry::plugins::FieldCondition;
using ferry::plugins::FieldPath;
using ferry::plugins::FieldSlot;
using ferry::plugins::ScalarBuffer;

void CheckError(const std::string& message, std::size_t size) {
  if (message == "empty path" || message == "empty condition" ||
      message.find("longer than") != std::string::npos) {
    return;
  }
  if (message.rfind("column ", 0) != 0) std::abort();
  const unsigned long column = std::strtoul(message.c_str() + 7, nullptr, 10);
  if (column < 1 || column > size + 1) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool condition = (data[0] & 1) != 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::size_t split = std::min<std::size_t>(data[1], input.size());
  const std::string_view text = input.substr(0, split);
  const std::string json(input.substr(split));

  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) doc.Parse(R"({"a":{"b":[1,"x",{"name":"Cookie","value":"v"}]},"c":null})");

  if (condition) {
    auto parsed = FieldCondition::Parse(text);
    if (!parsed) return CheckError(parsed.error().message(), text.size()), 0;
    if (parsed->text() != text) std::abort();
    (void)parsed->Holds(doc);
    auto again = FieldCondition::Parse(parsed->text());
    if (!again || again->Holds(doc) != parsed->Holds(doc)) std::abort();
    return 0;
  }
  auto parsed = FieldPath::Parse(text);
  if (!parsed) return CheckError(parsed.error().message(), text.size()), 0;
  if (parsed->text() != text) std::abort();
  std::size_t selected = 0;
  parsed->ForEach(static_cast<rapidjson::Value&>(doc), [&](const FieldSlot& slot) {
    if (slot.value == nullptr) std::abort();
    if (slot.name != nullptr && !slot.name->IsString()) std::abort();
    ++selected;
    return true;
  });
  ScalarBuffer buffer;
  (void)parsed->FirstScalar(doc, buffer);
  if ((parsed->First(doc) != nullptr) != (selected > 0)) std::abort();
  return 0;
}
