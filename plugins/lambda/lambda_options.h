// The lambda plugin: runs a Firehose data-transformation function (a handler written for AWS Lambda,
// behind a wrapper such as ferry-lambda-python) as a local process and gives each record the verdict the
// function returns. The protocol is plugins/lambda/PROTOCOL.md (one JSON line per invocation each way); the plugin
// is in lambda_plugin.h, one process in lambda_instance.h. This header is the options and the maker.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/config/schema.h"
#include "agent/core/result.h"
#include "agent/core/units.h"
#include "agent/pipeline/plugin.h"
#include "plugins/plugin_env.h"

namespace ferry::plugins {

struct LambdaOptions {
  std::vector<std::string> command;                    // argv; required
  Duration timeout = std::chrono::seconds(60);         // per invocation
  Duration start_timeout = std::chrono::seconds(10);   // more for a process's first (Lambda's init limit)
  std::uint64_t batch_records = 500;                   // records per invocation (Firehose's default buffer)
  std::uint64_t batch_bytes = std::uint64_t{6} << 20;  // of one event line: Lambda's 6 MB request limit
  std::uint64_t instances = 1;                         // processes side by side
  std::uint64_t retries = 3;                           // Firehose's default for a failed invocation
  std::string function_name;                           // empty: <flow>-transform
  std::string delivery_stream_arn;                     // empty: from the flow's destination
  std::vector<std::pair<std::string, std::string>> environment;  // extra variables for the process
};

const std::vector<config::Field<LambdaOptions>>& LambdaFields();
Result<std::unique_ptr<Plugin>> MakeLambdaPlugin(const LambdaOptions& options, const PluginEnv& env);

}  // namespace ferry::plugins
