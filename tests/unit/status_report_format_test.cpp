// Tests of FormatStatusReport (agent/ops/status_report_format.h): the report `ferry status` prints from the
// daemon's JSON, with unknown keys ignored and missing ones shown as "-".
#include "agent/ops/status_report_format.h"

#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

namespace ferry {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_CASE("FormatStatusReport: header, counters, errors and an aligned file table", "[status]") {
  const char* json = R"({"ferry": "0.1.0", "pid": 123, "uptime_seconds": 12.5, "future_key": [1, 2],
    "flows": [ {"name": "web", "shiny_new_thing": {"a": 1},
                "counters": {"bytes_read": 10, "records_read": 3, "records_sent": 3},
                "errors": {"ResourceNotFoundException": 2},
                "files": [ {"path": "/var/log/a.log", "offset": 10, "size": 12, "committed": 8, "bytes_behind": 2,
                            "open": true, "bytes_read": 10, "lines": 3, "oversize": 0, "rotations": 1},
                           {"path": "/var/log/nginx/access.log.1", "offset": 123456789, "bytes_behind": 0,
                            "open": false, "lines": 1000000, "oversize": 12, "rotations": 0} ] },
               {"name": "idle", "counters": {}, "files": []} ] })";
  auto report = FormatStatusReport(json);
  REQUIRE(report.ok());
  CHECK(*report ==
        "ferry 0.1.0, pid 123, up 12.5s\n"
        "\n"
        "flow web\n"
        "  bytes_read 10  records_read 3  records_sent 3\n"
        "  errors: ResourceNotFoundException 2\n"
        "  PATH                            OFFSET  BEHIND    LINES  OVERSIZE  ROTATIONS  OPEN\n"
        "  /var/log/a.log                      10       2        3         0          1  yes\n"
        "  /var/log/nginx/access.log.1  123456789       0  1000000        12          0  no\n"
        "\n"
        "flow idle\n"
        "  no files\n");
}

TEST_CASE("FormatStatusReport: one line per plugin, in chain order, after the flow's errors", "[status]") {
  const char* json = R"({"ferry": "0.1.0", "pid": 1, "uptime_seconds": 1,
    "flows": [ {"name": "web", "counters": {"records_read": 5}, "errors": {},
                "plugins": [ {"name": "grep", "records_in": 5, "records_out": 4, "dropped": 1, "time_us": 7},
                             {"name": "re\ndact", "records_in": 4, "records_out": 4, "replaced": 2} ],
                "files": []} ] })";
  auto report = FormatStatusReport(json);
  REQUIRE(report.ok());
  CHECK(*report ==
        "ferry 0.1.0, pid 1, up 1.0s\n"
        "\n"
        "flow web\n"
        "  records_read 5\n"
        "  plugin grep: records_in 5  records_out 4  dropped 1  time_us 7\n"
        "  plugin re?dact: records_in 4  records_out 4  replaced 2\n"
        "  no files\n");
}

TEST_CASE("FormatStatusReport: missing and mistyped keys print as -", "[status]") {
  auto report =
      FormatStatusReport(R"({"flows": [{"files": [{"path": "/x", "offset": "ten", "open": null}, 7]}]})");
  REQUIRE(report.ok());
  CHECK(*report ==
        "ferry -, pid -, up -\n"
        "\n"
        "flow -\n"
        "  PATH  OFFSET  BEHIND  LINES  OVERSIZE  ROTATIONS  OPEN\n"
        "  /x       ten       -      -         -          -  -\n"
        "  -          -       -      -         -          -  -\n");
}

TEST_CASE("FormatStatusReport: the AWS line names the region, the provider and the masked key", "[status]") {
  auto report = FormatStatusReport(
      R"({"ferry": "0.1.0", "pid": 1, "uptime_seconds": 1, "aws": {"region": "eu-west-1", "credentials":
          "EC2 instance metadata", "access_key": "****************ABCD", "expire_in_s": 3600, "refreshes": 2,
          "refresh_failures": 0}, "flows": []})");
  REQUIRE(report.ok());
  CHECK(Lines(*report).at(1) ==
        "AWS region eu-west-1, credentials from EC2 instance metadata (access key ****************ABCD), "
        "expire in 1h 0m 0s, 2 refreshes, 0 failed");
}

TEST_CASE("FormatStatusReport: no flows", "[status]") {
  auto report = FormatStatusReport(R"({"ferry": "0.1.0", "pid": 1, "uptime_seconds": 90061})");
  REQUIRE(report.ok());
  CHECK(*report == "ferry 0.1.0, pid 1, up 1d 1h 1m 1s\nno flows\n");
}

TEST_CASE("FormatStatusReport: uptime spellings", "[status]") {
  auto up = [](const char* seconds) {
    auto r = FormatStatusReport(fmt::format(R"({{"uptime_seconds": {}}})", seconds));
    REQUIRE(r.ok());
    return Lines(*r)[0];
  };
  CHECK(up("0") == "ferry -, pid -, up 0.0s");
  CHECK(up("59.94") == "ferry -, pid -, up 59.9s");
  CHECK(up("200") == "ferry -, pid -, up 3m 20s");
  CHECK(up("7205") == "ferry -, pid -, up 2h 0m 5s");
  CHECK(up("-1") == "ferry -, pid -, up -");
  CHECK(up("1e30") == "ferry -, pid -, up -");  // found by status_report_fuzz
  CHECK(up("18446744073709549568") == "ferry -, pid -, up 213503982334601d 6h 26m 8s");
}

TEST_CASE("FormatStatusReport: counters wrap at 100 columns in their JSON order", "[status]") {
  std::string counters;
  for (int i = 0; i < 30; ++i)
    counters += fmt::format(R"({}"counter_{:02d}": {})", i ? ", " : "", i, 1000 * i);
  auto report = FormatStatusReport(R"({"flows": [{"name": "f", "counters": {)" + counters + "}}]}");
  REQUIRE(report.ok());
  auto lines = Lines(*report);
  std::string joined;
  std::size_t counter_lines = 0;
  for (const auto& line : lines) {
    CHECK(line.size() <= kStatusReportWidth);
    if (line.starts_with("  counter_")) {
      ++counter_lines;
      joined += line;
    }
  }
  CHECK(counter_lines > 1);
  std::size_t pos = 0;
  for (int i = 0; i < 30; ++i) {
    std::string item = fmt::format("counter_{:02d} {}", i, 1000 * i);
    std::size_t at = joined.find(item, pos);
    REQUIRE(at != std::string::npos);  // every counter, in order
    pos = at + item.size();
  }
}

TEST_CASE("FormatStatusReport: control characters in names are not sent to the terminal", "[status]") {
  auto report = FormatStatusReport(R"({"flows": [{"name": "a\u001b[2Jb", "files": [{"path": "/x\ny"}]}]})");
  REQUIRE(report.ok());
  CHECK_THAT(*report, Catch::Contains("flow a?[2Jb\n"));
  CHECK_THAT(*report, Catch::Contains("  /x?y "));
}

TEST_CASE("FormatStatusReport: bad JSON and non-objects are protocol errors", "[status]") {
  for (const char* bad : {"", "{\"ferry\": ", "not json", "[1, 2]", "{} trailing"}) {
    auto report = FormatStatusReport(bad);
    REQUIRE_FALSE(report.ok());
    CHECK(report.error().code() == ErrorCode::kProtocol);
    CHECK_THAT(report.error().message(), Catch::StartsWith("status reply is not"));
  }
}

TEST_CASE("FormatStatusReport: a billing line for flows whose outputs count what AWS bills", "[status]") {
  const char* json = R"({"ferry": "0.1.0", "pid": 1, "uptime_seconds": 1,
    "flows": [ {"name": "k", "counters": {"records_sent": 120400, "put_payload_units": 1204,
                                          "put_payload_units_unaggregated": 120400}},
               {"name": "f", "counters": {"records_sent": 3, "billed_bytes": 5120,
                                          "billed_bytes_unaggregated": 15360}},
               {"name": "worse", "counters": {"records_sent": 2, "put_payload_units": 3,
                                              "put_payload_units_unaggregated": 2}},
               {"name": "new", "counters": {"records_sent": 0, "billed_bytes": 0, "billed_bytes_unaggregated": 0}},
               {"name": "old", "counters": {"records_sent": 5}} ] })";
  auto report = FormatStatusReport(json);
  REQUIRE(report.ok());
  auto lines = Lines(*report);
  std::vector<std::string> billing;
  for (const auto& line : lines) {
    if (line.starts_with("  billing:")) billing.push_back(line);
  }
  CHECK(billing == std::vector<std::string>{
                       "  billing: 1,204 PUT payload units for 120,400 lines (120,400 if sent one per line: "
                       "99.0% saved)",
                       "  billing: 5,120 bytes billed for 3 lines (15,360 if sent one per line: 66.7% saved)",
                       "  billing: 3 PUT payload units for 2 lines (2 if sent one per line: 50.0% more)",
                       "  billing: 0 bytes billed for 0 lines",
                   });
}

}  // namespace
}  // namespace ferry
