// Tests of ParseTopSnapshot (agent/ops/top_snapshot.h): the figures `ferry top` takes from a status reply,
// with missing or mistyped keys read as zero and a reply that is no JSON object refused.
#include "agent/ops/top_snapshot.h"

#include <catch2/catch.hpp>

namespace ferry {
namespace {

TEST_CASE("ParseTopSnapshot: daemon facts, flow counters, errors summed, files", "[top]") {
  const char* json = R"({"ferry": "0.9.1", "pid": 4242, "uptime_seconds": 61.5,
    "aws": {"region": "eu-west-1", "credentials": "config"},
    "flows": [ {"name": "web",
                "counters": {"records_read": 100, "records_sent": 90, "bytes_behind": 5000, "spool_bytes": 4096,
                             "records_retried": 7, "bytes_read": 12345},
                "errors": {"ProvisionedThroughputExceededException": 3, "InternalFailure": 2},
                "files": [ {"path": "/var/log/a.log", "bytes_behind": 10, "offset": 5},
                           {"path": "/var/log/b.log"} ] },
               {"name": "batch", "counters": {"records_read": 1}} ] })";
  auto snapshot = ParseTopSnapshot(json);
  REQUIRE(snapshot.ok());
  CHECK(snapshot->version == "0.9.1");
  CHECK(snapshot->pid == 4242);
  CHECK(snapshot->uptime_seconds == 61.5);
  CHECK(snapshot->region == "eu-west-1");
  CHECK_FALSE(snapshot->rss_bytes);
  REQUIRE(snapshot->flows.size() == 2);
  const TopFlowSnapshot& web = snapshot->flows[0];
  CHECK(web.name == "web");
  CHECK(web.records_read == 100);
  CHECK(web.records_sent == 90);
  CHECK(web.bytes_behind == 5000);
  CHECK(web.spool_bytes == std::optional<std::uint64_t>(4096));
  CHECK(web.retries == 7);
  CHECK(web.errors == 5);
  REQUIRE(web.files.size() == 2);
  CHECK(web.files[0].path == "/var/log/a.log");
  CHECK(web.files[0].bytes_behind == 10);
  CHECK(web.files[1].bytes_behind == 0);
  const TopFlowSnapshot& batch = snapshot->flows[1];
  CHECK(batch.records_read == 1);
  CHECK_FALSE(batch.spool_bytes);
  CHECK(batch.errors == 0);
  CHECK(batch.files.empty());
}

TEST_CASE("ParseTopSnapshot: mistyped and missing keys read as zero or empty", "[top]") {
  auto snapshot = ParseTopSnapshot(R"({"ferry": 3, "pid": "12", "uptime_seconds": "long", "aws": [],
    "flows": [ {"name": 5, "counters": {"records_read": -4, "records_sent": 1.5}, "errors": {"X": "many"},
                "files": {"path": "/a"}} ]})");
  REQUIRE(snapshot.ok());
  CHECK(snapshot->version.empty());
  CHECK(snapshot->pid == 0);
  CHECK(snapshot->uptime_seconds == 0);
  CHECK(snapshot->region.empty());
  REQUIRE(snapshot->flows.size() == 1);
  CHECK(snapshot->flows[0].name.empty());
  CHECK(snapshot->flows[0].records_read == 0);
  CHECK(snapshot->flows[0].records_sent == 0);
  CHECK(snapshot->flows[0].errors == 0);
  CHECK(snapshot->flows[0].files.empty());

  auto empty = ParseTopSnapshot("{}");
  REQUIRE(empty.ok());
  CHECK(empty->flows.empty());
}

TEST_CASE("ParseTopSnapshot: a reply that is not a JSON object is refused", "[top]") {
  auto garbled = ParseTopSnapshot(R"({"ferry": "0.1", "flows": [)");
  REQUIRE_FALSE(garbled.ok());
  CHECK(garbled.error().code() == ErrorCode::kProtocol);
  CHECK_THAT(garbled.error().message(), Catch::StartsWith("status reply is not valid JSON"));
  auto array = ParseTopSnapshot("[1, 2]");
  REQUIRE_FALSE(array.ok());
  CHECK(array.error().message() == "status reply is not a JSON object");
}

}  // namespace
}  // namespace ferry
