// Tests of YamlToJson (plugins/external/yaml_to_json.h): plain scalars resolved by the YAML 1.2 core schema
// (null, booleans, integers in three bases, floats) to JSON's types, quoted and block scalars kept as
// strings, numbers spelled as JSON wants with their digits kept, escapes, nesting and aliases, and each
// refusal located at its node.
#include <catch2/catch.hpp>

#include <string>

#include <yaml-cpp/yaml.h>

#include "plugins/external/yaml_to_json.h"

namespace ferry::plugins {
namespace {

// The JSON of a YAML text, or "error: " and the errors.
std::string Json(const std::string& yaml) {
  config::ParseContext ctx("ferry.yaml");
  std::string out;
  const bool ok = YamlToJson(YAML::Load(yaml), "options", ctx, out);
  if (ok) {
    CHECK(ctx.errors().empty());
    return out;
  }
  std::string errors = "error:";
  for (const auto& e : ctx.errors()) errors += " " + e;
  return errors;
}

TEST_CASE("plain scalars become JSON null, booleans and numbers; quoted ones stay strings") {
  CHECK(Json("{a: 1, b: '1', c: \"1\", d: -7, e: +3, f: 0042}") ==
        R"({"a":1,"b":"1","c":"1","d":-7,"e":3,"f":42})");
  CHECK(Json("{a: true, b: False, c: TRUE, d: 'true', e: yes, f: on}") ==
        R"({"a":true,"b":false,"c":true,"d":"true","e":"yes","f":"on"})");
  CHECK(Json("{a: ~, b: null, c: NULL, d:, e: 'null', f: ''}") ==
        R"({"a":null,"b":null,"c":null,"d":null,"e":"null","f":""})");
  CHECK(Json("{a: 0x1F, b: 0o17, c: 0xffffffffffffffff, d: 0x, e: 0o8}") ==
        R"({"a":31,"b":15,"c":18446744073709551615,"d":"0x","e":"0o8"})");
  CHECK(Json("{a: 1.5, b: .5, c: -.5, d: 1., e: 1e3, f: 2.5E-3, g: +1.0, h: 007.25}") ==
        R"({"a":1.5,"b":0.5,"c":-0.5,"d":1,"e":1e3,"f":2.5e-3,"g":1.0,"h":7.25})");
  // Digits are kept: no double rounds them.
  CHECK(Json("{a: 123456789012345678901234567890, b: 0.1000000000000000000001}") ==
        R"({"a":123456789012345678901234567890,"b":0.1000000000000000000001})");
  // Not numbers by the core schema: text.
  CHECK(Json("{a: 1_000, b: 1.2.3, c: '-', d: -, e: 12ab, f: .}") ==
        R"({"a":"1_000","b":"1.2.3","c":"-","d":"-","e":"12ab","f":"."})");
  CHECK(Json("{a: !!str 5, b: !!str true}") == R"({"a":"5","b":"true"})");
}

TEST_CASE("strings are escaped, block scalars are strings, nesting and aliases are kept") {
  CHECK(Json("{q: 'say \"hi\"', b: 'back\\slash', t: \"tab\\there\\nnew\", u: \"caf\\u00e9 \\x01\"}") ==
        "{\"q\":\"say \\\"hi\\\"\",\"b\":\"back\\\\slash\",\"t\":\"tab\\there\\nnew\",\"u\":\"caf\xC3\xA9 "
        "\\u0001\"}");
  CHECK(Json("text: |\n  42\n  two\nfolded: >\n  true\n") == R"({"text":"42\ntwo\n","folded":"true\n"})");
  CHECK(Json("{list: [1, two, [3, {four: 4.0}]], map: {k: {}}, empty: []}") ==
        R"({"list":[1,"two",[3,{"four":4.0}]],"map":{"k":{}},"empty":[]})");
  CHECK(Json("base: &b {x: 1}\ncopy: *b\n") == R"({"base":{"x":1},"copy":{"x":1}})");
  // Keys are strings whatever they look like.
  CHECK(Json("{1: a, true: b}") == R"({"1":"a","true":"b"})");
}

TEST_CASE("what JSON cannot hold is refused at its node") {
  CHECK(Json("{a: .inf}") ==
        "error: ferry.yaml:1:5: options.a: .inf has no JSON number (quote it for a string)");
  CHECK(Json("{a: [-.Inf]}") ==
        "error: ferry.yaml:1:6: options.a[0]: -.Inf has no JSON number (quote it for a string)");
  CHECK(Json("{a: .nan}") ==
        "error: ferry.yaml:1:5: options.a: .nan has no JSON number (quote it for a string)");
  CHECK(Json("{a: 0x10000000000000000}") ==
        "error: ferry.yaml:1:5: options.a: 0x10000000000000000 does not fit in 64 bits");
  CHECK(Json("{a: 1, a: 2}") == "error: ferry.yaml:1:8: options.a: key given twice");
  CHECK(Json("{[1, 2]: x}") ==
        "error: ferry.yaml:1:2: options: a key must be a string (JSON has no other keys)");
  CHECK(Json("{a: !!binary aGk=}") ==
        "error: ferry.yaml:1:5: options.a: the tag tag:yaml.org,2002:binary is not supported here (only "
        "!!str)");
  CHECK(Json("{a: \"\\xff\"}") == R"({"a":"ÿ"})");  // an escape is a code point, so this is valid UTF-8
  CHECK(Json("{a: \"x\xFFy\"}").starts_with("error: ferry.yaml:1:5: options.a: is not valid UTF-8"));
  // Aliases multiply: a small file that would become gigabytes of JSON stops at 1 MiB.
  std::string bomb = "a: &a [xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\n";
  for (char c = 'b'; c <= 'k'; ++c) {
    const char prev = static_cast<char>(c - 1);
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
  }
  CHECK_THAT(Json(bomb), Catch::Contains("is more than 1048576 bytes as JSON"));
}

}  // namespace
}  // namespace ferry::plugins
