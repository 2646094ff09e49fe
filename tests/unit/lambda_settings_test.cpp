// Tests of the lambda plugin's settings (plugins/lambda/lambda_settings, the account of flow_builder): the
// default deliveryStreamArn of a Firehose and of a Kinesis flow, with the account aws.role_arn names or
// 000000000000; the delivery_stream_arn and function_name options; the process's environment (ferry's,
// the contract's variables, the environment option last); the program's path; the answer cap.
#include "plugins/lambda/lambda_settings.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "agent/pipeline/flow_builder.h"
#include "tests/unit/plugin_harness.h"

namespace ferry::plugins {
namespace {

bool Has(const std::vector<std::string>& env, const std::string& entry) {
  return std::find(env.begin(), env.end(), entry) != env.end();
}

TEST_CASE("lambda settings: the default ARN names the flow's destination", "[lambda]") {
  FlowDestination firehose{FlowDestination::Kind::kFirehose, "app-logs", "eu-west-1", ""};
  CHECK(DefaultDeliveryStreamArn(firehose) ==
        "arn:aws:firehose:eu-west-1:000000000000:deliverystream/app-logs");
  firehose.account = "123456789012";
  CHECK(DefaultDeliveryStreamArn(firehose) ==
        "arn:aws:firehose:eu-west-1:123456789012:deliverystream/app-logs");
  FlowDestination kinesis{FlowDestination::Kind::kKinesis, "web", "us-east-1", ""};
  CHECK(DefaultDeliveryStreamArn(kinesis) == "arn:aws:kinesis:us-east-1:000000000000:stream/web");

  config::Config config;
  CHECK(ConfiguredAccount(config).empty());
  config.aws.role_arn = "arn:aws:iam::123456789012:role/ferry";
  CHECK(ConfiguredAccount(config) == "123456789012");
  config.aws.role_arn = "not an arn";
  CHECK(ConfiguredAccount(config).empty());
}

TEST_CASE("lambda settings: options, environment and program", "[lambda]") {
  FixedClock clock(0);
  auto log = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
  const Environment environment({{"PATH", "/usr/bin:/bin"},
                                 {"HOME", "/root"},
                                 {"AWS_REGION", "old"},
                                 {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"}});
  PluginEnv env{nullptr, clock, "web", "edge-1", *log};
  env.destination = FlowDestination{FlowDestination::Kind::kFirehose, "app-logs", "eu-west-1", ""};
  env.environment = &environment;

  LambdaOptions o;
  o.command = {"sh", "-c", "true"};
  o.timeout = std::chrono::seconds(45);
  o.batch_bytes = 1 << 10;
  auto s = LambdaSettingsFor(o, env, 1);
  REQUIRE(s.ok());
  CHECK(s->instance.argv == std::vector<std::string>{"/usr/bin/sh", "-c", "true"});
  CHECK(s->delivery_stream_arn == "arn:aws:firehose:eu-west-1:000000000000:deliverystream/app-logs");
  CHECK(s->region == "eu-west-1");
  CHECK(s->instance.max_answer_bytes == kMinAnswerBytes);
  const auto& vars = s->instance.env;
  CHECK(Has(vars, "HOME=/root"));
  CHECK(Has(vars, "AWS_LAMBDA_FUNCTION_NAME=web-transform"));
  CHECK(Has(vars, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST"));
  CHECK(Has(vars, "AWS_REGION=eu-west-1"));
  CHECK(Has(vars, "AWS_DEFAULT_REGION=eu-west-1"));
  CHECK(Has(vars, "FERRY_LAMBDA_TIMEOUT_MS=45000"));
  CHECK_FALSE(std::any_of(vars.begin(), vars.end(), [](const std::string& v) {
    return v.starts_with("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=");
  }));

  o.function_name = "enrich";
  o.delivery_stream_arn = "arn:aws:firehose:us-east-1:111122223333:deliverystream/x";
  o.environment = {{"AWS_REGION", "mine"}, {"TABLE", "users"}};
  o.batch_bytes = 6 << 20;
  s = LambdaSettingsFor(o, env, 1);
  REQUIRE(s.ok());
  CHECK(s->delivery_stream_arn == "arn:aws:firehose:us-east-1:111122223333:deliverystream/x");
  CHECK(Has(s->instance.env, "AWS_LAMBDA_FUNCTION_NAME=enrich"));
  CHECK(Has(s->instance.env, "AWS_REGION=mine"));  // the option wins
  CHECK(Has(s->instance.env, "TABLE=users"));
  CHECK(s->instance.max_answer_bytes == std::size_t{24} << 20);

  // Without a region (check before it is looked up), no region variables are made up.
  env.destination.region.clear();
  o.environment.clear();
  s = LambdaSettingsFor(o, env, 1);
  REQUIRE(s.ok());
  CHECK(Has(s->instance.env, "AWS_REGION=old"));
}

}  // namespace
}  // namespace ferry::plugins
