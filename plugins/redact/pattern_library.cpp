// The named patterns. Each regex is left context, the secret as the first capture group, right context;
// the comments say what each leaves alone and why.
#include "plugins/redact/pattern_library.h"

#include "plugins/redact/checksums.h"

namespace ferry::plugins::redact {

namespace {

// One IPv4 octet, 0 to 255, without leading zeros ("01" is not an address).
constexpr std::string_view kOctet = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
// After a number: the end, or anything but a letter, a digit or a dot that continues it ("1.2.3.4.5",
// "0.4111111111111111"); a dot that ends a sentence is fine.
constexpr std::string_view kAfterNumber = "(?:$|[^0-9A-Za-z.]|\\.$|\\.[^0-9])";

std::string Ipv4() {
  std::string o(kOctet);
  return o + "\\." + o + "\\." + o + "\\." + o;
}

std::string Ipv6() {
  const std::string h = "[0-9A-Fa-f]{1,4}";
  // Embedded IPv4 first, so "::ffff:1.2.3.4" is taken whole rather than as "::ffff:1".
  std::string v4 = "(?:(?:" + h + ":){6}|(?:" + h + ":){0,5}(?:" + h + ")?::(?:" + h + ":){0,5})" + Ipv4();
  std::string full = "(?:" + h + ":){7}" + h;
  // "::" with at least one group on some side; the bare "::" of "key :: value" is not an address.
  std::string compressed =
      h + "(?::" + h + "){0,6}::(?:" + h + "(?::" + h + "){0,6})?|::" + h + "(?::" + h + "){0,6}";
  return "(?:^|[^0-9A-Za-z:.])(" + v4 + "|" + full + "|" + compressed +
         ")(?:$|[^0-9A-Za-z:.]|[:.]$|[:.][^0-9A-Za-z])";
}

std::vector<LibraryPattern> Build() {
  std::vector<LibraryPattern> p;
  p.push_back({"email",
               "(?:^|[^A-Za-z0-9._%+\\-])([A-Za-z0-9._%+\\-]+@(?:[A-Za-z0-9\\-]+\\.)+[A-Za-z][A-Za-z]+)(?:$|["
               "^A-Za-z0-9\\-])",
               Check::kNone, kNeedsAt | kNeedsDot,
               "an address local@domain.tld (the top-level domain 2 or more letters); leaves user@localhost, "
               "name@1.2.3 (npm versions: no letters in the last label), @handles, and the password and host "
               "of scheme://user:password@host (url_password takes the password)"});
  p.push_back({"ipv4", "(?:^|[^0-9A-Za-z.])(" + Ipv4() + ")" + std::string(kAfterNumber), Check::kNone,
               kNeedsDot | kNeedsDigit,
               "four dotted octets 0-255 without leading zeros; leaves longer dotted numbers (1.2.3.4.5), "
               "numbers glued to letters (v10.0.0.1), octets over 255 or with a leading zero"});
  p.push_back({"ipv6", Ipv6(), Check::kHasDigit, kNeedsColon | kNeedsDigit,
               "eight groups, compressed (::) forms with at least one group and one digit, IPv4-mapped "
               "(::ffff:1.2.3.4); leaves times (12:34:56), MAC addresses, a bare ::, C++ names (a::b needs "
               "a digit)"});
  p.push_back({"credit_card",
               "(?:^|[^0-9A-Za-z.])([2-6][0-9]{12,18}"
               "|[2-6][0-9]{3}(?:[ \\-][0-9]{4}){2}[ \\-][0-9]{1,4}(?:[ \\-][0-9]{1,3})?"
               "|[2-6][0-9]{3}[ \\-][0-9]{6}[ \\-][0-9]{4,5})" +
                   std::string(kAfterNumber),
               Check::kCard, kNeedsDigits4,
               "13 to 19 digits starting 2-6 (the payment-card ranges), together or in groups of 4 (4-6-5 "
               "and 4-6-4 too) split by single spaces or dashes, Luhn-valid; leaves Luhn failures, longer "
               "digit runs, numbers starting 0, 1, 7, 8 or 9 (millisecond timestamps), decimals"});
  p.push_back(
      {"aws_access_key_id", "(?:^|[^A-Za-z0-9])((?:AKIA|ASIA)[A-Z2-7]{16})(?:$|[^A-Za-z0-9])", Check::kNone,
       kNeedsUpperA,
       "AKIA (long-term) or ASIA (temporary) and 16 of A-Z2-7; leaves the same inside a longer word"});
  p.push_back({"aws_secret_access_key",
               "(?:^|[^A-Za-z0-9])(?i:(?:aws[_\\-]?)?secret[_\\-]?(?:access[_\\-]?)?key|secret|key)"
               "[\"']?[ \\t]*[:=][ \\t]*[\"']?([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])",
               Check::kNone, kNeedsAssign | kNeedsLetterE,
               "40 characters of A-Za-z0-9/+ as the value of key, secret, secret_key, secret_access_key, "
               "aws_secret_access_key or SecretAccessKey (any case, _ or - between words) after = or :, "
               "quoted or not (key=..., \"secret\": \"...\", X-Secret-Key: ...); only the value is replaced; "
               "leaves 40-character strings in any other place"});
  p.push_back({"bearer_token",
               "(?i:authorization)[\"']?[ \\t]*[:=][ \\t]*[\"']?(?i:bearer)[ \\t]+([A-Za-z0-9\\-._~+/]+=*)"
               "|(?:^|[^A-Za-z0-9])(?i:bearer)[ \\t]+([A-Za-z0-9\\-._~+/]{16,}=*)",
               Check::kNone, kNeedsLetterB,
               "the token after `Authorization: Bearer` (any length) or after the word bearer (16 characters "
               "or more); only the token is replaced; leaves prose (\"bearer of news\")"});
  p.push_back({"jwt",
               "(?:^|[^A-Za-z0-9_\\-])(eyJ[A-Za-z0-9_\\-]+\\.[A-Za-z0-9_\\-]+\\.[A-Za-z0-9_\\-]*"
               "(?:\\.[A-Za-z0-9_\\-]+){0,2})(?:$|[^A-Za-z0-9_\\-])",
               Check::kNone, kNeedsUpperJ | kNeedsDot,
               "three (JWS) to five (JWE) base64url parts joined by dots, the first starting eyJ (a JSON "
               "header); leaves dotted words that do not start eyJ"});
  p.push_back({"url_password", "://[^ \\t\\r\\n:/?#@\"'<>]*:([^ \\t\\r\\n/?#\"'<>]+)@", Check::kNone,
               kNeedsColon | kNeedsSlash | kNeedsAt,
               "the password of scheme://user:password@host (up to the last @ before the path); leaves "
               "the user, the host, host:port and URLs with no password"});
  p.push_back({"us_ssn",
               "(?:^|[^0-9A-Za-z\\-.])([0-9]{3}-[0-9]{2}-[0-9]{4})(?:$|[^0-9A-Za-z\\-.]|\\.$|\\.[^0-9])",
               Check::kSsn, kNeedsDash | kNeedsDigits4,
               "AAA-GG-SSSS with dashes; leaves areas 000, 666 and 900-999, group 00, serial 0000 (never "
               "issued), numbers without dashes and longer dashed runs"});
  p.push_back({"iban",
               "(?:^|[^A-Za-z0-9])([A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}"
               "|[A-Z]{2}[0-9]{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)(?:$|[^A-Za-z0-9])",
               Check::kIban, kNeedsUpper | kNeedsDigit,
               "country code, 2 check digits and 11 to 30 letters or digits, together or in groups of 4 "
               "split by spaces, mod-97 verified; leaves check-digit failures and lower case"});
  p.push_back(
      {"phone_e164",
       "(?:^|[^0-9A-Za-z+])(\\+[1-9](?:(?:[ .\\-]|\\) ?| ?\\()?[0-9]){7,14})" + std::string(kAfterNumber),
       Check::kNone, kNeedsPlus | kNeedsDigit,
       "+, a first digit 1-9 and 7 to 14 more digits (8 to 15 in all), with single spaces, dots, "
       "dashes or parentheses between them (+1 (415) 555-2671); leaves shorter numbers, +0..., "
       "offsets (+0100) and a + glued to a digit or letter before it (1+23456789)"});
  return p;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

std::size_t CountDigits(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += IsDigit(c) ? 1 : 0;
  return n;
}

// Three digits at s as a number.
int Number(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

bool CardValid(std::string_view s) {
  std::size_t digits = CountDigits(s);
  return digits >= 13 && digits <= 19 && LuhnValid(s);
}

bool SsnValid(std::string_view s) {
  // AAA-GG-SSSS, as the regex guarantees.
  if (s.size() != 11) return false;
  int area = Number(s.substr(0, 3));
  int group = Number(s.substr(4, 2));
  int serial = Number(s.substr(7, 4));
  return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

// value, then value without its last separated group, and so on while shorter forms remain possible.
template <typename Valid>
bool ValidOrShorter(std::string_view value, std::string_view separators, Valid valid, std::size_t& length) {
  while (!value.empty()) {
    if (valid(value)) {
      length = value.size();
      return true;
    }
    std::size_t cut = value.find_last_of(separators);
    if (cut == std::string_view::npos) return false;
    value = value.substr(0, cut);
  }
  return false;
}

}  // namespace

const std::vector<LibraryPattern>& PatternLibrary() {
  static const std::vector<LibraryPattern> library = Build();
  return library;
}

const LibraryPattern* FindLibraryPattern(std::string_view name) {
  for (const auto& p : PatternLibrary()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string LibraryNames() {
  std::string names;
  for (const auto& p : PatternLibrary()) names += (names.empty() ? "" : ", ") + std::string(p.name);
  return names;
}

bool PassesCheck(Check check, std::string_view value, std::size_t& length) {
  length = value.size();
  switch (check) {
    case Check::kNone:
      return true;
    case Check::kHasDigit:
      return CountDigits(value) > 0;
    case Check::kCard:
      return ValidOrShorter(value, " -", CardValid, length);
    case Check::kIban:
      return ValidOrShorter(value, " ", IbanValid, length);
    case Check::kSsn:
      return SsnValid(value);
  }
  return false;
}

}  // namespace ferry::plugins::redact
