// Tests of the `json` plugin (plugins/json/), made from YAML through the registry: where, keep_where, keep,
// drop, mask and rename on real-looking AWS WAF records, and the JSON edge cases (unicode escapes, deep
// nesting, duplicate keys, invalid UTF-8, binary and empty records, numbers kept as written).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "plugin_harness.h"

namespace ferry::plugins {
namespace {

// An AWS WAF log record (the fields of the WAF developer guide's example, on one line as Firehose gets it).
const std::string kWafBlock =
    R"({"timestamp":1576280412771,"formatVersion":1,"webaclId":"arn:aws:wafv2:ap-southeast-2:111122223333:regional/webacl/STMTest/1EXAMPLE-2ARN-3ARN-4ARN-123456EXAMPLE","terminatingRuleId":"STMTest_SQLi_XSS","terminatingRuleType":"REGULAR","action":"BLOCK","terminatingRuleMatchDetails":[{"conditionType":"SQL_INJECTION","sensitivityLevel":"HIGH","location":"HEADER","matchedData":["10","AND","1"]}],"httpSourceName":"-","httpSourceId":"-","ruleGroupList":[],"rateBasedRuleList":[],"nonTerminatingMatchingRules":[],"requestHeadersInserted":null,"responseCodeSent":null,"httpRequest":{"clientIp":"1.1.1.1","country":"AU","headers":[{"name":"Host","value":"localhost:1989"},{"name":"User-Agent","value":"curl/7.61.1"},{"name":"Accept","value":"*/*"},{"name":"cookie","value":"session=8f2a; theme=dark"},{"name":"AUTHORIZATION","value":"Basic dXNlcjpwYXNz"},{"name":"x-stm-test","value":"10 AND 1=1"}],"uri":"/myUri","args":"","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"rid"},"labels":[{"name":"value"}]})";

std::string WafWithAction(const std::string& action) {
  std::string record = kWafBlock;
  const std::string from = R"("action":"BLOCK")";
  record.replace(record.find(from), from.size(), R"("action":")" + action + "\"");
  return record;
}

std::vector<Verdict> Verdicts(PluginHarness& h, const std::vector<std::string>& records) {
  std::vector<Verdict> out;
  for (const auto& o : h.Run(records)) out.push_back(o.verdict);
  return out;
}

TEST_CASE("where drops the records for which the condition holds; keep_where keeps only those") {
  // The WAF recipe as the issue writes it: a web ACL whose default action allows logs mostly ALLOW.
  PluginHarness h("json", R"({ where: 'action == "ALLOW"' })");
  REQUIRE(h.ok());
  auto out = h.Run({kWafBlock, WafWithAction("ALLOW"), WafWithAction("COUNT")});
  CHECK(out[0].verdict == Verdict::kKeep);  // nothing changed: the record goes on byte for byte
  CHECK(out[1].verdict == Verdict::kDrop);
  CHECK(out[2].verdict == Verdict::kKeep);

  PluginHarness drop("json", R"({ drop_where: 'action == "ALLOW"' })");  // its longer name
  REQUIRE(drop.ok());
  CHECK(Verdicts(drop, {kWafBlock, WafWithAction("ALLOW"), WafWithAction("COUNT")}) ==
        std::vector<Verdict>{Verdict::kKeep, Verdict::kDrop, Verdict::kKeep});
  PluginHarness keep("json", R"({ keep_where: 'action != "ALLOW"' })");
  REQUIRE(keep.ok());
  CHECK(Verdicts(keep, {kWafBlock, WafWithAction("ALLOW"), WafWithAction("COUNT")}) ==
        std::vector<Verdict>{Verdict::kKeep, Verdict::kDrop, Verdict::kKeep});
  PluginHarness both(
      "json", R"({ keep_where: 'action in ["ALLOW", "COUNT"]', where: 'httpRequest.country == "AU"' })");
  REQUIRE(both.ok());
  CHECK(Verdicts(both, {kWafBlock, WafWithAction("ALLOW"), WafWithAction("COUNT")}) ==
        std::vector<Verdict>{Verdict::kDrop, Verdict::kDrop, Verdict::kDrop});
  CHECK(both.One(R"({"action":"COUNT"})") == R"({"action":"COUNT"})");

  PluginHarness labels(
      "json", R"({ keep_where: 'labels[name == "value"] exists and httpRequest.country in ["AU", "NZ"]' })");
  REQUIRE(labels.ok());
  CHECK(labels.One(kWafBlock) == kWafBlock);
  CHECK(labels.One(R"({"labels":[{"name":"value"}],"httpRequest":{"country":"US"}})") == "(dropped)");
}

TEST_CASE("mask replaces the values of the headers chosen by name, whatever their case") {
  PluginHarness h("json", R"({ mask: 'httpRequest.headers[name in [i"cookie", i"authorization"]].value' })");
  REQUIRE(h.ok());
  const std::string out = h.One(kWafBlock);
  CHECK(out.find("session=8f2a") == std::string::npos);
  CHECK(out.find("dXNlcjpwYXNz") == std::string::npos);
  CHECK(out.find(R"({"name":"cookie","value":"[MASKED]"},{"name":"AUTHORIZATION","value":"[MASKED]"})") !=
        std::string::npos);
  // Everything else is as it was: the same bytes, the same order (the record is compact already).
  std::string expected = kWafBlock;
  expected.replace(expected.find("session=8f2a; theme=dark"), 24, "[MASKED]");
  expected.replace(expected.find("Basic dXNlcjpwYXNz"), 18, "[MASKED]");
  CHECK(out == expected);

  // YAML takes the double quotes of "b.c" for its own; a quoted key is written inside single quotes.
  PluginHarness custom("json", R"({ mask: [a, '"b.c"'], mask_with: "***" })");
  REQUIRE(custom.ok());
  CHECK(custom.One(R"({"a":{"x":1},"b.c":[1,2],"b":{"c":3}})") == R"({"a":"***","b.c":"***","b":{"c":3}})");
}

TEST_CASE("drop removes fields and array elements, keeping the order of the rest") {
  PluginHarness h(
      "json",
      R"({ drop: ['httpRequest.headers[name in [i"cookie", i"authorization"]]', webaclId, nothing.here] })");
  REQUIRE(h.ok());
  const std::string out = h.One(kWafBlock);
  CHECK(out.find("webaclId") == std::string::npos);
  CHECK(out.find("cookie") == std::string::npos);
  CHECK(out.find("AUTHORIZATION") == std::string::npos);
  CHECK(out.find(R"({"name":"Accept","value":"*/*"},{"name":"x-stm-test","value":"10 AND 1=1"}])") !=
        std::string::npos);
  CHECK(out.rfind(R"({"timestamp":1576280412771,"formatVersion":1,"terminatingRuleId")", 0) == 0);

  PluginHarness simple("json", "{ drop: [b, 'c[]', 'd[1]'] }");
  REQUIRE(simple.ok());
  CHECK(simple.One(R"({"a":1,"b":2,"c":[1,2],"d":[1,2,3],"e":5})") == R"({"a":1,"c":[],"d":[1,3],"e":5})");
  // Nothing chosen, nothing changed: the record keeps its own spacing.
  CHECK(simple.One(R"( { "a" : 1 } )") == R"( { "a" : 1 } )");
}

TEST_CASE("keep leaves only the chosen fields and what holds them") {
  PluginHarness h("json",
                  R"({ keep: [action, httpRequest.clientIp, 'httpRequest.headers[name == "Host"]'] })");
  REQUIRE(h.ok());
  CHECK(
      h.One(kWafBlock) ==
      R"({"action":"BLOCK","httpRequest":{"clientIp":"1.1.1.1","headers":[{"name":"Host","value":"localhost:1989"}]}})");
  CHECK(h.One(R"({"other":1})") == "{}");
}

TEST_CASE("rename changes a member's name where it stands; a name already taken fails the record") {
  PluginHarness h("json", R"({ rename: { httpRequest.clientIp: client_ip, 'labels[].name': label } })");
  REQUIRE(h.ok());
  const std::string out = h.One(kWafBlock);
  CHECK(out.find(R"("httpRequest":{"client_ip":"1.1.1.1","country":"AU")") != std::string::npos);
  CHECK(out.find(R"("labels":[{"label":"value"}])") != std::string::npos);
  CHECK(h.One(R"({"httpRequest":{"clientIp":"1","client_ip":"2"}})") ==
        "(failed: rename httpRequest.clientIp: the object already has a member 'client_ip')");
}

TEST_CASE("records that are not one JSON object fail with the reason") {
  PluginHarness h("json", "{ drop: x }");
  REQUIRE(h.ok());
  CHECK(h.One("") == "(failed: not JSON: empty record)");
  CHECK(h.One("   ") == "(failed: not JSON: nothing but whitespace at byte 3)");
  CHECK(h.One("GET /index.html 200") == "(failed: not JSON: invalid value at byte 0)");
  CHECK(h.One("[1,2]") == "(failed: not a JSON object: an array)");
  CHECK(h.One("\"x\"") == "(failed: not a JSON object: a single value)");
  CHECK(h.One("42") == "(failed: not a JSON object: a single value)");
  CHECK(h.One(R"({"a":1} {"b":2})") == "(failed: not JSON: more after the object at byte 8)");
  CHECK(h.One(R"({"a":1)") == "(failed: not JSON: missing ',' or '}' after a member at byte 6)");
  CHECK(h.One(R"({"a":"x)") == "(failed: not JSON: string not closed at byte 7)");
  CHECK(h.One(R"({"a":01})") == "(failed: not JSON: missing ',' or '}' after a member at byte 6)");
  CHECK(h.One(R"({"a":1,})") == "(failed: not JSON: missing a member name at byte 7)");
  CHECK(h.One(R"({"a":"\x"})") == "(failed: not JSON: invalid escape in a string at byte 6)");
  CHECK(h.One(R"({"a":"\ud800"})") == "(failed: not JSON: invalid surrogate pair in a \\u escape at byte 6)");
  // A NUL byte ends RapidJSON's input; whatever follows it must not slip through.
  CHECK(h.One(std::string("{\"a\":1}\0{", 9)) == "(failed: not JSON: a NUL byte at byte 7)");
  CHECK(h.One(std::string("{\"a\":\"x\0y\"}", 11)) == "(failed: not JSON: a NUL byte at byte 7)");
}

TEST_CASE("invalid UTF-8 and binary records fail; valid UTF-8 goes through") {
  PluginHarness h("json", "{ mask: m }");
  REQUIRE(h.ok());
  CHECK(h.One("{\"a\":\"caf\xC3\xA9\",\"m\":1}") == "{\"a\":\"caf\xC3\xA9\",\"m\":\"[MASKED]\"}");
  CHECK(h.One("{\"a\":\"caf\xE9\",\"m\":1}") == "(failed: not JSON: invalid UTF-8 in a string at byte 9)");
  CHECK(h.One("{\"a\":\"\xC0\x80\"}").rfind("(failed: not JSON: invalid UTF-8", 0) == 0);      // overlong NUL
  CHECK(h.One("{\"a\":\"\xED\xA0\x80\"}").rfind("(failed: not JSON: invalid UTF-8", 0) == 0);  // a surrogate
  CHECK(h.One("{\"\xFF\":1}").rfind("(failed: not JSON: invalid UTF-8", 0) == 0);              // in a key
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>((i * 37) & 0xFF);
  CHECK(h.One(binary).rfind("(failed: not JSON", 0) == 0);
  CHECK(h.One("\x1F\x8B\x08\x00gzip").rfind("(failed: not JSON", 0) == 0);
}

TEST_CASE("unicode escapes are decoded, compared and written back as UTF-8") {
  PluginHarness h("json", R"({ keep_where: 'name == "é😀"', mask: m })");
  REQUIRE(h.ok());
  CHECK(h.One(R"({"name":"\u00e9\ud83d\ude00","m":1})") ==
        "{\"name\":\"\xC3\xA9\xF0\x9F\x98\x80\",\"m\":\"[MASKED]\"}");
  CHECK(h.One(R"({"name":"\u00E9\uD83D\uDE00","m":1})") ==
        "{\"name\":\"\xC3\xA9\xF0\x9F\x98\x80\",\"m\":\"[MASKED]\"}");
  CHECK(h.One(R"({"name":"e","m":1})") == "(dropped)");
  // Escapes JSON requires are written back as escapes.
  PluginHarness any("json", "{ mask: m }");
  CHECK(any.One(R"({"s":"a\"b\\c\n\u0001\u0000\/","m":1})") ==
        R"({"s":"a\"b\\c\n\u0001\u0000/","m":"[MASKED]"})");
}

TEST_CASE("nesting is bounded: deeper records fail rather than exhaust the stack") {
  PluginHarness h("json", "{ mask: m }");
  REQUIRE(h.ok());
  auto nested = [](int levels) {
    std::string s = "{\"m\":1,\"a\":";
    for (int i = 1; i < levels; ++i) s += "[";
    s += "0";
    for (int i = 1; i < levels; ++i) s += "]";
    return s + "}";
  };
  CHECK(h.One(nested(128)).rfind("{\"m\":\"[MASKED]\",\"a\":[[[", 0) == 0);
  CHECK(h.One(nested(129)) == "(failed: not accepted: nested deeper than 128 levels)");
  CHECK(h.One(nested(200000)) == "(failed: not accepted: nested deeper than 128 levels)");
  CHECK(h.One(std::string(200000, '[')) == "(failed: not accepted: nested deeper than 128 levels)");
  CHECK(h.One(std::string(200000, '{')) == "(failed: not JSON: missing a member name at byte 1)");
}

TEST_CASE("duplicate keys stay, in order, and a path chooses all of them") {
  PluginHarness h("json", "{ mask: password }");
  REQUIRE(h.ok());
  CHECK(h.One(R"({"password":"a","user":"u","password":"b"})") ==
        R"({"password":"[MASKED]","user":"u","password":"[MASKED]"})");
  PluginHarness drop("json", "{ drop: password }");
  CHECK(drop.One(R"({"password":"a","user":"u","password":"b"})") == R"({"user":"u"})");
  PluginHarness where("json", R"({ keep_where: 'level == "error"' })");
  CHECK(where.One(R"({"level":"info","level":"error"})") == R"({"level":"info","level":"error"})");
}

TEST_CASE("numbers are written back exactly as they were written") {
  PluginHarness h("json", "{ mask: m }");
  REQUIRE(h.ok());
  const std::string numbers =
      R"({"a":1.10,"b":123456789012345678901234567890,"c":-0.0,"d":1E+2,"e":0.1e-5,"f":18446744073709551616,)"
      R"("g":-9223372036854775809,"h":[1.000,2],"m":"x"})";
  std::string expected = numbers;
  expected.replace(expected.find(R"("m":"x")"), 7, R"("m":"[MASKED]")");
  CHECK(h.One(numbers) == expected);
  PluginHarness where("json", "{ keep_where: 'price == 1.10' }");
  CHECK(where.One(R"({"price":1.10})") == R"({"price":1.10})");
  CHECK(where.One(R"({"price":1.1})") == "(dropped)");  // numbers compare by their text
}

TEST_CASE("a batch gets one verdict per record") {
  PluginHarness h("json", R"({ where: 'level == "debug"', drop: secret })");
  REQUIRE(h.ok());
  auto out =
      h.Run({R"({"level":"debug"})", R"({"level":"info","secret":1})", "not json", R"({"level":"info"})"});
  CHECK(out[0].verdict == Verdict::kDrop);
  CHECK(out[1].verdict == Verdict::kReplace);
  CHECK(out[1].text == R"({"level":"info"})");
  CHECK(out[2].verdict == Verdict::kFail);
  CHECK(out[3].verdict == Verdict::kKeep);
}

TEST_CASE("bad json options are reported at their place in the config") {
  auto errors = [](std::string_view yaml) {
    PluginHarness h("json", yaml);
    REQUIRE_FALSE(h.ok());
    return h.all_errors();
  };
  CHECK(errors("{ drop: 'a..b' }") ==
        "ferry.yaml:1:9: flows[0].plugins[0].json.drop: invalid field path 'a..b': column 3: expected a key "
        "(letters, digits, _ - $, or a \"quoted key\"), found '.'\n");
  CHECK(errors("{ where: 'action = \"ALLOW\"' }") ==
        "ferry.yaml:1:10: flows[0].plugins[0].json.where: invalid condition 'action = \"ALLOW\"': column 8: "
        "'=' is "
        "not an operator; compare with '=='\n");
  CHECK(errors("{ keep: ['@'] }") ==
        "ferry.yaml:1:9: flows[0].plugins[0].json.keep: '@' is the whole record, not a field (to drop "
        "records, use "
        "where or keep_where)\n");
  CHECK(errors("{ rename: { 'a[]': b } }") ==
        "ferry.yaml:1:13: flows[0].plugins[0].json.rename.a[]: the path must end with a key (the member to "
        "rename)\n");
  CHECK(errors("{ rename: [a] }") ==
        "ferry.yaml:1:11: flows[0].plugins[0].json.rename: expected a mapping of field "
        "paths to new names\n");
  CHECK(errors("{ mask_with: '' }").find("must not be empty") != std::string::npos);
  CHECK(errors("{ on_error: explode }").find("'explode' is not one of: pass, drop, dead_letter") !=
        std::string::npos);
  CHECK(errors("{ unknown: 1 }")
            .find("unknown key (known keys here: where, drop_where, keep_where, keep, drop, mask, mask_with, "
                  "rename, "
                  "on_error)") != std::string::npos);
}

}  // namespace
}  // namespace ferry::plugins
