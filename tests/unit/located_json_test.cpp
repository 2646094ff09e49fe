// Tests of the positioned JSON reader behind agent.json (agent/config/located_json): what it accepts (the
// Kinesis Agent's Jackson with comments), where each value and key is, and errors with line:column and key.
#include "agent/config/located_json.h"

#include <catch2/catch.hpp>

#include <string>

namespace ferry::config {
namespace {

std::string ErrorOf(std::string_view text) {
  auto parsed = ParseLocatedJson(text);
  REQUIRE_FALSE(parsed.ok());
  return parsed.error().message();
}

TEST_CASE("located JSON: values, keys and their positions", "[located_json]") {
  const std::string text =
      "{\n"
      "  \"a\": \"x\\\"y\\\\\",\n"
      "  \"é\": [1.50, true, null, {\"k\": -0}],\n"
      "  \"big\": 123456789012345678901234567890\n"
      "}";
  auto parsed = ParseLocatedJson(text);
  REQUIRE(parsed.ok());
  const JsonValue& root = *parsed;
  REQUIRE(root.IsObject());
  REQUIRE(root.keys.size() == 3);
  CHECK(root.keys[0].name == "a");
  CHECK(root.items[0].text == "x\"y\\");
  // The string starts at its opening quote, though it holds escaped quotes and ends in a backslash.
  CHECK(PositionOf(text, root.items[0].offset).line == 2);
  CHECK(PositionOf(text, root.items[0].offset).column == 8);
  CHECK(PositionOf(text, root.keys[1].offset).column == 3);
  // Columns count characters: "é" is two bytes, one column.
  const JsonValue& list = root.items[1];
  REQUIRE(list.IsArray());
  REQUIRE(list.items.size() == 4);
  CHECK(PositionOf(text, list.offset).column == 8);
  CHECK(list.items[0].text == "1.50");  // numbers as written
  CHECK(PositionOf(text, list.items[0].offset).column == 9);
  CHECK(list.items[1].text == "true");
  CHECK(PositionOf(text, list.items[1].offset).column == 15);
  CHECK(list.items[2].IsNull());
  CHECK(PositionOf(text, list.items[2].offset).column == 21);
  CHECK(list.items[3].items[0].text == "-0");
  CHECK(root.items[2].text == "123456789012345678901234567890");
  CHECK(FindMember(root, "big") == &root.items[2]);
  CHECK(FindMember(root, "nope") == nullptr);
}

TEST_CASE("located JSON: comments and a byte-order mark, as the agent reads them", "[located_json]") {
  auto parsed = ParseLocatedJson("\xEF\xBB\xBF// first\n{ /* a */ \"k\": /* b */ 1 // c\n}\n/* end */\n");
  REQUIRE(parsed.ok());
  CHECK(parsed->keys[0].name == "k");
  CHECK(parsed->items[0].text == "1");
}

TEST_CASE("located JSON: errors name the line, the column and the key", "[located_json]") {
  CHECK(ErrorOf("{\n  \"flows\": [\n    {\"a\": 1\n     \"b\": 2}]}") ==
        "4:6: flows[0].a: not valid JSON: Missing a comma or '}' after an object member.");
  CHECK(ErrorOf("{} x") ==
        "1:4: (document): not valid JSON: The document root must not be followed by other values.");
  CHECK(ErrorOf(std::string_view("{\"a\": 1}\n\0{}", 12)) == "2:1: (document): not valid JSON: a NUL byte");
  CHECK(ErrorOf("{\"a\": \"\xFF\"}").find("1:8: a: not valid JSON: Invalid encoding") == 0);
  CHECK(ErrorOf("{\"a\": [1, 2,]}").find("1:13: a[1]: not valid JSON") == 0);
  CHECK(ErrorOf("").find("1:1: (document): not valid JSON") == 0);
  CHECK(ErrorOf("{\"a\": 'x'}").find("1:7: a: not valid JSON") == 0);
}

TEST_CASE("located JSON: nesting is bounded", "[located_json]") {
  std::string deep(kMaxJsonDepth, '[');
  deep += std::string(kMaxJsonDepth, ']');
  CHECK(ParseLocatedJson(deep).ok());
  std::string deeper(kMaxJsonDepth + 1, '[');
  deeper += std::string(kMaxJsonDepth + 1, ']');
  CHECK(ErrorOf(deeper).find("nested deeper than 64 levels") != std::string::npos);
  CHECK(ErrorOf(std::string(100000, '[')).find("nested deeper") != std::string::npos);
}

}  // namespace
}  // namespace ferry::config
