// Tests of the checksums redact uses to tell real numbers from look-alikes (plugins/redact/checksums.h):
// Luhn on card numbers as they are written (separators included) and IBAN mod-97, against published test
// numbers and the same numbers with one digit changed.
#include "plugins/redact/checksums.h"

#include <catch2/catch.hpp>

namespace ferry::plugins::redact {
namespace {

TEST_CASE("Luhn accepts the card networks' test numbers", "[redact]") {
  CHECK(LuhnValid("4111111111111111"));
  CHECK(LuhnValid("5500 0000 0000 0004"));
  CHECK(LuhnValid("3782-822463-10005"));
  CHECK(LuhnValid("6011111111111117"));
  CHECK(LuhnValid("4222222222222"));
  CHECK(LuhnValid("6011000000000000001"));  // 19 digits
}

TEST_CASE("Luhn refuses a changed digit, swapped neighbours, other characters and no digits", "[redact]") {
  CHECK_FALSE(LuhnValid("4111111111111112"));
  CHECK_FALSE(LuhnValid("4111111111111121"));
  CHECK_FALSE(LuhnValid("5500 0000 0000 0040"));
  CHECK_FALSE(LuhnValid("4111x111111111111"));
  CHECK_FALSE(LuhnValid(""));
  CHECK_FALSE(LuhnValid(" - "));
}

TEST_CASE("IBAN mod-97 accepts published examples, spaced or not", "[redact]") {
  CHECK(IbanValid("DE89370400440532013000"));
  CHECK(IbanValid("DE89 3704 0044 0532 0130 00"));
  CHECK(IbanValid("GB82 WEST 1234 5698 7654 32"));
  CHECK(IbanValid("NL91ABNA0417164300"));
  CHECK(IbanValid("BE68539007547034"));
  CHECK(IbanValid("FR1420041010050500013M02606"));
  CHECK(IbanValid("NO9386011117947"));  // 15, the shortest
}

TEST_CASE("IBAN mod-97 refuses changed digits, bad shapes and lower case", "[redact]") {
  CHECK_FALSE(IbanValid("DE89370400440532013001"));
  CHECK_FALSE(IbanValid("DE98370400440532013000"));  // check digits swapped
  CHECK_FALSE(IbanValid("GB82 WEST 1234 5698 7654 33"));
  CHECK_FALSE(IbanValid("gb82 west 1234 5698 7654 32"));
  CHECK_FALSE(IbanValid("D189370400440532013000"));                 // country code is not two letters
  CHECK_FALSE(IbanValid("DE8937040044"));                           // too short
  CHECK_FALSE(IbanValid("DE89370400440532013000000000000000000"));  // over 34
  CHECK_FALSE(IbanValid("DE89-3704-0044-0532-0130-00"));
}

}  // namespace
}  // namespace ferry::plugins::redact
