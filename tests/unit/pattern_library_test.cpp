// Tests of redact's named patterns (plugins/redact/pattern_library.h), each alone in a plugin made from
// its YAML: the true positives it must take (only the secret, the context around it stays) and the
// look-alikes that must survive unchanged (version strings, times, Luhn and mod-97 failures, unissued
// SSNs, prose).
#include "plugins/redact/pattern_library.h"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "tests/unit/plugin_harness.h"

namespace ferry::plugins::redact {
namespace {

using Cases = std::vector<std::pair<std::string, std::string>>;  // record, what it must become

void Expect(const std::string& pattern, const Cases& cases, const std::string& extra = "") {
  PluginHarness h("redact", "{ patterns: [" + pattern + "], replace: X" + extra + " }");
  REQUIRE(h.ok());
  for (const auto& [in, out] : cases) {
    INFO(pattern << ": " << in);
    CHECK(h.One(in) == out);
  }
}

// Look-alikes: each must come out as it went in.
void Survive(const std::string& pattern, const std::vector<std::string>& records) {
  Cases cases;
  for (const auto& r : records) cases.emplace_back(r, r);
  Expect(pattern, cases);
}

TEST_CASE("email takes addresses and leaves handles, hosts and versions", "[redact]") {
  Expect("email", {{"from john.doe+tag@mail.example.co.uk today", "from X today"},
                   {"<a_b@example.org>", "<X>"},
                   {"to=A.B@EXAMPLE.COM, cc=c@d.io.", "to=X, cc=X."},
                   {"mailto:someone@example.net", "mailto:X"},
                   {"a@b.example;c@d.example", "X;X"}});
  Survive("email",
          {"user@localhost", "npm i lodash@4.17.21", "@handle and @other", "a@b", "x @ y.com", "foo@-",
           "@@@.com", "postgres://app:s3cr3t@db.example.com:5432/app", "ftp://:pw@h.example"});
  // Only the password position of a URL is passed over: an address after a colon elsewhere is taken.
  Expect("email", {{"to:a@b.example", "to:X"},
                   {"https://x.example/?to=me:a@b.example", "https://x.example/?to=me:X"}});
}

TEST_CASE("email inside URLs is taken by default and left with emails_in_urls: keep", "[redact]") {
  const std::string url = "GET https://build@ci.example.com/job?to=a@b.example 200";
  Expect("email", {{url, "GET https://X/job?to=X 200"}});
  Expect("email",
         {{url, url},
          {"mailto:someone@example.net https://x.example/u/me@here.example",
           "mailto:X https://x.example/u/me@here.example"},
          {"user me@here.example at https://h.example/", "user X at https://h.example/"}},
         ", emails_in_urls: keep");
}

TEST_CASE("ipv4 takes addresses and leaves versions and longer dotted numbers", "[redact]") {
  Expect("ipv4", {{"client 192.168.0.1 port", "client X port"},
                  {"10.0.0.1:8080", "X:8080"},
                  {"net 10.0.0.0/8.", "net X/8."},
                  {"[255.255.255.255]", "[X]"},
                  {"0.0.0.0,127.0.0.1", "X,X"},
                  {"from=1.2.3.4 to=5.6.7.8", "from=X to=X"}});
  Survive("ipv4", {"version 1.2.3.4.5", "v10.0.0.1-beta", "256.1.1.1", "1.2.3", "01.02.03.04", "1.2.3.4a",
                   "host1.2.3.4", "2023.10.05.1", "1.2.3.456", "0.1.2.3.4.5.6.7"});
}

TEST_CASE("ipv6 takes full, compressed and v4-mapped forms and leaves times and MACs", "[redact]") {
  Expect("ipv6", {{"from 2001:0db8:85a3:0000:0000:8a2e:0370:7334 ok", "from X ok"},
                  {"fe80::1%eth0", "X%eth0"},
                  {"[2001:db8::1]:443", "[X]:443"},
                  {"::1", "X"},
                  {"::ffff:192.0.2.128 x", "X x"},
                  {"64:ff9b::192.0.2.33", "X"},
                  {"2001:db8::", "X"},
                  {"peer=2001:db8:0:0:1::1,", "peer=X,"}});
  Survive("ipv6", {"at 12:34:56", "12:34:56.789", "00:1a:2b:3c:4d:5e", "key :: value", "std::vector<int>",
                   "Db::Add", "dead::beef", "a:b:c", "2024-01-01T10:20:30Z"});
}

TEST_CASE("credit_card takes Luhn-valid numbers and leaves failures and longer runs", "[redact]") {
  Expect("credit_card", {{"card 4111111111111111 ok", "card X ok"},
                         {"4111 1111 1111 1111", "X"},
                         {"5500-0000-0000-0004.", "X."},
                         {"amex 3782 822463 10005", "amex X"},
                         {"visa13=4222222222222", "visa13=X"},
                         {"6011000000000000001", "X"},
                         {"4111 1111 1111 1111 2024", "X 2024"},
                         {"4111 1111 1111 1111 123", "X 123"},
                         {"\"pan\":\"6011111111111117\"", "\"pan\":\"X\""}});
  Survive("credit_card",
          {"4111111111111112", "4111 1111 1111 1112", "41111111111111111111", "14111111111111111",
           "ts=1700000000129", "0.4111111111111111", "4111111111111111.5", "id 4111111111111111x",
           "4111  1111  1111  1111", "1700000000129 ms", "12345678901234"});
}

TEST_CASE("aws_access_key_id takes AKIA and ASIA ids and leaves other words", "[redact]") {
  Expect("aws_access_key_id",
         {{"key=AKIAIOSFODNN7EXAMPLE,", "key=X,"}, {"\"ASIAY34FZKBOKMUTVV7A\"", "\"X\""}});
  Survive("aws_access_key_id", {"AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPLEX", "XAKIAIOSFODNN7EXAMPLE",
                                "AKIAIOSFODNN1EXAMPLE", "AGPAIOSFODNN7EXAMPLE", "akiaiosfodnn7example"});
}

TEST_CASE("aws_secret_access_key takes only the value in key, secret and header contexts", "[redact]") {
  const std::string s = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  Expect("aws_secret_access_key",
         {{"aws_secret_access_key=" + s, "aws_secret_access_key=X"},
          {"AWS_SECRET_ACCESS_KEY = " + s + " more", "AWS_SECRET_ACCESS_KEY = X more"},
          {"{\"secret\": \"" + s + "\"}", "{\"secret\": \"X\"}"},
          {"{\"SecretAccessKey\":\"" + s + "\"}", "{\"SecretAccessKey\":\"X\"}"},
          {"X-Secret-Key: " + s, "X-Secret-Key: X"},
          {"key=" + s, "key=X"},
          {"my_secret_key: '" + s + "'", "my_secret_key: 'X'"}});
  Survive("aws_secret_access_key",
          {"sha=" + s, s, "monkey=" + s, "key=" + s + "A", "key=" + s.substr(1), "secret is " + s});
}

TEST_CASE("bearer_token takes the token only and leaves prose", "[redact]") {
  Expect("bearer_token", {{"Authorization: Bearer abc.def", "Authorization: Bearer X"},
                          {"authorization=\"bearer xyz\"", "authorization=\"bearer X\""},
                          {"sent bearer 0123456789abcdefXYZ== now", "sent bearer X now"},
                          {"BEARER   aaaaaaaaaaaaaaaaaaaa", "BEARER   X"}});
  Survive("bearer_token", {"the bearer of bad news", "bearer tokens are short-lived", "Bearer",
                           "Authorization: Basic dXNlcjpwYXNz", "nobearer 0123456789abcdefXYZ"});
}

TEST_CASE("jwt takes three to five base64url parts starting eyJ", "[redact]") {
  const std::string jwt =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
      "XgL0n3I9PlFUP0THsR8U";
  Expect("jwt", {{"token=" + jwt + "&x=1", "token=X&x=1"},
                 {"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "X"},
                 {"jwe eyJhbGciOiJSU0EifQ.a1.b2.c3.d4 end", "jwe X end"}});
  Survive("jwt",
          {"eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.", "abc.def.ghi", "xeyJa.b.c", "file.eyJ.txt"});
}

TEST_CASE("url_password takes the password only", "[redact]") {
  Expect("url_password",
         {{"postgres://app:s3cr3t@db.internal:5432/app", "postgres://app:X@db.internal:5432/app"},
          {"redis://:hunter2@cache/0", "redis://:X@cache/0"},
          {"https://u:p@ss@host/x?y", "https://u:X@host/x?y"},
          {"a ftp://x:y@h b ftp://z:w@h", "a ftp://x:X@h b ftp://z:X@h"}});
  Survive("url_password", {"https://host:8080/path", "https://user@host/", "ssh://git@host:22/repo",
                           "https://host/a:b@c", "user:pass@host", "https://u:@host/"});
}

TEST_CASE("us_ssn takes issued numbers and leaves the never-issued ranges", "[redact]") {
  Expect("us_ssn", {{"ssn 123-45-6789.", "ssn X."}, {"(078-05-1120)", "(X)"}, {"773-12-3456", "X"}});
  Survive("us_ssn", {"000-12-3456", "666-12-3456", "900-12-3456", "999-99-9999", "123-00-4567", "123-45-0000",
                     "123456789", "123-45-67890", "1123-45-6789", "2023-10-05", "123-45-6789-1",
                     "a123-45-6789", "1.123-45-6789"});
}

TEST_CASE("iban takes mod-97-valid numbers, spaced or not", "[redact]") {
  Expect("iban", {{"iban DE89370400440532013000 ok", "iban X ok"},
                  {"DE89 3704 0044 0532 0130 00", "X"},
                  {"to GB82 WEST 1234 5698 7654 32.", "to X."},
                  {"BE68 5390 0754 7034 DATE", "X DATE"},
                  {"NO9386011117947", "X"}});
  Survive("iban", {"DE89370400440532013001", "DE89 3704 0044 0532 0130 01", "gb82west12345698765432",
                   "XDE89370400440532013000", "DE893704004405320130001", "AB12CDEF1234567890"});
}

TEST_CASE("phone_e164 takes + and 8 to 15 digits and leaves shorter numbers and sums", "[redact]") {
  Expect("phone_e164", {{"call +14155552671 now", "call X now"},
                        {"+44 20 7946 0958", "X"},
                        {"tel:+1 (415) 555-2671", "tel:X"},
                        {"+49-30-901820.", "X."}});
  Survive("phone_e164", {"+1234567", "+0123456789", "tz +0100", "1+23456789", "x+14155552671",
                         "+1234567890123456789", "+14155552671x"});
}

TEST_CASE("every pattern is documented and findable by name", "[redact]") {
  REQUIRE(PatternLibrary().size() == 12);
  for (const auto& p : PatternLibrary()) {
    CHECK(FindLibraryPattern(p.name) == &p);
    CHECK_FALSE(p.summary.empty());
    CHECK(LibraryNames().find(std::string(p.name)) != std::string::npos);
  }
  CHECK(FindLibraryPattern("password") == nullptr);
}

}  // namespace
}  // namespace ferry::plugins::redact
