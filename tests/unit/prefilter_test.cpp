// Tests of redact's prefilter (plugins/redact/prefilter.h): the bytes it reports, digit runs, and, for
// every library pattern, that what the pattern says it needs is present in the secrets it takes (a wrong
// need would silently switch a pattern off).
#include "plugins/redact/prefilter.h"

#include <catch2/catch.hpp>

#include <re2/re2.h>

#include <map>
#include <string>
#include <vector>

#include "plugins/redact/matcher.h"
#include "plugins/redact/pattern_library.h"

namespace ferry::plugins::redact {
namespace {

TEST_CASE("the prefilter reports each kind of byte a record holds", "[redact]") {
  CHECK(Present("") == kNeedsNothing);
  CHECK(Present("hello world") == kNeedsLetterE);
  CHECK(Present("x@y.z") == (kNeedsAt | kNeedsDot));
  CHECK(Present("k=v") == kNeedsAssign);
  CHECK(Present("x:y") == (kNeedsColon | kNeedsAssign));
  CHECK(Present("+-/") == (kNeedsPlus | kNeedsDash | kNeedsSlash));
  CHECK(Present("AJB") == (kNeedsUpper | kNeedsUpperA | kNeedsUpperJ | kNeedsLetterB));
  CHECK(Present("123 456") == kNeedsDigit);
  CHECK(Present("1234") == (kNeedsDigit | kNeedsDigits4));
  CHECK(Present("x 12 3456 y") == (kNeedsDigit | kNeedsDigits4));
  CHECK(Present(std::string("\xff\x00\x80", 3)) == kNeedsNothing);
}

TEST_CASE("every library pattern's needs are present in what it takes", "[redact]") {
  const std::map<std::string, std::vector<std::string>> samples = {
      {"email", {"a@b.co", "X.Y+z@mail.example.org"}},
      {"ipv4", {"0.0.0.0", "255.255.255.255"}},
      {"ipv6", {"::1", "fe80::1", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4"}},
      {"credit_card", {"4111111111111111", "3782 822463 10005"}},
      {"aws_access_key_id", {"AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A"}},
      {"aws_secret_access_key",
       {"key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "SECRET: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
      {"bearer_token", {"Authorization: Bearer a", "BEARER aaaaaaaaaaaaaaaa"}},
      {"jwt", {"eyJa.b.", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.c2ln"}},
      {"url_password", {"://:p@", "https://u:p@h"}},
      {"us_ssn", {"123-45-6789"}},
      {"iban", {"NO9386011117947", "GB82 WEST 1234 5698 7654 32"}},
      {"phone_e164", {"+12345678", "+1 (415) 555-2671"}},
  };
  REQUIRE(samples.size() == PatternLibrary().size());
  for (const auto& p : PatternLibrary()) {
    RE2 re(p.regex, RedactRegexOptions());
    REQUIRE(re.ok());
    for (const auto& s : samples.at(std::string(p.name))) {
      INFO(p.name << ": " << s);
      CHECK(RE2::PartialMatch(s, re));
      CHECK((Present(s) & p.needs) == p.needs);
    }
  }
}

}  // namespace
}  // namespace ferry::plugins::redact
