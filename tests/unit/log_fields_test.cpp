// Tests of LogFields (agent/core/log_fields): a marked value is formatted in place, and StripLogFields
// gives the message as it reads without marks plus the marked values; stray NULs stay text.
#include "agent/core/log_fields.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace ferry {
namespace {

TEST_CASE("A marked file reads as its path and comes back as a field", "[log]") {
  const std::string message = fmt::format("flow {}: {}: gone", "web", LogFile{"/var/log/a b.log"});
  CHECK(MayHaveLogFields(message));
  std::vector<LogField> fields;
  CHECK(StripLogFields(message, &fields) == "flow web: /var/log/a b.log: gone");
  REQUIRE(fields.size() == 1);
  CHECK(fields[0].key == "file");
  CHECK(fields[0].value == "/var/log/a b.log");
}

TEST_CASE("NULs that are not marks stay in the text", "[log]") {
  CHECK_FALSE(MayHaveLogFields("plain"));
  std::vector<LogField> fields;
  const std::string stray("a\0b=c\0d\0", 8);  // "b" is no key ferry marks
  CHECK(StripLogFields(stray, &fields) == stray);
  CHECK(fields.empty());
  const std::string cut = std::string("x ") + std::string("\0file=/no/end", 13);
  CHECK(StripLogFields(cut, &fields) == cut);
  CHECK(fields.empty());
  const std::string two = fmt::format("{} -> {}", LogFile{"/a"}, LogFile{""});
  CHECK(StripLogFields(two, &fields) == "/a -> ");
  CHECK(fields.size() == 2);
}

}  // namespace
}  // namespace ferry
