// Tests of FieldPath and FieldCondition (plugins/fields/field_path.h): the syntax, what a path selects in
// real-looking records, conditions, and errors that say what is wrong and where.
#include "plugins/fields/field_path.h"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "plugins/fields/field_path_field.h"

namespace ferry::plugins {
namespace {

rapidjson::Document Doc(const char* json) {
  rapidjson::Document doc;
  doc.Parse(json);
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

FieldPath Path(std::string_view text) {
  auto p = FieldPath::Parse(text);
  INFO(text);
  REQUIRE(p.ok());
  return *p;
}

// The scalar texts a path selects, in order ("{}"/"[]" for containers).
std::vector<std::string> Select(const char* json, std::string_view path) {
  rapidjson::Document doc = Doc(json);
  std::vector<std::string> out;
  ScalarBuffer buffer;
  Path(path).ForEach(static_cast<const rapidjson::Value&>(doc), [&](const rapidjson::Value& v) {
    auto text = ScalarText(v, buffer);
    out.push_back(text ? std::string(*text) : (v.IsObject() ? "{}" : "[]"));
    return true;
  });
  return out;
}

bool Holds(const char* json, std::string_view condition) {
  auto c = FieldCondition::Parse(condition);
  INFO(condition);
  REQUIRE(c.ok());
  return c->Holds(Doc(json));
}

std::string PathError(std::string_view text) {
  auto p = FieldPath::Parse(text);
  REQUIRE_FALSE(p.ok());
  return p.error().message();
}

std::string ConditionError(std::string_view text) {
  auto c = FieldCondition::Parse(text);
  REQUIRE_FALSE(c.ok());
  return c.error().message();
}

constexpr const char* kWaf = R"({
  "action": "BLOCK",
  "httpRequest": {
    "clientIp": "203.0.113.7",
    "uri": "/login",
    "headers": [
      {"name": "Host", "value": "shop.example"},
      {"name": "cookie", "value": "session=abc"},
      {"name": "Authorization", "value": "Bearer xyz"},
      {"name": "User-Agent", "value": "curl/8.0"}
    ]
  },
  "labels": [{"name": "awswaf:managed:aws:bot"}],
  "a.b": {"c": 1},
  "n": 1.5, "big": 18446744073709551615, "t": true, "z": null, "tags": ["x", "y"]
})";

TEST_CASE("a path of keys selects the member at each step") {
  CHECK(Select(kWaf, "httpRequest.uri") == std::vector<std::string>{"/login"});
  CHECK(Select(kWaf, "action") == std::vector<std::string>{"BLOCK"});
  CHECK(Select(kWaf, "httpRequest.missing").empty());
  CHECK(Select(kWaf, "action.deeper").empty());  // a key step on a scalar selects nothing
  CHECK(Select(kWaf, "@") == std::vector<std::string>{"{}"});
  CHECK(Select(kWaf, "@.action") == std::vector<std::string>{"BLOCK"});
}

TEST_CASE("quoted keys hold dots, spaces and escapes") {
  CHECK(Select(kWaf, R"("a.b".c)") == std::vector<std::string>{"1"});
  CHECK(Select(kWaf, "a.b.c").empty());
  CHECK(Select(R"({"k y":{"\u00e9":"v"}})", R"("k y"."\u00e9")") == std::vector<std::string>{"v"});
  CHECK(Select(R"({"\u00e9":"v"})", "é") == std::vector<std::string>{"v"});  // UTF-8 keys need no quotes
  CHECK(Select(R"({"😀":"v"})", R"("\ud83d\ude00")") == std::vector<std::string>{"v"});
}

TEST_CASE("indexes and [] select array elements") {
  CHECK(Select(kWaf, "httpRequest.headers[0].name") == std::vector<std::string>{"Host"});
  CHECK(Select(kWaf, "httpRequest.headers[3].value") == std::vector<std::string>{"curl/8.0"});
  CHECK(Select(kWaf, "httpRequest.headers[4].value").empty());
  CHECK(Select(kWaf, "httpRequest.headers[].name") ==
        std::vector<std::string>{"Host", "cookie", "Authorization", "User-Agent"});
  CHECK(Select(kWaf, "tags[]") == std::vector<std::string>{"x", "y"});
  CHECK(Select(kWaf, "httpRequest[]") == std::vector<std::string>{"203.0.113.7", "/login", "[]"});
  CHECK(Select(kWaf, "httpRequest[0]").empty());  // an index on an object selects nothing
  CHECK(Select(R"({"m":[[1,2],[3]]})", "m[][]") == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("a condition in brackets chooses elements") {
  CHECK(Select(kWaf, R"(httpRequest.headers[name == "Host"].value)") ==
        std::vector<std::string>{"shop.example"});
  CHECK(Select(kWaf, R"(httpRequest.headers[name == "Cookie"].value)").empty());  // case matters...
  CHECK(Select(kWaf, R"(httpRequest.headers[name == i"Cookie"].value)") ==        // ...unless i"..."
        std::vector<std::string>{"session=abc"});
  CHECK(Select(kWaf, R"(httpRequest.headers[name in [i"cookie", i"authorization"]].value)") ==
        std::vector<std::string>{"session=abc", "Bearer xyz"});
  CHECK(Select(kWaf, R"(httpRequest.headers[name not in ["Host", "cookie"]].name)") ==
        std::vector<std::string>{"Authorization", "User-Agent"});
  CHECK(Select(kWaf, R"(httpRequest.headers[name != "Host" and value != "curl/8.0"].name)") ==
        std::vector<std::string>{"cookie", "Authorization"});
  CHECK(Select(kWaf, R"(tags[@ == "y"])") == std::vector<std::string>{"y"});
  CHECK(Select(kWaf, R"(httpRequest.headers[value exists][1].name)").empty());  // [1] applies per element
}

TEST_CASE("a key given twice in one object selects both members") {
  CHECK(Select(R"({"a":1,"b":2,"a":3})", "a") == std::vector<std::string>{"1", "3"});
  rapidjson::Document doc = Doc(R"({"a":"x","a":"y"})");
  CHECK(Path("a").FirstString(doc) == std::string_view("x"));
}

TEST_CASE("FirstString and FirstScalar give a field's text") {
  rapidjson::Document doc = Doc(kWaf);
  ScalarBuffer buffer;
  CHECK(Path("action").FirstString(doc) == std::string_view("BLOCK"));
  CHECK_FALSE(Path("n").FirstString(doc));
  CHECK_FALSE(Path("nothing").FirstString(doc));
  CHECK(Path("n").FirstScalar(doc, buffer) == std::string_view("1.5"));
  CHECK(Path("big").FirstScalar(doc, buffer) == std::string_view("18446744073709551615"));
  CHECK(Path("t").FirstScalar(doc, buffer) == std::string_view("true"));
  CHECK(Path("z").FirstScalar(doc, buffer) == std::string_view("null"));
  CHECK_FALSE(Path("httpRequest").FirstScalar(doc, buffer));
}

TEST_CASE("conditions compare by text, and != holds where == does not") {
  CHECK(Holds(kWaf, R"(action == "BLOCK")"));
  CHECK_FALSE(Holds(kWaf, R"(action == "ALLOW")"));
  CHECK(Holds(kWaf, R"(action != "ALLOW")"));
  CHECK(Holds(kWaf, R"(missing != "ALLOW")"));  // a missing field is not "ALLOW"
  CHECK_FALSE(Holds(kWaf, R"(missing == "ALLOW")"));
  CHECK(Holds(kWaf, "n == 1.5"));
  CHECK(Holds(R"({"status":200})", "status == 200"));
  CHECK(Holds(R"({"status":"200"})", "status == 200"));
  CHECK(Holds(R"({"status":"200"})", R"(status == "200")"));
  CHECK(Holds(kWaf, "t == true and z == null"));
  CHECK(Holds(kWaf, R"(action in ["ALLOW", "BLOCK"])"));
  CHECK(Holds(kWaf, R"(action not in ["ALLOW", "COUNT"])"));
  CHECK(Holds(kWaf, R"(httpRequest.headers[].name == "Host")"));  // any element
  CHECK(Holds(kWaf, R"(labels[name == "awswaf:managed:aws:bot"] exists)"));
  CHECK_FALSE(Holds(kWaf, "httpRequest.nothing exists"));
  CHECK(Holds(kWaf, "z exists"));  // null exists
  CHECK(Holds(kWaf, "httpRequest exists"));
  CHECK_FALSE(Holds(kWaf, R"(httpRequest == "x")"));  // an object equals no value
}

TEST_CASE("and binds tighter than or; not and parentheses") {
  CHECK(Holds(kWaf, R"(action == "X" and t == true or n == 1.5)"));
  CHECK_FALSE(Holds(kWaf, R"(action == "X" and (t == true or n == 1.5))"));
  CHECK(Holds(kWaf, R"(not action == "X")"));
  CHECK(Holds(kWaf, R"(!(action == "X") && t == true || false_key exists)"));
  CHECK_FALSE(Holds(kWaf, R"(not (action == "BLOCK"))"));
  CHECK(Holds(R"({"not":1})", "not == 1"));  // a key called not
  CHECK(Holds(R"({"in":1})", "in in [1]"));
}

TEST_CASE("errors say what is wrong and at which column") {
  CHECK(PathError("") == "empty path");
  CHECK(PathError("a..b") ==
        "column 3: expected a key (letters, digits, _ - $, or a \"quoted key\"), found '.'");
  CHECK(PathError("a.") ==
        "column 3: expected a key (letters, digits, _ - $, or a \"quoted key\"), found the end");
  CHECK(PathError("a[0") == "column 2: '[' not closed (a ']' is missing)");
  CHECK(PathError(R"(a["x)") == "column 3: string not closed (a '\"' is missing)");
  CHECK(PathError("a b") == "column 2: unexpected ' ' after the path");
  CHECK(PathError(R"(h[name = "x"])") == "column 8: '=' is not an operator; compare with '=='");
  CHECK(PathError(R"(h[name == Cookie])") == "column 11: expected a value; a string is quoted (\"Cookie\")");
  CHECK(PathError(R"(h[name in "x"])") ==
        "column 11: expected a list of values ([\"a\", \"b\"]) after 'in', found '\"'");
  CHECK(PathError(R"(h[name in ["x" "y"]])") == "column 16: expected ',' or ']' in the list, found '\"'");
  CHECK(PathError(R"(h[name ~ "x"])") ==
        "column 8: expected an operator after the path (==, !=, in, not in, exists), found '~'");
  CHECK(PathError(R"("\q")") ==
        "column 2: unknown escape (known: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
  CHECK(PathError(R"("\ud800")") == "column 8: a high surrogate must be followed by \\u and a low one");
  CHECK(PathError("a[1234567890]") == "column 3: index too large");
  CHECK(ConditionError("") == "empty condition");
  CHECK(ConditionError("a == 1 b") == "column 8: unexpected 'b' after the condition");
  CHECK(ConditionError("(a == 1") == "column 1: '(' not closed (a ')' is missing)");
  CHECK(ConditionError("a == 1.") == "column 8: expected a digit after '.'");
  CHECK(ConditionError("a == 12ab") == "column 8: unexpected 'a' in a number (quote a string)");
  CHECK(ConditionError("a not x") == "column 7: expected 'in' after 'not', found 'x'");
}

TEST_CASE("nesting is bounded so a hostile path cannot exhaust the stack") {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "a[";
  deep += "b exists";
  for (int i = 0; i < 40; ++i) deep += "]";
  CHECK(PathError(deep) == "column 34: brackets and parentheses nest deeper than 16 levels");
  std::string parens(40, '(');
  CHECK(ConditionError(parens + "a exists" + std::string(40, ')')).find("nest deeper than 16") !=
        std::string::npos);
  std::string nots;
  for (int i = 0; i < 40; ++i) nots += "not ";
  CHECK(ConditionError(nots + "a exists").find("nest deeper than 16") != std::string::npos);
  CHECK(PathError(std::string(5000, 'a')) == "path longer than 4096 bytes");
}

struct PathOptions {
  FieldPath field;
  std::vector<FieldPath> paths;
  FieldCondition where;
};

TEST_CASE("path options are checked where the options table reads them") {
  const std::vector<config::Field<PathOptions>> fields = {
      FieldPathField<PathOptions>("field", &PathOptions::field, "a field"),
      FieldPathListField<PathOptions>("paths", &PathOptions::paths, "fields"),
      FieldConditionField<PathOptions>("where", &PathOptions::where, "a condition")};
  config::ParseContext ctx("ferry.yaml");
  PathOptions out;
  config::ParseMap(YAML::Load("field: a.b\npaths: [x, 'h[name == \"C\"].value']\nwhere: a == 1\n"), "p",
                   fields, out, ctx);
  REQUIRE(ctx.errors().empty());
  CHECK(out.field.text() == "a.b");
  REQUIRE(out.paths.size() == 2);
  CHECK(out.paths[1].text() == "h[name == \"C\"].value");
  CHECK(out.where.text() == "a == 1");

  PathOptions single;
  config::ParseContext ctx2("ferry.yaml");
  config::ParseMap(YAML::Load("paths: a.b"), "p", fields, single, ctx2);
  CHECK(single.paths.size() == 1);

  PathOptions bad;
  config::ParseContext ctx3("ferry.yaml");
  config::ParseMap(YAML::Load("field: a..b\npaths: [ok, 'x[']\nwhere: a = 1\n"), "p", fields, bad, ctx3);
  REQUIRE(ctx3.errors().size() == 3);
  CHECK(ctx3.errors()[0] ==
        "ferry.yaml:1:8: p.field: invalid field path 'a..b': column 3: expected a key (letters, digits, _ - "
        "$, or "
        "a \"quoted key\"), found '.'");
  CHECK(ctx3.errors()[1] ==
        "ferry.yaml:2:13: p.paths[1]: invalid field path 'x[': column 2: '[' not closed (a ']' "
        "is missing)");
  CHECK(ctx3.errors()[2] ==
        "ferry.yaml:3:8: p.where: invalid condition 'a = 1': column 3: '=' is not an operator; compare with "
        "'=='");
}

}  // namespace
}  // namespace ferry::plugins
