// Tests of the add plugin (plugins/add): templates into JSON objects and as logfmt pairs before text, the
// read time and record id, what counts as a JSON object (empty, nested, whitespace after it, look-alikes,
// binary, a NUL byte), keys already present, escaping of file names (quotes, control characters, invalid
// UTF-8), and options refused at their place in the config.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "plugins/add/escaped_text.h"
#include "plugins/add/record_stamp.h"
#include "tests/unit/plugin_harness.h"

namespace ferry::plugins {
namespace {

bool IsJsonObject(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  return !d.HasParseError() && d.IsObject();
}

TEST_CASE("add appends templated fields to JSON objects before the closing brace", "[add]") {
  PluginHarness h("add",
                  R"({ fields: { host: "${hostname}", file: "${file}", flow: "${flow}", env: prod } })");
  REQUIRE(h.ok());
  CHECK(h.One(R"({"a":1})") ==
        R"({"a":1,"host":"edge-1","file":"/var/log/app.log","flow":"web","env":"prod"})");
  // Nested objects and arrays stay as they are; members go at the top level.
  CHECK(h.One(R"({"a":{"b":[1,{"c":2}]}})") ==
        R"({"a":{"b":[1,{"c":2}]},"host":"edge-1","file":"/var/log/app.log","flow":"web","env":"prod"})");
  // An empty object gets no leading comma; whitespace inside and after the object is kept.
  CHECK(h.One("{}") == R"({"host":"edge-1","file":"/var/log/app.log","flow":"web","env":"prod"})");
  CHECK(h.One("  { \"a\" : 1 }  \t") ==
        "  { \"a\" : 1 ,\"host\":\"edge-1\",\"file\":\"/var/log/app.log\",\"flow\":\"web\",\"env\":\"prod\"} "
        " \t");
  CHECK(h.One("{ \r\n }") ==
        "{ \r\n \"host\":\"edge-1\",\"file\":\"/var/log/app.log\",\"flow\":\"web\",\"env\":\"prod\"}");
}

TEST_CASE("add writes logfmt pairs before text records", "[add]") {
  PluginHarness h("add", R"({ fields: { host: "${hostname}", file: "${file}", note: "two words" } })");
  REQUIRE(h.ok());
  CHECK(h.One("GET / 200") == R"(host=edge-1 file=/var/log/app.log note="two words" GET / 200)");
  // An empty record gets the pairs alone.
  CHECK(h.One("") == R"(host=edge-1 file=/var/log/app.log note="two words")");
  // Look-alikes of JSON objects are text in auto mode.
  for (const std::string look_alike : {"{", "{\"a\":}", "{\"a\":1} x", "{\"a\":1}{}", "[1,2]", "{'a':1}",
                                       "{\"a\":1,}", "\"{}\"", "{\"a\":01}"}) {
    CAPTURE(look_alike);
    CHECK(h.One(look_alike) == R"(host=edge-1 file=/var/log/app.log note="two words" )" + look_alike);
  }
  // A NUL byte after the object: RapidJSON alone would stop there and call it an object.
  const std::string nul("{}\0{", 4);
  CHECK(h.One(nul) == R"(host=edge-1 file=/var/log/app.log note="two words" )" + nul);
  // Binary records keep their bytes.
  const std::string binary("\x00\xff\xfe\x01", 4);
  CHECK(h.One(binary) == R"(host=edge-1 file=/var/log/app.log note="two words" )" + binary);
}

TEST_CASE("add takes JSON with invalid UTF-8 for text; big numbers and deep nesting are JSON", "[add]") {
  PluginHarness h("add", R"({ fields: { env: prod } })");
  REQUIRE(h.ok());
  CHECK(h.One("{\"a\":\"\xff\"}") == "env=prod {\"a\":\"\xff\"}");
  CHECK(h.One("{\"a\":\"\xc3\xa9\"}") == "{\"a\":\"\xc3\xa9\",\"env\":\"prod\"}");
  auto nested = [](int depth) {
    return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  CHECK(h.One(nested(1024)) == nested(1024).substr(0, nested(1024).size() - 1) + ",\"env\":\"prod\"}");
  // Past simdjson's limits (64-bit integers, a double's range, 1024 levels) RapidJSON decides ...
  CHECK(h.One(nested(5000)) == nested(5000).substr(0, nested(5000).size() - 1) + ",\"env\":\"prod\"}");
  CHECK(h.One(R"({"n":123456789012345678901234567890,"e":-1e-999})") ==
        R"({"n":123456789012345678901234567890,"e":-1e-999,"env":"prod"})");
  // ... but neither reads an exponent past a double's range.
  CHECK(h.One(R"({"e":1e999})") == R"(env=prod {"e":1e999})");
  CHECK(h.One("{\"n\":123456789012345678901,\"s\":\"\xff\"}") ==
        "env=prod {\"n\":123456789012345678901,\"s\":\"\xff\"}");
  const std::string nul("{\"n\":123456789012345678901}\0", 28);
  CHECK(h.One(nul) == "env=prod " + nul);
  CHECK(h.One("{\"n\":123456789012345678901,}") == "env=prod {\"n\":123456789012345678901,}");
  PluginHarness json("add", R"({ fields: { env: prod }, as: json })");
  REQUIRE(json.ok());
  CHECK(json.One("{\"a\":\"\xff\"}").starts_with("(failed: not a JSON object: Invalid encoding in string."));
}

TEST_CASE("add takes a lone surrogate escape for JSON, as RFC 8259's grammar does (found by add_fuzz)",
          "[add]") {
  PluginHarness h("add", R"({ fields: { env: prod } })");
  REQUIRE(h.ok());
  // simdjson refuses it; RapidJSON, which has the last word, reads it.
  CHECK(h.One(R"({"host":"lb","x":"\udddddd00e9"})") == R"({"host":"lb","x":"\udddddd00e9","env":"prod"})");
  // A lone high surrogate neither reads: text.
  CHECK(h.One(R"({"x":"\ud800"})") == R"(env=prod {"x":"\ud800"})");
}

TEST_CASE("add's as: json fails records that are not one JSON object, with the reason", "[add]") {
  PluginHarness h("add", R"({ fields: { env: prod }, as: json })");
  REQUIRE(h.ok());
  CHECK(h.One(R"({"a":1})") == R"({"a":1,"env":"prod"})");
  CHECK(h.One("plain text") == "(failed: not a JSON object (it does not start with '{'))");
  CHECK(h.One("{\"a\":1} x").starts_with("(failed: not a JSON object: "));
  CHECK(h.One("").starts_with("(failed: not a JSON object"));
  // Text mode writes pairs before JSON records too.
  PluginHarness text("add", R"({ fields: { env: prod }, as: text })");
  REQUIRE(text.ok());
  CHECK(text.One(R"({"a":1})") == R"(env=prod {"a":1})");
}

TEST_CASE("add's timestamp is the batch's read time in ISO 8601 UTC with milliseconds", "[add]") {
  PluginHarness h("add", "{ timestamp: time }");
  REQUIRE(h.ok());
  RecordOrigin origin;
  origin.read_time_ms = 1'796'457'420'123;  // 2026-12-05T07:57:00.123Z
  CHECK(h.One(R"({"a":1})", origin) == R"({"a":1,"time":"2026-12-05T07:57:00.123Z"})");
  CHECK(h.One("text", origin) == "time=2026-12-05T07:57:00.123Z text");
  // Unknown read time: the clock's second.
  origin.read_time_ms = 0;
  CHECK(h.One("{}", origin) == R"({"time":"2023-11-14T22:13:20.000Z"})");

  char iso[kIsoMillisLength];
  FormatIsoMillis(0, iso);
  CHECK(std::string(iso, sizeof iso) == "1970-01-01T00:00:00.000Z");
  FormatIsoMillis(951'782'400'999, iso);  // a leap day
  CHECK(std::string(iso, sizeof iso) == "2000-02-29T00:00:00.999Z");
  FormatIsoMillis(-1, iso);
  CHECK(std::string(iso, sizeof iso) == "1969-12-31T23:59:59.999Z");
  FormatIsoMillis(INT64_MAX, iso);
  CHECK(std::string(iso, sizeof iso) == "9999-12-31T23:59:59.999Z");
}

TEST_CASE("add's record_id names a record by its file identity and end offset", "[add]") {
  PluginHarness h("add", "{ record_id: id }");
  REQUIRE(h.ok());
  RecordOrigin origin;
  origin.file_id = 0x1234abcd5678ef00ULL;
  origin.start_offset = 100;
  auto out = h.Run({R"({"a":1})", "text", "{}"}, origin);
  CHECK(out[0].text == R"({"a":1,"id":"1234abcd5678ef00-000000000000006c"})");  // 100 + 7 + 1
  CHECK(out[1].text == "id=1234abcd5678ef00-0000000000000071 text");
  CHECK(out[2].text == R"({"id":"1234abcd5678ef00-0000000000000074"})");
  // Read again (after a crash, another batch split): the same ids.
  auto again = h.Run({"text", "{}"}, RecordOrigin{origin.file, 999, origin.file_id, 108});
  CHECK(again[0].text == out[1].text);
  CHECK(again[1].text == out[2].text);
  // Another file: other ids.
  origin.file_id = 1;
  CHECK(h.Run({R"({"a":1})"}, origin)[0].text == R"({"a":1,"id":"0000000000000001-000000000000006c"})");
  // No file identity (stdin): offsets restart every run, so no id rather than one that repeats.
  origin.file_id = 0;
  CHECK(h.Run({R"({"a":1})"}, origin)[0].verdict == Verdict::kKeep);
}

TEST_CASE("add keeps a key the JSON record already has, or fails the record if asked", "[add]") {
  PluginHarness keep("add", R"({ fields: { host: "${hostname}", env: prod }, record_id: id })");
  REQUIRE(keep.ok());
  CHECK(keep.One(R"({"host":"db-1","x":{"env":1}})") ==
        R"({"host":"db-1","x":{"env":1},"env":"prod","id":"1234abcd5678ef00-000000000000001e"})");
  // Keys are compared unescaped; the id is one of the keys.
  CHECK(keep.One(R"({"h\u006fst":"db-1","env":"x","id":7})") == R"({"h\u006fst":"db-1","env":"x","id":7})");
  PluginHarness fail("add", R"({ fields: { host: "${hostname}" }, if_present: fail })");
  REQUIRE(fail.ok());
  CHECK(fail.One(R"({"host":"db-1"})") == "(failed: the record already has the key 'host')");
  CHECK(fail.One(R"({"a":{"host":"db-1"}})") == R"({"a":{"host":"db-1"},"host":"edge-1"})");
}

TEST_CASE("add escapes file names for JSON and logfmt, invalid UTF-8 as U+FFFD", "[add]") {
  PluginHarness h("add", R"({ fields: { file: "${file}" } })");
  REQUIRE(h.ok());
  RecordOrigin origin;
  origin.file = "/var/log/a \"b\"\\c\n\x01\xff\xe2\x82.log";
  const std::string json = h.One(R"({"a":1})", origin);
  CHECK(json == "{\"a\":1,\"file\":\"/var/log/a \\\"b\\\"\\\\c\\n\\u0001\xEF\xBF\xBD\xEF\xBF\xBD.log\"}");
  CHECK(IsJsonObject(json));
  CHECK(h.One("x", origin) == "file=\"/var/log/a \\\"b\\\"\\\\c\\n\\u0001\xEF\xBF\xBD\xEF\xBF\xBD.log\" x");
  // Valid UTF-8 is kept, bare where it needs no quotes.
  origin.file = "/var/log/caf\xC3\xA9-\xF0\x9F\x9A\xA2.log";
  CHECK(h.One("x", origin) == "file=/var/log/caf\xC3\xA9-\xF0\x9F\x9A\xA2.log x");
  // Overlong forms, surrogates and values past U+10FFFF are ill-formed.
  std::string out;
  AppendJsonStringBody(out, "\xC0\xAF|\xED\xA0\x80|\xF4\x90\x80\x80|\xE2\x82\xAC");
  CHECK(out ==
        "\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
        "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|\xE2\x82\xAC");
}

TEST_CASE("add's templates: $${ is a literal ${, a lone $ is itself", "[add]") {
  PluginHarness h("add", R"({ fields: { a: "$${hostname} costs $5 on ${hostname}$" } })");
  REQUIRE(h.ok());
  CHECK(h.One("{}") == R"({"a":"${hostname} costs $5 on edge-1$"})");
}

TEST_CASE("add prints its effective options so that they read back the same", "[add]") {
  auto emitted = [](const PluginHarness& h) {
    YAML::Emitter out;
    h.spec().kind->Emit(out, h.spec());
    return std::string(out.c_str());
  };
  PluginHarness h(
      "add",
      R"({ fields: { host: "${hostname}", a: "$${x} ${file}" }, timestamp: t, record_id: id, as: json, if_present: fail, on_error: drop })");
  REQUIRE(h.ok());
  PluginHarness again("add", emitted(h));
  REQUIRE(again.ok());
  CHECK(emitted(again) == emitted(h));
  CHECK(again.One("{}") == h.One("{}"));
  std::string keys;
  h.spec().kind->Describe(keys, "flows[].plugins[].add");
  CHECK_THAT(keys, Catch::Contains("flows[].plugins[].add.record_id") && Catch::Contains("on_error"));
}

TEST_CASE("add refuses bad options at their place in the config", "[add]") {
  auto errors = [](const char* yaml) {
    PluginHarness h("add", yaml);
    CHECK_FALSE(h.ok());
    return h.all_errors();
  };
  CHECK_THAT(
      errors(R"({ fields: { host: "${host}" } })"),
      Catch::Contains("ferry.yaml:1:19: flows[0].plugins[0].add.fields.host: unknown variable ${host}"));
  CHECK_THAT(errors(R"({ fields: { host: "${hostname" } })"),
             Catch::Contains("flows[0].plugins[0].add.fields.host: \"${\" at character 1 has no closing"));
  CHECK_THAT(
      errors("{ fields: { \"a b\": x } }"),
      Catch::Contains("ferry.yaml:1:13: flows[0].plugins[0].add.fields.a b: a key must not hold spaces"));
  CHECK_THAT(
      errors("{ fields: { time: x }, timestamp: time }"),
      Catch::Contains("ferry.yaml:1:35: flows[0].plugins[0].add.timestamp: key 'time' is added twice"));
  CHECK_THAT(errors("{ record_id: id, timestamp: id }"),
             Catch::Contains("add.timestamp: key 'id' is added twice"));
  CHECK_THAT(errors("{ fields: [a, b] }"), Catch::Contains("add.fields: expected a mapping"));
  CHECK_THAT(errors("{ fields: { a: [x] } }"), Catch::Contains("add.fields.a: expected a string"));
  CHECK_THAT(errors("{ as: xml, timestamp: t }"),
             Catch::Contains("add.as: 'xml' is not one of: auto, json, text"));
  CHECK_THAT(errors("{ stamp: t }"), Catch::Contains("add.stamp: unknown key"));
  CHECK_THAT(errors(""), Catch::Contains("add: nothing to add"));
}

TEST_CASE("add's output of JSON records parses as JSON with every field", "[add]") {
  PluginHarness h("add",
                  R"({ fields: { host: "${hostname}", file: "${file}" }, timestamp: t, record_id: id })");
  REQUIRE(h.ok());
  for (const std::string record : {"{}", " {\"a\":[1,2,{\"b\":null}],\"c\":\"}\"} ", "{\"deep\":[[[[{}]]]]}",
                                   "{\"s\":\"\\u00e9\\\"}\"}"}) {
    CAPTURE(record);
    const std::string out = h.One(record);
    REQUIRE(IsJsonObject(out));
    rapidjson::Document d;
    d.Parse(out.c_str(), out.size());
    CHECK(d["host"].GetString() == std::string("edge-1"));
    CHECK(d["id"].GetStringLength() == kRecordIdLength);
  }
}

}  // namespace
}  // namespace ferry::plugins
