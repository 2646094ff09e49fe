// Tests of the `grep` plugin (plugins/grep/), made from YAML through the registry: include and exclude,
// single regexes and lists, on whole records and on JSON fields, binary records, a pathological regex, and
// errors located in the config.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "plugin_harness.h"

namespace ferry::plugins {
namespace {

std::vector<Verdict> Verdicts(PluginHarness& h, const std::vector<std::string>& records) {
  std::vector<Verdict> out;
  for (const auto& o : h.Run(records)) out.push_back(o.verdict);
  return out;
}

constexpr Verdict K = Verdict::kKeep;
constexpr Verdict D = Verdict::kDrop;
constexpr Verdict F = Verdict::kFail;

const std::vector<std::string> kAccess = {
    R"(10.0.0.1 - - [05/Dec/2026:07:00:00 +0000] "GET /health HTTP/1.1" 200 2)",
    R"(10.0.0.2 - - [05/Dec/2026:07:00:01 +0000] "GET /index.html HTTP/1.1" 200 512)",
    R"(10.0.0.3 - - [05/Dec/2026:07:00:02 +0000] "POST /login HTTP/1.1" 500 0)",
    R"(10.0.0.4 - - [05/Dec/2026:07:00:03 +0000] "GET /healthz HTTP/1.1" 404 0)",
};

TEST_CASE("exclude drops the records that match") {
  PluginHarness h("grep", "{ exclude: 'GET /health' }");
  REQUIRE(h.ok());
  CHECK(Verdicts(h, kAccess) == std::vector<Verdict>{D, K, K, D});
  PluginHarness anchored("grep", R"({ exclude: 'GET /health ' })");
  CHECK(Verdicts(anchored, kAccess) == std::vector<Verdict>{D, K, K, K});
}

TEST_CASE("include keeps only the records that match one of the regexes") {
  PluginHarness h("grep", R"({ include: ['" 5\d\d ', 'POST'] })");
  REQUIRE(h.ok());
  CHECK(Verdicts(h, kAccess) == std::vector<Verdict>{D, D, K, D});
  PluginHarness one("grep", R"({ include: '" [45]\d\d ' })");
  CHECK(Verdicts(one, kAccess) == std::vector<Verdict>{D, D, K, K});
}

TEST_CASE("with both, a record is kept when it matches an include and no exclude") {
  PluginHarness h("grep", R"({ include: 'GET', exclude: ['/healthz', '" 5\d\d '] })");
  REQUIRE(h.ok());
  CHECK(Verdicts(h, kAccess) == std::vector<Verdict>{K, K, D, D});
  PluginHarness nocase("grep", R"({ include: '(?i)get /INDEX' })");
  CHECK(Verdicts(nocase, kAccess) == std::vector<Verdict>{D, K, D, D});
}

TEST_CASE("a field of a JSON record is matched instead of the whole record") {
  PluginHarness h("grep", R"({ field: httpRequest.uri, exclude: ['^/health', '^/metrics$'] })");
  REQUIRE(h.ok());
  auto out =
      h.Run({R"({"httpRequest":{"uri":"/health","args":""}})",
             R"({"httpRequest":{"uri":"/login"},"x":"/health"})", R"({"httpRequest":{"uri":"/metrics"}})",
             R"({"httpRequest":{}})", "GET /health", R"({"httpRequest":{"uri":{"nested":"/health"}}})"});
  CHECK(out[0].verdict == D);
  CHECK(out[1].verdict == K);  // "/health" elsewhere in the record does not count
  CHECK(out[2].verdict == D);
  CHECK(out[3].verdict == K);  // missing: matches no exclude
  CHECK(out[4].verdict == F);  // not JSON
  CHECK(out[4].reason == "not JSON: invalid value at byte 0");
  CHECK(out[5].verdict == K);  // an object matches nothing

  PluginHarness include("grep", R"({ field: status, include: '^5' })");
  REQUIRE(include.ok());
  CHECK(Verdicts(include, {R"({"status":503})", R"({"status":"500"})", R"({"status":200})", R"({})",
                           R"({"status":null})"}) == std::vector<Verdict>{K, K, D, D, D});

  PluginHarness any("grep", R"({ field: 'headers[name == i"user-agent"].value', exclude: '(?i)bot' })");
  REQUIRE(any.ok());
  CHECK(
      Verdicts(any,
               {R"({"headers":[{"name":"Host","value":"bot.example"},{"name":"User-Agent","value":"curl"}]})",
                R"({"headers":[{"name":"user-agent","value":"Googlebot/2.1"}]})"}) ==
      std::vector<Verdict>{K, D});
}

TEST_CASE("binary and invalid UTF-8 records are searched, never failed") {
  PluginHarness h("grep", R"({ include: ['error', 'caf\x{e9}'] })");
  REQUIRE(h.ok());
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
  CHECK(Verdicts(h, {"\xFF\xFE error \x80\x81", binary, std::string("\0\0error\0", 8), "caf\xC3\xA9",
                     "caf\xE9", ""}) == std::vector<Verdict>{K, D, K, K, D, D});
  // \C matches any byte, . only a character.
  PluginHarness bytes("grep", R"({ include: 'a\Cb' })");
  PluginHarness chars("grep", R"({ include: 'a.b' })");
  CHECK(Verdicts(bytes, {"a\xFF"
                         "b",
                         "a\xC3\xA9"
                         "b"}) == std::vector<Verdict>{K, D});
  CHECK(Verdicts(chars, {"a\xFF"
                         "b",
                         "a\xC3\xA9"
                         "b"}) == std::vector<Verdict>{D, K});
}

TEST_CASE("a regex that makes backtracking engines explode runs in linear time") {
  const std::string attack = std::string(100 * 1024, 'a') + "!";
  for (const char* options : {"{ include: '(a+)+$' }", "{ include: ['(a+)+$', '(a|aa)+$', '(a*)*b'] }",
                              "{ exclude: '^(([a-z])+.)+[A-Z]([a-z])+$' }"}) {
    PluginHarness h("grep", options);
    REQUIRE(h.ok());
    const auto start = std::chrono::steady_clock::now();
    auto out = h.Run({attack, attack, attack});
    const auto took = std::chrono::steady_clock::now() - start;
    INFO(options);
    CHECK(out[0].verdict == (std::string_view(options).find("exclude") != std::string_view::npos ? K : D));
    // Backtracking takes longer than the universe's age here; RE2 takes about a millisecond. The bound is
    // loose for slow sanitizer builds on a busy machine.
    CHECK(took < std::chrono::seconds(2));
  }
}

TEST_CASE("bad grep options are reported at their place in the config") {
  auto errors = [](std::string_view yaml) {
    PluginHarness h("grep", yaml);
    REQUIRE_FALSE(h.ok());
    return h.all_errors();
  };
  CHECK(errors("{ include: 'a(b' }") ==
        "ferry.yaml:1:12: flows[0].plugins[0].grep.include: invalid regex 'a(b': missing ): a(b\n");
  CHECK(errors("{ exclude: [ok, 'x[', '(?<n>a)'] }") ==
        "ferry.yaml:1:17: flows[0].plugins[0].grep.exclude[1]: invalid regex 'x[': missing ]: [\n"
        "ferry.yaml:1:23: flows[0].plugins[0].grep.exclude[2]: invalid regex '(?<n>a)': invalid perl "
        "operator: (?<\n");
  CHECK(errors("{ exclude: [] }") ==
        "ferry.yaml:1:12: flows[0].plugins[0].grep.exclude: expected at least one regex\n");
  CHECK(errors("{ exclude: x, field: 'a.' }").find("grep.field: invalid field path 'a.': column 3") !=
        std::string::npos);
  CHECK(errors("{ field: a }") == "grep needs include or exclude (or both)\n");
  CHECK(errors("") == "grep needs include or exclude (or both)\n");
}

}  // namespace
}  // namespace ferry::plugins
