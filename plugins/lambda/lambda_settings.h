// LambdaSettings: what the lambda plugin runs with, resolved from its options and its flow: the program
// found in PATH (so `ferry check` and start-up refuse one that cannot run, naming it), the process's
// environment (ferry's, plus the variables of plugins/lambda/PROTOCOL.md, plus the `environment` option), the
// event's deliveryStreamArn and region, and the cap on an answer line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/core/result.h"
#include "plugins/lambda/lambda_instance.h"
#include "plugins/lambda/lambda_options.h"
#include "plugins/plugin_env.h"

namespace ferry::plugins {

// An answer line may be this many times batch_bytes (at least kMinAnswerBytes): a function may make
// records longer (add fields), but not without bound.
inline constexpr std::size_t kAnswerBytesPerRequestByte = 4;
inline constexpr std::size_t kMinAnswerBytes = std::size_t{1} << 20;
// The account of the default ARN when the config names none (as AWS's own local emulators do).
inline constexpr std::string_view kDefaultAccount = "000000000000";

struct LambdaSettings {
  LambdaInstanceOptions instance;  // its backoff and grace bounds are the defaults; tests shorten them
  std::size_t batch_records = 500;
  std::size_t batch_bytes = std::size_t{6} << 20;
  std::size_t instances = 1;
  std::uint64_t retries = 3;
  std::string delivery_stream_arn;
  std::string region;
  std::uint64_t seed = 0;  // of the invocation ids
};

// The default deliveryStreamArn: arn:aws:firehose:<region>:<account>:deliverystream/<name> for a Firehose
// flow, arn:aws:kinesis:<region>:<account>:stream/<name> for a Kinesis one.
std::string DefaultDeliveryStreamArn(const FlowDestination& destination);

Result<LambdaSettings> LambdaSettingsFor(const LambdaOptions& options, const PluginEnv& env,
                                         std::uint64_t seed);

}  // namespace ferry::plugins
