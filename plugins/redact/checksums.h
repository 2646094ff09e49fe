// Checksums that tell a real card or account number from a look-alike: Luhn (payment cards) and ISO 13616
// mod-97 (IBAN). Both read the number as it appears in a log, separators included. Pure functions.
#pragma once

#include <string_view>

namespace ferry::plugins::redact {

// True when the digits of text (spaces and dashes between them are skipped) pass the Luhn check. Text
// with any other character, or with no digit, fails.
bool LuhnValid(std::string_view text);

// True when text (upper-case letters and digits, spaces skipped) is an IBAN whose check digits verify:
// the first four characters moved to the end, letters as 10..35, the number mod 97 is 1. Checks the shape
// too: 2 letters, 2 digits, 11 to 30 more letters or digits (15 to 34 in all, ISO 13616's range).
bool IbanValid(std::string_view text);

}  // namespace ferry::plugins::redact
