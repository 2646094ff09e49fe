// Prefilter: a 256-entry table from byte to Needs bits, OR-ed over the record, plus a count of digits in
// a row.
#include "plugins/redact/prefilter.h"

#include <array>

namespace ferry::plugins::redact {

namespace {

constexpr std::array<Needs, 256> MakeTable() {
  std::array<Needs, 256> t{};
  t['@'] = kNeedsAt;
  t[':'] = kNeedsColon | kNeedsAssign;
  t['='] = kNeedsAssign;
  t['.'] = kNeedsDot;
  t['+'] = kNeedsPlus;
  t['-'] = kNeedsDash;
  t['/'] = kNeedsSlash;
  for (int c = '0'; c <= '9'; ++c) t[c] = kNeedsDigit;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kNeedsUpper;
  t['A'] |= kNeedsUpperA;
  t['B'] |= kNeedsLetterB;
  t['b'] |= kNeedsLetterB;
  t['J'] |= kNeedsUpperJ;
  t['E'] |= kNeedsLetterE;
  t['e'] |= kNeedsLetterE;
  return t;
}

constexpr std::array<Needs, 256> kTable = MakeTable();

}  // namespace

Needs Present(std::string_view text) {
  Needs present = 0;
  unsigned run = 0;  // digits in a row so far
  for (char c : text) {
    Needs n = kTable[static_cast<unsigned char>(c)];
    present |= n;
    run = (n & kNeedsDigit) ? run + 1 : 0;
    if (run >= 4) present |= kNeedsDigits4;
  }
  return present;
}

}  // namespace ferry::plugins::redact
