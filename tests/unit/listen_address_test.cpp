// Tests of ParseListenAddress (agent/ops/listen_address.h): metrics.listen as written in ferry.yaml.
#include "agent/ops/listen_address.h"

#include <catch2/catch.hpp>

namespace ferry {
namespace {

TEST_CASE("host:port, [ipv6]:port and localhost", "[listen_address]") {
  auto v4 = ParseListenAddress("127.0.0.1:9145");
  REQUIRE(v4);
  CHECK(v4->port == 9145);
  CHECK(v4->loopback);
  CHECK(v4->ToString() == "127.0.0.1:9145");
  CHECK(v4->addr.ss_family == AF_INET);
  auto v6 = ParseListenAddress("[::1]:80");
  REQUIRE(v6);
  CHECK(v6->loopback);
  CHECK(v6->addr.ss_family == AF_INET6);
  CHECK(v6->ToString() == "[::1]:80");
  auto local = ParseListenAddress("localhost:9145");
  REQUIRE(local);
  CHECK(local->ToString() == "127.0.0.1:9145");
}

TEST_CASE("an empty host is the loopback, never every interface", "[listen_address]") {
  auto a = ParseListenAddress(":9145");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->loopback);
}

TEST_CASE("every interface only when written out", "[listen_address]") {
  auto any4 = ParseListenAddress("0.0.0.0:9145");
  REQUIRE(any4);
  CHECK_FALSE(any4->loopback);
  auto any6 = ParseListenAddress("[::]:9145");
  REQUIRE(any6);
  CHECK_FALSE(any6->loopback);
  auto host = ParseListenAddress("10.1.2.3:9145");
  REQUIRE(host);
  CHECK_FALSE(host->loopback);
}

TEST_CASE("what is not an address says why", "[listen_address]") {
  for (const char* text : {"", "9145", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                           "127.0.0.1:-1", "127.0.0.1:91x", "::1:9145", "[::1]9145", "[::1", "[]:9145",
                           "metrics.example.com:9145", "256.0.0.1:9145", " 127.0.0.1:9145"}) {
    INFO(text);
    auto a = ParseListenAddress(text);
    REQUIRE_FALSE(a);
    CHECK(a.error().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(a.error().message(), Catch::Contains("is not a listen address"));
  }
  CHECK_THAT(ParseListenAddress("example.com:9145").error().message(), Catch::Contains("not looked up"));
  CHECK_THAT(ParseListenAddress("::1:9145").error().message(), Catch::Contains("brackets"));
}

}  // namespace
}  // namespace ferry
