// Tests of the redact plugin (plugins/redact/redact_plugin.h) made from its YAML through the registry:
// option errors located and explained (unknown pattern names list the known ones, bad regexes carry RE2's
// words, a hash key file is read when made), regexes of one's own with a capture group, per-pattern
// replacements, overlapping secrets merged, records with no secret kept as they are, empty, binary and
// invalid UTF-8 records, and inputs that make backtracking engines explode finishing in linear time.
#include "plugins/redact/redact_plugin.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "plugins/redact/pattern_library.h"
#include "tests/unit/plugin_harness.h"
#include "tests/unit/scratch_dir.h"

namespace ferry::plugins {
namespace {

std::string AllPatterns() {
  std::string names;
  for (const auto& p : redact::PatternLibrary()) names += (names.empty() ? "" : ", ") + std::string(p.name);
  return names;
}

bool HasError(const PluginHarness& h, const std::string& a, const std::string& b = "") {
  for (const auto& e : h.errors()) {
    if (e.find(a) != std::string::npos && e.find(b) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("redact refuses unknown pattern names, listing the known ones, at their position", "[redact]") {
  PluginHarness h("redact", "{ patterns: [email, passwords] }");
  REQUIRE_FALSE(h.ok());
  INFO(h.all_errors());
  CHECK(HasError(h, "ferry.yaml:1:21: flows[0].plugins[0].redact.patterns[1]",
                 "no pattern called 'passwords'"));
  CHECK(HasError(h, "known: " + AllPatterns()));
  PluginHarness named("redact", "{ patterns: [{ name: cc, replace: X }] }");
  CHECK(HasError(named, "patterns[0].name", "no pattern called 'cc'"));
  PluginHarness twice("redact", "{ patterns: [email, email] }");
  CHECK(HasError(twice, "patterns[1]", "given twice"));
}

TEST_CASE("redact refuses a bad regex with RE2's words and a group the regex lacks", "[redact]") {
  PluginHarness bad("redact", "{ patterns: [{ regex: 'token=(\\w+' }] }");
  REQUIRE_FALSE(bad.ok());
  INFO(bad.all_errors());
  CHECK(HasError(bad, "patterns[0].regex", "not a valid RE2 regex: missing )"));
  PluginHarness lookbehind("redact", "{ patterns: [{ regex: '(?<=a)b' }] }");
  CHECK(HasError(lookbehind, "patterns[0].regex", "not a valid RE2 regex"));
  PluginHarness group("redact", "{ patterns: [{ regex: 'a(b)', group: 2 }] }");
  CHECK(HasError(group, "patterns[0].group", "1 capture group"));
  PluginHarness named("redact", "{ patterns: [{ regex: 'a(?P<v>b)', group: value }] }");
  CHECK(HasError(named, "patterns[0].group", "no group named 'value'"));
  PluginHarness name("redact", "{ patterns: [{ regex: 'a', name: 'my token' }] }");
  CHECK(HasError(name, "patterns[0].name", "letters, digits and _"));
  PluginHarness keys("redact", "{ patterns: [{ regex: 'a', replce: X }] }");
  CHECK(HasError(keys, "patterns[0].replce", "unknown key"));
  PluginHarness empty("redact", "{ patterns: [] }");
  CHECK(HasError(empty, "redact.patterns", "expected a list"));
  PluginHarness none("redact", "{ replace: X }");
  CHECK(HasError(none, "redact.patterns", "missing required key"));
}

TEST_CASE("redact refuses replace forms it does not know", "[redact]") {
  PluginHarness kind("redact", "{ patterns: [email], replace: { blur: {} } }");
  CHECK(HasError(kind, "redact.replace.blur", "known: mask, hash"));
  PluginHarness ch("redact", "{ patterns: [email], replace: { mask: { char: '**' } } }");
  CHECK(HasError(ch, "replace.mask.char", "one printable ASCII character"));
  PluginHarness keep("redact", "{ patterns: [email], replace: { mask: { keep_last: 65 } } }");
  CHECK(HasError(keep, "replace.mask.keep_last"));
  PluginHarness rel("redact", "{ patterns: [email], replace: { hash: { key_file: redact.key } } }");
  CHECK(HasError(rel, "replace.hash.key_file", "absolute path"));
  PluginHarness nokey("redact", "{ patterns: [email], replace: { hash: {} } }");
  CHECK(HasError(nokey, "replace.hash.key_file", "missing required key"));
  PluginHarness words("redact", "{ patterns: [email], emails_in_urls: sometimes }");
  CHECK(HasError(words, "emails_in_urls", "redact, keep"));
}

TEST_CASE("redact reads the hash key file when made and refuses one it cannot use, naming it", "[redact]") {
  testing::ScratchDir dir;
  PluginHarness missing("redact",
                        "{ patterns: [email], replace: { hash: { key_file: " + (dir / "none.key") + " } } }");
  REQUIRE_FALSE(missing.ok());
  CHECK(HasError(missing, dir / "none.key", "No such file"));
  std::ofstream(dir / "empty.key").flush();
  PluginHarness empty("redact", "{ patterns: [{ name: email, replace: { hash: { key_file: " +
                                    (dir / "empty.key") + " } } }] }");
  CHECK(HasError(empty, dir / "empty.key", "empty"));
}

TEST_CASE("redact keeps a record with no secret and replaces one with secrets, once each", "[redact]") {
  PluginHarness h("redact", "{ patterns: [email, ipv4] }");
  REQUIRE(h.ok());
  auto out = h.Run({"GET /index.html 200", "from 10.0.0.1 by a@b.example and c@d.example", ""});
  CHECK(out[0].verdict == Verdict::kKeep);
  CHECK(out[0].text == "GET /index.html 200");
  CHECK(out[1].verdict == Verdict::kReplace);
  CHECK(out[1].text == "from [REDACTED] by [REDACTED] and [REDACTED]");
  CHECK(out[2].verdict == Verdict::kKeep);
  CHECK(out[2].text.empty());
}

TEST_CASE("a regex of one's own replaces its whole match or the group it names", "[redact]") {
  PluginHarness whole("redact", "{ patterns: [{ regex: 'token=\\w+' }], replace: X }");
  REQUIRE(whole.ok());
  CHECK(whole.One("a token=abc123 b token=z") == "a X b X");
  PluginHarness numbered("redact", "{ patterns: [{ regex: '(?i)password=(\\S+)', group: 1 }], replace: X }");
  REQUIRE(numbered.ok());
  CHECK(numbered.One("user=bob password=hunter2 PASSWORD=x&y ok") == "user=bob password=X PASSWORD=X ok");
  PluginHarness named("redact",
                      "{ patterns: [{ regex: 'pin: (?P<pin>[0-9]{4})', group: pin }], replace: X }");
  REQUIRE(named.ok());
  CHECK(named.One("pin: 1234, pin: 12") == "pin: X, pin: 12");
  // A regex that matches the empty string moves on and replaces nothing empty.
  PluginHarness empty("redact", "{ patterns: [{ regex: 'x*' }], replace: Y }");
  REQUIRE(empty.ok());
  CHECK(empty.One("axxbx") == "aYbY");
}

TEST_CASE("each pattern may have its own replace; the plugin's serves the rest", "[redact]") {
  testing::ScratchDir dir;
  std::ofstream(dir / "k") << "key";
  PluginHarness h("redact",
                  "{ patterns: [{ name: credit_card, replace: { mask: { keep_last: 4 } } }, "
                  "{ name: email, replace: { hash: { key_file: " +
                      (dir / "k") +
                      " } } }, ipv4, { regex: 'id=(\\d+)', group: 1, name: user_id, "
                      "replace: { hash: { key_file: " +
                      (dir / "k") + " } } }], replace: '<ip>' }");
  REQUIRE(h.ok());
  std::string out = h.One("card 4111 1111 1111 1111 from a@b.example at 10.1.2.3 id=42 a@b.example");
  CHECK(out.substr(0, 36) == "card **** **** **** 1111 from [email");
  // Same value and key, same token; the pattern's name labels it.
  std::size_t first = out.find("[email:");
  std::size_t last = out.rfind("[email:");
  REQUIRE(first != last);
  CHECK(out.substr(first, 24) == out.substr(last, 24));
  CHECK(out.find(" at <ip> id=[user_id:") != std::string::npos);
  CHECK(out.find("a@b.example") == std::string::npos);
}

TEST_CASE("overlapping secrets are merged so that no byte of either survives", "[redact]") {
  PluginHarness h("redact",
                  "{ patterns: [{ regex: 'abc' }, { regex: 'cde' }, jwt, bearer_token], replace: X }");
  REQUIRE(h.ok());
  CHECK(h.One("-abcdef-") == "-Xf-");
  CHECK(h.One("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln") ==
        "Authorization: Bearer X");
  PluginHarness urls("redact", "{ patterns: [email, url_password], replace: X }");
  REQUIRE(urls.ok());
  // A URL's password is not an address: the host after it stays.
  CHECK(urls.One("https://me:pw@host.example/") == "https://me:X@host.example/");
  CHECK(urls.One("postgres://app:s3cr3t@db.example.com:5432/app mail ops@example.com") ==
        "postgres://app:X@db.example.com:5432/app mail X");
}

TEST_CASE("binary records and invalid UTF-8 are searched as bytes and never fail", "[redact]") {
  std::string all_patterns = "{ patterns: [" + AllPatterns() + "], replace: X }";
  PluginHarness h("redact", all_patterns);
  REQUIRE(h.ok());
  std::string invalid =
      std::string("\xff\xfe") + "a@b.example" + std::string("\xc3\x28 4111111111111111\x80", 21);
  CHECK(h.One(invalid) == std::string("\xff\xfe") + "X" + std::string("\xc3\x28 X\x80", 6));
  std::string binary;
  for (int rep = 0; rep < 4; ++rep) {
    for (int c = 0; c < 256; ++c) binary += static_cast<char>(c);
  }
  auto out = h.Run({binary, std::string("\0\0\0", 3), std::string("10.0.0.1\0", 9)});
  CHECK(out[0].verdict != Verdict::kFail);
  CHECK(out[1].verdict == Verdict::kKeep);
  CHECK(out[2].text == std::string("X\0", 2));
  // Latin-1 letters next to a secret are not letters of it: the address still ends where ASCII ends.
  CHECK(h.One("caf\xe9 a@b.example\xe9") == "caf\xe9 X\xe9");
}

TEST_CASE("inputs that make backtracking engines explode take linear time", "[redact]") {
  PluginHarness h("redact", "{ patterns: [" + AllPatterns() +
                                ", { regex: '(a+)+b' }, { regex: '(x|xx)+y' }], replace: X }");
  REQUIRE(h.ok());
  const std::size_t n = 100 * 1024;
  std::vector<std::string> records;
  std::string digits;
  while (digits.size() < n) digits += "4111-1111 ";
  records.push_back(digits);
  records.push_back(std::string(n, '@'));
  std::string soup;
  while (soup.size() < n) soup += "a@a.a@";
  records.push_back(soup);
  std::string dots;
  while (dots.size() < n) dots += "1.";
  records.push_back(dots);
  std::string colons;
  while (colons.size() < n) colons += "a:";
  records.push_back(colons);
  records.push_back(std::string(n, 'a'));
  records.push_back(std::string(n, 'x'));
  std::string urls;
  while (urls.size() < n) urls += "s://u:p";
  records.push_back(urls);
  records.push_back("Bearer " + std::string(n, 'a'));
  auto start = std::chrono::steady_clock::now();
  auto out = h.Run(records);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // 900 KB; a backtracking engine takes hours on the (a+)+b and (x|xx)+y records alone. The bound is loose
  // for sanitizer builds on a busy machine.
  CHECK(seconds < 10);
  for (const auto& o : out) CHECK(o.verdict != Verdict::kFail);
  CHECK(out[1].verdict == Verdict::kKeep);
  CHECK(out[8].text == "Bearer X");
}

TEST_CASE("with fields, only the strings the paths select change and every other byte stays", "[redact]") {
  PluginHarness h("redact", "{ patterns: [email, credit_card], replace: X, fields: [msg, user.email] }");
  REQUIRE(h.ok());
  CHECK(
      h.One(
          R"({ "msg" : "mail a@b.example",  "other":"c@d.example", "n": 1.50e3, "user":{"email":"x@y.example"}})") ==
      R"({ "msg" : "mail X",  "other":"c@d.example", "n": 1.50e3, "user":{"email":"X"}})");
  // A number is not a string: not searched.
  CHECK(h.One(R"({"msg": 4111111111111111})") == R"({"msg": 4111111111111111})");
  // Escapes: the secret is found in the decoded string, which is written back escaped.
  CHECK(h.One(R"({"msg":"to a\u0040b.example \"quoted\"\n","x":"\u0041"})") ==
        R"({"msg":"to X \"quoted\"\n","x":"\u0041"})");
  // A key given twice: both values are searched.
  CHECK(h.One(R"({"msg":"a@b.example","msg":"c@d.example"})") == R"({"msg":"X","msg":"X"})");
  // A record that is not JSON is searched whole, as text.
  auto out = h.Run({R"({"msg":"nothing here"})", R"({"other":"c@d.example"})", "not json a@b.example", "[1,2",
                    R"({"msg":"a@b.example")"});
  CHECK(out[0].verdict == Verdict::kKeep);
  CHECK(out[1].verdict == Verdict::kKeep);
  CHECK(out[2].text == "not json X");
  CHECK(out[3].verdict == Verdict::kKeep);
  CHECK(out[4].text == R"({"msg":"X")");
}

TEST_CASE("with fields, a selected object or array gives every string inside it", "[redact]") {
  PluginHarness h("redact",
                  "{ patterns: [bearer_token, { regex: '^session=.*' }], replace: 'a\"b', "
                  "fields: ['headers[name == i\"authorization\"].value', cookies] }");
  INFO(h.all_errors());
  REQUIRE(h.ok());
  std::string waf =
      R"({"headers":[{"name":"Authorization","value":"Bearer abcdefghijklmnop1234"},)"
      R"({"name":"X-Note","value":"Bearer keepkeepkeepkeepkeep"}],"cookies":{"a":["session=1","x"],"b":"session=2"}})";
  CHECK(
      h.One(waf) ==
      R"({"headers":[{"name":"Authorization","value":"Bearer a\"b"},)"
      R"({"name":"X-Note","value":"Bearer keepkeepkeepkeepkeep"}],"cookies":{"a":["a\"b","x"],"b":"a\"b"}})");
}

TEST_CASE("with fields, deep nesting, binary bytes and invalid UTF-8 neither crash nor pass a secret",
          "[redact]") {
  PluginHarness h("redact", "{ patterns: [email], replace: X, fields: ['a[]'] }");
  REQUIRE(h.ok());
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  auto out = h.Run(
      {deep, "{\"a\":[\"\xff\xfe a@b.example \xc3\"]}", std::string("{\"a\":[\"a@b.example\"]}\0", 22)});
  CHECK(out[0].verdict == Verdict::kKeep);
  CHECK(out[1].text == "{\"a\":[\"\xff\xfe X \xc3\"]}");
  CHECK(out[2].text == std::string("{\"a\":[\"X\"]}\0", 12));
  PluginHarness bad("redact", "{ patterns: [email], fields: ['a[='] }");
  CHECK(HasError(bad, "redact.fields[0]", "invalid field path"));
}

TEST_CASE("redact's options print back as they were given and describe every key", "[redact]") {
  PluginHarness h("redact",
                  "{ patterns: [email, { regex: 'id=(\\d+)', group: 1, name: uid }, { name: iban, "
                  "replace: { mask: { keep_last: 4 } } }], replace: '#', emails_in_urls: keep }");
  REQUIRE(h.ok());
  YAML::Emitter e;
  h.spec().kind->Emit(e, h.spec());
  std::string text = e.c_str();
  INFO(text);
  CHECK(text.find("- email") != std::string::npos);
  CHECK(text.find("regex: 'id=(\\d+)'") != std::string::npos);
  CHECK(text.find("group: 1") != std::string::npos);
  CHECK(text.find("mask: {keep_last: 4, char: \"*\", keep_separators: true}") != std::string::npos);
  CHECK(text.find("replace: \"#\"") != std::string::npos);
  CHECK(text.find("emails_in_urls: keep") != std::string::npos);
  // What it printed parses to the same plugin.
  PluginHarness again("redact", text);
  CHECK(again.ok());
  std::string keys;
  h.spec().kind->Describe(keys, "flows[].plugins[].redact");
  for (const char* key : {"redact.patterns", "redact.replace", "redact.emails_in_urls", "redact.on_error"}) {
    CHECK(keys.find(key) != std::string::npos);
  }
}

}  // namespace
}  // namespace ferry::plugins
