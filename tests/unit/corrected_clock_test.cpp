// Tests of CorrectedClock and ParseHttpDate (agent/core/corrected_clock): IMF-fixdate parses to the right
// second (checked against known instants, leap days included); every other shape is refused; a
// correction makes the clock read the endpoint's time and follows the host's clock afterwards.
#include "agent/core/corrected_clock.h"
#include "agent/core/utc_time.h"

#include <catch2/catch.hpp>

namespace ferry {
namespace {

class SettableClock : public Clock {
 public:
  std::int64_t UnixSeconds() const override { return now; }
  std::int64_t now = 1000;
};

TEST_CASE("ParseHttpDate reads IMF-fixdate", "[clock]") {
  CHECK(ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
  CHECK(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777);   // RFC 9110's example
  CHECK(ParseHttpDate("Sun, 30 Aug 2015 12:36:00 GMT") == 1440938160);  // the SigV4 suite's time
  CHECK(ParseHttpDate("Thu, 29 Feb 2024 23:59:59 GMT") == 1709251199);
  CHECK(ParseHttpDate("Thu, 26 Nov 2026 15:04:05 GMT") == 1795705445);
}

TEST_CASE("ParseHttpDate refuses everything else", "[clock]") {
  for (const char* bad :
       {"", "Sun, 06 Nov 1994 08:49:37 UTC", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
        "Sun, 06 Nov 1994 08:49:37 GMT ", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Fov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 29 Feb 2023 08:49:37 GMT", "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT", "Sun, 06 Nov 19x4 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:-7 GMT"}) {
    INFO(bad);
    CHECK_FALSE(ParseHttpDate(bad));
  }
}

TEST_CASE("CorrectedClock reads the endpoint's time once corrected, and moves with the host's clock",
          "[clock]") {
  SettableClock host;
  CorrectedClock clock(host);
  CHECK(clock.UnixSeconds() == 1000);
  CHECK(clock.Correct(4600) == 3600);
  CHECK(clock.UnixSeconds() == 4600);
  host.now += 10;
  CHECK(clock.UnixSeconds() == 4610);
  CHECK(clock.Correct(1005) == -5);
  CHECK(clock.offset() == -5);
  CHECK(clock.UnixSeconds() == 1005);
}

TEST_CASE("UTC time from parts, and ISO 8601 written back", "[clock]") {
  CHECK(UnixSecondsFromUtc(1970, 1, 1, 0, 0, 0) == 0);
  CHECK(UnixSecondsFromUtc(2026, 11, 26, 20, 0, 0) == 1795723200);
  CHECK(UnixSecondsFromUtc(2024, 2, 29, 23, 59, 60) == 1709251200);  // a leap second is the next minute
  CHECK_FALSE(UnixSecondsFromUtc(2023, 2, 29, 0, 0, 0));
  CHECK_FALSE(UnixSecondsFromUtc(2026, 13, 1, 0, 0, 0));
  CHECK_FALSE(UnixSecondsFromUtc(2026, 1, 1, 24, 0, 0));
  CHECK(ParseDigits("0042") == 42);
  CHECK_FALSE(ParseDigits(""));
  CHECK_FALSE(ParseDigits("4a"));
  CHECK_FALSE(ParseDigits("-1"));
  CHECK(FormatIso8601Utc(0) == "1970-01-01T00:00:00Z");
  CHECK(FormatIso8601Utc(1795723200) == "2026-11-26T20:00:00Z");
  CHECK(FormatIso8601Utc(-62167219200) == "0000-01-01T00:00:00Z");
  CHECK(FormatIso8601Utc(253402300799) == "9999-12-31T23:59:59Z");
}

}  // namespace
}  // namespace ferry
