// Luhn and IBAN mod-97, digit by digit, with no allocation.
#include "plugins/redact/checksums.h"

#include <cstddef>

namespace ferry::plugins::redact {

namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsUpper(char c) {
  return c >= 'A' && c <= 'Z';
}

}  // namespace

bool LuhnValid(std::string_view text) {
  int sum = 0;
  int digits = 0;
  // From the right: every second digit doubled (and 9 taken off when that makes two digits).
  for (std::size_t i = text.size(); i-- > 0;) {
    char c = text[i];
    if (c == ' ' || c == '-') continue;
    if (!IsDigit(c)) return false;
    int d = c - '0';
    if (digits % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    ++digits;
  }
  return digits > 0 && sum % 10 == 0;
}

bool IbanValid(std::string_view text) {
  // The characters that count, in order, without spaces.
  char chars[34];
  std::size_t n = 0;
  for (char c : text) {
    if (c == ' ') continue;
    if (!IsDigit(c) && !IsUpper(c)) return false;
    if (n == sizeof(chars)) return false;
    chars[n++] = c;
  }
  if (n < 15) return false;
  if (!IsUpper(chars[0]) || !IsUpper(chars[1]) || !IsDigit(chars[2]) || !IsDigit(chars[3])) return false;
  // The remainder mod 97 built up a digit (or a letter's two digits) at a time: never above 3 digits.
  unsigned remainder = 0;
  for (std::size_t k = 0; k < n; ++k) {
    char c = chars[(k + 4) % n];
    if (IsDigit(c)) {
      remainder = (remainder * 10 + static_cast<unsigned>(c - '0')) % 97;
    } else {
      remainder = (remainder * 100 + static_cast<unsigned>(c - 'A' + 10)) % 97;
    }
  }
  return remainder == 1;
}

}  // namespace ferry::plugins::redact
