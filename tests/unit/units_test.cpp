// Tests of durations and byte sizes as users write them (agent/core/units).
#include "agent/core/units.h"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace ferry {
namespace {

using std::chrono::milliseconds;

TEST_CASE("ParseDuration accepts every unit", "[units]") {
  CHECK(ParseDuration("500ms").value() == milliseconds(500));
  CHECK(ParseDuration("2s").value() == milliseconds(2000));
  CHECK(ParseDuration("1m").value() == milliseconds(60000));
  CHECK(ParseDuration("3h").value() == milliseconds(10800000));
  CHECK(ParseDuration("1ms").value() == milliseconds(1));
  CHECK(ParseDuration("90s").value() == milliseconds(90000));
  CHECK(ParseDuration("007s").value() == milliseconds(7000));
}

TEST_CASE("ParseDuration accepts zero bare or with a unit", "[units]") {
  CHECK(ParseDuration("0").value() == milliseconds(0));
  CHECK(ParseDuration("0ms").value() == milliseconds(0));
  CHECK(ParseDuration("0s").value() == milliseconds(0));
  CHECK(ParseDuration("0h").value() == milliseconds(0));
}

TEST_CASE("ParseDuration rejects a bare non-zero number", "[units]") {
  auto r = ParseDuration("5");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  CHECK(r.error().message() == "'5' is not a duration (a whole number with a unit: ms, s, m, h)");
}

TEST_CASE("ParseDuration rejects garbage, naming the text", "[units]") {
  auto empty = ParseDuration("");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().message() == "'' is not a duration (a whole number with a unit: ms, s, m, h)");

  auto word = ParseDuration("soon");
  REQUIRE_FALSE(word.ok());
  CHECK(word.error().code() == ErrorCode::kInvalidArgument);
  CHECK(word.error().message() == "'soon' is not a duration (a whole number with a unit: ms, s, m, h)");

  auto unit = ParseDuration("5sec");
  REQUIRE_FALSE(unit.ok());
  CHECK(unit.error().message() == "'5sec' is not a duration (a whole number with a unit: ms, s, m, h)");

  for (const char* text : {"s", "ms", "1.5s", "5S", "5MS", "5d", "5us", "1e3ms", "0x10s", "5s5", "5ss"}) {
    INFO(text);
    CHECK_FALSE(ParseDuration(text).ok());
  }
}

TEST_CASE("ParseDuration rejects negative and signed numbers", "[units]") {
  for (const char* text : {"-5s", "-0", "-1ms", "+5s", "+0"}) {
    INFO(text);
    auto r = ParseDuration(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  }
  CHECK(ParseDuration("-5s").error().message() ==
        "'-5s' is not a duration (a whole number with a unit: ms, s, m, h)");
}

TEST_CASE("ParseDuration rejects spaces anywhere", "[units]") {
  for (const char* text : {" 5s", "5s ", "5 s", " ", "5\ts", "5s\n", "\t0"}) {
    INFO('[' << text << ']');
    CHECK_FALSE(ParseDuration(text).ok());
  }
}

TEST_CASE("ParseDuration rejects numbers that overflow", "[units]") {
  const std::string units = " (a whole number with a unit: ms, s, m, h)";
  // More digits than 64 bits hold.
  auto digits = ParseDuration("18446744073709551616ms");
  REQUIRE_FALSE(digits.ok());
  CHECK(digits.error().message() == "'18446744073709551616ms' is not a duration" + units);
  CHECK_FALSE(ParseDuration("99999999999999999999999s").ok());
  // Fits 64 bits as a number but not once scaled.
  auto scaled = ParseDuration("18446744073709551615h");
  REQUIRE_FALSE(scaled.ok());
  CHECK(scaled.error().message() == "'18446744073709551615h' is not a duration" + units);
  CHECK_FALSE(ParseDuration("18446744073709552s").ok());
}

TEST_CASE("ParseDuration accepts up to ten years", "[units]") {
  // Ten years of 366 days.
  CHECK(ParseDuration("87840h").value() == milliseconds(316224000000LL));
  CHECK(ParseDuration("316224000000ms").value() == milliseconds(316224000000LL));
  auto over = ParseDuration("316224000001ms");
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code() == ErrorCode::kInvalidArgument);
  CHECK(over.error().message() == "'316224000001ms' is longer than ten years");
  CHECK(ParseDuration("87841h").error().message() == "'87841h' is longer than ten years");
}

// Duration counts are signed 64-bit milliseconds; a value that fits 64 unsigned bits but not 63 must be
// refused rather than wrap to a negative duration.
TEST_CASE("ParseDuration never returns a negative duration", "[units]") {
  for (const char* text :
       {"9223372036854775808ms", "18446744073709551615ms", "2562047788016h", "9223372036854776s"}) {
    INFO(text);
    auto r = ParseDuration(text);
    if (r.ok()) {
      INFO("parsed as " << r->count() << "ms");
      CHECK(r->count() >= 0);
    }
    CHECK_FALSE(r.ok());
  }
}

TEST_CASE("ParseByteSize accepts every unit", "[units]") {
  CHECK(ParseByteSize("100B").value() == 100);
  CHECK(ParseByteSize("64KiB").value() == 65536);
  CHECK(ParseByteSize("5MiB").value() == 5242880);
  CHECK(ParseByteSize("1GiB").value() == 1073741824);
  CHECK(ParseByteSize("3GiB").value() == 3221225472ULL);
  CHECK(ParseByteSize("1KiB").value() == 1024);
}

TEST_CASE("ParseByteSize takes a bare number as bytes", "[units]") {
  CHECK(ParseByteSize("0").value() == 0);
  CHECK(ParseByteSize("1").value() == 1);
  CHECK(ParseByteSize("4096").value() == 4096);
  CHECK(ParseByteSize("0B").value() == 0);
  CHECK(ParseByteSize("0GiB").value() == 0);
  CHECK(ParseByteSize("18446744073709551615").value() == UINT64_MAX);
}

TEST_CASE("ParseByteSize rejects garbage, naming the text", "[units]") {
  auto word = ParseByteSize("big");
  REQUIRE_FALSE(word.ok());
  CHECK(word.error().code() == ErrorCode::kInvalidArgument);
  CHECK(word.error().message() == "'big' is not a size (a whole number with a unit: B, KiB, MiB, GiB)");

  auto si = ParseByteSize("5MB");
  REQUIRE_FALSE(si.ok());
  CHECK(si.error().message() == "'5MB' is not a size (a whole number with a unit: B, KiB, MiB, GiB)");

  for (const char* text :
       {"", "KiB", "5kib", "5KB", "5K", "5k", "5mib", "5b", "1.5MiB", "5TiB", "5iB", "5MiBs"}) {
    INFO('[' << text << ']');
    CHECK_FALSE(ParseByteSize(text).ok());
  }
}

TEST_CASE("ParseByteSize rejects negative numbers and spaces", "[units]") {
  for (const char* text : {"-1", "-1KiB", "+1KiB", " 1KiB", "1KiB ", "1 KiB", "1\tKiB"}) {
    INFO('[' << text << ']');
    auto r = ParseByteSize(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("ParseByteSize rejects sizes that overflow 64 bits", "[units]") {
  CHECK_FALSE(ParseByteSize("18446744073709551616").ok());
  CHECK_FALSE(ParseByteSize("18446744073709551616B").ok());
  CHECK_FALSE(ParseByteSize("17179869184GiB").ok());  // 2^34 GiB = 2^64
  CHECK(ParseByteSize("17179869183GiB").value() == 18446744072635809792ULL);
  CHECK_FALSE(ParseByteSize("18014398509481984KiB").ok());  // 2^54 KiB = 2^64
  CHECK(ParseByteSize("18014398509481983KiB").value() == 18446744073709550592ULL);
}

TEST_CASE("FormatDuration picks the largest exact unit", "[units]") {
  CHECK(FormatDuration(milliseconds(0)) == "0ms");
  CHECK(FormatDuration(milliseconds(1)) == "1ms");
  CHECK(FormatDuration(milliseconds(1500)) == "1500ms");
  CHECK(FormatDuration(milliseconds(2000)) == "2s");
  CHECK(FormatDuration(milliseconds(90000)) == "90s");
  CHECK(FormatDuration(milliseconds(300000)) == "5m");
  CHECK(FormatDuration(milliseconds(5400000)) == "90m");
  CHECK(FormatDuration(milliseconds(3600000)) == "1h");
  CHECK(FormatDuration(milliseconds(3600001)) == "3600001ms");
}

TEST_CASE("FormatByteSize picks the largest exact binary unit", "[units]") {
  CHECK(FormatByteSize(0) == "0B");
  CHECK(FormatByteSize(100) == "100B");
  CHECK(FormatByteSize(1024) == "1KiB");
  CHECK(FormatByteSize(1536) == "1536B");
  CHECK(FormatByteSize(65536) == "64KiB");
  CHECK(FormatByteSize(5ULL << 20) == "5MiB");
  CHECK(FormatByteSize((1ULL << 30) + (1ULL << 20)) == "1025MiB");
  CHECK(FormatByteSize(1ULL << 30) == "1GiB");
  CHECK(FormatByteSize(1ULL << 40) == "1024GiB");
  CHECK(FormatByteSize(UINT64_MAX) == "18446744073709551615B");
}

TEST_CASE("Formatted durations parse back to the same value", "[units]") {
  std::mt19937_64 rng(20240601);
  std::vector<std::int64_t> values = {0, 1, 999, 1000, 60000, 3600000, 3600001, 316224000000LL};
  for (int i = 0; i < 2000; ++i) {
    std::int64_t scale = std::array<std::int64_t, 4>{1, 1000, 60000, 3600000}[rng() % 4];
    values.push_back(static_cast<std::int64_t>(rng() % 87841) * scale);  // at most ten years
  }
  for (std::int64_t v : values) {
    std::string text = FormatDuration(milliseconds(v));
    INFO(v << " -> " << text);
    auto back = ParseDuration(text);
    REQUIRE(back.ok());
    CHECK(back->count() == v);
  }
}

TEST_CASE("Formatted sizes parse back to the same value", "[units]") {
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> values = {0, 1, 1023, 1024, 1025, UINT64_MAX, 17179869183ULL << 30};
  for (int i = 0; i < 2000; ++i) {
    int shift = std::array<int, 4>{0, 10, 20, 30}[rng() % 4];
    values.push_back((rng() % 100000000) << shift);
  }
  for (std::uint64_t v : values) {
    std::string text = FormatByteSize(v);
    INFO(v << " -> " << text);
    auto back = ParseByteSize(text);
    REQUIRE(back.ok());
    CHECK(*back == v);
  }
}

TEST_CASE("Canonical spellings survive parse then format", "[units]") {
  for (const char* text : {"0ms", "1ms", "1500ms", "2s", "90s", "5m", "90m", "1h", "48h"}) {
    CHECK(FormatDuration(ParseDuration(text).value()) == text);
  }
  for (const char* text : {"0B", "100B", "1536B", "1KiB", "64KiB", "5MiB", "1025MiB", "1GiB", "1024GiB"}) {
    CHECK(FormatByteSize(ParseByteSize(text).value()) == text);
  }
  // Non-canonical spellings come back in canonical form.
  CHECK(FormatDuration(ParseDuration("60s").value()) == "1m");
  CHECK(FormatDuration(ParseDuration("1000ms").value()) == "1s");
  CHECK(FormatByteSize(ParseByteSize("1024KiB").value()) == "1MiB");
  CHECK(FormatByteSize(ParseByteSize("2048").value()) == "2KiB");
}

}  // namespace
}  // namespace ferry
