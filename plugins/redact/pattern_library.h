// PatternLibrary: the named patterns `redact` knows (`patterns: [email, credit_card, ...]`), each an RE2
// regex plus, where a regex alone would take look-alikes, a check in code (Luhn, IBAN mod-97, the SSA's
// unassigned SSN ranges).
//
// Every regex is written for RE2's Latin-1 mode: it reads bytes, so records that are not valid UTF-8 match
// like any others and a byte above 0x7F is never part of a secret here. RE2 has no look-around, so a
// pattern says what must not touch the secret by consuming one byte of context on each side (or the start
// or end of the record); the secret itself is the first capture group that takes part in the match. A
// matcher that searches again for the next secret starts at the end of the capture, not of the match, so
// the right-hand context byte of one secret can be the left-hand one of the next.
// Immutable after first use; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/redact/prefilter.h"

namespace ferry::plugins::redact {

// What code checks of a match once the regex has found it.
enum class Check {
  kNone,
  kHasDigit,  // at least one decimal digit (IPv6: "Db::Add" is a C++ name, not an address)
  kCard,      // 13 to 19 digits, first digit 2 to 6 (payment cards), Luhn-valid
  kIban,      // IbanValid
  kSsn,       // area not 000, 666 or 900-999; group not 00; serial not 0000
};

struct LibraryPattern {
  std::string_view name;
  std::string regex;
  Check check = Check::kNone;
  Needs needs = kNeedsNothing;  // bytes a record cannot match without (prefilter.h)
  std::string_view summary;     // what it matches and what it leaves, for docs and errors
};

const std::vector<LibraryPattern>& PatternLibrary();
// The pattern called name, or null.
const LibraryPattern* FindLibraryPattern(std::string_view name);
// "email, ipv4, ...": the names, for errors.
std::string LibraryNames();

// Whether value passes check. A card number or an IBAN followed by a separator and more digits or letters
// that are not part of it ("4111 1111 1111 1111 2024", "BE68 5390 0754 7034 DATE") fails as a whole, so
// the check tries again without the last separated group, as long as the shape allows: length is set to
// the length that passed (value's own size when it passed whole).
bool PassesCheck(Check check, std::string_view value, std::size_t& length);

}  // namespace ferry::plugins::redact
