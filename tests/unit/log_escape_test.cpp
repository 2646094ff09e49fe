// Tests of EscapeLogText (agent/core/log_escape): no value can start a line of its own or pass for
// something it is not; printable ASCII and valid UTF-8 text stay readable as they are.
#include "agent/core/log_escape.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace ferry {
namespace {

using namespace std::string_literals;

TEST_CASE("EscapeLogText: ferry's own messages pass unchanged", "[log]") {
  for (std::string_view text :
       {"", "ferry started: 2 flow(s), state in /var/lib/ferry",
        "Kinesis stream 'web' at https://kinesis.eu-west-1.amazonaws.com/: request of 500 records failed "
        "(AccessDeniedException: HTTP 400: User: arn:aws:iam::1:user/x is not authorized); retrying in 60000 "
        "ms",
        "file /var/log/app.log: 3 records of invalid UTF-8 (first at offset 17)"}) {
    INFO(text);
    CHECK_FALSE(NeedsLogEscape(text));
    CHECK(EscapeLogText(text) == text);
  }
}

TEST_CASE("EscapeLogText: line breaks and controls become escapes, so no line can be forged", "[log]") {
  const std::string forged = "/var/log/a\n2024-01-01T00:00:00.000+0000 error ferry was hacked.log";
  const std::string escaped = EscapeLogText(forged);
  CHECK(escaped == "/var/log/a\\n2024-01-01T00:00:00.000+0000 error ferry was hacked.log");
  CHECK(escaped.find('\n') == std::string::npos);
  CHECK(EscapeLogText("a\rb\tc") == "a\\rb\\tc");
  CHECK(EscapeLogText("\x1b[2J\x1b]0;title\x07") == "\\x1b[2J\\x1b]0;title\\x07");
  CHECK(EscapeLogText("nul\0byte"s) == "nul\\x00byte");
  CHECK(EscapeLogText("del\x7f") == "del\\x7f");
  // A backslash is doubled, so a file really named "a\n" cannot pass for an escaped line break; text for a
  // person (a regex in ferry check's errors) may keep it.
  CHECK(EscapeLogText("a\\nb") == "a\\\\nb");
  CHECK_FALSE(NeedsLogEscape("^\\d{4}", Backslashes::kKeep));
  CHECK(EscapeLogText("^\\d{4}\n", Backslashes::kKeep) == "^\\d{4}\\n");
}

TEST_CASE("EscapeLogText: valid UTF-8 stays readable; what breaks or reorders lines does not", "[log]") {
  CHECK_FALSE(NeedsLogEscape("plain"));
  CHECK(EscapeLogText("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\xa2") ==
        "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\xa2");
  CHECK(EscapeLogText("next\xc2\x85line") == "next\\u0085line");  // NEL, a C1 control
  CHECK(EscapeLogText("a\xe2\x80\xa8"
                      "b\xe2\x80\xa9") == "a\\u2028b\\u2029");              // line and paragraph separators
  CHECK(EscapeLogText("evil\xe2\x80\xaegol.exe") == "evil\\u202egol.exe");  // right-to-left override
  CHECK(EscapeLogText("\xe2\x81\xa6x\xe2\x81\xa9") == "\\u2066x\\u2069");   // isolates
}

TEST_CASE("EscapeLogText: bytes that are not UTF-8 are shown one by one", "[log]") {
  CHECK(EscapeLogText("latin1 \xe9t\xe9") == "latin1 \\xe9t\\xe9");
  CHECK(EscapeLogText("\x80\xbf") == "\\x80\\xbf");                    // stray continuation bytes
  CHECK(EscapeLogText("\xc0\xaf") == "\\xc0\\xaf");                    // overlong '/'
  CHECK(EscapeLogText("\xed\xa0\x80") == "\\xed\\xa0\\x80");           // a surrogate
  CHECK(EscapeLogText("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  CHECK(EscapeLogText("cut \xe6\x97") == "cut \\xe6\\x97");            // a sequence cut short
  CHECK(EscapeLogText("\xe6\x97\n") == "\\xe6\\x97\\n");               // ...by a line break
}

TEST_CASE("EscapeLogText: whatever the bytes, the result is one line of printable text", "[log]") {
  std::string every;
  for (int b = 0; b < 256; ++b) every += static_cast<char>(b);
  for (const std::string& text : {every, every + every, std::string(every.rbegin(), every.rend())}) {
    const std::string out = EscapeLogText(text);
    for (char c : out) {
      const auto u = static_cast<unsigned char>(c);
      // ASCII controls never survive; bytes >= 0x80 only as parts of valid UTF-8 characters.
      CHECK((u >= 0x20 && u != 0x7f));
    }
    // Escaping it again only doubles its backslashes: nothing else in it needs escaping.
    const auto backslashes = static_cast<std::size_t>(std::count(out.begin(), out.end(), '\\'));
    CHECK(EscapeLogText(out).size() == out.size() + backslashes);
  }
}

}  // namespace
}  // namespace ferry
