// `ferry run [-c FILE]`: validate the config, then run the daemon in the foreground until a stop signal.
#include <cstdio>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "agent/cli/commands.h"
#include "agent/cli/config_flag.h"
#include "agent/core/heap_retention.h"
#include "agent/ops/daemon.h"

namespace ferry::cli {

int RunCommand(std::span<const std::string_view> args) {
  auto config = LoadConfigFromArgs(args, "run");
  if (!config) return kExitUsage;
  auto log = std::make_shared<spdlog::logger>("ferry", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  log->set_level(spdlog::level::from_str(config->log_level));
  log->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  RetainHeap(config->memory_limit);
  Daemon daemon(std::move(*config), Environment::FromProcess(), log);
  Status status = daemon.Run();
  if (!status) {
    log->error("{}", status.error().message());
    return status.error().code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  return kExitOk;
}

}  // namespace ferry::cli
