// LambdaSettings: options and flow to what the plugin and its processes run with.
#include "plugins/lambda/lambda_settings.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "plugins/lambda/program_path.h"

namespace ferry::plugins {

std::string DefaultDeliveryStreamArn(const FlowDestination& destination) {
  const std::string_view account = destination.account.empty() ? kDefaultAccount : destination.account;
  if (destination.kind == FlowDestination::Kind::kKinesis) {
    return fmt::format("arn:aws:kinesis:{}:{}:stream/{}", destination.region, account, destination.name);
  }
  return fmt::format("arn:aws:firehose:{}:{}:deliverystream/{}", destination.region, account,
                     destination.name);
}

Result<LambdaSettings> LambdaSettingsFor(const LambdaOptions& options, const PluginEnv& env,
                                         std::uint64_t seed) {
  if (options.command.empty()) return Error(ErrorCode::kInvalidArgument, "command: no program to run");
  std::map<std::string, std::string, std::less<>> vars;
  if (env.environment != nullptr) vars = env.environment->vars();
  const auto path = vars.find("PATH");
  auto program = FindProgram(options.command[0], path == vars.end() ? std::string_view() : path->second);
  if (!program) return Error(ErrorCode::kInvalidArgument, "command: " + program.error().message());

  LambdaSettings s;
  s.instance.argv = options.command;
  s.instance.argv[0] = std::move(*program);
  s.instance.timeout = options.timeout;
  s.instance.start_allowance = options.start_timeout;
  s.instance.flow = env.flow;
  s.batch_records = static_cast<std::size_t>(options.batch_records);
  s.batch_bytes = static_cast<std::size_t>(options.batch_bytes);
  s.instance.max_answer_bytes = std::max(kMinAnswerBytes, s.batch_bytes * kAnswerBytesPerRequestByte);
  s.instances = static_cast<std::size_t>(options.instances);
  s.retries = options.retries;
  s.region = env.destination.region;
  s.delivery_stream_arn = options.delivery_stream_arn.empty() ? DefaultDeliveryStreamArn(env.destination)
                                                              : options.delivery_stream_arn;
  s.seed = seed;

  vars["AWS_LAMBDA_FUNCTION_NAME"] =
      options.function_name.empty() ? env.flow + "-transform" : options.function_name;
  vars["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST";
  vars.erase("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");  // not known
  vars["FERRY_LAMBDA_TIMEOUT_MS"] = std::to_string(options.timeout.count());
  if (!s.region.empty()) {
    vars["AWS_REGION"] = s.region;
    vars["AWS_DEFAULT_REGION"] = s.region;
  }
  for (const auto& [key, value] : options.environment) vars[key] = value;
  s.instance.env.reserve(vars.size());
  for (const auto& [key, value] : vars) s.instance.env.push_back(key + "=" + value);
  return s;
}

}  // namespace ferry::plugins
