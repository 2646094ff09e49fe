// Tests of the `metrics` section of ferry.yaml (agent/config/config.cpp's MetricsFields): off by default,
// the loopback unless an address is written out, and errors at file:line:col.
#include <catch2/catch.hpp>

#include <string>

#include "agent/config/config.h"

namespace ferry::config {
namespace {

const std::string kFlow =
    "flows:\n"
    "  - name: web\n"
    "    files: /var/log/web.log\n"
    "    kinesis: {stream: web-logs}\n";

Config Parse(const std::string& yaml) {
  auto r = ParseConfig(yaml, "ferry.yaml");
  if (!r.ok()) FAIL("unexpected error: " << r.error().message());
  return std::move(r.value());
}

std::string Error(const std::string& yaml) {
  auto r = ParseConfig(yaml, "ferry.yaml");
  REQUIRE_FALSE(r.ok());
  return r.error().message();
}

TEST_CASE("no metrics section: no endpoint", "[metrics_config]") {
  CHECK_FALSE(Parse(kFlow).metrics.has_value());
  CHECK(DescribeConfig(Parse(kFlow)).find("metrics") == std::string::npos);
}

TEST_CASE("an empty metrics section serves on the loopback's 9145", "[metrics_config]") {
  for (const char* section : {"metrics: {}\n", "metrics:\n", "metrics: {listen: ':9145'}\n"}) {
    INFO(section);
    Config c = Parse(section + kFlow);
    REQUIRE(c.metrics.has_value());
    CHECK(c.metrics->listen == "127.0.0.1:9145");
  }
}

TEST_CASE("an address written out is kept, the loopback otherwise", "[metrics_config]") {
  CHECK(Parse("metrics: {listen: '0.0.0.0:9100'}\n" + kFlow).metrics->listen == "0.0.0.0:9100");
  CHECK(Parse("metrics: {listen: '[::1]:9100'}\n" + kFlow).metrics->listen == "[::1]:9100");
  CHECK(Parse("metrics: {listen: 'localhost:9100'}\n" + kFlow).metrics->listen == "127.0.0.1:9100");
  CHECK(DescribeConfig(Parse("metrics: {listen: ':9100'}\n" + kFlow)).find("listen: 127.0.0.1:9100") !=
        std::string::npos);
}

TEST_CASE("a bad listen address is an error at its place", "[metrics_config]") {
  CHECK(Error("metrics:\n  listen: 'prometheus.local:9145'\n" + kFlow) ==
        "ferry.yaml:2:11: metrics.listen: 'prometheus.local:9145' is not a listen address (the host must be "
        "an IP address or localhost; names are not looked up); write host:port, [ipv6]:port or :port, e.g. "
        "127.0.0.1:9145");
  CHECK(Error("metrics:\n  listen: '127.0.0.1:70000'\n" + kFlow)
            .starts_with("ferry.yaml:2:11: metrics.listen: "));
  CHECK(Error("metrics:\n  port: 9145\n" + kFlow).starts_with("ferry.yaml:2:3: metrics.port: unknown key"));
  CHECK(Error("metrics: 9145\n" + kFlow).starts_with("ferry.yaml:1:10: metrics: expected a mapping"));
}

TEST_CASE("ferry check --keys lists metrics.listen with its default", "[metrics_config]") {
  const std::string keys = DescribeKeys();
  CHECK(keys.find("metrics.listen") != std::string::npos);
  CHECK(keys.find("127.0.0.1:9145") != std::string::npos);
}

}  // namespace
}  // namespace ferry::config
