// The `lambda` plugin's options table and its maker.
#include "plugins/lambda/lambda_options.h"

#include <random>

#include "plugins/lambda/lambda_plugin.h"
#include "plugins/lambda/lambda_settings.h"

namespace ferry::plugins {
namespace {

config::Field<LambdaOptions> CommandField() {
  return config::Field<LambdaOptions>{
      "command",
      "list of strings",
      "",
      "the program and its arguments, run without a shell; the program is looked up in PATH when it has no "
      "'/', and `ferry check` refuses one that is not there or cannot be run. One process per instance, "
      "kept running; e.g. [ferry-lambda-python, /etc/ferry/transform.py:lambda_handler]",
      true,
      [](const YAML::Node& n, const std::string& p, LambdaOptions& out, config::ParseContext& ctx) {
        std::vector<std::string> argv;
        if (!config::ReadStringList(n, p, ctx, argv)) return;
        if (argv.empty() || argv[0].empty()) {
          ctx.Fail(n, p,
                   "expected the program to run and its arguments, e.g. [ferry-lambda-python, f.py:handler]");
          return;
        }
        out.command = std::move(argv);
      },
      [](YAML::Emitter& e, const LambdaOptions& in) {
        e << YAML::Key << "command" << YAML::Value << YAML::Flow << in.command;
      }};
}

config::Field<LambdaOptions> EnvironmentField() {
  return config::Field<LambdaOptions>{
      "environment",
      "map of name: value",
      "",
      "variables added to the process's environment (ferry's own, plus AWS_LAMBDA_FUNCTION_NAME, "
      "AWS_REGION, AWS_DEFAULT_REGION, AWS_LAMBDA_FUNCTION_VERSION and FERRY_LAMBDA_TIMEOUT_MS); these "
      "win over both",
      false,
      [](const YAML::Node& n, const std::string& p, LambdaOptions& out, config::ParseContext& ctx) {
        if (!n.IsMap()) {
          ctx.Fail(n, p, "expected a mapping of names to values, e.g. { TABLE: users }");
          return;
        }
        for (const auto& entry : n) {
          const std::string name = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
          const std::string key_path = config::JoinPath(p, name);
          if (name.empty() || name.find_first_of("=") != std::string::npos ||
              name.find('\0') != std::string::npos) {
            ctx.Fail(entry.first, key_path, "not a variable name (empty, or has '=')");
            continue;
          }
          std::string value;
          if (!config::ReadString(entry.second, key_path, ctx, value)) continue;
          if (value.find('\0') != std::string::npos) {
            ctx.Fail(entry.second, key_path, "a value cannot hold a NUL byte");
            continue;
          }
          out.environment.emplace_back(name, std::move(value));
        }
      },
      [](YAML::Emitter& e, const LambdaOptions& in) {
        if (in.environment.empty()) return;
        e << YAML::Key << "environment" << YAML::Value << YAML::BeginMap;
        for (const auto& [name, value] : in.environment) e << YAML::Key << name << YAML::Value << value;
        e << YAML::EndMap;
      }};
}

}  // namespace

const std::vector<config::Field<LambdaOptions>>& LambdaFields() {
  static const std::vector<config::Field<LambdaOptions>> fields = {
      CommandField(),
      config::DurationField<LambdaOptions>(
          "timeout", &LambdaOptions::timeout, std::chrono::milliseconds(10), std::chrono::minutes(15),
          "longest an invocation may take, like the Lambda setting (at most 15m, Lambda's own limit); past "
          "it the process group is killed and restarted and the invocation tried again"),
      config::DurationField<LambdaOptions>(
          "start_timeout", &LambdaOptions::start_timeout, std::chrono::milliseconds(0),
          std::chrono::minutes(15),
          "added to the timeout of each process's first invocation, which includes its start (the "
          "interpreter, the handler's module), as Lambda gives a function's init phase 10 s of its own"),
      config::CountField<LambdaOptions>("batch_records", &LambdaOptions::batch_records, 1, 10000,
                                        "at most this many records per invocation"),
      config::ByteSizeField<LambdaOptions>(
          "batch_bytes", &LambdaOptions::batch_bytes, 1 << 10, std::uint64_t{64} << 20,
          "at most this many bytes of JSON per invocation (the event line; Lambda's request limit is 6 MB); "
          "a record bigger than that goes alone. An answer line may be 4 times this (at least 1MiB)"),
      config::CountField<LambdaOptions>(
          "instances", &LambdaOptions::instances, 1, 64,
          "processes run side by side, each answering one invocation at a time"),
      config::CountField<LambdaOptions>(
          "retries", &LambdaOptions::retries, 0, 100,
          "an invocation that fails as a whole (exit, crash, timeout, an answer that is not a response) is "
          "tried again this many times; then its records fail with error code processing-failed"),
      config::StringField<LambdaOptions>("function_name", &LambdaOptions::function_name, "<flow>-transform",
                                         "AWS_LAMBDA_FUNCTION_NAME, the handler's context.function_name"),
      config::StringField<LambdaOptions>(
          "delivery_stream_arn", &LambdaOptions::delivery_stream_arn,
          "arn:aws:firehose:<region>:<account>:deliverystream/<delivery_stream>",
          "the event's deliveryStreamArn (the account is aws.role_arn's, else 000000000000; a kinesis flow "
          "gets arn:aws:kinesis:<region>:<account>:stream/<stream>)"),
      EnvironmentField(),
  };
  return fields;
}

Result<std::unique_ptr<Plugin>> MakeLambdaPlugin(const LambdaOptions& options, const PluginEnv& env) {
  std::random_device random;
  const std::uint64_t seed = std::uint64_t{random()} << 32 | random();
  auto settings = LambdaSettingsFor(options, env, seed);
  if (!settings) return settings.error();
  return MakeLambdaPlugin(env.loop, env.log, std::move(*settings));
}

}  // namespace ferry::plugins
