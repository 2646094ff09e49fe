// Tests of SendArgs (agent/cli/send_args): every flag in both spellings, inputs and "--", the errors that
// name a flag, and the flags laid over a config: the flow picked by --flow (or the only one), the
// destination replaced or kept with its settings, --endpoint to the destination's service, the
// Kinesis-only flags refused for Firehose, and the log level a config sets kept.
#include "agent/cli/send_args.h"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

using namespace ferry;
using namespace ferry::cli;

namespace {

Result<SendArgs> Parse(std::vector<std::string_view> args) {
  return ParseSendArgs(args);
}

config::Config Loaded(std::string_view yaml) {
  auto c = config::ParseConfig(yaml, "ferry.yaml");
  REQUIRE(c);
  return std::move(*c);
}

constexpr std::string_view kTwoFlows = R"(log_level: info
memory_limit: 8MiB
aws:
  region: eu-west-1
flows:
  - name: web
    files: [/var/log/web.log]
    skip_header_lines: 2
    kinesis:
      stream: web-logs
      partition_key: ${hostname}
      aggregate_max_bytes: 20KiB
  - name: sys
    files: [/var/log/syslog]
    firehose:
      delivery_stream: sys-logs
)";

}  // namespace

TEST_CASE("ferry send parses every flag, with the value after it or after =", "[send]") {
  auto a = Parse({"--stream",
                  "s",
                  "--region=eu-north-1",
                  "--endpoint",
                  "http://127.0.0.1:1",
                  "--profile",
                  "p",
                  "--partition-key=${hostname}",
                  "--no-aggregate",
                  "--compression",
                  "zstd",
                  "--progress=never",
                  "--max-retry-time",
                  "90s",
                  "--dead-letter",
                  "/tmp/d.jsonl",
                  "--log-level",
                  "info",
                  "a.log",
                  "-",
                  "b.log.gz"});
  REQUIRE(a);
  CHECK(a->stream == "s");
  CHECK(a->region == "eu-north-1");
  CHECK(a->endpoint == "http://127.0.0.1:1");
  CHECK(a->profile == "p");
  CHECK(a->partition_key == "${hostname}");
  CHECK(a->no_aggregate);
  CHECK(a->compression == Compression::kZstd);
  CHECK(a->progress == ProgressMode::kNever);
  CHECK(a->max_retry_time == Duration(90000));
  CHECK(a->dead_letter == "/tmp/d.jsonl");
  CHECK(a->log_level == "info");
  CHECK(a->inputs == std::vector<std::string>{"a.log", "-", "b.log.gz"});
}

TEST_CASE("ferry send defaults: standard input, progress auto, five minutes of retries", "[send]") {
  auto a = Parse({"--delivery-stream", "d"});
  REQUIRE(a);
  CHECK(a->inputs.empty());
  CHECK(a->progress == ProgressMode::kAuto);
  CHECK(a->max_retry_time == Duration(300000));
  CHECK_FALSE(a->compression);
}

TEST_CASE("ferry send takes everything after -- as inputs", "[send]") {
  auto a = Parse({"--stream", "s", "--", "--stream", "-x"});
  REQUIRE(a);
  CHECK(a->inputs == std::vector<std::string>{"--stream", "-x"});
}

TEST_CASE("ferry send names the flag that is wrong", "[send]") {
  auto check = [](std::vector<std::string_view> args, std::string_view expected) {
    auto a = Parse(args);
    REQUIRE_FALSE(a);
    CHECK(a.error().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(a.error().message(), Catch::Contains(std::string(expected)));
  };
  check({"--stream"}, "--stream needs a value");
  check({"--stream="}, "--stream needs a value");
  check({"--stream", "s", "--bogus"}, "unknown flag '--bogus'");
  check({"--stream", "s", "--compression", "lz4"}, "--compression: 'lz4' is not gzip, zstd or none");
  check({"--stream", "s", "--progress", "sometimes"}, "--progress: 'sometimes'");
  check({"--stream", "s", "--max-retry-time", "5 minutes"}, "--max-retry-time");
  check({"--stream", "s", "--max-retry-time", "0"}, "--max-retry-time must be more than 0");
  check({"--stream", "s", "--log-level", "loud"}, "--log-level: 'loud'");
  check({"--stream", "s", "--delivery-stream", "d"}, "exclude each other");
  check({"--stream", "s", "--flow", "web"}, "--flow names a flow of -c FILE");
  check({"a.log"}, "name a destination");
}

TEST_CASE("ferry send without -c: one flow to the named destination, quiet logs", "[send]") {
  auto a = Parse({"--stream", "s", "--endpoint", "http://e", "--region", "r", "--profile", "p",
                  "--partition-key", "fixed", "--no-aggregate", "--compression", "gzip"});
  REQUIRE(a);
  auto c = SendConfig(*a, std::nullopt);
  REQUIRE(c);
  REQUIRE(c->flows.size() == 1);
  const auto& flow = c->flows[0];
  CHECK(flow.name == "send");
  REQUIRE(flow.kinesis);
  CHECK_FALSE(flow.firehose);
  CHECK(flow.kinesis->stream == "s");
  CHECK(flow.kinesis->partition_key.kind == config::PartitionKeyOptions::Kind::kTemplate);
  CHECK(flow.kinesis->partition_key.text == "fixed");
  CHECK_FALSE(flow.kinesis->aggregate);
  CHECK(flow.kinesis->compression == Compression::kGzip);
  CHECK(c->aws.kinesis_endpoint == "http://e");
  CHECK(c->aws.firehose_endpoint.empty());
  CHECK(c->aws.region == "r");
  CHECK(c->aws.profile == "p");
  CHECK(c->log_level == "warn");
  CHECK(c->memory_limit == config::Config{}.memory_limit);
}

TEST_CASE("ferry send to Firehose: --endpoint is Firehose's; Kinesis-only flags are refused", "[send]") {
  auto a = Parse({"--delivery-stream", "d", "--endpoint", "http://e"});
  REQUIRE(a);
  auto c = SendConfig(*a, std::nullopt);
  REQUIRE(c);
  REQUIRE(c->flows[0].firehose);
  CHECK(c->flows[0].firehose->delivery_stream == "d");
  CHECK(c->aws.firehose_endpoint == "http://e");
  CHECK(c->aws.kinesis_endpoint.empty());
  for (auto flag : {std::vector<std::string_view>{"--delivery-stream", "d", "--no-aggregate"},
                    std::vector<std::string_view>{"--delivery-stream", "d", "--partition-key", "k"}}) {
    auto refused = SendConfig(*Parse(flag), std::nullopt);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message(), Catch::Contains("is for Kinesis streams"));
  }
}

TEST_CASE("ferry send -c --flow: the flow's settings, the flags over them", "[send]") {
  SECTION("the flow's own destination and settings when no destination flag is given") {
    auto c = SendConfig(*Parse({"-c", "ferry.yaml", "--flow", "web"}), Loaded(kTwoFlows));
    REQUIRE(c);
    REQUIRE(c->flows.size() == 1);
    const auto& flow = c->flows[0];
    CHECK(flow.name == "web");
    CHECK(flow.skip_header_lines == 2);
    REQUIRE(flow.kinesis);
    CHECK(flow.kinesis->stream == "web-logs");
    CHECK(flow.kinesis->partition_key.text == "${hostname}");
    CHECK(c->memory_limit == 8ULL << 20);
    CHECK(c->aws.region == "eu-west-1");
    CHECK(c->log_level == "info");  // the config sets it
  }
  SECTION("--stream keeps a Kinesis flow's settings; --no-aggregate and --region override") {
    auto c = SendConfig(*Parse({"-c", "f", "--flow", "web", "--stream", "other", "--no-aggregate", "--region",
                                "us-west-2", "--log-level", "error"}),
                        Loaded(kTwoFlows));
    REQUIRE(c);
    const auto& k = *c->flows[0].kinesis;
    CHECK(k.stream == "other");
    CHECK(k.aggregate_max_bytes == 20 << 10);
    CHECK_FALSE(k.aggregate);
    CHECK(c->aws.region == "us-west-2");
    CHECK(c->log_level == "error");
  }
  SECTION("--stream replaces a Firehose destination") {
    auto c = SendConfig(*Parse({"-c", "f", "--flow", "sys", "--stream", "k"}), Loaded(kTwoFlows));
    REQUIRE(c);
    CHECK(c->flows[0].kinesis->stream == "k");
    CHECK_FALSE(c->flows[0].firehose);
  }
  SECTION("a flow that is not there, or two flows and no --flow") {
    auto missing = SendConfig(*Parse({"-c", "f", "--flow", "nope"}), Loaded(kTwoFlows));
    REQUIRE_FALSE(missing);
    CHECK_THAT(missing.error().message(), Catch::Contains("ferry.yaml has no flow named 'nope'"));
    auto two = SendConfig(*Parse({"-c", "f"}), Loaded(kTwoFlows));
    REQUIRE_FALSE(two);
    CHECK_THAT(two.error().message(), Catch::Contains("has 2 flows (web, sys): name one with --flow"));
  }
}
