// Tests of ProcessFigures (agent/ops/process_figures.h): this process's figures from /proc.
#include "agent/ops/process_figures.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>

#include <catch2/catch.hpp>

namespace ferry {
namespace {

TEST_CASE("a stat line is read after the command's last ')', whatever the command holds",
          "[process_figures]") {
  // proc(5) fields 1..24 of a process named "a) b (c".
  const char* line =
      "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 3 0 123456 104857600 2560 "
      "18446744073709551615 1 1 0 0 0\n";
  auto stat = ParseProcStat(line);
  REQUIRE(stat);
  CHECK(stat->utime_ticks == 250);
  CHECK(stat->stime_ticks == 130);
  CHECK(stat->starttime_ticks == 123456);
  CHECK(stat->vsize_bytes == 104857600);
  CHECK(stat->rss_pages == 2560);
  CHECK_FALSE(ParseProcStat("4242 (ferry) S 1 2 3"));
  CHECK_FALSE(ParseProcStat("no parenthesis"));
  CHECK_FALSE(ParseProcStat(""));
}

TEST_CASE("this process's figures are there and plausible", "[process_figures]") {
  const ProcessFigures before = ReadProcessFigures();
  REQUIRE(before.cpu_seconds);
  REQUIRE(before.resident_bytes);
  REQUIRE(before.open_fds);
  REQUIRE(before.max_fds);
  REQUIRE(before.start_time_seconds);
  CHECK(*before.resident_bytes > 1 << 20);
  CHECK(*before.max_fds >= *before.open_fds);
  const double now = static_cast<double>(std::time(nullptr));
  CHECK(*before.start_time_seconds <= now + 1);
  CHECK(*before.start_time_seconds > now - 24 * 3600);
  // One more descriptor open is one more counted.
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  const ProcessFigures after = ReadProcessFigures();
  ::close(fd);
  CHECK(*after.open_fds == *before.open_fds + 1);
  CHECK(*after.cpu_seconds >= *before.cpu_seconds);
}

}  // namespace
}  // namespace ferry
