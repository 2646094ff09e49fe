// Tests of the singleline plugin (plugins/singleline): the Kinesis Agent's SINGLELINE behaviour (its own
// test case; lines trimmed and joined with nothing; trailing empty lines dropped, leading ones kept), the
// separator and trim options, CRLF, records without a newline, empty and binary records, and options
// refused at their place in the config.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/plugin_harness.h"

namespace ferry::plugins {
namespace {

TEST_CASE("singleline joins trimmed lines with nothing between them, as the Kinesis Agent does",
          "[singleline]") {
  PluginHarness h("singleline", "");
  REQUIRE(h.ok());
  CHECK(h.One("java.lang.Error: boom\n\tat A.b(A.java:1)\n\tat C.d(C.java:2)") ==
        "java.lang.Error: boomat A.b(A.java:1)at C.d(C.java:2)");
  // Trailing empty lines go; leading empty lines are empty strings, so they vanish when joined with "".
  CHECK(h.One("\n\na\n  b  \n\n\n") == "ab");
  CHECK(h.One("\n\n") == "");
  // A record without a newline is trimmed too; one that needs nothing is kept as it is.
  CHECK(h.One("  padded\t") == "padded");
  CHECK(h.Run({"plain line"})[0].verdict == Verdict::kKeep);
  CHECK(h.Run({""})[0].verdict == Verdict::kKeep);
  // CRLF, and control bytes below 0x20 at the ends of lines, are trimmed (Java's String.trim).
  CHECK(h.One("a\r\n\x01 b\x1f\r\n") == "ab");
  // Bytes above 0x7f are not whitespace: binary and invalid UTF-8 stay as they are.
  CHECK(h.One("\xff\xfe\n\xc3") == "\xff\xfe\xc3");
  CHECK(h.One(std::string("\0a\n\0", 4)) == "a");
}

TEST_CASE("singleline with the separator of ESCAPE_NEW_LINE reproduces the agent's test case",
          "[singleline]") {
  // DataConverterTest.testSingleLineDataConverter in awslabs/amazon-kinesis-agent (the record's own final
  // newline is not part of a ferry record, nor of its output).
  PluginHarness h("singleline", R"({ separator: '\\n' })");
  REQUIRE(h.ok());
  const std::string in =
      "{\n   \"a\": {\n           \"b\": 1,\n           \"c\": null,\n           \"d\": true\n    },\n"
      "   \"e\": \"f\",\n   \"g\": 2\n     }";
  CHECK(h.One(in) == R"({\\n"a": {\\n"b": 1,\\n"c": null,\\n"d": true\\n},\\n"e": "f",\\n"g": 2\\n})");
  // Leading empty lines keep their separators; trailing ones do not.
  CHECK(h.One("\na\n\n") == R"(\\na)");
}

TEST_CASE("singleline without trim joins the lines as they are, CRLF still one break", "[singleline]") {
  PluginHarness h("singleline", R"({ trim: false, separator: " " })");
  REQUIRE(h.ok());
  CHECK(h.One("  a  \r\n  b\n") == "  a     b");
  CHECK(h.Run({"  kept  "})[0].verdict == Verdict::kKeep);
  CHECK(h.One("a\rb\nc") == "a\rb c");  // a lone CR is not a line break
}

TEST_CASE("singleline prints its effective options so that they read back the same", "[singleline]") {
  auto emitted = [](const PluginHarness& h) {
    YAML::Emitter out;
    h.spec().kind->Emit(out, h.spec());
    return std::string(out.c_str());
  };
  PluginHarness h("singleline", R"({ trim: false, separator: " | " })");
  REQUIRE(h.ok());
  PluginHarness again("singleline", emitted(h));
  REQUIRE(again.ok());
  CHECK(emitted(again) == emitted(h));
  CHECK(again.One("a\n b") == h.One("a\n b"));
  std::string keys;
  h.spec().kind->Describe(keys, "flows[].plugins[].singleline");
  CHECK_THAT(keys, Catch::Contains("flows[].plugins[].singleline.separator") && Catch::Contains("on_error"));
}

TEST_CASE("singleline refuses bad options at their place in the config", "[singleline]") {
  PluginHarness bad_trim("singleline", "{ trim: maybe }");
  CHECK_THAT(bad_trim.all_errors(), Catch::Contains("ferry.yaml:1:9: flows[0].plugins[0].singleline.trim"));
  PluginHarness bad_separator("singleline", R"({ separator: "\n" })");
  CHECK_THAT(
      bad_separator.all_errors(),
      Catch::Contains("ferry.yaml:1:14: flows[0].plugins[0].singleline.separator: must not hold a newline"));
  PluginHarness list_separator("singleline", "{ separator: [a] }");
  CHECK_THAT(list_separator.all_errors(), Catch::Contains("singleline.separator: expected a string"));
  PluginHarness unknown("singleline", "{ no_trim: true }");
  CHECK_THAT(unknown.all_errors(), Catch::Contains("singleline.no_trim: unknown key"));
}

}  // namespace
}  // namespace ferry::plugins
