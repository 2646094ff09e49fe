// Tests of the parse plugin (plugins/parse): every golden sample of tests/golden/parse becomes its expected
// JSON; the Kinesis Agent's own LOGTOJSON / CSVTOJSON examples give the agent's output; lines not of the
// format (empty, binary, truncated, malformed) fail with a reason; invalid UTF-8 and control characters
// still give valid JSON; very long lines and a regex that makes backtracking engines explode on a hostile
// line finish in linear time; custom_field_names, match_pattern and csv's delimiter; and the config errors,
// located, for options that cannot work.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/file_text.h"
#include "tests/unit/plugin_harness.h"

namespace ferry::plugins {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The line is one JSON object, valid UTF-8 included.
void RequireJsonObject(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  INFO(text);
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
}

std::string Parsed(const std::string& options, const std::string& line) {
  PluginHarness h("parse", options);
  REQUIRE(h.ok());
  return h.One(line);
}

constexpr const char* kNginxError =
    R"({ format: regex, match_pattern: '(?P<time>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(?P<level>\w+)\] )"
    R"((?P<pid>\d+)#(?P<tid>\d+): (?:\*(?P<connection>\d+) )?(?P<message>.*)' })";

TEST_CASE("parse: every golden sample becomes its expected JSON", "[parse]") {
  struct Golden {
    std::string format;
    std::string options;
  };
  const std::vector<Golden> goldens = {
      {"apache_common", "{ format: apache_common }"},
      {"apache_combined", "{ format: apache_combined }"},
      {"apache_error", "{ format: apache_error }"},
      {"syslog_rfc3164", "{ format: syslog_rfc3164 }"},
      {"syslog_rfc5424", "{ format: syslog_rfc5424 }"},
      {"csv", "{ format: csv, field_names: [id, name, note, amount] }"},
      {"regex", kNginxError},
  };
  for (const auto& g : goldens) {
    SECTION(g.format) {
      const std::string dir = std::string(FERRY_GOLDEN_DIR) + "/parse/";
      std::vector<std::string> input = Lines(testing::ReadAll(dir + g.format + ".log"));
      std::vector<std::string> expected = Lines(testing::ReadAll(dir + g.format + ".json"));
      REQUIRE(input.size() >= 3);
      REQUIRE(input.size() == expected.size());
      PluginHarness h("parse", g.options);
      REQUIRE(h.ok());
      auto out = h.Run(input);
      for (std::size_t i = 0; i < input.size(); ++i) {
        INFO(g.format << ".log line " << i + 1 << ": " << input[i] << "\n" << out[i].reason);
        CHECK(out[i].verdict == Verdict::kReplace);
        CHECK(out[i].text == expected[i]);
        RequireJsonObject(out[i].text);
      }
    }
  }
}

TEST_CASE("parse: the Kinesis Agent's own examples give the agent's output", "[parse]") {
  // From the agent's DataConverterTest (tst/.../processing/processors), its trailing newline aside.
  const std::string combined =
      R"(123.45.67.89 - - [27/Oct/2000:09:27:09 -0400] "GET /java/javaResources.html HTTP/1.0" 200 10450 "-" )"
      R"x("Mozilla/4.6 [en] (X11; U; OpenBSD 2.8 i386; Nav)")x";
  CHECK(
      Parsed("{ format: apache_combined }", combined + R"( "ANY_RANDOM_DATA")") ==
      R"({"host":"123.45.67.89","ident":null,"authuser":null,"datetime":"27/Oct/2000:09:27:09 -0400",)"
      R"("request":"GET /java/javaResources.html HTTP/1.0","response":"200","bytes":"10450","referer":null,)"
      R"x("agent":"Mozilla/4.6 [en] (X11; U; OpenBSD 2.8 i386; Nav)"})x");
  const std::string common_json =
      R"({"host":"123.45.67.89","ident":null,"authuser":null,"datetime":"27/Oct/2000:09:27:09 -0400",)"
      R"("request":"GET /java/javaResources.html HTTP/1.0","response":"200","bytes":"10450"})";
  CHECK(Parsed("{ format: apache_common }", combined) == common_json);
  CHECK(Parsed("{ format: apache_common }", combined.substr(0, combined.find(" \"-\""))) == common_json);
  CHECK(Parsed("{ format: apache_common, custom_field_names: [column1, column2, column3, column4, column5, "
               "column6, column7] }",
               combined.substr(0, combined.find(" \"-\""))) ==
        R"({"column1":"123.45.67.89","column2":null,"column3":null,"column4":"27/Oct/2000:09:27:09 -0400",)"
        R"("column5":"GET /java/javaResources.html HTTP/1.0","column6":"200","column7":"10450"})");
  // The agent drops a common log line without its size.
  CHECK(Parsed("{ format: apache_common }", combined.substr(0, combined.find(" 10450")))
            .starts_with("(failed: "));
  CHECK(
      Parsed(
          R"x({ format: apache_common, match_pattern: '^([\d.]+) (\S+) (\S+) \[([\w:/]+\s[+\-]\d{4})\] )x"
          R"x("(.+?)" (\d{3})', custom_field_names: [column1, column2, column3, column4, column5, column6] })x",
          combined.substr(0, combined.find(" 10450"))) ==
      R"({"column1":"123.45.67.89","column2":null,"column3":null,"column4":"27/Oct/2000:09:27:09 -0400",)"
      R"("column5":"GET /java/javaResources.html HTTP/1.0","column6":"200"})");

  CHECK(Parsed(
            "{ format: apache_error }",
            "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] "
            "File does not exist: /usr/local/apache2/htdocs/favicon.ico") ==
        R"({"timestamp":"Fri Sep 09 10:42:29.902022 2011","module":"core","severity":"error",)"
        R"("processid":"35708","threadid":"4328636416","client":"72.15.99.187",)"
        R"("message":"File does not exist: /usr/local/apache2/htdocs/favicon.ico"})");

  CHECK(Parsed("{ format: syslog_rfc3164 }",
               "Mar 12 12:00:08 server2 rcd[308]: Loaded 12 packages in 'ximian-red-carpet|351' (0.01878 "
               "seconds) ") ==
        R"({"timestamp":"Mar 12 12:00:08","hostname":"server2","program":"rcd","processid":"308",)"
        R"("message":"Loaded 12 packages in 'ximian-red-carpet|351' (0.01878 seconds) "})");
  CHECK(Parsed("{ format: syslog_rfc3164 }",
               "Mar 12 12:01:02 server4 snort: Ports to decode telnet on: 21 23 25 119") ==
        R"({"timestamp":"Mar 12 12:01:02","hostname":"server4","program":"snort","processid":null,)"
        R"("message":"Ports to decode telnet on: 21 23 25 119"})");

  const std::string columns = "{ format: csv, custom_field_names: [column1, column2, column3, column4] }";
  CHECK(Parsed(columns, "value1, value2,valu\ne3,    value4") ==
        R"({"column1":"value1","column2":" value2","column3":"valu\ne3","column4":"    value4"})");
  CHECK(Parsed(columns, "value1, value2,value3") ==
        R"({"column1":"value1","column2":" value2","column3":"value3","column4":null})");
  CHECK(Parsed(columns, "value1,value2,value3,value4,value5") ==
        R"({"column1":"value1","column2":"value2","column3":"value3","column4":"value4"})");
  const std::string tsv = R"({ format: csv, custom_field_names: [column1, column2, column3, column4], )"
                          R"(delimiter: "\\t" })";
  CHECK(Parsed(tsv, "value1\t value2\tvalue3\t    value4") ==
        R"({"column1":"value1","column2":" value2","column3":"value3","column4":"    value4"})");
}

TEST_CASE("parse: a line not of the format fails with the reason", "[parse]") {
  struct Case {
    std::string options;
    std::string line;
  };
  const std::string csv = "{ format: csv, field_names: [a, b] }";
  const std::vector<Case> cases = {
      {"{ format: apache_common }", "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200"},
      {"{ format: apache_common }", "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" OK 12"},
      {"{ format: apache_common }", "127.0.0.1  - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1"},
      {"{ format: apache_common }", "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0 200 1"},
      {"{ format: apache_common }", "127.0.0.1 - - 10/Oct/2000:13:55:36 -0700 \"GET / HTTP/1.0\" 200 1"},
      {"{ format: apache_combined }", "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1"},
      {"{ format: apache_combined }",
       "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 \"-\" \"x\"y"},
      {"{ format: apache_error }", "Fri Sep 09 10:42:29 2011 [core:error] message"},
      {"{ format: apache_error }", "[Fri Sep 09 10:42:29 2011] [pid 1] message"},
      {"{ format: apache_error }", "[Fri Sep 09 10:42:29 2011] [core:error] [pid x] message"},
      {"{ format: syslog_rfc3164 }", "Foo 12 12:00:08 host prog: message"},
      {"{ format: syslog_rfc3164 }", "Mar 12 12:00 host prog: message"},
      {"{ format: syslog_rfc3164 }", "Mar 12 12:00:08 host prog message without a colon"},
      {"{ format: syslog_rfc3164 }", "Mar 12 12:00:08 host prog[abc]: message"},
      {"{ format: syslog_rfc3164 }", "2026-12-05 07:58:04 host prog: a timestamp without T"},
      {"{ format: syslog_rfc5424 }", "<192>1 - - - - - -"},
      {"{ format: syslog_rfc5424 }", "<13>0 - - - - - -"},
      {"{ format: syslog_rfc5424 }", "<13> 1 - - - - - -"},
      {"{ format: syslog_rfc5424 }", "<13>1 2003-10-11 22:14:15 host app - - - message"},
      {"{ format: syslog_rfc5424 }", "<13>1 - host app - - [broken"},
      {"{ format: syslog_rfc5424 }", "<13>1 - host app - - [id a=\"unterminated]"},
      {"{ format: syslog_rfc5424 }", "<13>1 - host app - - [id a=b] message"},
      {"{ format: syslog_rfc5424 }", "<13>1 - host " + std::string(49, 'a') + " - - - app-name too long"},
      {"{ format: syslog_rfc5424 }", "<13>1 - - - - -"},
      {csv, "1,\"unterminated"},
      {csv, "1,\"quoted\"trailing,2"},
      {kNginxError, "2026/12/05 07:58:01 [error] not the pattern"},
  };
  for (const auto& c : cases) {
    PluginHarness h("parse", c.options);
    REQUIRE(h.ok());
    auto out = h.Run({c.line});
    INFO(c.options << " on " << c.line);
    CHECK(out[0].verdict == Verdict::kFail);
    CHECK(out[0].reason.starts_with("not "));
    CHECK(out[0].reason.size() > 20);
    CHECK(out[0].text == c.line);  // a failed record goes on (or not, by on_error) unchanged
  }
}

TEST_CASE("parse: empty lines, binary records and a lone carriage return fail in every format", "[parse]") {
  const std::vector<std::string> options = {"{ format: apache_common }",
                                            "{ format: apache_combined }",
                                            "{ format: apache_error }",
                                            "{ format: syslog_rfc3164 }",
                                            "{ format: syslog_rfc5424 }",
                                            "{ format: csv, field_names: [a] }",
                                            "{ format: regex, match_pattern: '(?P<all>.*)' }"};
  const std::string binary("\x00\x01\x02\xff\xfe\x89PNG\r\n\x1a\n\x00\x00", 15);
  for (const auto& o : options) {
    PluginHarness h("parse", o);
    REQUIRE(h.ok());
    auto out = h.Run({"", "\r", binary});
    INFO(o);
    CHECK(out[0].verdict == Verdict::kFail);
    CHECK(out[0].reason.ends_with(": empty line"));
    CHECK(out[1].verdict == Verdict::kFail);
    CHECK(out[1].reason.ends_with(": empty line"));
    // Binary is no log format; csv and a catch-all regex take it, and their JSON stays valid.
    if (out[2].verdict == Verdict::kReplace) {
      RequireJsonObject(out[2].text);
    } else {
      CHECK(out[2].verdict == Verdict::kFail);
    }
  }
  CHECK(Parsed("{ format: csv, field_names: [a] }", binary) ==
        "{\"a\":"
        "\"\\u0000\\u0001\\u0002\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDPNG\\r\\n\\u001a\\n\\u0000\\u0000\"}");
}

TEST_CASE("parse: invalid UTF-8 becomes U+FFFD, control characters are escaped, valid UTF-8 stays",
          "[parse]") {
  const std::string fffd = "\xEF\xBF\xBD";
  const std::string options = "{ format: csv, field_names: [v] }";
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80"},
      {"a\xFF"
       "b",
       "a" + fffd + "b"},  // never in UTF-8
      {"a\x80"
       "b",
       "a" + fffd + "b"},     // a stray continuation byte
      {"a\xC3", "a" + fffd},  // truncated at the end
      {"a\xE6\x97"
       "b",
       "a" + fffd + fffd + "b"},                        // truncated in the middle: one per byte
      {"\xC0\xAF", fffd + fffd},                        // overlong '/'
      {"\xE0\x80\xAF", fffd + fffd + fffd},             // overlong, three bytes
      {"\xED\xA0\x80", fffd + fffd + fffd},             // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
      {"tab\there \x01\x1F\x7F \\ /", "tab\\there \\u0001\\u001f\x7F \\\\ /"},
      {"\b\f", "\\b\\f"},
  };
  PluginHarness h("parse", options);
  REQUIRE(h.ok());
  for (const auto& c : cases) {
    std::string out = h.One(c.in);
    INFO(c.in);
    CHECK(out == "{\"v\":\"" + c.out + "\"}");
    RequireJsonObject(out);
  }
  // In a key too.
  CHECK(Parsed("{ format: csv, field_names: [\"k\\\"ey\\u00e9\"] }", "x") == "{\"k\\\"ey\xC3\xA9\":\"x\"}");
}

TEST_CASE("parse: very long lines parse whole", "[parse]") {
  const std::string big(1 << 20, 'x');
  std::string syslog = Parsed("{ format: syslog_rfc3164 }", "Mar 12 12:00:08 host prog[1]: " + big);
  CHECK(syslog == R"({"timestamp":"Mar 12 12:00:08","hostname":"host","program":"prog","processid":"1",)"
                  R"("message":")" +
                      big + "\"}");
  std::string apache =
      Parsed("{ format: apache_combined }", "::1 - - [10/Oct/2000:13:55:36 -0700] \"GET /" + big +
                                                " HTTP/1.1\" 200 1 \"-\" \"" + big + "\"");
  RequireJsonObject(apache);
  CHECK(apache.size() > 2 * big.size());
  // A csv field of a million escaped quotes: "" each, one quote out, escaped again for JSON.
  std::string quotes;
  for (int i = 0; i < (1 << 19); ++i) quotes += "\"\"";
  std::string csv = Parsed("{ format: csv, field_names: [q, n] }", "\"" + quotes + "\",2");
  CHECK(csv == "{\"q\":\"" + [] {
    std::string s;
    for (int i = 0; i < (1 << 19); ++i) s += "\\\"";
    return s;
  }() + "\",\"n\":\"2\"}");
}

TEST_CASE("parse: a regex that explodes a backtracking engine runs in linear time", "[parse]") {
  // (\w+\s?)*$ on a long run of word characters ending in a character it cannot match tries 2^n ways in a
  // backtracking engine; RE2 is linear. Large enough that any exponential engine would never finish.
  PluginHarness h("parse", R"({ format: regex, match_pattern: '(?P<words>(\w+\s?)*)' })");
  REQUIRE(h.ok());
  PluginHarness nested("parse", R"({ format: regex, match_pattern: '(?P<x>(x+x+)+)y' })");
  REQUIRE(nested.ok());
  std::vector<std::string> hostile;
  for (int i = 0; i < 20; ++i) hostile.push_back(std::string(20'000 + i, 'a') + "!");
  auto started = std::chrono::steady_clock::now();
  auto out = h.Run(hostile);
  auto out_nested = nested.Run({std::string(50'000, 'x')});
  auto took = std::chrono::steady_clock::now() - started;
  for (const auto& o : out) CHECK(o.verdict == Verdict::kFail);
  CHECK(out_nested[0].verdict == Verdict::kFail);
  // A generous bound (sanitizer builds included); a backtracking engine would take longer than the universe.
  CHECK(took < std::chrono::seconds(10));
  CHECK(h.One("words and more words") == R"({"words":"words and more words"})");
}

TEST_CASE("parse: match_pattern and custom_field_names", "[parse]") {
  // custom_field_names renames a fixed format's fields.
  CHECK(Parsed("{ format: syslog_rfc3164, custom_field_names: [ts, host, app, pid, msg] }",
               "Dec  5 07:58:01 edge-1 systemd[1]: Started.") ==
        R"({"ts":"Dec  5 07:58:01","host":"edge-1","app":"systemd","pid":"1","msg":"Started."})");
  // match_pattern with the format's names: apache's "-" is null, an unmatched group too.
  CHECK(
      Parsed(
          R"x({ format: apache_common, match_pattern: '(\S+) (\S+) (\S+) \[(.*?)\] "(.*?)" (\d+)(?: (\d+))?' })x",
          "host - - [d] \"-\" 200") ==
      R"({"host":"host","ident":null,"authuser":null,"datetime":"d","request":null,"response":"200","bytes":null})");
  // ... but in syslog_rfc3164, as in the agent, "-" is text.
  CHECK(Parsed(R"({ format: syslog_rfc3164, match_pattern: '(\S+) (\S+) (\S+) (\S+) (.*)' })", "- - - - -") ==
        R"({"timestamp":"-","hostname":"-","program":"-","processid":"-","message":"-"})");
  // The regex format: custom_field_names name every group, named or not.
  CHECK(Parsed("{ format: regex, match_pattern: '(\\w+)=(?P<v>\\w+)', custom_field_names: [key, value] }",
               "a=b") == R"({"key":"a","value":"b"})");
  // Unnamed groups only group; the whole line must match.
  CHECK(Parsed("{ format: regex, match_pattern: '(?:a|b)(x|y)(?P<rest>.*)' }", "ayzz") == R"({"rest":"zz"})");
  CHECK(Parsed("{ format: regex, match_pattern: '(?P<a>a)' }", "ab").starts_with("(failed: not regex: "));
  // A CRLF line's \r is not part of the last field.
  CHECK(Parsed("{ format: csv, field_names: [a, b] }", "1,2\r") == R"({"a":"1","b":"2"})");
  CHECK(Parsed("{ format: csv, field_names: [a, b], delimiter: ';' }", "1,5;\"x;y\"") ==
        R"({"a":"1,5","b":"x;y"})");
  CHECK(Parsed("{ format: csv, field_names: [a, b, c] }", "1,") == R"({"a":"1","b":"","c":null})");
  // The Kinesis Agent's names of the two options work as written in its agent.json.
  CHECK(Parsed("{ format: syslog_rfc3164, customFieldNames: [ts, host, app, pid, msg] }",
               "Dec  5 07:58:01 edge-1 systemd[1]: Started.") ==
        R"({"ts":"Dec  5 07:58:01","host":"edge-1","app":"systemd","pid":"1","msg":"Started."})");
  CHECK(Parsed("{ format: regex, matchPattern: '(?P<k>\\w+)=(?P<v>\\w+)' }", "a=b") ==
        R"({"k":"a","v":"b"})");
  CHECK(Parsed("{ format: csv, customFieldNames: [a, b] }", "1,2") == R"({"a":"1","b":"2"})");
}

TEST_CASE("parse: options that cannot work are refused, located where they are written", "[parse]") {
  struct Case {
    std::string options;
    std::string error;  // a part of the message
  };
  const std::vector<Case> cases = {
      {"", "flows[0].plugins[0].parse.format: missing required key"},
      {"{ format: nginx }",
       "ferry.yaml:1:11: flows[0].plugins[0].parse.format: 'nginx' is not one of: apache_common"},
      {"{ format: regex, match_pattern: '(?P<a>[a-' }",
       "ferry.yaml:1:33: flows[0].plugins[0].parse.match_pattern: is not a valid RE2 regex: missing ]"},
      {"{ format: regex, match_pattern: 'a(?=b)' }", "is not a valid RE2 regex: invalid perl operator: (?="},
      {"{ format: regex, match_pattern: 'abc' }", "match_pattern: has no capturing group"},
      {"{ format: csv, field_names: [a, b, a] }",
       "ferry.yaml:1:36: flows[0].plugins[0].parse.field_names[2]: "
       "field name 'a' is given twice"},
      {"{ format: csv, field_names: [] }", "field_names: must name at least one field"},
      {"{ format: csv, field_names: [a], delimiter: ';;' }", "delimiter: must be a single character"},
      {"{ format: csv, field_names: [a], delimiter: '\"' }", "delimiter: cannot be a quote"},
      {"{ format: regex }", "parse: format regex needs match_pattern"},
      {"{ format: regex, match_pattern: '(a)(b)' }", "has no named group"},
      {"{ format: regex, match_pattern: '(a)(b)', custom_field_names: [x] }",
       "match_pattern has 2 capturing groups but there are 1 field names (custom_field_names)"},
      {"{ format: csv }", "format csv needs field_names"},
      {"{ format: csv, field_names: [a], custom_field_names: [b] }", "not both"},
      {"{ format: csv, field_names: [a], match_pattern: '(a)' }", "format csv takes no match_pattern"},
      {"{ format: apache_common, field_names: [a] }", "field_names is for format csv"},
      {"{ format: apache_common, delimiter: ';' }", "delimiter is for format csv only"},
      {"{ format: apache_common, custom_field_names: [a, b] }",
       "format apache_common has 7 fields but custom_field_names names 2"},
      {"{ format: apache_error, match_pattern: '(.*)' }",
       "match_pattern has 1 capturing groups but there are 7 field names (format apache_error's)"},
      {"{ format: csv, field_names: [a], colour: blue }",
       "unknown key (known keys here: format, "
       "custom_field_names, field_names, match_pattern, "
       "delimiter, customFieldNames, matchPattern, on_error)"},
      {"{ format: csv, customFieldNames: [a], custom_field_names: [b] }",
       "ferry.yaml:1:59: flows[0].plugins[0].parse.custom_field_names: given twice: ferry's name and the "
       "Kinesis Agent's"},
      {"{ format: regex, match_pattern: '(?P<a>a)', matchPattern: '(?P<b>b)' }",
       "flows[0].plugins[0].parse.matchPattern: given twice"},
      {"{ format: csv, field_names: [a], customFieldNames: [b] }", "not both"},
  };
  for (const auto& c : cases) {
    PluginHarness h("parse", c.options);
    INFO(c.options << "\n" << h.all_errors());
    CHECK_FALSE(h.ok());
    CHECK(h.all_errors().find(c.error) != std::string::npos);
  }
  PluginHarness drop("parse", "{ format: csv, field_names: [a], on_error: drop }");
  REQUIRE(drop.ok());
  CHECK(drop.spec().on_error == OnError::kDrop);
}

TEST_CASE("parse: the effective options and the keys' docs come from the table", "[parse]") {
  PluginHarness h("parse", R"({ format: csv, field_names: [a, b], delimiter: "\t" })");
  REQUIRE(h.ok());
  YAML::Emitter out;
  h.spec().kind->Emit(out, h.spec());
  std::string text = out.c_str();
  CHECK(text.find("format: csv") != std::string::npos);
  CHECK(text.find("field_names: [a, b]") != std::string::npos);
  CHECK(text.find("delimiter: \\t") != std::string::npos);
  CHECK(text.find("on_error: pass") != std::string::npos);
  std::string keys;
  h.spec().kind->Describe(keys, "flows[].plugins[].parse");
  for (const char* key :
       {"format", "custom_field_names", "field_names", "match_pattern", "delimiter", "on_error"})
    CHECK(keys.find(std::string("flows[].plugins[].parse.") + key) != std::string::npos);
}

}  // namespace
}  // namespace ferry::plugins
